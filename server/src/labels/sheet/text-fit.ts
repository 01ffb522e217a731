/** Sizing a line of text to the width it has on a label. */
import { MIN_TEXT_PT } from "./geometry.ts";

/** The largest size ≤ `maxPt` (and ≥ `MIN_TEXT_PT`) at which `text` fits `widthPt`, or null. */
export function fitSize(
  doc: PDFKit.PDFDocument,
  font: string,
  text: string,
  widthPt: number,
  maxPt: number,
): number | null {
  const width = doc.font(font).fontSize(maxPt).widthOfString(text);
  const size = width <= widthPt ? maxPt : (maxPt * widthPt) / width;
  return size >= MIN_TEXT_PT ? size : null;
}

/** `text` at the largest size that fits, else cut with an ellipsis at the smallest size. */
export function fitOrTruncate(
  doc: PDFKit.PDFDocument,
  font: string,
  text: string,
  widthPt: number,
  maxPt: number,
): { text: string; sizePt: number } {
  const size = fitSize(doc, font, text, widthPt, maxPt);
  if (size !== null) return { text, sizePt: size };
  // Cut between user-perceived characters, never inside one.
  const characters = Array.from(
    new Intl.Segmenter("zh", { granularity: "grapheme" }).segment(text),
    (part) => part.segment,
  );
  doc.font(font).fontSize(MIN_TEXT_PT);
  while (characters.length > 1 && doc.widthOfString(`${characters.join("")}…`) > widthPt) characters.pop();
  return { text: `${characters.join("")}…`, sizePt: MIN_TEXT_PT };
}
