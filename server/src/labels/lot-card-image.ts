/**
 * The lot card as a square PNG for a live stream's overlay: product, origin, how much is left
 * (or 已售罄 / sold out), the 合格证 number and the QR code of the lot page a viewer scans off
 * the screen. Composed as SVG and rasterised by resvg with the label sheets' CJK font (never a
 * Latin-only font, which would draw boxes for 中文). resvg renders on libuv's thread pool
 * (`renderAsync`), so the event loop only composes the text.
 */
import { renderAsync } from "@resvg/resvg-js";

import { AppError } from "../errors/app-error.ts";
import { qrSvg } from "./qr.ts";
import { resolveLabelFont } from "./sheet/fonts.ts";

export const LOT_CARD_IMAGE_MIN_PX = 360;
export const LOT_CARD_IMAGE_MAX_PX = 2048;
export const LOT_CARD_IMAGE_DEFAULT_PX = 1080;

/** The design's own grid: everything is laid out on 1080 units and scaled to the size asked. */
const GRID = 1080;

export interface LotCardImageInput {
  productName: { zh: string; en: string | null };
  origin: { zh: string; en: string | null } | null;
  /** Items still unsold of those registered; null when the platform keeps no orders for the lot. */
  balance: { remaining: number; registered: number; soldOut: boolean } | null;
  recalled: boolean;
  /** The 合格证 shown: the batch's certificate number, or the first signed certificate's id. */
  certificateNumber: string | null;
  /** The lot page's URL, as the QR code. */
  url: string;
  sizePx: number;
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${String(char.charCodeAt(0))};`);
}

/** At most `max` characters (by code point), with an ellipsis when cut: the grid has fixed room. */
function clip(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join("")}…`;
}

function textLine(x: number, y: number, size: number, fill: string, text: string, weight = "normal"): string {
  return `<text x="${String(x)}" y="${String(y)}" font-size="${String(size)}" font-weight="${weight}" fill="${fill}">${escapeXml(text)}</text>`;
}

/** The card's SVG on the 1080 grid (exported for tests that read its text). */
export async function lotCardSvg(input: LotCardImageInput): Promise<string> {
  const soldOut = input.balance?.soldOut === true;
  const band = input.recalled ? "#b3261e" : soldOut ? "#5f6368" : "#1e7b34";
  const status = input.recalled
    ? ["已召回", "RECALLED"]
    : soldOut
      ? ["已售罄", "SOLD OUT"]
      : input.balance === null
        ? ["在售", "On sale"]
        : [
            `剩余 ${input.balance.remaining.toLocaleString("en")} / ${input.balance.registered.toLocaleString("en")} 件`,
            `${input.balance.remaining.toLocaleString("en")} of ${input.balance.registered.toLocaleString("en")} left`,
          ];
  const qr = await qrSvg(input.url);
  // The QR's own <svg> nested at its place: its viewBox scales it to the box.
  const qrBox = qr.replace(/^<svg /, '<svg x="600" y="560" width="440" height="440" ');
  const lines = [
    `<rect width="${String(GRID)}" height="${String(GRID)}" fill="#ffffff"/>`,
    `<rect width="${String(GRID)}" height="200" fill="${band}"/>`,
    textLine(48, 120, 72, "#ffffff", clip(status[0] ?? "", 20), "bold"),
    textLine(48, 180, 40, "#ffffff", clip(status[1] ?? "", 30)),
    textLine(48, 310, 80, "#1a1a1a", clip(input.productName.zh, 12), "bold"),
    input.productName.en === null ? "" : textLine(48, 380, 44, "#444444", clip(input.productName.en, 36)),
    input.origin === null ? "" : textLine(48, 470, 40, "#1a1a1a", `产地 ${clip(input.origin.zh, 22)}`),
    input.origin?.en == null ? "" : textLine(48, 524, 32, "#444444", `Origin ${clip(input.origin.en, 44)}`),
    textLine(48, 640, 40, "#1a1a1a", "承诺达标合格证"),
    textLine(48, 700, 36, "#1a1a1a", input.certificateNumber === null ? "—" : clip(input.certificateNumber, 24)),
    textLine(48, 950, 32, "#444444", "扫码查看溯源 · Scan to verify"),
    qrBox,
  ];
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${String(GRID)}" height="${String(GRID)}" viewBox="0 0 ${String(GRID)} ${String(GRID)}">${lines.join("")}</svg>`;
}

let fontFamily: { path: string; family: string } | undefined;

/** The label font's file and its family name as resvg knows it, found once. */
function labelFontFamily(): { path: string; family: string } {
  if (fontFamily !== undefined) return fontFamily;
  const font = resolveLabelFont();
  // resvg names faces by family; the Debian fonts' families are fixed, others by their file.
  const family = font.path.includes("wqy-microhei")
    ? "WenQuanYi Micro Hei"
    : font.path.includes("NotoSansCJK")
      ? "Noto Sans CJK SC"
      : (font.textFace ?? "sans-serif");
  fontFamily = { path: font.path, family };
  return fontFamily;
}

/** The card as a PNG, `sizePx` square. Refuses sizes outside 360..2048 with `lot_card.image_size`. */
export async function lotCardPng(input: LotCardImageInput): Promise<Buffer> {
  const { sizePx } = input;
  if (!Number.isInteger(sizePx) || sizePx < LOT_CARD_IMAGE_MIN_PX || sizePx > LOT_CARD_IMAGE_MAX_PX) {
    throw new AppError("lot_card.image_size", {
      sizePx: String(sizePx),
      minPx: LOT_CARD_IMAGE_MIN_PX,
      maxPx: LOT_CARD_IMAGE_MAX_PX,
    });
  }
  const font = labelFontFamily();
  const rendered = await renderAsync(await lotCardSvg(input), {
    font: { loadSystemFonts: false, fontFiles: [font.path], defaultFontFamily: font.family },
    fitTo: { mode: "width", value: sizePx },
    background: "#ffffff",
    logLevel: "off",
  });
  return rendered.asPng();
}
