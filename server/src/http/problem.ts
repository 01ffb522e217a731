/**
 * RFC 9457 problem details, the one shape every HTTP error takes. Each code is stable
 * (clients and the consoles switch on it) and carries a message in Chinese and English;
 * `docs/error-codes.md` explains each code and what to do about it.
 */
import type { Response } from "express";

import type { DomainError, DomainErrorCode } from "../domain/errors.ts";

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
  "request.rate_limited": { status: 429, en: "Too many requests; try again later.", zh: "请求过于频繁，请稍后再试。" },
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
  "ipfs.unavailable": {
    status: 503,
    en: "The content store is unavailable; try again later.",
    zh: "内容存储暂时不可用，请稍后再试。",
  },
  "internal.error": { status: 500, en: "Something went wrong on our side.", zh: "服务器内部错误。" },
} as const satisfies Record<string, ProblemDefinition>;

export type ProblemCode = keyof typeof PROBLEMS;

/** Every stable code a problem response can carry: HTTP-level codes and the domain's input codes. */
export type AnyProblemCode = ProblemCode | DomainErrorCode;

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
  static fromDomain(error: DomainError, status = 400): ProblemError {
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
