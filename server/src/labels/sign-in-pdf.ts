/**
 * A person's one-time sign-in link printed on A6: the organisation and the person's name,
 * a large QR code of the link (scanned with the phone's camera), what to do in both
 * languages and when it stops working. Chinese first, in the CJK font the label sheets use.
 */
import { QR_QUIET_ZONE_MODULES, qrMatrix } from "./qr.ts";
import { TEXT_FONT, registerLabelFonts, resolveLabelFont } from "./sheet/fonts.ts";
import { mm } from "./sheet/geometry.ts";
import { loadPdfDocument } from "./pdf-document.ts";

/** A6 portrait, 105 × 148 mm. */
const WIDTH = mm(105);
const MARGIN = mm(8);
const QR_MM = 70;

export interface SignInSheetInput {
  organisation: string;
  person: string;
  url: string;
  /** Shown as "valid until", China time, e.g. "2026-12-10 14:00". */
  expiresAt: string;
}

/** The whole PDF in memory: one page, a few kilobytes. */
export async function signInPdf(input: SignInSheetInput, options: { fontPath?: string } = {}): Promise<Buffer> {
  const font = resolveLabelFont(options);
  const PDFDocument = await loadPdfDocument();
  const doc = new PDFDocument({
    size: "A6",
    margin: 0,
    compress: true,
    info: { Title: `登录二维码 Sign-in QR code: ${input.person}`, Creator: "one item, one code" },
  });
  registerLabelFonts(doc, font);
  const chunks: Buffer[] = [];
  doc.on("data", (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    doc.on("end", resolve);
    doc.on("error", reject);
  });
  const inner = WIDTH - 2 * MARGIN;
  doc.font(TEXT_FONT).fillColor("#000000").fontSize(13).text(input.organisation, MARGIN, mm(9), {
    width: inner,
    align: "center",
  });
  doc.fontSize(11).text(`${input.person} · 登录二维码`, { width: inner, align: "center" });

  const matrix = qrMatrix(input.url);
  const sizePt = mm(QR_MM);
  const modulePt = sizePt / (matrix.size + 2 * QR_QUIET_ZONE_MODULES);
  const x = (WIDTH - sizePt) / 2;
  const y = mm(26);
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

  doc
    .fontSize(9)
    .text("用手机相机扫描即可登录，不用输入密码。只能使用一次。", MARGIN, y + sizePt + mm(3), { width: inner })
    .fontSize(8)
    .text("Scan with the phone's camera to sign in: no password. Works once.", { width: inner })
    .text(`有效期至 Valid until ${input.expiresAt}（北京时间 China time）`, { width: inner })
    .fontSize(7)
    .text("请妥善保管，不要给他人拍照。Keep it to yourself: anyone who scans it signs in as you.", {
      width: inner,
    });
  doc.end();
  await ended;
  return Buffer.concat(chunks);
}
