/**
 * A 合格证 printed on A6 as the rules' template lays it out: the title, then one row per
 * field (product, quantity, origin, producer, contact, date issued), the promise with the
 * ticked basis, and a QR code of the certificate's public page, where a buyer checks the
 * signature on the spot. Chinese first, in the CJK font the label sheets use.
 */
import { BASIS_NAMES, CERTIFICATE_BASES, type CertificateDocument } from "../domain/certificate.ts";
import { regionName } from "../domain/region-names.ts";
import { UNITS, formatQuantityMilli, unitFromCode } from "../domain/units.ts";
import { QR_QUIET_ZONE_MODULES, qrMatrix } from "./qr.ts";
import { MONO_FONT, TEXT_FONT, registerLabelFonts, resolveLabelFont } from "./sheet/fonts.ts";
import { mm } from "./sheet/geometry.ts";
import { loadPdfDocument } from "./pdf-document.ts";

/** A6 portrait, 105 × 148 mm. */
const WIDTH = mm(105);
const MARGIN = mm(6);
const QR_MM = 30;

export interface CertificatePdfInput {
  id: string;
  document: CertificateDocument;
  /** The certificate's public page: what the QR code holds. */
  url: string;
}

function drawQr(doc: PDFKit.PDFDocument, text: string, x: number, y: number, sizePt: number): void {
  const matrix = qrMatrix(text);
  const modulePt = sizePt / (matrix.size + 2 * QR_QUIET_ZONE_MODULES);
  doc
    .save()
    .translate(x + modulePt * QR_QUIET_ZONE_MODULES, y + modulePt * QR_QUIET_ZONE_MODULES)
    .scale(modulePt);
  for (let row = 0; row < matrix.size; row++) {
    for (let column = 0; column < matrix.size; column++) {
      if (matrix.isDark(row, column)) doc.rect(column, row, 1, 1);
    }
  }
  doc.fill("#000000").restore();
}

/** The whole PDF in memory: one page, a few kilobytes. */
export async function certificatePdf(input: CertificatePdfInput, options: { fontPath?: string } = {}): Promise<Buffer> {
  const font = resolveLabelFont(options);
  const { document } = input;
  const PDFDocument = await loadPdfDocument();
  const doc = new PDFDocument({
    size: "A6",
    margin: 0,
    compress: true,
    info: { Title: `承诺达标合格证 ${input.id}`, Creator: "one item, one code" },
  });
  registerLabelFonts(doc, font);
  const chunks: Buffer[] = [];
  doc.on("data", (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    doc.on("end", resolve);
    doc.on("error", reject);
  });

  const inner = WIDTH - 2 * MARGIN;
  doc
    .rect(mm(3), mm(3), WIDTH - mm(6), mm(142))
    .lineWidth(1)
    .strokeColor("#000000")
    .stroke();
  doc
    .font(TEXT_FONT)
    .fontSize(15)
    .fillColor("#000000")
    .text("承诺达标合格证", MARGIN, mm(8), { width: inner, align: "center" });

  const unit = unitFromCode(document.quantity.unit);
  const region = regionName(document.origin.regionCode)?.zh ?? document.origin.regionCode;
  const rows: [string, string][] = [
    ["食用农产品名称", document.product.name.zh],
    ["数量（重量）", `${formatQuantityMilli(BigInt(document.quantity.milli))} ${UNITS[unit].zh}`],
    ["产地", document.origin.place === region ? region : `${region} ${document.origin.place}`],
    ["生产者盖章或签名", document.issuer.name.zh],
    ["联系方式", document.issuer.phone],
    ["开具日期", document.issuedOn],
  ];
  let y = mm(18);
  doc.fontSize(8.5);
  for (const [label, value] of rows) {
    doc.font(TEXT_FONT).text(`${label}：`, MARGIN, y, { width: mm(28) });
    doc.text(value, MARGIN + mm(28), y, { width: inner - mm(28) });
    y = Math.max(doc.y, y + mm(5)) + mm(1);
  }
  y += mm(1);
  doc.fontSize(7.5).text(document.promise.zh, MARGIN, y, { width: inner });
  y = doc.y + mm(2);
  const ticks = CERTIFICATE_BASES.map(
    (basis) => `${document.basis.includes(basis) ? "■" : "□"}${BASIS_NAMES[basis].zh}`,
  ).join("  ");
  doc.fontSize(8).text(`承诺依据：${ticks}`, MARGIN, y, { width: inner });

  const qrPt = mm(QR_MM);
  const qrY = mm(145) - mm(4) - qrPt;
  drawQr(doc, input.url, MARGIN - mm(1), qrY, qrPt);
  doc
    .fontSize(6.5)
    .text("扫码核验签名与来源", MARGIN + qrPt + mm(1), qrY + mm(6), { width: inner - qrPt })
    .text("Scan to verify the signature and lineage", { width: inner - qrPt });
  if (document.parents.length > 0)
    doc.text(`由 ${String(document.parents.length)} 张上级合格证混装/分装开具`, { width: inner - qrPt });
  doc
    .font(MONO_FONT)
    .fontSize(5)
    .text(input.id, MARGIN + qrPt + mm(1), qrY + qrPt - mm(9), { width: inner - qrPt });
  doc.end();
  await ended;
  return Buffer.concat(chunks);
}
