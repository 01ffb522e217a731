/**
 * The HTTP application: security headers, request ids, logging, body limits, rate
 * limits, the routes, and the one error handler that turns every failure into
 * problem+json without leaking internals.
 */
import { randomUUID } from "node:crypto";
import { IncomingMessage } from "node:http";
import { Socket } from "node:net";

import express, {
  type ErrorRequestHandler,
  type Express,
  type Request,
  type RequestHandler,
  type Response,
  type Router,
} from "express";
import { rateLimit } from "express-rate-limit";
import helmet from "helmet";
import type { Logger } from "pino";

import { AppError } from "../errors/app-error.ts";
import { isDiskFull } from "../services/media.ts";
import { sendProblem, statusOf, toProblem } from "./problem.ts";

export interface AppOptions {
  logger: Logger;
  bodyLimitBytes: number;
  rateLimitPerMinute: number;
  /** Routers mounted in order; each owns its paths. */
  routers: Router[];
  /**
   * Routers that need neither a parsed body nor credentials (the scan path and the page's
   * files): mounted after security headers, request ids and rate limits, before body
   * parsing, authentication and the other routers, so a scan passes through nothing else.
   */
  publicRouters?: Router[];
  /** Origins the pages may fetch from besides their own (an external JSON-RPC endpoint). */
  connectSources?: string[];
  /** Whether the public origin is HTTPS (browsers are then told to upgrade any plain request). */
  servedOverHttps?: boolean;
  /** Middleware that runs after body parsing and before every router (authentication). */
  beforeRoutes?: RequestHandler[];
  /** Express's trust-proxy setting: false (default) takes the socket's address as the client's. */
  trustProxy?: boolean | number | string[];
  /**
   * Milliseconds a request may take to send its whole body after its headers; a request
   * still sending then is answered 408 and its connection closed. Media uploads are exempt:
   * they have the server's long request budget.
   */
  bodyTimeoutMs?: number;
  /**
   * Path prefixes whose routes parse their own bodies with their own, smaller limits: the
   * global JSON parser must not read them first, or its larger limit would be the one applied.
   */
  ownBodyParsers?: string[];
}

/** Requests allowed the long request budget: streamed media uploads (and resumable pieces) from a weak uplink. */
export function isLongUpload(req: { method: string; path: string }): boolean {
  return (
    (req.method === "POST" && req.path === "/api/v1/media") ||
    (req.method === "PATCH" && req.path.startsWith("/api/v1/media/uploads/"))
  );
}

declare module "express-serve-static-core" {
  interface Request {
    id: string;
    log: Logger;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Far deeper than any request of ours (about 6 levels), far shallower than a stack overflow. */
export const MAX_JSON_DEPTH = 64;

/** The deepest nesting of arrays and objects in JSON text, ignoring brackets inside strings. */
export function jsonNestingDepth(bytes: Uint8Array): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (inString) {
      if (byte === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x5b || byte === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (byte === 0x5d || byte === 0x7d) depth--;
  }
  return deepest;
}

function requestContext(logger: Logger): RequestHandler {
  // Whether each request is logged when it ends; read once, as pino's level is fixed at start.
  const logRequests = logger.isLevelEnabled("info");
  return (req, res, next) => {
    const given = req.get("x-request-id");
    req.id = given !== undefined && REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader("x-request-id", req.id);
    if (logRequests) {
      const started = performance.now();
      res.on("finish", () => {
        req.log.info(
          { method: req.method, path: req.path, status: res.statusCode, ms: Math.round(performance.now() - started) },
          "request",
        );
      });
    }
    next();
  };
}

/**
 * `req.log`, a child logger naming the request id, made on first use: most requests (scans)
 * never log, and making one costs more than the rest of a cached answer. Defined once on the
 * app's request prototype, not on each request (which would slow every property access).
 */
function lazyRequestLogger(app: Express, logger: Logger): void {
  const logs = new WeakMap<Request, Logger>();
  Object.defineProperty(app.request, "log", {
    configurable: true,
    get(this: Request): Logger {
      let log = logs.get(this);
      if (log === undefined) {
        log = logger.child({ requestId: this.id });
        logs.set(this, log);
      }
      return log;
    },
    set(this: Request, log: Logger) {
      logs.set(this, log);
    },
  });
}

/**
 * Helmet's headers with our policy: pages load only their own scripts and styles, and talk to
 * `connectSources`. `upgrade-insecure-requests` (and the other HTTPS-only headers) only where the
 * public origin is HTTPS: served over plain HTTP (the demo opened on a phone on the LAN) it
 * would send the page's own script to an HTTPS port that does not exist, and the page would
 * never load.
 */
export function securityHeaders(
  connectSources: readonly string[],
  options: { overHttps?: boolean } = {},
): RequestHandler {
  const overHttps = options.overHttps ?? true;
  return helmet({
    contentSecurityPolicy: {
      directives: {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:"],
        "connect-src": ["'self'", ...connectSources],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "upgrade-insecure-requests": overHttps ? [] : null,
      },
    },
    // Both are HTTPS-only features: over plain HTTP a browser ignores them, COOP with a console error.
    crossOriginOpenerPolicy: overHttps,
    strictTransportSecurity: overHttps,
    crossOriginResourcePolicy: { policy: "cross-origin" },
  });
}

/**
 * The policy of a page other sites may frame (the lot card's embed, `?embed=1`): `policy`
 * with any ancestor allowed and every other directive as it was. Every other page keeps
 * helmet's `frame-ancestors 'self'` and `X-Frame-Options`.
 */
export function frameableCsp(policy: string): string {
  const directives = policy
    .split(";")
    .map((directive) => directive.trim())
    .filter((directive) => directive !== "" && !directive.startsWith("frame-ancestors"));
  return [...directives, "frame-ancestors *"].join(";");
}

/**
 * A middleware that only sets fixed headers (helmet with a policy that has no per-request
 * parts: no nonces, no functions), run once against a recorder; each request then gets the
 * recorded headers. Helmet's chain of a dozen middlewares cost a tenth of a scan.
 */
export function headersComputedOnce(middleware: RequestHandler): RequestHandler {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader(name: string, value: unknown) {
      headers.set(name, String(value));
      return recorder;
    },
    removeHeader(name: string) {
      headers.delete(name);
    },
  };
  let failed: unknown = null;
  middleware(new IncomingMessage(new Socket()) as Request, recorder as unknown as Response, (error?: unknown) => {
    failed = error ?? null;
  });
  if (failed !== null) throw new Error("security headers could not be computed", { cause: failed });
  return (_req, res, next) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
}

/** True when the request carries no body (HTTP/1.1: neither Content-Length nor Transfer-Encoding). */
export function hasNoBody(req: Request): boolean {
  return req.headers["content-length"] === undefined && req.headers["transfer-encoding"] === undefined;
}

/**
 * Cuts a request whose body has not fully arrived `ms` after its headers: a 408 with
 * `Connection: close`, then the socket is closed, so trickling bodies cannot hold sockets.
 */
function bodyDeadline(ms: number, exempt: (req: Request) => boolean): RequestHandler {
  return (req, res, next) => {
    if (req.complete || hasNoBody(req) || exempt(req)) {
      next();
      return;
    }
    const timer = setTimeout(() => {
      if (req.complete || res.writableEnded) return;
      req.log.info({ method: req.method, path: req.path, ms }, "request body too slow; closing");
      if (res.headersSent) {
        req.socket.destroy();
        return;
      }
      res.setHeader("Connection", "close");
      sendProblem(res, new AppError("request.timeout"), req.originalUrl);
      // The answer is flushed first; the unread rest of the body is not waited for.
      res.once("finish", () => req.socket.destroy());
    }, ms);
    timer.unref();
    const clear = (): void => {
      clearTimeout(timer);
    };
    req.once("end", clear);
    res.once("close", clear);
    next();
  };
}

function bodyParserProblem(error: unknown): AppError | null {
  if (typeof error !== "object" || error === null || !("type" in error)) return null;
  switch (error.type) {
    case "entity.too.large":
      return new AppError("request.too_large");
    case "entity.parse.failed":
      return new AppError("request.invalid", {}, { detail: "The body is not valid JSON." });
    case "entity.too.deep":
      return new AppError(
        "request.invalid",
        {},
        { detail: `The JSON body is nested more than ${MAX_JSON_DEPTH} levels deep.` },
      );
    case "encoding.unsupported":
    case "charset.unsupported":
      return new AppError("request.unsupported_media_type");
    default:
      return null;
  }
}

const errorHandler: ErrorRequestHandler = (error: unknown, req, res, _next) => {
  const problem = isDiskFull(error)
    ? new AppError("storage.full", {}, { cause: error })
    : (bodyParserProblem(error) ?? toProblem(error));

  if (problem.code === "internal.error") req.log.error({ err: error }, "unhandled error");
  else if (statusOf(problem) === 401 || statusOf(problem) === 403) {
    // Refusals of credentials and roles are kept: an authorisation probe should leave a trace.
    req.log.warn({ code: problem.code, method: req.method, path: req.path, principal: req.principal }, "refused");
  } else req.log.debug({ code: problem.code, detail: problem.detail }, "request refused");
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendProblem(res, problem, req.originalUrl);
};

export function createApp(options: AppOptions): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", options.trustProxy ?? false);
  lazyRequestLogger(app, options.logger);
  app.use(requestContext(options.logger));
  if (options.bodyTimeoutMs !== undefined) app.use(bodyDeadline(options.bodyTimeoutMs, isLongUpload));
  app.use(
    headersComputedOnce(securityHeaders(options.connectSources ?? [], { overHttps: options.servedOverHttps ?? true })),
  );
  app.use(
    rateLimit({
      windowMs: 60_000,
      limit: options.rateLimitPerMinute,
      // draft-7's headers: draft-8's policy names a partition key, a SHA-256 of the client's
      // address computed on every request, which cost a tenth of a cached scan.
      standardHeaders: "draft-7",
      legacyHeaders: false,
      // Without a trusted proxy, X-Forwarded-For is ignored on purpose: no need to warn about it.
      validate: { xForwardedForHeader: false },
      handler: (req, res) => {
        sendProblem(res, new AppError("request.rate_limited"), req.originalUrl);
      },
    }),
  );
  for (const router of options.publicRouters ?? []) app.use(router);
  const ownBodyParsers = options.ownBodyParsers ?? [];
  const json: RequestHandler = express.json({
    limit: options.bodyLimitBytes,
    type: ["application/json", "application/*+json"],
    verify: (req, _res, buffer) => {
      // Checked on the bytes, before parsing: nothing downstream recurses 10,000 levels deep.
      if (jsonNestingDepth(buffer) > MAX_JSON_DEPTH) {
        throw Object.assign(new Error("JSON nested too deeply"), { type: "entity.too.deep", status: 400 });
      }
    },
  });
  app.use((req, res, next) => {
    if (hasNoBody(req) || ownBodyParsers.some((prefix) => req.path.startsWith(prefix))) next();
    else json(req, res, next);
  });
  for (const handler of options.beforeRoutes ?? []) app.use(handler);
  for (const router of options.routers) app.use(router);
  app.use((req, res) => {
    sendProblem(res, new AppError("resource.not_found"), req.originalUrl);
  });
  app.use(errorHandler);
  return app;
}
