/**
 * Typed errors of the label module. Like `DomainError`, each carries a stable machine
 * code, a fixed message in English and Chinese (the cooperative console shows `zh`), and
 * the values that explain the failure in `details`, so the HTTP route can map any of them
 * to one problem+json response without parsing messages.
 */

export interface LabelMessage {
  en: string;
  zh: string;
}

/** The catalogue. Add codes here; never rename or reuse one. */
export const LABEL_ERRORS = {
  "labels.qr_text_empty": {
    en: "A QR code needs some text to carry; the URI is empty.",
    zh: "二维码内容为空。",
  },
  "labels.qr_text_too_long": {
    en: "The URI is too long for a label QR code that phones can still scan.",
    zh: "链接过长，无法生成可被手机扫描的标签二维码。",
  },
  "labels.qr_size": {
    en: "The requested QR image size is out of range.",
    zh: "二维码图片尺寸超出允许范围。",
  },
  "labels.layout": {
    en: "This label layout does not fit on an A4 sheet with a scannable QR code and its text.",
    zh: "该标签排版在 A4 纸上放不下可扫描的二维码及文字。",
  },
  "labels.font_missing": {
    en: "No Chinese (CJK) font was found for the label sheet.",
    zh: "未找到打印标签所需的中文字体。",
  },
  "labels.heading": {
    en: "The sheet heading needs the product's Chinese name.",
    zh: "标签页眉需要产品的中文名称。",
  },
  "labels.item_mismatch": {
    en: "A label item does not belong to this sheet: its link, serial, GTIN or lot disagree.",
    zh: "标签条目与本页不符：其链接、序列号、商品条码或批号不一致。",
  },
} as const satisfies Record<string, LabelMessage>;

export type LabelErrorCode = keyof typeof LABEL_ERRORS;

/** An input the label module refuses, with a code that never changes and a zh/en message. */
export class LabelError extends Error {
  readonly code: LabelErrorCode;
  readonly en: string;
  readonly zh: string;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: LabelErrorCode, details: Record<string, unknown> = {}, options: { cause?: unknown } = {}) {
    const message = LABEL_ERRORS[code];
    // The details go into the message too: a developer reading a log needs the limit that was hit.
    super(`${code}: ${message.en} ${JSON.stringify(details)}`, { cause: options.cause });
    this.name = "LabelError";
    this.code = code;
    this.en = message.en;
    this.zh = message.zh;
    this.details = Object.freeze({ ...details });
  }
}

export function isLabelError(value: unknown, code?: LabelErrorCode): value is LabelError {
  return value instanceof LabelError && (code === undefined || value.code === code);
}
