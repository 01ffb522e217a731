/**
 * The live-stream lot card (issue 14, part 4): `/01/{gtin}/10/{lot}` as a page a streamer shows
 * (a browser gets the page, `Accept: application/json` the product answer with the card), the
 * compact card for an iframe (`?embed=1`, the only page other sites may frame), the square
 * overlay image (`/01/{gtin}/10/{lot}/card.png` or `?format=png`, `?size=` 360..2048) and the
 * oEmbed endpoint (`/oembed?url=…`) that names both.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

import { Router, type Request, type Response } from "express";

import { parseDigitalLink, type ParsedDigitalLink } from "../../domain/gs1.ts";
import type { UnknownItemResolution } from "../../domain/resolution.ts";
import { AppError, isAppError } from "../../errors/app-error.ts";
import {
  LOT_CARD_IMAGE_DEFAULT_PX,
  LOT_CARD_IMAGE_MAX_PX,
  LOT_CARD_IMAGE_MIN_PX,
  lotCardPng,
  type LotCardImageInput,
} from "../../labels/lot-card-image.ts";
import { qrSvg } from "../../labels/qr.ts";
import { scriptSafeJson } from "../../services/answer-text.ts";
import type { ServiceContext } from "../../services/context.ts";
import { lotCardOf, lotPath } from "../../services/lot-card.ts";
import { requireProduct } from "../../services/lookups.ts";
import { memoised } from "../../services/memoise.ts";
import type { LotCard } from "../../domain/lot-card.ts";
import { frameableCsp } from "../app.ts";
import { createSemaphore } from "./rpc-proxy.ts";
import { sendScanPage } from "./web-assets.ts";

/** Where `npm run build:web` (scripts/tasks/build-lot-page.ts) writes the page. */
export const LOT_PAGE_DIR = path.resolve(import.meta.dirname, "../../../../scanner-web/dist/lot");
const ASSET = /^lot-[0-9a-f]{10}\.(?:js|css)$/;

/** The embed's size in the oEmbed answer: a phone-width card with its QR code. */
const EMBED_WIDTH = 360;
const EMBED_HEIGHT = 560;

/** How long a card's image or answer may be reused: the remaining quantity changes with each order. */
const CARD_MAX_AGE_SECONDS = 15;

const UNKNOWN_LOT_MESSAGE = {
  zh: "此商品没有登记这个批号：可能输入有误，也可能不是正规渠道的商品。请向主播或商家核实。",
  en: "No lot of this product was registered under this number: it may be mistyped, or the product may not be genuine. Ask the streamer or the seller.",
};

function escapeHtml(text: string): string {
  return text.replace(/[&"'<>]/g, (char) => `&#${String(char.charCodeAt(0))};`);
}

/** The page without the card, read once per build (its name changes with each build). */
function pageTemplate(dir: string): string {
  try {
    return readFileSync(path.join(dir, "index.html"), "utf8");
  } catch (error) {
    throw new AppError(
      "resource.not_found",
      {},
      { detail: "The lot card page is not built (npm run build:web).", cause: error },
    );
  }
}

const qrOf = memoised((url: string) => qrSvg(url), 64);

function queryOf(link: ParsedDigitalLink, name: string): string | undefined {
  return link.params.find(([key]) => key === name)?.[1];
}

/** Whether a lot's link asks for the overlay image (`?format=png`). */
export function isLotImage(link: ParsedDigitalLink): boolean {
  return queryOf(link, "format") === "png";
}

function imageSize(text: string | undefined): number {
  if (text === undefined) return LOT_CARD_IMAGE_DEFAULT_PX;
  const size = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(size) || size < LOT_CARD_IMAGE_MIN_PX || size > LOT_CARD_IMAGE_MAX_PX) {
    throw new AppError("lot_card.image_size", { size: text.slice(0, 16) });
  }
  return size;
}

/** Rendered cards by what they show and their size: a stream's overlay asks again every few seconds. */
const IMAGE_CACHE_ENTRIES = 64;
const images = new Map<string, Promise<Buffer>>();

function cardImage(card: LotCard, sizePx: number): Promise<Buffer> {
  const certificateNumber = card.display.certificateNumber ?? card.certificates[0]?.id.slice(0, 18) ?? null;
  const balance = card.balance;
  const key = JSON.stringify([card.uri, sizePx, card.batch.status, balance, certificateNumber, card.product.name]);
  const cached = images.get(key);
  if (cached !== undefined) return cached;
  const origin = card.display.regionName;
  const rendered = renderLimited({
    productName: card.product.name,
    origin:
      card.display.cooperative === null
        ? origin
        : {
            zh: `${origin?.zh ?? ""} ${card.display.cooperative.zh}`.trim(),
            en: origin?.en ?? card.display.cooperative.en,
          },
    balance,
    recalled: card.batch.status === "recalled",
    certificateNumber,
    url: card.uri,
    sizePx,
  });
  images.set(key, rendered);
  rendered.catch(() => images.delete(key));
  if (images.size > IMAGE_CACHE_ENTRIES) {
    const oldest = images.keys().next();
    if (oldest.done !== true) images.delete(oldest.value);
  }
  return rendered;
}

/**
 * Renders at most two cards at a time, two more waiting a few seconds: each takes a worker of
 * libuv's small thread pool (which file reads and compression share) for a fraction of a second,
 * and the sizes a client may ask for are many. Whoever finds no slot is told to retry.
 */
const renderSlots = createSemaphore(2, 5_000);

async function renderLimited(input: LotCardImageInput): Promise<Buffer> {
  const release = await renderSlots.acquire();
  if (release === null) throw new AppError("lot_card.busy");
  try {
    return await lotCardPng(input);
  } finally {
    release();
  }
}

async function requireCard(ctx: ServiceContext, gtin: string, lot: string): Promise<LotCard> {
  const card = await lotCardOf(ctx, gtin, lot);
  if (card === null) throw new AppError("lot_card.not_found", { gtin, lot });
  return card;
}

async function sendImage(ctx: ServiceContext, res: Response, gtin: string, lot: string, size: string | undefined) {
  const sizePx = imageSize(size);
  let png: Buffer;
  try {
    png = await cardImage(await requireCard(ctx, gtin, lot), sizePx);
  } catch (error) {
    if (isAppError(error, "lot_card.busy")) res.setHeader("Retry-After", "1");
    throw error;
  }
  res.setHeader("Content-Type", "image/png");
  res.setHeader("Cache-Control", `public, max-age=${String(CARD_MAX_AGE_SECONDS)}`);
  res.setHeader("Access-Control-Allow-Origin", "*");
  res.end(png);
}

function sendUnknownPage(ctx: ServiceContext, req: Request, res: Response, link: ParsedDigitalLink): void {
  const unknown: UnknownItemResolution = {
    type: "oioc.item-unknown",
    version: 1,
    uri: `${ctx.publicOrigin}${lotPath(link.gtin, link.lot ?? "")}`,
    item: { gtin: link.gtin, lot: link.lot ?? null, serial: null },
    message: UNKNOWN_LOT_MESSAGE,
  };
  sendScanPage(req, res, 404, [scriptSafeJson(unknown)]);
}

async function sendPage(
  ctx: ServiceContext,
  req: Request,
  res: Response,
  link: ParsedDigitalLink,
  pageDir: string,
): Promise<void> {
  const card = await lotCardOf(ctx, link.gtin, link.lot ?? "");
  if (card === null) {
    sendUnknownPage(ctx, req, res, link);
    return;
  }
  const embed = queryOf(link, "embed") === "1";
  const title = `${card.product.name.zh} · 批次 ${card.lot}`;
  const qr = await qrOf(card.uri);
  const html = pageTemplate(pageDir)
    .replace("{{title}}", () => escapeHtml(title))
    .replace("{{title}}", () => escapeHtml(title))
    .replace("{{oembed}}", () => escapeHtml(card.links.oembed))
    .replace("{{mode}}", embed ? "embed" : "page")
    .replace("{{qr}}", () => qr)
    // Last: the card's text must never be read as a placeholder.
    .replace("{{data}}", () => scriptSafeJson(card));
  if (embed) {
    const csp = res.getHeader("Content-Security-Policy");
    if (typeof csp === "string") res.setHeader("Content-Security-Policy", frameableCsp(csp));
    res.removeHeader("X-Frame-Options");
  }
  res.removeHeader("RateLimit-Policy");
  res.removeHeader("RateLimit");
  res.status(200).type("html").setHeader("Cache-Control", "no-cache");
  res.append("Vary", "Accept-Encoding");
  sendCompressed(req, res, Buffer.from(html, "utf8"));
}

/**
 * The page compressed for this response (its card and QR are the lot's own): brotli at a
 * quality that takes well under a millisecond for these 10 to 20 KB, else gzip; a phone on a
 * slow network pays for every kilobyte before the verdict.
 */
function sendCompressed(req: Request, res: Response, body: Buffer): void {
  const encoding = req.acceptsEncodings("br", "gzip", "identity");
  let sent = body;
  if (encoding === "br") {
    sent = brotliCompressSync(body, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: body.byteLength },
    });
    res.setHeader("Content-Encoding", "br");
  } else if (encoding === "gzip") {
    sent = gzipSync(body, { level: 6 });
    res.setHeader("Content-Encoding", "gzip");
  }
  res.setHeader("Content-Length", String(sent.byteLength));
  res.end(req.method === "HEAD" ? undefined : sent);
}

/**
 * Answers a lot's Digital Link (`/01/{gtin}/10/{lot}`, no serial) once the resolver has parsed
 * it: the image, the page (or the unknown-lot page), or the product's JSON with the card.
 */
export async function answerLot(
  ctx: ServiceContext,
  req: Request,
  res: Response,
  link: ParsedDigitalLink,
  options: { wantsHtml: boolean; pageDir?: string },
): Promise<void> {
  const lot = link.lot ?? "";
  if (isLotImage(link)) {
    await sendImage(ctx, res, link.gtin, lot, queryOf(link, "size"));
    return;
  }
  if (options.wantsHtml) {
    await sendPage(ctx, req, res, link, options.pageDir ?? LOT_PAGE_DIR);
    return;
  }
  const product = await requireProduct(ctx, link.gtin);
  res.setHeader("Cache-Control", `public, max-age=${String(CARD_MAX_AGE_SECONDS)}`);
  res.json({
    type: "oioc.product",
    gtin: product.gtin,
    name: { zh: product.nameZh, en: product.nameEn },
    lot,
    card: await lotCardOf(ctx, link.gtin, lot),
  });
}

/** The lot card's own paths: its image by path, its page's files, and oEmbed. */
export function lotCardRouter(ctx: ServiceContext, options: { pageDir?: string } = {}): Router {
  const router = Router();
  const pageDir = options.pageDir ?? LOT_PAGE_DIR;

  router.get(/^\/01\/([^/]+)\/10\/([^/]+)\/card\.png$/, async (req, res) => {
    // A malformed code (a wrong check digit) is its problem+json, as for the page.
    const link = parseDigitalLink(req.originalUrl.replace(/\/card\.png(?=\?|$)/, ""));
    if (link.lot === undefined || link.serial !== undefined) throw new AppError("resource.not_found");
    await sendImage(ctx, res, link.gtin, link.lot, queryOf(link, "size"));
  });

  router.get("/l/assets/:name", (req, res, next) => {
    const name = req.params.name;
    if (!ASSET.test(name)) {
      next();
      return;
    }
    const encodings = req.acceptsEncodings("br", "gzip", "identity");
    const suffix = encodings === "br" ? ".br" : encodings === "gzip" ? ".gz" : "";
    let content: Buffer;
    try {
      content = readFileSync(path.join(pageDir, `${name}${suffix}`));
    } catch {
      next();
      return;
    }
    res.type(name.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8");
    if (suffix !== "") res.setHeader("Content-Encoding", suffix === ".br" ? "br" : "gzip");
    res.setHeader("Vary", "Accept-Encoding");
    // Named by content: a new build is a new name.
    res.setHeader("Cache-Control", "public, max-age=31536000, immutable");
    res.send(content);
  });

  router.get("/oembed", async (req, res) => {
    const format = typeof req.query.format === "string" ? req.query.format : "json";
    // oEmbed's two formats: xml is a format we do not offer (501, as the spec says); anything else is no format.
    if (format === "xml") throw new AppError("lot_card.oembed_format");
    if (format !== "json") throw new AppError("request.invalid", {}, { detail: "format is json or xml." });
    const url = typeof req.query.url === "string" ? req.query.url : "";
    let link: ParsedDigitalLink;
    try {
      link = parseDigitalLink(url);
    } catch {
      throw new AppError("lot_card.oembed_url");
    }
    const origin = new URL(ctx.publicOrigin);
    if (link.host?.toLowerCase() !== origin.host.toLowerCase() || link.lot === undefined || link.serial !== undefined) {
      throw new AppError("lot_card.oembed_url");
    }
    const card = await lotCardOf(ctx, link.gtin, link.lot);
    if (card === null) throw new AppError("lot_card.oembed_url");
    const maxWidth = Number(req.query.maxwidth);
    const width = Number.isInteger(maxWidth) && maxWidth > 0 ? Math.min(EMBED_WIDTH, maxWidth) : EMBED_WIDTH;
    const maxHeight = Number(req.query.maxheight);
    const height = Number.isInteger(maxHeight) && maxHeight > 0 ? Math.min(EMBED_HEIGHT, maxHeight) : EMBED_HEIGHT;
    const title = `${card.product.name.zh} · 批次 ${card.lot}`;
    res.setHeader("Cache-Control", `public, max-age=${String(CARD_MAX_AGE_SECONDS)}`);
    res.setHeader("Access-Control-Allow-Origin", "*");
    res.json({
      version: "1.0",
      type: "rich",
      title,
      provider_name: "一物一码 · One item, one code",
      provider_url: ctx.publicOrigin,
      cache_age: CARD_MAX_AGE_SECONDS,
      html: `<iframe src="${escapeHtml(card.links.embed)}" width="${String(width)}" height="${String(height)}" style="border:0" title="${escapeHtml(title)}" loading="lazy"></iframe>`,
      width,
      height,
      thumbnail_url: `${card.links.image}?size=${String(LOT_CARD_IMAGE_MIN_PX)}`,
      thumbnail_width: LOT_CARD_IMAGE_MIN_PX,
      thumbnail_height: LOT_CARD_IMAGE_MIN_PX,
    });
  });

  return router;
}
