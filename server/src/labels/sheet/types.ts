/** What a label sheet is made from: the items, the heading and the caller's options, and what it reports back. */

export interface LabelItem {
  /** The item's GS1 Digital Link URI; it must carry the sheet's GTIN and lot and this serial. */
  uri: string;
  serial: string;
  /** Whether a verification code is printed under a scratch-off later: the label leaves a box for it. */
  hasHiddenCode: boolean;
  /**
   * The code itself, when the sheet is printed by the platform: it goes inside the box, and the
   * scratch-off coating is applied over it. Without it the box is left empty for a later pass.
   */
  hiddenCode?: string;
}

/** What every page says above its labels. */
export interface LabelSheetHeading {
  productName: { zh: string; en: string | null };
  gtin: string;
  lot: string;
  /** The batch's 承诺达标合格证 number, when it has one. */
  complianceCertificateNumber: string | null;
}

export interface LabelSheetOptions {
  /** A font with Chinese glyphs (.ttf, .otf, or .ttc); Debian's CJK fonts are tried when absent. */
  fontPath?: string;
  /** The PostScript name of the face to use inside a .ttc collection we do not know, e.g. `NotoSansCJKsc-Regular`. */
  fontFace?: string;
  /** Stops the sheet between labels; the output is then left unfinished (not ended) for the caller to destroy. */
  signal?: AbortSignal;
}

export interface LabelSheetResult {
  pages: number;
  labels: number;
}
