/**
 * The one error type of the server, the CLI and the verifier: a stable code from the
 * registry, the values that explain this failure (`details`), an optional one-line
 * explanation for the caller (`detail`, RFC 9457's member of that name) and the cause.
 * The messages and the HTTP status live in the registry, not on the error, so the scan
 * page bundles this class without the catalogue; the HTTP layer renders it
 * (`http/problem.ts`).
 */
import type { ErrorCode } from "./registry.ts";

export interface AppErrorOptions {
  cause?: unknown;
  /** Told to the caller as the problem's `detail`; never secrets or stack traces. */
  detail?: string;
}

/** Where a code is documented: the problem `type` URI, which the server answers (`GET /problems/{code}`). */
export function docsPathOf(code: ErrorCode): string {
  return `/problems/${code}`;
}

export class AppError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  readonly details: Readonly<Record<string, unknown>>;
  readonly detail: string | undefined;

  constructor(code: C, details: Record<string, unknown> = {}, options: AppErrorOptions = {}) {
    // The details go into the message too: a developer reading a log needs the value that was refused.
    const explained = Object.keys(details).length === 0 ? "" : ` ${jsonOf(details)}`;
    super(`${code}${options.detail === undefined ? "" : `: ${options.detail}`}${explained}`, { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.details = Object.freeze({ ...details });
    this.detail = options.detail;
  }

  get docsPath(): string {
    return docsPathOf(this.code);
  }
}

export function isAppError<C extends ErrorCode>(value: unknown, code?: C): value is AppError<C> {
  return value instanceof AppError && (code === undefined || value.code === code);
}

function jsonOf(details: Record<string, unknown>): string {
  try {
    return JSON.stringify(details, (_key, value: unknown) => (typeof value === "bigint" ? String(value) : value));
  } catch {
    return "(details not serialisable)";
  }
}
