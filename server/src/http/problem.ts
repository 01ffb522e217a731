/**
 * RFC 9457 problem details, the one shape every HTTP error takes. Each code is stable
 * (clients and the consoles switch on it) and carries a message in Chinese and English;
 * `docs/error-codes.md` explains each code and what to do about it.
 */
import type { Response } from "express";

import type { DomainError, DomainErrorCode } from "../domain/errors.ts";
import type { LabelError, LabelErrorCode } from "../labels/errors.ts";

export interface ProblemDefinition {
  status: number;
  en: string;
  zh: string;
}

/** The catalogue. Add codes here (and to docs/error-codes.md); never rename one. */
export const PROBLEMS = {
  "request.invalid": { status: 400, en: "The request is not valid.", zh: "请求无效。" },
  "request.too_large": { status: 413, en: "The request body is too large.", zh: "请求内容过大。" },
  "request.unsupported_media_type": {
    status: 415,
    en: "The request's content type is not accepted here.",
    zh: "不支持该请求内容类型。",
  },
  "request.document_too_large": {
    status: 413,
    en: "What this request would publish exceeds the 256 KiB a public document may hold; send less per request (e.g. split a long temperature series over several events).",
    zh: "本请求要发布的公开文档超过 256 KiB 上限；请减少单次提交的内容（例如把较长的温度记录拆分到多个事件中）。",
  },
  "request.rate_limited": { status: 429, en: "Too many requests; try again later.", zh: "请求过于频繁，请稍后再试。" },
  "request.timeout": {
    status: 408,
    en: "The request body did not arrive in time; the connection is closed.",
    zh: "请求内容未能及时送达，连接已关闭。",
  },
  "auth.missing": { status: 401, en: "Credentials are required.", zh: "需要登录凭据。" },
  "auth.invalid": { status: 401, en: "The credentials are not valid.", zh: "登录凭据无效。" },
  "auth.forbidden": { status: 403, en: "Your role may not do this.", zh: "您的角色无权执行此操作。" },
  "resource.not_found": { status: 404, en: "Nothing was found here.", zh: "未找到该资源。" },
  "method.not_allowed": { status: 405, en: "This method is not allowed here.", zh: "不允许使用该请求方法。" },
  "idempotency.conflict": {
    status: 409,
    en: "This idempotency key was already used with a different request.",
    zh: "该幂等键已用于另一个不同的请求。",
  },
  "idempotency.in_progress": {
    status: 409,
    en: "A request with this idempotency key is still being handled; retry after the time given in Retry-After.",
    zh: "使用该幂等键的请求仍在处理中，请在 Retry-After 所示时间后重试。",
  },
  "idempotency.answer_lost": {
    status: 409,
    en: "The write made with this idempotency key was stored, but its answer was lost when the server stopped; look the record up.",
    zh: "使用该幂等键的写入已保存，但服务器中断时丢失了应答；请查询该记录。",
  },
  "ipfs.cid_malformed": { status: 400, en: "This is not a valid CID.", zh: "这不是有效的内容标识符（CID）。" },
  "ipfs.not_found": { status: 404, en: "No content with this CID is stored here.", zh: "此处未存储该内容。" },
  "ipfs.not_a_file": {
    status: 404,
    en: "This CID names something other than a file; only files are served here.",
    zh: "该内容标识符（CID）指向的不是文件；此处只提供文件。",
  },
  "ipfs.range_not_satisfiable": {
    status: 416,
    en: "The requested byte range lies outside the content.",
    zh: "请求的字节范围超出内容长度。",
  },
  "chain.unavailable": {
    status: 503,
    en: "The ledger node cannot be reached; try again later.",
    zh: "区块链节点暂时无法访问，请稍后再试。",
  },
  "chain.busy": {
    status: 503,
    en: "The ledger node is busy with other reads; try again in a moment.",
    zh: "区块链节点正忙于其他查询，请稍后再试。",
  },
  "ipfs.unavailable": {
    status: 503,
    en: "The content store is unavailable; try again later.",
    zh: "内容存储暂时不可用，请稍后再试。",
  },
  "organisation.not_found": { status: 404, en: "No organisation has this id.", zh: "不存在该组织。" },
  "organisation.exists": {
    status: 409,
    en: "An organisation with this credit code or signing address is already registered.",
    zh: "具有该统一社会信用代码或签名地址的组织已注册。",
  },
  "organisation.suspended": {
    status: 403,
    en: "This organisation is suspended and may not write.",
    zh: "该组织已被暂停，不能提交数据。",
  },
  "organisation.wrong_kind": {
    status: 403,
    en: "Organisations of this kind may not do this.",
    zh: "该类型的组织无权执行此操作。",
  },
  "organisation.not_on_ledger": {
    status: 409,
    en: "The organisation is not registered on the ledger yet; try again shortly.",
    zh: "该组织尚未在链上登记完成，请稍后再试。",
  },
  "organisation.state_unchanged": {
    status: 409,
    en: "The organisation is already in that state.",
    zh: "该组织已处于此状态。",
  },
  "credential.not_found": { status: 404, en: "No such credential.", zh: "不存在该凭据。" },
  "product.not_found": { status: 404, en: "No product with this GTIN is registered.", zh: "未登记该商品条码的产品。" },
  "product.exists": {
    status: 409,
    en: "A product with this GTIN is already registered.",
    zh: "该商品条码的产品已登记。",
  },
  "product.unit_mismatch": {
    status: 400,
    en: "The quantity's unit differs from the product's unit.",
    zh: "数量单位与产品登记的单位不一致。",
  },
  "product.net_content_unit": {
    status: 400,
    en: "A product's net content per item must be a mass: g, kg or t.",
    zh: "产品每件净含量须使用质量单位：克、千克或吨。",
  },
  "plot.not_found": { status: 404, en: "The organisation has no plot with this id.", zh: "该组织没有此地块。" },
  "certification.not_found": {
    status: 404,
    en: "The organisation has no certification with this id.",
    zh: "该组织没有此认证。",
  },
  "media.not_found": {
    status: 404,
    en: "No uploaded media has this CID.",
    zh: "未找到该内容标识符（CID）对应的已上传文件。",
  },
  "media.too_large": { status: 413, en: "The file is larger than allowed.", zh: "文件超过允许的大小。" },
  "media.empty": { status: 400, en: "The upload is empty.", zh: "上传内容为空。" },
  "batch.exists": {
    status: 409,
    en: "A batch with this GTIN and lot is already registered.",
    zh: "该商品条码与批号的批次已登记。",
  },
  "batch.not_found": { status: 404, en: "No such batch.", zh: "不存在该批次。" },
  "batch.too_many_items": {
    status: 413,
    en: "The batch has more items than one registration may issue.",
    zh: "该批次的商品数量超过单次登记的上限。",
  },
  "batch.recalled": { status: 409, en: "The batch is recalled.", zh: "该批次已召回。" },
  "batch.not_yours": {
    status: 403,
    en: "Only the batch's own cooperative may do this.",
    zh: "只有该批次所属的合作社可以执行此操作。",
  },
  "draft.not_found": {
    status: 404,
    en: "No draft awaits a signature under this id.",
    zh: "不存在等待签名的该草稿。",
  },
  "signature.invalid": {
    status: 400,
    en: "The signature was not made by the organisation's registered key over this data.",
    zh: "签名与该组织登记的密钥或所签数据不符。",
  },
  "signature.custody": {
    status: 409,
    en: "This organisation's key is held by the platform, so the platform signs; or it holds its own key and must sign itself.",
    zh: "签名方式与该组织的密钥托管方式不符。",
  },
  "event.data_invalid": {
    status: 400,
    en: "The event's data does not fit its business step.",
    zh: "事件数据与业务环节不符。",
  },
  "event.before_harvest": {
    status: 400,
    en: "The event's time is impossible for this batch (before planting or in the future).",
    zh: "事件时间对该批次不合理（早于种植或晚于当前时间）。",
  },
  "item.not_found": { status: 404, en: "No such item.", zh: "不存在该商品。" },
  "claim.no_code": { status: 409, en: "This item has no hidden code.", zh: "该商品没有隐藏验证码。" },
  "claim.wrong_code": { status: 400, en: "The verification code is wrong.", zh: "验证码错误。" },
  "claim.too_many_attempts": {
    status: 429,
    en: "Too many wrong codes for this item; try again later.",
    zh: "该商品的错误尝试过多，请稍后再试。",
  },
  "storage.full": {
    status: 507,
    en: "The server's storage is full; nothing was stored.",
    zh: "服务器存储空间已满，未保存任何内容。",
  },
  "internal.error": { status: 500, en: "Something went wrong on our side.", zh: "服务器内部错误。" },
} as const satisfies Record<string, ProblemDefinition>;

export type ProblemCode = keyof typeof PROBLEMS;

/** Every stable code a problem response can carry: HTTP-level codes and the domain's input codes. */
export type AnyProblemCode = ProblemCode | DomainErrorCode | LabelErrorCode;

interface ProblemOptions {
  detail?: string;
  extensions?: Record<string, unknown>;
  cause?: unknown;
}

/** An error that becomes a problem+json response in the one error handler. */
export class ProblemError extends Error {
  readonly code: AnyProblemCode;
  readonly status: number;
  readonly en: string;
  readonly zh: string;
  readonly detail: string | undefined;
  readonly extensions: Record<string, unknown>;

  constructor(code: ProblemCode, options: ProblemOptions = {}) {
    const definition: ProblemDefinition = PROBLEMS[code];
    super(options.detail ?? definition.en, { cause: options.cause });
    this.name = "ProblemError";
    this.code = code;
    this.status = definition.status;
    this.en = definition.en;
    this.zh = definition.zh;
    this.detail = options.detail;
    this.extensions = options.extensions ?? {};
  }

  /** A domain refusal (bad check digit, bad lot, ...) keeps its own code and messages; status 400 unless given. */
  static fromDomain(error: DomainError | LabelError, status = 400): ProblemError {
    const problem = new ProblemError("request.invalid", { extensions: { details: error.details }, cause: error });
    Object.assign(problem, { code: error.code, status, en: error.en, zh: error.zh });
    return problem;
  }
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: AnyProblemCode;
  message: { en: string; zh: string };
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export function problemBody(error: ProblemError, instance?: string): ProblemBody {
  return {
    ...error.extensions,
    // A relative reference: the server answers it with the catalogue entry (docs/error-codes.md).
    type: `/problems/${error.code}`,
    title: error.en,
    status: error.status,
    code: error.code,
    message: { en: error.en, zh: error.zh },
    ...(error.detail === undefined ? {} : { detail: error.detail }),
    ...(instance === undefined ? {} : { instance }),
  };
}

export function sendProblem(res: Response, error: ProblemError, instance?: string): void {
  const body = problemBody(error, instance);
  res.status(body.status).type("application/problem+json").setHeader("cache-control", "no-store");
  res.send(JSON.stringify(body));
}
