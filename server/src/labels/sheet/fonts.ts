/**
 * The font labels are printed with. It must have Chinese glyphs: we never fall back to a
 * Latin font, which would print empty boxes for 中文.
 */
import { existsSync } from "node:fs";
import path from "node:path";

import { AppError } from "../../errors/app-error.ts";

export interface LabelFont {
  path: string;
  /** PostScript names of the faces inside a collection (.ttc); undefined for a single-face file. */
  textFace: string | undefined;
  /** A fixed-width face for serials and lots (easier to read and compare), or the text face. */
  monoFace: string | undefined;
}

/** The names the sheet's two faces are registered under in the PDF document. */
export const TEXT_FONT = "label-text";
export const MONO_FONT = "label-mono";

/** Debian's CJK fonts, in order of preference, with their package for the error message. */
const DEBIAN_CJK_FONTS: readonly (LabelFont & { debianPackage: string })[] = [
  {
    path: "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    textFace: "WenQuanYiMicroHei",
    monoFace: "WenQuanYiMicroHeiMono",
    debianPackage: "fonts-wqy-microhei",
  },
  {
    path: "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    textFace: "NotoSansCJKsc-Regular",
    monoFace: "NotoSansMonoCJKsc-Regular",
    debianPackage: "fonts-noto-cjk",
  },
];

/**
 * The font to print with: `fontPath` when given (it must exist), else the first Debian
 * CJK font present. Throws `labels.font_missing` naming the Debian packages to install.
 */
export function resolveLabelFont(options: { fontPath?: string; fontFace?: string } = {}): LabelFont {
  const install = DEBIAN_CJK_FONTS.map((font) => font.debianPackage);
  if (options.fontPath !== undefined) {
    if (!existsSync(options.fontPath)) {
      throw new AppError("labels.font_missing", { fontPath: options.fontPath, reason: "no such file" });
    }
    const known = DEBIAN_CJK_FONTS.find((font) => path.basename(font.path) === path.basename(options.fontPath ?? ""));
    if (options.fontFace !== undefined) {
      return { path: options.fontPath, textFace: options.fontFace, monoFace: options.fontFace };
    }
    if (known !== undefined) return { path: options.fontPath, textFace: known.textFace, monoFace: known.monoFace };
    if (options.fontPath.toLowerCase().endsWith(".ttc")) {
      throw new AppError("labels.font_missing", {
        fontPath: options.fontPath,
        reason: "a font collection (.ttc) needs fontFace, the PostScript name of the face to use",
      });
    }
    return { path: options.fontPath, textFace: undefined, monoFace: undefined };
  }
  const found = DEBIAN_CJK_FONTS.find((font) => existsSync(font.path));
  if (found === undefined) {
    throw new AppError("labels.font_missing", {
      searched: DEBIAN_CJK_FONTS.map((font) => font.path),
      install: `apt-get install ${install.join(" or ")}`,
    });
  }
  return { path: found.path, textFace: found.textFace, monoFace: found.monoFace };
}

/**
 * Registers `font` as `TEXT_FONT` and `MONO_FONT` in `doc`, and loads both now: pdfkit
 * only parses a font when it is first used, and a bad file should fail before any page
 * is written, as `labels.font_missing`.
 */
export function registerLabelFonts(doc: PDFKit.PDFDocument, font: LabelFont): void {
  doc.registerFont(TEXT_FONT, font.path, font.textFace);
  doc.registerFont(MONO_FONT, font.path, font.monoFace);
  try {
    doc.font(TEXT_FONT).font(MONO_FONT);
  } catch (error) {
    throw new AppError(
      "labels.font_missing",
      { fontPath: font.path, fontFace: font.textFace, reason: "not a font file pdfkit reads, or no face of that name" },
      { cause: error },
    );
  }
}
