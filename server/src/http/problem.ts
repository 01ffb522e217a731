/**
 * RFC 9457 problem details, the one shape every HTTP error takes. The errors themselves
 * (`AppError`) and their codes, statuses and messages (the registry) live in
 * `server/src/errors/`; this module only turns any error into a problem and writes it.
 */
import type { Response } from "express";
import { ZodError } from "zod";

import { AppError, docsPathOf, isAppError } from "../errors/app-error.ts";
import { detailsAreMembers, ERRORS, type ErrorCode } from "../errors/registry.ts";

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  message: { en: string; zh: string };
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

const INTERNAL_ERROR = new AppError("internal.error");

/** The codes a problem body can carry: faults on our side (status 500) are all `internal.error`. */
export const PROBLEM_CODES: readonly ErrorCode[] = (Object.keys(ERRORS) as ErrorCode[]).filter(
  (code) => code === "internal.error" || ERRORS[code].status !== 500,
);

/**
 * What the caller is told about any error. An `AppError` that is a fault on our side
 * becomes `internal.error` with the original as its cause, so a code like `ipfs.corrupt`
 * is logged but never shown; errors of libraries get the code their meaning has, and the
 * rest are `internal.error`.
 */
export function toProblem(error: unknown): AppError {
  if (isAppError(error)) {
    return ERRORS[error.code].status === 500 && error.code !== "internal.error"
      ? new AppError("internal.error", {}, { cause: error })
      : error;
  }
  if (error instanceof ZodError) return zodProblem(error);
  // Bad percent-encoding, wherever it is decoded: a path parameter (the router's decoding)
  // or a header a route decodes (X-File-Name). The caller's mistake, in one place.
  if (error instanceof URIError) {
    return new AppError("request.invalid", {}, { detail: "The path or a header is not valid percent-encoding." });
  }
  return new AppError("internal.error", {}, { cause: error });
}

export function zodProblem(error: ZodError): AppError {
  return new AppError(
    "request.invalid",
    { issues: error.issues.map((issue) => ({ path: issue.path.map(String), message: issue.message })) },
    { detail: error.issues.map((issue) => `${issue.path.join(".") || "(body)"}: ${issue.message}`).join("; ") },
  );
}

export function statusOf(error: AppError): number {
  return ERRORS[error.code].status;
}

export function problemBody(thrown: AppError, instance?: string): ProblemBody {
  // Whichever path an error takes to the response, a fault on our side says no more than this.
  const error = ERRORS[thrown.code].status === 500 ? INTERNAL_ERROR : thrown;
  const { status, en, zh } = ERRORS[error.code];
  return {
    ...(detailsAreMembers(error.code) ? error.details : { details: error.details }),
    // A relative reference: the server answers it with the registry entry.
    type: docsPathOf(error.code),
    title: en,
    status,
    code: error.code,
    message: { en, zh },
    ...(error.detail === undefined ? {} : { detail: error.detail }),
    ...(instance === undefined ? {} : { instance }),
  };
}

export function sendProblem(res: Response, error: AppError, instance?: string): void {
  const body = problemBody(error, instance);
  res.status(body.status).type("application/problem+json").setHeader("cache-control", "no-store");
  res.send(JSON.stringify(body));
}
