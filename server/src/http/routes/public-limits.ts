/**
 * Per-address limits of the public joining and sign-in endpoints, much smaller than the API's:
 * applying is free, so it must stay cheap to refuse a flood, and each sign-in guess costs a request.
 */
import { rateLimit } from "express-rate-limit";

import { AppError } from "../../errors/app-error.ts";
import { sendProblem } from "../problem.ts";

/**
 * Requests one address may make to the public joining endpoints, scaled with the API's own
 * per-address limit (`RATE_LIMIT_PER_MINUTE`, 600 by default): 20 applications and 40 licence
 * uploads per 10 minutes, 120 status reads a minute, 30 sign-ins per 10 minutes at the default.
 * A deployment (or a test) that lifts the API's limit lifts these with it.
 */
export interface PublicLimits {
  applications: number;
  licences: number;
  statusReads: number;
  signIns: number;
}

export function publicLimits(rateLimitPerMinute: number): PublicLimits {
  const scale = Math.max(1, rateLimitPerMinute / 600);
  return {
    applications: Math.round(20 * scale),
    licences: Math.round(40 * scale),
    statusReads: Math.round(120 * scale),
    signIns: Math.round(30 * scale),
  };
}

/** Per address: a cooperative applies once; a few retries and typing mistakes are allowed. */
export function perAddress(limit: number, windowMs: number) {
  return rateLimit({
    windowMs,
    limit,
    standardHeaders: "draft-7",
    legacyHeaders: false,
    validate: { xForwardedForHeader: false },
    handler: (req, res) => {
      sendProblem(res, new AppError("request.rate_limited"), req.originalUrl);
    },
  });
}
