/**
 * Typed errors of the pure domain modules. Each carries a stable machine code (clients,
 * the consoles and the HTTP layer switch on it; it is never renamed) and a message in
 * English and Chinese. Values that explain the failure go in `details`, so the messages
 * stay fixed strings that translators can review once.
 *
 * The HTTP layer maps every `DomainError` to one problem+json response (status 400 unless
 * it says otherwise); the scan page shows `zh` or `en` as they are.
 */

export interface DomainMessage {
  en: string;
  zh: string;
}

/** The catalogue. Add codes here; never rename or reuse one. */
export const DOMAIN_ERRORS = {
  "gs1.gtin_format": {
    en: "A GTIN has 8, 12, 13 or 14 digits.",
    zh: "商品条码（GTIN）应为 8、12、13 或 14 位数字。",
  },
  "gs1.check_digit": {
    en: "The GTIN's check digit is wrong.",
    zh: "商品条码（GTIN）校验位错误。",
  },
  "gs1.lot_length": {
    en: "A batch/lot number (AI 10) has 1 to 20 characters.",
    zh: "批号（AI 10）长度应为 1 至 20 个字符。",
  },
  "gs1.lot_charset": {
    en: "A batch/lot number (AI 10) may only use the 82 characters GS1 allows.",
    zh: "批号（AI 10）只能使用 GS1 允许的 82 个字符。",
  },
  "gs1.serial_length": {
    en: "A serial number (AI 21) has 1 to 20 characters.",
    zh: "序列号（AI 21）长度应为 1 至 20 个字符。",
  },
  "gs1.serial_charset": {
    en: "A serial number (AI 21) may only use the 82 characters GS1 allows.",
    zh: "序列号（AI 21）只能使用 GS1 允许的 82 个字符。",
  },
  "gs1.cpv_length": {
    en: "A consumer product variant (AI 22) has 1 to 20 characters.",
    zh: "消费产品变体（AI 22）长度应为 1 至 20 个字符。",
  },
  "gs1.cpv_charset": {
    en: "A consumer product variant (AI 22) may only use the 82 characters GS1 allows.",
    zh: "消费产品变体（AI 22）只能使用 GS1 允许的 82 个字符。",
  },
  "gs1.gtin_range": {
    en: "This number is not a GTIN: it has more than 14 digits or is negative.",
    zh: "该数值不是有效的商品条码：超过 14 位或为负数。",
  },
  "digital_link.syntax": {
    en: "This is not a GS1 Digital Link URI.",
    zh: "这不是有效的 GS1 数字链接（Digital Link）地址。",
  },
  "digital_link.host": {
    en: "The resolver host name is not valid.",
    zh: "解析服务的主机名无效。",
  },
  "digital_link.no_primary_key": {
    en: "The link carries no GTIN (/01/...).",
    zh: "链接中缺少商品条码（/01/...）。",
  },
  "digital_link.unknown_ai": {
    en: "The link uses an application identifier this resolver does not know.",
    zh: "链接包含本解析服务不支持的应用标识符（AI）。",
  },
  "digital_link.order": {
    en: "Key qualifiers must follow the standard order: 22, then 10, then 21.",
    zh: "限定符须按标准顺序排列：22、10、21。",
  },
  "digital_link.duplicate_ai": {
    en: "An application identifier appears more than once.",
    zh: "同一应用标识符（AI）出现了多次。",
  },
  "digital_link.misplaced_ai": {
    en: "Key qualifiers belong in the path and data attributes in the query string.",
    zh: "限定符应位于路径中，数据属性应位于查询字符串中。",
  },
  "digital_link.attribute_format": {
    en: "A data attribute in the query string has the wrong format.",
    zh: "查询字符串中的数据属性格式错误。",
  },
  "digital_link.date": {
    en: "A date in the link (YYMMDD) is not a real calendar date.",
    zh: "链接中的日期（YYMMDD）不是有效的日历日期。",
  },
  "merkle.empty": {
    en: "A batch needs at least one item.",
    zh: "批次至少需要包含一个单品。",
  },
  "merkle.duplicate_serial": {
    en: "The same serial number appears twice in the batch.",
    zh: "同一批次中出现了重复的序列号。",
  },
  "merkle.serial_encoding": {
    en: "A serial number contains text that cannot be encoded as UTF-8.",
    zh: "序列号包含无法以 UTF-8 编码的字符。",
  },
  "merkle.unknown_serial": {
    en: "This serial number is not part of the batch.",
    zh: "该序列号不属于此批次。",
  },
  "merkle.index_range": {
    en: "There is no item at this position in the batch.",
    zh: "批次中没有该位置的单品。",
  },
  "hash_chain.bytes32": {
    en: "A hash must be 32 bytes written as 0x followed by 64 hex digits.",
    zh: "哈希值须为 32 字节，写作 0x 加 64 位十六进制数字。",
  },
  "serial.format": {
    en: "This is not a serial number issued here.",
    zh: "这不是本平台签发的序列号。",
  },
  "serial.verification_code_format": {
    en: "A verification code has 8 digits.",
    zh: "验证码应为 8 位数字。",
  },
  "serial.pepper_too_short": {
    en: "The verification-code secret must be at least 32 bytes.",
    zh: "验证码密钥至少需要 32 字节。",
  },
  "serial.random_unavailable": {
    en: "No cryptographically secure random number generator is available.",
    zh: "没有可用的密码学安全随机数生成器。",
  },
  "uscc.length": {
    en: "A unified social credit code has 18 characters.",
    zh: "统一社会信用代码应为 18 位。",
  },
  "uscc.charset": {
    en: "A unified social credit code uses digits and capital letters other than I, O, Z, S and V.",
    zh: "统一社会信用代码只能使用数字和除 I、O、Z、S、V 以外的大写字母。",
  },
  "uscc.region_format": {
    en: "Characters 3 to 8 of a unified social credit code are a six-digit region code.",
    zh: "统一社会信用代码第 3 至 8 位应为 6 位数字的行政区划码。",
  },
  "uscc.check_character": {
    en: "The check character of the unified social credit code is wrong.",
    zh: "统一社会信用代码校验码错误。",
  },
  "region.format": {
    en: "An administrative division code (GB/T 2260) has 6 digits.",
    zh: "行政区划代码（GB/T 2260）应为 6 位数字。",
  },
  "region.province": {
    en: "The first two digits name no province-level division.",
    zh: "前两位不是有效的省级行政区代码。",
  },
  "region.structure": {
    en: "A county-level part needs a prefecture-level part.",
    zh: "县级代码必须隶属于地级代码。",
  },
  "units.unknown_unit": {
    en: "This unit is not one we record.",
    zh: "不支持该计量单位。",
  },
  "units.quantity_format": {
    en: "A quantity is a decimal number such as 1234.5.",
    zh: "数量应为十进制数字，例如 1234.5。",
  },
  "units.quantity_precision": {
    en: "A quantity has at most 3 decimal places.",
    zh: "数量最多保留 3 位小数。",
  },
  "units.quantity_negative": {
    en: "A quantity cannot be negative.",
    zh: "数量不能为负数。",
  },
  "units.quantity_zero": {
    en: "A quantity must be greater than zero.",
    zh: "数量必须大于零。",
  },
  "units.quantity_overflow": {
    en: "The quantity is too large.",
    zh: "数量过大。",
  },
  "cold_chain.range": {
    en: "The temperature range is not valid: the minimum must not exceed the maximum.",
    zh: "温度范围无效：下限不能高于上限。",
  },
  "cold_chain.reading": {
    en: "A temperature reading has no valid time or value.",
    zh: "温度记录缺少有效的时间或数值。",
  },
} as const satisfies Record<string, DomainMessage>;

export type DomainErrorCode = keyof typeof DOMAIN_ERRORS;

/** An input a domain function refuses, with a code that never changes and a zh/en message. */
export class DomainError extends Error {
  readonly code: DomainErrorCode;
  readonly en: string;
  readonly zh: string;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: DomainErrorCode, details: Record<string, unknown> = {}, options: { cause?: unknown } = {}) {
    const message = DOMAIN_ERRORS[code];
    super(`${code}: ${message.en}`, { cause: options.cause });
    this.name = "DomainError";
    this.code = code;
    this.en = message.en;
    this.zh = message.zh;
    this.details = Object.freeze({ ...details });
  }
}

export function isDomainError(value: unknown, code?: DomainErrorCode): value is DomainError {
  return value instanceof DomainError && (code === undefined || value.code === code);
}
