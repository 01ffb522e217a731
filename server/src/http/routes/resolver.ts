/**
 * The GS1 Digital Link resolver and what hangs off it: the scan page and the hidden-code
 * claim. The read-only JSON-RPC proxy the page reads the chain through is rpc-proxy.ts.
 *
 * Resolver behaviour (GS1 Digital Link 1.x / GS1-Conformant Resolver Standard):
 * GET, HEAD and OPTIONS with CORS; 400 for a syntax error; key qualifiers in the path in
 * the standard order, data attributes in the query; `linkType=all` answers an RFC 9264
 * linkset; a browser gets the consumer page (the default link, `gs1:pip`), a client that
 * asks for JSON gets the item's verifiable resolution.
 */
import express, { Router, type Request, type Response } from "express";
import { z } from "zod";

import { AppError, isAppError } from "../../errors/app-error.ts";
import { parseDigitalLink, type ParsedDigitalLink } from "../../domain/gs1.ts";
import { claimHiddenCode } from "../../services/claims.ts";
import type { ServiceContext } from "../../services/context.ts";
import { scriptSafeJson, utf8Of, type SharedText, type TextPiece } from "../../services/answer-text.ts";
import { requireProduct } from "../../services/lookups.ts";
import { resolveItem } from "../../services/resolve.ts";
import { firstPiece, gzipMember, type DeflatePiece } from "../gzip-pieces.ts";
import { problemBody } from "../problem.ts";
import { answerLot, isLotImage, lotCardRouter } from "./lot-card.ts";
import { negotiate, sendScanPage } from "./web-assets.ts";

function setCors(res: Response): void {
  res.setHeader("Access-Control-Allow-Origin", "*");
  // Content-Type is exposed to every cross-origin reader anyway (a CORS-safelisted header).
  res.setHeader("Access-Control-Expose-Headers", "Link");
  res.setHeader("Vary", "Accept");
}

/** What a preflight asks; browsers read these on the OPTIONS answer only, so only it carries them. */
function setPreflight(res: Response): void {
  res.setHeader("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
  res.setHeader("Access-Control-Allow-Headers", "Accept, Accept-Language, Content-Type");
}

function linkset(ctx: ServiceContext, link: ParsedDigitalLink, uri: string): unknown {
  const pip = { href: uri, title: "商品溯源信息 / Product traceability", type: "text/html", hreflang: ["zh", "en"] };
  return {
    linkset: [
      {
        anchor: uri,
        "https://gs1.org/voc/defaultLink": [pip],
        "https://gs1.org/voc/pip": [pip],
        "https://gs1.org/voc/traceability": [
          { href: uri, title: "Verifiable traceability record (JSON)", type: "application/json" },
        ],
        ...(link.serial === undefined
          ? {}
          : {
              "https://gs1.org/voc/verificationService": [
                {
                  href: `${ctx.publicOrigin}/api/v1/claims/${link.gtin}/${link.lot ?? ""}/${link.serial}`,
                  title: "Hidden code check",
                },
              ],
            }),
      },
    ],
  };
}

/** A batch's part of its items' answers, compressed once as the start of each answer's deflate stream. */
const compressedOpenings = new WeakMap<SharedText, DeflatePiece>();

/**
 * The JSON answer as one gzip member for a client that takes gzip (browsers, fetch, curl
 * --compressed): its shared opening (most of its 24 KB) compressed once, only the item's own
 * members per response (gzip-pieces.ts). Sent whole it was most of a JSON answer's cost.
 */
function gzippedAnswer(pieces: readonly TextPiece[]): Buffer {
  const [first, ...rest] = pieces;
  if (first === undefined || typeof first === "string") return gzipMember([], utf8Of(pieces));
  let opening = compressedOpenings.get(first);
  if (opening === undefined) {
    opening = firstPiece(utf8Of([first]));
    compressedOpenings.set(first, opening);
  }
  // The item's own kilobyte is stored, not compressed: deflating it per response cost more of the
  // server's time than sending the whole answer uncompressed saved (API clients, not phones).
  return gzipMember([opening], utf8Of(rest), { level: 0 });
}

function clientOf(req: Request): { ip: string; userAgent: string } {
  return { ip: req.ip ?? "", userAgent: (req.get("user-agent") ?? "").slice(0, 300) };
}

const claimBody = z.object({ code: z.string().max(32) }).strict();

export function resolverRouter(ctx: ServiceContext): Router {
  const router = Router();
  // The lot card's image path and oEmbed come before the Digital Link parser, which would refuse them.
  router.use(lotCardRouter(ctx));

  router.use(async (req, res, next) => {
    if (!req.path.startsWith("/01/")) {
      next();
      return;
    }
    setCors(res);
    if (req.method === "OPTIONS") {
      setPreflight(res);
      res.setHeader("Allow", "GET, HEAD, OPTIONS");
      res.status(204).end();
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("Allow", "GET, HEAD, OPTIONS");
      throw new AppError("method.not_allowed");
    }
    const wantsHtml = req.accepts(["text/html", "application/json", "application/linkset+json"]) === "text/html";
    let link: ParsedDigitalLink;
    try {
      link = parseDigitalLink(req.originalUrl);
    } catch (error) {
      if (!isAppError(error)) throw error;
      if (!wantsHtml) throw error;
      sendScanPage(req, res, 400, [
        scriptSafeJson({ ...problemBody(error, req.originalUrl), type: "oioc.link-error" }),
      ]);
      return;
    }
    const self = `${ctx.publicOrigin}${req.path}`;
    res.setHeader("Link", `<${self}?linkType=all>; rel="linkset"; type="application/linkset+json"`);
    if (link.serial === undefined && link.lot !== undefined && isLotImage(link)) {
      // The lot card's overlay image (`?format=png`), whatever Accept says: an <img> asks for */*.
      await answerLot(ctx, req, res, link, { wantsHtml });
      return;
    }
    if (
      link.linkType === "all" ||
      req.accepts(["application/linkset+json", "text/html", "application/json"]) === "application/linkset+json"
    ) {
      res.type("application/linkset+json").json(linkset(ctx, link, self));
      return;
    }
    if (link.serial === undefined && link.lot !== undefined) {
      // A lot: its live-stream card (lot-card.ts).
      await answerLot(ctx, req, res, link, { wantsHtml });
      return;
    }
    if (link.serial === undefined) {
      // A product: no item to verify; the product's public description.
      const product = await requireProduct(ctx, link.gtin);
      res.json({
        type: "oioc.product",
        gtin: product.gtin,
        name: { zh: product.nameZh, en: product.nameEn },
        lot: link.lot ?? null,
      });
      return;
    }
    const resolved = await resolveItem(
      ctx,
      { gtin: link.gtin, lot: link.lot, serial: link.serial },
      { scan: wantsHtml && req.method === "GET" ? clientOf(req) : null },
    );
    const status = resolved.known ? 200 : 404;
    if (wantsHtml) {
      sendScanPage(req, res, status, resolved.pieces);
      return;
    }
    // Sent as built: Express's json() would serialise again and hash the body for an ETag
    // that `no-store` makes useless.
    const gzip = negotiate(req, ["gzip", "identity"]) === "gzip";
    const body = gzip ? gzippedAnswer(resolved.pieces) : utf8Of(resolved.pieces);
    res.status(status);
    res.setHeader("Vary", "Accept, Accept-Encoding");
    res.setHeader("Cache-Control", "no-store");
    res.setHeader("Content-Type", "application/json; charset=utf-8");
    if (gzip) res.setHeader("Content-Encoding", "gzip");
    res.setHeader("Content-Length", String(body.byteLength));
    res.end(body);
  });

  router.post("/api/v1/claims/:gtin/:lot/:serial", express.json({ limit: 1_024 }), async (req, res) => {
    const { code } = claimBody.parse(req.body);
    const result = await claimHiddenCode(
      ctx,
      { gtin: req.params.gtin, lot: req.params.lot, serial: req.params.serial },
      code,
      clientOf(req),
    );
    res.json(result);
  });

  return router;
}
