/**
 * Hostile input against a running server, generated with fast-check. Every request mixes
 * what an attacker controls: the path (each parameter segment kept, or replaced by random
 * and broken percent-encoding, traversal, NUL bytes, confusable and full-width characters,
 * huge numbers), the query string, the headers (Authorization, Content-Type, Idempotency-Key,
 * Range, Accept, X-File-Name; for an upload's pieces Upload-Offset, and Content-Length lines
 * written by hand) and the body (deep nesting, huge numbers, long and odd strings, truncated
 * JSON, sent whole or in chunks). Requests go over keep-alive HTTP with bounded concurrency, so
 * tens of thousands per endpoint take seconds. Used by the security test (which asserts)
 * and the bench (which counts).
 */
import http from "node:http";
import net from "node:net";
import { Worker } from "node:worker_threads";

import fc from "fast-check";

export interface HostileTarget {
  name: string;
  method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS";
  /**
   * Path template: each `{name}` is replaced by `params[name]` or, often, by a hostile
   * segment. Or a generator of whole paths.
   */
  path: string | fc.Arbitrary<string>;
  params?: Record<string, string>;
  /** The credential sent in most requests (some get none, or a broken one). */
  token?: string;
  /** Content types to draw from instead of the default mix (see the media upload). */
  contentTypes?: readonly string[];
  /**
   * The valid answer is heavy work (a label PDF, an audit, an export): always send a
   * non-empty hostile query and keep the path parameters valid only once in 20, so the
   * budget goes on hostile input rather than on rendering valid requests.
   */
  heavy?: boolean;
  /**
   * The request a valid client would send, as a path: what the coverage check dispatches
   * through the server's routes. By default the template with its valid parameters.
   */
  sample?: string;
  /** Query strings to draw from instead of the generic hostile ones (an endpoint's own parameters). */
  query?: fc.Arbitrary<string>;
  /** Headers and ways of sending that only this endpoint cares about (the upload's pieces). */
  extras?: fc.Arbitrary<RequestExtras>;
  /**
   * Answers of 500 and above that are the endpoint's documented answer to an input, each with
   * its problem code and why: counted apart, never as a server error. Any other 5xx still is.
   */
  designed?: readonly { status: number; code: string; why: string }[];
}

/** What a target adds to each generated request. */
export interface RequestExtras {
  /** Extra headers; an array sends the header once per value. */
  headers?: Record<string, string | string[]>;
  /**
   * Content-Length lines sent as given (none, one or several, any text) over a connection of
   * their own that is then closed: Node's client would refuse to send a wrong one.
   */
  contentLength?: string[];
  /** The body goes in chunks (Transfer-Encoding: chunked), with no length announced. */
  chunked?: boolean;
  /** A non-empty body shorter than this is padded to it. */
  minBodyBytes?: number;
}

export interface HostileOutcome {
  name: string;
  tried: number;
  /** Answers of 500 and above (or none at all), with the input that caused the first one. */
  serverErrors: number;
  firstServerError: string | null;
  statuses: Record<string, number>;
}

const nasty = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.constantFrom(
    "../../etc/passwd",
    "%2e%2e%2f%2e%2e%2f",
    "\u0000",
    "%00",
    "ＡＢＣ１２３",
    "0".repeat(5_000),
    "9".repeat(400),
    "\ud800",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "__proto__",
    "constructor",
    "𝟎𝟏𝟐",
    "\u202e",
  ),
);

const hugeNumber = fc.oneof(
  fc.constant(Number.MAX_VALUE),
  fc.constant(-Number.MAX_VALUE),
  fc.constant(1e308),
  fc.double(),
  fc.bigInt().map((b) => Number(b)),
  fc.constant(2 ** 64),
);

const { tree: deepJson } = fc.letrec((tie) => ({
  tree: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    tie("leaf"),
    fc.array(tie("tree"), { maxLength: 4 }),
    fc.dictionary(nasty, tie("tree"), { maxKeys: 4 }),
  ),
  leaf: fc.oneof(nasty, hugeNumber, fc.boolean(), fc.constant(null)),
}));

/** A body that is JSON text, or almost: truncated, nested 10,000 deep, or not JSON at all. */
export const hostileBody: fc.Arbitrary<string> = fc.oneof(
  deepJson.map((value) => JSON.stringify(value)),
  fc.json(),
  fc.constant(`${"[".repeat(10_000)}${"]".repeat(10_000)}`),
  fc.constant(`${'{"a":'.repeat(5_000)}1${"}".repeat(5_000)}`),
  fc.string({ maxLength: 300 }),
  fc.json().map((text) => text.slice(0, Math.max(0, text.length - 1))),
  fc.constant('{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}'),
);

export const HOSTILE_CONTENT_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "application/json; charset=latin1",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/merge-patch+json",
  "",
] as const;

const idempotencyKey = fc.option(fc.oneof(nasty, fc.string({ minLength: 8, maxLength: 300 })), { nil: undefined });

export const hostileRange: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => `bytes=${Math.max(a, b)}-${Math.min(a, b)}`),
  fc.nat().map((n) => `bytes=${n * 1_000_000}-`),
  fc
    .array(fc.tuple(fc.nat(1_000), fc.nat(1_000)), { minLength: 2, maxLength: 200 })
    .map((ranges) => `bytes=${ranges.map(([a, b]) => `${a}-${a + b}`).join(",")}`),
  fc.constantFrom("bytes=-0", "bytes=--1", "bytes=0-0,-1", "items=0-1", "bytes=99999999999999999999-", "bytes= 0 - 1 "),
  nasty.map((text) => `bytes=${text}`),
);

/** encodeURIComponent refuses lone surrogates; a URL cannot carry them anyway. */
const encode = (text: string): string =>
  encodeURIComponent(text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD"));

/**
 * Percent-encoding that does not decode: a lone `%`, one hex digit, non-hex digits, bytes
 * that are not UTF-8 (`%ff`, overlong `%c0%af`, a surrogate `%ed%a0%80`, a cut sequence),
 * mixed with encoded separators and traversal.
 */
export const brokenPercentEncoding: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "%",
    "%f",
    "%ff",
    "%FF%FE",
    "%c0%af",
    "%e0%80%af",
    "%ed%a0%80",
    "%E0%A4%A",
    "%00",
    "%zz",
    "%%",
    "%u0041",
    "%2e%2e%2f",
    "%5c..%5c",
  ),
  fc
    .array(
      fc.oneof(
        fc.integer({ min: 0, max: 255 }).map((byte) => `%${byte.toString(16).padStart(2, "0")}`),
        fc.constantFrom("%", "%g", "%1", "a", "Z", "9", "..", "%2f", "%25", "-", "~"),
      ),
      { minLength: 1, maxLength: 16 },
    )
    .map((parts) => parts.join("")),
);

/** One path segment: valid-looking, or encoded nonsense, or encoding that does not decode. */
const hostileSegment: fc.Arbitrary<string> = fc.oneof(
  brokenPercentEncoding,
  nasty.map(encode),
  fc.constantFrom("..", ".", "", "0x", `0x${"f".repeat(64)}`, `0x${"0".repeat(63)}g`, "9".repeat(400)),
);

/** Query strings: repeated keys, huge numbers, arrays, broken and odd encodings, the filters' names with nonsense. */
const hostileQueryOf = (minLength: number): fc.Arbitrary<string> =>
  fc
    .array(
      fc.tuple(
        fc.oneof(
          fc
            .constantFrom(
              "limit",
              "offset",
              "region",
              "gtin",
              "from",
              "to",
              "harvestedFrom",
              "harvestedTo",
              "batchId",
              "organisationId",
              "status",
              "format",
              "columns",
              "rows",
              "kind",
              "lang",
              "expires",
              "sig",
              "linkType",
              "__proto__",
              "limit[]",
              "a[b][c]",
            )
            .map(encode),
          nasty.map(encode),
          brokenPercentEncoding,
        ),
        fc.oneof(
          nasty.map(encode),
          hugeNumber.map((n) => encode(String(n))),
          fc.constantFrom("-1", "1e400", "NaN", "", "1969-12-31", "1900-01-01", "2026-13-45", "0x"),
          brokenPercentEncoding,
        ),
      ),
      { minLength, maxLength: 12 },
    )
    .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join("&"));

export const hostileQuery = hostileQueryOf(0);

/** A path under /01/ that may or may not be a well-formed Digital Link. */
export const hostileDigitalLinkPath = (gtin: string, lot: string): fc.Arbitrary<string> =>
  fc.oneof(
    nasty.map((text) => `/01/${encode(text)}`),
    nasty.map((text) => `/01/${gtin}/10/${encode(text)}/21/${encode(text)}`),
    brokenPercentEncoding.map((text) => `/01/${gtin}/10/${lot}/21/${text}`),
    brokenPercentEncoding.map((text) => `/01/${text}/10/${lot}`),
    fc.constantFrom(
      `/01/${gtin}/21/X/10/${lot}`,
      `/01/${gtin}/10/${lot}/10/${lot}`,
      `/01/${gtin}/10/${lot}/21/%00`,
      `/01/${gtin}/10/${lot}/21/${"A".repeat(100_000)}`,
      `/01/${"9".repeat(400)}`,
      `/01/${gtin}/10/${lot}/21/ABC?17=999999&17=000000`,
      `/01/${gtin}/10/${lot}/21/ABC?linkType=all&linkType=gs1:pip`,
      `/01/${gtin}/../../../etc/passwd`,
    ),
  );

const accept = fc.constantFrom(
  undefined,
  "application/json",
  "text/html",
  "*/*",
  "application/problem+json",
  "image/png",
  "text/html;q=0, application/json;q=0",
  "application/ld+json",
  "text/html, application/xhtml+xml, */*;q=0.8",
  "x".repeat(5_000),
);

/** Printable ASCII only (what a header value and a request line may carry): anything else becomes "x". */
function byteString(text: string): string {
  return text.replace(/[^ -~]/g, "x");
}

/** A path as sent on the request line: printable ASCII, anything else percent-encoded. */
function requestTarget(text: string): string {
  return text.replace(/[^!-~]/g, (char) => encode(char));
}

interface HostileRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body: string | undefined;
  /** Sent raw with exactly these Content-Length lines (see `RequestExtras`). */
  contentLength?: string[];
  chunked?: boolean;
}

/** Methods whose requests carry no body here (as browsers and curl send them). */
const BODILESS = new Set(["GET", "HEAD"]);

export function requestArbitrary(target: HostileTarget): fc.Arbitrary<HostileRequest> {
  const params = target.params ?? {};
  const path =
    typeof target.path === "string"
      ? fc
          .record(
            Object.fromEntries(
              Object.entries(params).map(([name, valid]) => [
                name,
                fc.oneof(
                  { arbitrary: fc.constant(valid), weight: target.heavy === true ? 1 : 3 },
                  { arbitrary: hostileSegment, weight: target.heavy === true ? 19 : 2 },
                ),
              ]),
            ),
          )
          .map((values) => (target.path as string).replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? name))
      : target.path;
  const authorization = fc.oneof(
    { arbitrary: fc.constant(target.token === undefined ? undefined : `Bearer ${target.token}`), weight: 8 },
    {
      arbitrary: fc.constantFrom(
        undefined,
        "Bearer",
        "Bearer ",
        "Basic YTpi",
        "bearer x",
        `Bearer ${"A".repeat(9_000)}`,
      ),
      weight: 1,
    },
    { arbitrary: nasty.map((text) => `Bearer ${byteString(text)}`), weight: 1 },
  );
  return fc
    .record({
      path,
      suffix: fc.oneof(
        { arbitrary: fc.constant(""), weight: 6 },
        { arbitrary: hostileSegment.map((segment) => `/${segment}`), weight: 1 },
      ),
      query:
        target.query !== undefined
          ? fc.option(target.query, { nil: undefined, freq: 8 })
          : target.heavy === true
            ? hostileQueryOf(1)
            : fc.option(hostileQuery, { nil: undefined, freq: 3 }),
      authorization,
      type: fc.constantFrom(...(target.contentTypes ?? HOSTILE_CONTENT_TYPES)),
      key: idempotencyKey,
      range: fc.option(hostileRange, { nil: undefined, freq: 2 }),
      accept,
      fileName: fc.option(fc.oneof(brokenPercentEncoding, nasty.map(encode), nasty), { nil: undefined, freq: 2 }),
      body: hostileBody,
      extras: target.extras ?? fc.constant<RequestExtras>({}),
    })
    .map((input): HostileRequest => {
      const bodiless = BODILESS.has(target.method);
      const headers: Record<string, string | string[]> = {};
      if (input.authorization !== undefined) headers.authorization = input.authorization;
      if (input.type !== "" && !bodiless) headers["content-type"] = input.type;
      if (input.key !== undefined) headers["idempotency-key"] = byteString(input.key);
      if (input.range !== undefined) headers.range = byteString(input.range);
      if (input.accept !== undefined) headers.accept = input.accept;
      if (input.fileName !== undefined) headers["x-file-name"] = byteString(input.fileName);
      for (const [name, value] of Object.entries(input.extras.headers ?? {})) {
        headers[name] = Array.isArray(value) ? value.map(byteString) : byteString(value);
      }
      const query = input.query === undefined ? "" : `?${input.query}`;
      const minBytes = input.extras.minBodyBytes ?? 0;
      const body =
        input.body.length > 0 && Buffer.byteLength(input.body) < minBytes
          ? input.body.padEnd(minBytes, " ")
          : input.body;
      return {
        method: target.method,
        path: requestTarget(`${input.path}${input.suffix}`) + requestTarget(query),
        headers,
        body: bodiless ? undefined : body,
        ...(input.extras.contentLength === undefined ? {} : { contentLength: input.extras.contentLength }),
        ...(input.extras.chunked === true ? { chunked: true } : {}),
      };
    });
}

/**
 * A request whose Content-Length lines are the generator's, not Node's: written by hand on a
 * connection of its own, which is half-closed after the body (a server waiting for bytes that
 * will not come sees the end at once). The answer's status line is all that is read.
 */
function sendRaw(base: URL, request: HostileRequest, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const lines = [`${request.method} ${request.path} HTTP/1.1`, `host: ${base.host}`, "connection: close"];
    for (const [name, value] of Object.entries(request.headers)) {
      for (const one of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${one}`);
    }
    for (const length of request.contentLength ?? []) lines.push(`content-length: ${length}`);
    const socket = net.connect({ host: base.hostname, port: Number(base.port) });
    let head = "";
    let settled = false;
    const done = (status: number): void => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(status);
    };
    socket.setTimeout(timeoutMs, () => {
      done(599);
    });
    socket.on("connect", () => {
      socket.end(`${lines.join("\r\n")}\r\n\r\n${request.body ?? ""}`);
    });
    socket.on("data", (chunk: Buffer) => {
      head += chunk.toString("latin1");
      const status = /^HTTP\/1\.[01] (\d{3}) /.exec(head);
      if (status !== null) done(Number(status[1]));
      else if (head.includes("\r\n") || head.length > 1_000) done(599);
    });
    // A reset or an end with no status line counts as a server failure.
    socket.on("error", () => {
      done(599);
    });
    socket.on("close", () => {
      done(599);
    });
  });
}

interface Answer {
  status: number;
  /** The problem's code, read from an answer of 500 and above only. */
  code?: string;
}

function problemCode(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === "object" && parsed !== null && "code" in parsed && typeof parsed.code === "string"
      ? parsed.code
      : undefined;
  } catch {
    return undefined;
  }
}

function send(agent: http.Agent, base: URL, request: HostileRequest, timeoutMs: number): Promise<Answer> {
  if (request.contentLength !== undefined) return sendRaw(base, request, timeoutMs).then((status) => ({ status }));
  return new Promise((resolve) => {
    // The status line counts once it arrived, even if the server then resets the connection
    // (Node's parser answers an over-long head with 431 and closes without reading the rest).
    let status: number | undefined;
    let body = "";
    const req = http.request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method: request.method,
        path: request.path,
        headers:
          request.body === undefined
            ? request.headers
            : request.chunked === true
              ? { ...request.headers, "transfer-encoding": "chunked" }
              : { ...request.headers, "content-length": String(Buffer.byteLength(request.body)) },
        timeout: timeoutMs,
      },
      (res) => {
        status = res.statusCode;
        if ((status ?? 0) >= 500) {
          res.setEncoding("utf8");
          res.on("data", (text: string) => {
            if (body.length < 4_096) body += text;
          });
        } else res.resume();
        res.on("end", () => {
          resolve({ status: status ?? 599, ...(body === "" ? {} : { code: problemCode(body) }) });
        });
        res.on("error", () => {
          resolve({ status: status ?? 599 });
        });
      },
    );
    // No answer at all (a reset before the status line, a timeout) counts as a server failure.
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => {
      resolve({ status: status ?? 599 });
    });
    req.end(request.body);
  });
}

export interface AttackOptions {
  /** Requests in flight at once, over as many keep-alive connections. */
  concurrency?: number;
  /** Inputs generated at a time (bounds memory: some bodies are tens of KiB). */
  chunk?: number;
  timeoutMs?: number;
}

/** Sends `runs` generated requests to one endpoint and tallies the answers. */
export async function attack(
  baseUrl: string,
  target: HostileTarget,
  runs: number,
  seed: number,
  { concurrency = 16, chunk = 500, timeoutMs = 30_000 }: AttackOptions = {},
): Promise<HostileOutcome> {
  const outcome: HostileOutcome = {
    name: target.name,
    tried: 0,
    serverErrors: 0,
    firstServerError: null,
    statuses: {},
  };
  const base = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const arbitrary = requestArbitrary(target);
  try {
    for (let start = 0; start < runs; start += chunk) {
      const inputs = fc.sample(arbitrary, { numRuns: Math.min(chunk, runs - start), seed: seed + start });
      let next = 0;
      const worker = async (): Promise<void> => {
        for (let input = inputs[next++]; input !== undefined; input = inputs[next++]) {
          const { status, code } = await send(agent, base, input, timeoutMs);
          outcome.tried += 1;
          const designed = (target.designed ?? []).some((answer) => answer.status === status && answer.code === code);
          const tally = designed ? `${String(status)} ${code ?? ""}` : String(status);
          outcome.statuses[tally] = (outcome.statuses[tally] ?? 0) + 1;
          if (status >= 500 && !designed) {
            outcome.serverErrors += 1;
            outcome.firstServerError ??= JSON.stringify({
              method: input.method,
              path: input.path.slice(0, 300),
              headers: Object.fromEntries(
                Object.entries(input.headers).map(([k, v]) => [
                  k,
                  (Array.isArray(v) ? v.join(" | ") : v).slice(0, 200),
                ]),
              ),
              ...(input.contentLength === undefined ? {} : { contentLength: input.contentLength }),
              body: input.body?.slice(0, 300),
              status,
              code,
            });
          }
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
    }
  } finally {
    agent.destroy();
  }
  return outcome;
}

/** The path a valid client would request from `target` (null for a generated path with no sample). */
export function sampleOf(target: HostileTarget): string | null {
  if (target.sample !== undefined) return target.sample;
  if (typeof target.path !== "string") return null;
  return target.path.replace(/\{(\w+)\}/g, (_, name: string) => target.params?.[name] ?? name);
}

/** What the targets refer to: the demo system's parties and records. */
export interface HostileFixture {
  adminToken: string;
  cooperative: { id: string; token: string };
  logisticsId: string;
  regulatorToken: string;
  gtin: string;
  lot: string;
  batchId: string;
  serial: string;
  videoCid: string;
  /**
   * The records the endpoints added after the first list need (the security test makes
   * them); without them only the first list is attacked (the resilience bench).
   */
  later?: LaterFixture;
}

/** See `HostileFixture.later`. */
export interface LaterFixture {
  retailerId: string;
  /** The origin the server names itself by (what an oEmbed URL must start with). */
  publicOrigin: string;
  /**
   * A resumable upload of the cooperative's, all but its last byte sent: `offset` is the byte
   * the next piece must start at and `sizeBytes - offset` is 1, so no generated piece of two
   * bytes or more fits (a piece that fits would be a legitimate write).
   */
  upload: { id: string; offset: number; sizeBytes: number };
  /** A finished upload of the cooperative's: a piece sent to it changes nothing. */
  finishedUploadId: string;
  /** A person of the cooperative, and one who was removed. */
  memberId: string;
  removedMemberId: string;
  /** An application already decided (refused): approving or refusing it again is refused. */
  decidedApplicationId: string;
  /** A 合格证 the cooperative issued for the batch. */
  certificateId: string;
  /** A script of the lot card's page and of the certificate's page, as their HTML names them. */
  lotAsset: string;
  certificateAsset: string;
}

/** A valid GTIN-14 that nobody holds, nor has registered (releasing a bound one is a legitimate write). */
const UNBOUND_GTIN = "06901234567885";

/** Content-Length lines that never announce a piece that fits the upload's last byte (see `upload`). */
const contentLengthLine = fc.oneof(
  fc.constantFrom("0", "2", "-1", "-0", "", " ", "abc", "1e3", "0x10", "2.0", "2 2", "2, 2", "+2", "３"),
  fc.integer({ min: 2, max: 2 ** 53 }).map(String),
  fc.constantFrom("99999999999999999999", "18446744073709551617", "9".repeat(400)),
);

/**
 * The headers of a piece sent to the upload at `offset`: Upload-Offset wrong by one, negative,
 * huge, not a number, padded with spaces, sent twice, or right (then the body is two bytes or
 * more, or none, and is refused past the declared size or changes nothing); sometimes with
 * Content-Length lines of the generator's own, or in chunks with none.
 */
export function uploadPieceExtras(offset: number): fc.Arbitrary<RequestExtras> {
  const right = String(offset);
  const uploadOffset = fc.oneof(
    { arbitrary: fc.constant<string | string[]>(right), weight: 4 },
    {
      arbitrary: fc.constantFrom<string | string[]>(
        String(offset - 1),
        String(offset + 1),
        "0",
        `0${right}`,
        `-${right}`,
        "-1",
        ` ${right}`,
        `${right} `,
        `+${right}`,
        `${right}.0`,
        "1e3",
        "0x3e7",
        "NaN",
        "Infinity",
        "",
        "9".repeat(15),
        "9".repeat(16),
        "9".repeat(400),
        [right, right],
        [right, "0"],
        `${right}, ${right}`,
      ),
      weight: 4,
    },
    { arbitrary: fc.integer().map(String), weight: 1 },
    { arbitrary: nasty, weight: 1 },
  );
  return fc
    .record({
      headers: fc
        .option(uploadOffset, { nil: undefined, freq: 10 })
        .map((value): Record<string, string | string[]> => (value === undefined ? {} : { "upload-offset": value })),
      mode: fc.constantFrom("length", "length", "length", "length", "length", "chunked", "raw", "raw"),
      lines: fc.array(contentLengthLine, { minLength: 0, maxLength: 3 }),
    })
    .map(({ headers, mode, lines }): RequestExtras => ({
      headers,
      minBodyBytes: 2,
      ...(mode === "chunked" ? { chunked: true } : {}),
      ...(mode === "raw" ? { contentLength: lines } : {}),
    }));
}

/**
 * Every endpoint the server has, public and authenticated, each with a credential that
 * passes its role check (so hostile input reaches the handler) and valid values for its
 * path parameters (each often replaced by a hostile segment). The media upload draws only
 * content types it refuses: an accepted upload is a legitimate write, which "nothing
 * changed" could not hold for; its X-File-Name is decoded before the type is judged.
 */
export function hostileTargets(f: HostileFixture): HostileTarget[] {
  const coop = f.cooperative.token;
  const reg = f.regulatorToken;
  const admin = f.adminToken;
  const batch = { batchId: f.batchId };
  const org = { id: f.cooperative.id };
  const order = { id: "00000000-0000-4000-8000-000000000000" };
  return [
    { name: "GET /healthz", method: "GET", path: "/healthz" },
    { name: "GET /favicon.ico", method: "GET", path: "/favicon.ico" },
    { name: "GET /problems/{code}", method: "GET", path: "/problems/{code}", params: { code: "request.invalid" } },
    { name: "GET /api/v1/openapi.json", method: "GET", path: "/api/v1/openapi.json" },
    { name: "GET /console/{name}", method: "GET", path: "/console/{name}", params: { name: "cooperative" } },
    { name: "GET /web/{file}", method: "GET", path: "/web/{file}", params: { file: "scan.js" } },
    { name: "GET Digital Link paths", method: "GET", path: hostileDigitalLinkPath(f.gtin, f.lot) },
    // Heavy: a valid request streams the whole 600 kB video (or a range of it).
    { name: "GET /ipfs/{cid}", method: "GET", path: "/ipfs/{cid}", params: { cid: f.videoCid }, heavy: true },
    { name: "POST /rpc", method: "POST", path: "/rpc" },
    {
      name: "POST /api/v1/claims/{gtin}/{lot}/{serial}",
      method: "POST",
      path: "/api/v1/claims/{gtin}/{lot}/{serial}",
      params: { gtin: f.gtin, lot: f.lot, serial: f.serial },
    },
    // Joining (issue 15): public, no credential; none of these inputs is a valid application, image or link.
    { name: "POST /api/v1/applications", method: "POST", path: "/api/v1/applications" },
    {
      name: "POST /api/v1/applications/licence",
      method: "POST",
      path: "/api/v1/applications/licence",
      contentTypes: ["image/jpeg", "image/png", "image/webp", "application/octet-stream", "text/plain", ""],
    },
    {
      name: "GET /api/v1/applications/{id}",
      method: "GET",
      path: "/api/v1/applications/{id}",
      params: { id: "app_00000000-0000-4000-8000-000000000000" },
    },
    { name: "POST /api/v1/sign-in", method: "POST", path: "/api/v1/sign-in" },
    { name: "GET /api/v1/products/{gtin}", method: "GET", path: "/api/v1/products/{gtin}", params: { gtin: f.gtin } },
    { name: "GET /api/v1/batches/{id}", method: "GET", path: "/api/v1/batches/{batchId}", params: batch },
    { name: "GET /api/v1/batches/{id}/events", method: "GET", path: "/api/v1/batches/{batchId}/events", params: batch },
    { name: "GET /api/v1/me", method: "GET", path: "/api/v1/me", token: coop },
    { name: "GET /api/v1/organisations", method: "GET", path: "/api/v1/organisations", token: reg },
    {
      name: "GET /api/v1/organisations/{id}",
      method: "GET",
      path: "/api/v1/organisations/{id}",
      params: org,
      token: coop,
    },
    {
      name: "GET /api/v1/organisations/{id}/credentials",
      method: "GET",
      path: "/api/v1/organisations/{id}/credentials",
      params: org,
      token: admin,
    },
    { name: "POST /api/v1/organisations", method: "POST", path: "/api/v1/organisations", token: admin },
    {
      name: "POST /api/v1/organisations/{id}/credentials",
      method: "POST",
      path: "/api/v1/organisations/{id}/credentials",
      params: org,
      token: admin,
    },
    {
      // A credential that does not exist: revoking a real one is a legitimate write.
      name: "DELETE /api/v1/organisations/{id}/credentials/{credentialId}",
      method: "DELETE",
      path: "/api/v1/organisations/{id}/credentials/{credentialId}",
      params: { ...org, credentialId: "cred_00000000-0000-4000-8000-000000000000" },
      token: admin,
    },
    {
      name: "POST /api/v1/organisations/{id}/plots",
      method: "POST",
      path: "/api/v1/organisations/{id}/plots",
      params: org,
      token: coop,
    },
    {
      name: "POST /api/v1/organisations/{id}/certifications",
      method: "POST",
      path: "/api/v1/organisations/{id}/certifications",
      params: org,
      token: coop,
    },
    {
      name: "POST /api/v1/organisations/{id}/suspend",
      method: "POST",
      path: "/api/v1/organisations/{id}/suspend",
      params: { id: f.logisticsId },
      token: reg,
    },
    {
      name: "POST /api/v1/organisations/{id}/reinstate",
      method: "POST",
      path: "/api/v1/organisations/{id}/reinstate",
      params: { id: f.logisticsId },
      token: reg,
    },
    { name: "POST /api/v1/products", method: "POST", path: "/api/v1/products", token: coop },
    {
      name: "GET /api/v1/products/{gtin}/entitlement",
      method: "GET",
      path: "/api/v1/products/{gtin}/entitlement",
      params: { gtin: f.gtin },
    },
    {
      // The cooperative owns the GTIN; only a body naming a real organisation would grant it.
      name: "POST /api/v1/products/{gtin}/grants",
      method: "POST",
      path: "/api/v1/products/{gtin}/grants",
      params: { gtin: f.gtin },
      token: coop,
    },
    {
      name: "POST /api/v1/organisations/{id}/company-prefixes",
      method: "POST",
      path: "/api/v1/organisations/{id}/company-prefixes",
      params: org,
      token: admin,
    },
    {
      // A prefix nobody holds: releasing a bound one is a legitimate write.
      name: "DELETE /api/v1/organisations/{id}/company-prefixes/{prefix}",
      method: "DELETE",
      path: "/api/v1/organisations/{id}/company-prefixes/{prefix}",
      params: { ...org, prefix: "6800000" },
      token: admin,
    },
    {
      name: "POST /api/v1/media",
      method: "POST",
      path: "/api/v1/media",
      token: coop,
      contentTypes: [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "image/gif",
        "",
      ],
    },
    { name: "POST /api/v1/batches", method: "POST", path: "/api/v1/batches", token: coop },
    { name: "GET /api/v1/batches", method: "GET", path: "/api/v1/batches", token: reg },
    {
      name: "GET /api/v1/batches/{id}/items",
      method: "GET",
      path: "/api/v1/batches/{batchId}/items",
      params: batch,
      token: coop,
    },
    {
      name: "GET /api/v1/batches/{id}/items/{serial}/qr.{ext}",
      method: "GET",
      path: "/api/v1/batches/{batchId}/items/{serial}/qr.{ext}",
      params: { ...batch, serial: f.serial, ext: "svg" },
      token: coop,
    },
    {
      name: "POST /api/v1/batches/{id}/events",
      method: "POST",
      path: "/api/v1/batches/{batchId}/events",
      params: batch,
      token: coop,
    },
    {
      // The schema refuses a hostile document before anything is judged; a valid one is never generated.
      name: "POST /epcis/capture",
      method: "POST",
      path: "/epcis/capture",
      token: coop,
      contentTypes: [...HOSTILE_CONTENT_TYPES, "application/ld+json", "application/ld+json; charset=utf-8"],
    },
    {
      name: "GET /epcis/capture/{id}",
      method: "GET",
      path: "/epcis/capture/{captureId}",
      params: { captureId: "00000000-0000-4000-8000-000000000000" },
      token: coop,
    },
    { name: "GET /epcis/events", method: "GET", path: "/epcis/events" },
    // Cases and pallets: an SSCC nothing was packed into (a valid packing would be a legitimate write);
    // the SSCC allocation with a regulator's token, as any allocation accepted would be a legitimate write.
    { name: "POST /api/v1/containers", method: "POST", path: "/api/v1/containers", token: coop },
    { name: "POST /api/v1/containers/sscc", method: "POST", path: "/api/v1/containers/sscc", token: reg },
    {
      name: "POST /api/v1/containers/{sscc}/events",
      method: "POST",
      path: "/api/v1/containers/{sscc}/events",
      params: { sscc: "069012349999999998" },
      token: coop,
    },
    {
      name: "GET /api/v1/containers/{sscc}",
      method: "GET",
      path: "/api/v1/containers/{sscc}",
      params: { sscc: "069012349999999998" },
    },
    // Orders: an id no order has (a valid scan into a real order would be a legitimate write).
    { name: "POST /api/v1/orders", method: "POST", path: "/api/v1/orders", token: coop },
    { name: "GET /api/v1/orders", method: "GET", path: "/api/v1/orders", token: coop },
    { name: "GET /api/v1/orders/{id}", method: "GET", path: "/api/v1/orders/{id}", params: order, token: coop },
    {
      name: "POST /api/v1/orders/{id}/items",
      method: "POST",
      path: "/api/v1/orders/{id}/items",
      params: order,
      token: coop,
    },
    {
      name: "POST /api/v1/orders/{id}/despatch",
      method: "POST",
      path: "/api/v1/orders/{id}/despatch",
      params: order,
      token: coop,
    },
    {
      name: "POST /api/v1/orders/{id}/cancel",
      method: "POST",
      path: "/api/v1/orders/{id}/cancel",
      params: order,
      token: coop,
    },
    {
      name: "GET /api/v1/batches/{id}/inspection-requests",
      method: "GET",
      path: "/api/v1/batches/{batchId}/inspection-requests",
      params: batch,
    },
    {
      name: "POST /api/v1/batches/{id}/inspection-requests",
      method: "POST",
      path: "/api/v1/batches/{batchId}/inspection-requests",
      params: batch,
      token: coop,
    },
    {
      name: "POST /api/v1/batches/{id}/recall",
      method: "POST",
      path: "/api/v1/batches/{batchId}/recall",
      params: batch,
      token: coop,
    },
    {
      name: "POST /api/v1/batches/{id}/regulator-recall",
      method: "POST",
      path: "/api/v1/batches/{batchId}/regulator-recall",
      params: batch,
      token: reg,
    },
    {
      name: "POST /api/v1/batches/{id}/label-links",
      method: "POST",
      path: "/api/v1/batches/{batchId}/label-links",
      params: batch,
      token: coop,
    },
    {
      name: "GET /api/v1/batches/{id}/labels.pdf",
      method: "GET",
      path: "/api/v1/batches/{batchId}/labels.pdf",
      params: batch,
      token: coop,
      heavy: true,
    },
    {
      name: "GET /api/v1/batches/{id}/scan-facts",
      method: "GET",
      path: "/api/v1/batches/{batchId}/scan-facts",
      params: batch,
      token: reg,
    },
    {
      name: "GET /api/v1/signature-requests/{id}",
      method: "GET",
      path: "/api/v1/signature-requests/{id}",
      params: { id: "sigreq_x" },
      token: coop,
    },
    {
      name: "POST /api/v1/signature-requests/{id}",
      method: "POST",
      path: "/api/v1/signature-requests/{id}",
      params: { id: "sigreq_x" },
      token: coop,
    },
    { name: "GET /api/v1/exports/epcis", method: "GET", path: "/api/v1/exports/epcis", token: reg, heavy: true },
    {
      name: "GET /api/v1/exports/kde.csv",
      method: "GET",
      path: "/api/v1/exports/kde.csv",
      token: reg,
      heavy: true,
    },
    {
      name: "GET /api/v1/exports/kde.xlsx",
      method: "GET",
      path: "/api/v1/exports/kde.xlsx",
      token: reg,
      heavy: true,
    },
    { name: "GET /api/v1/audits", method: "GET", path: "/api/v1/audits", token: reg, heavy: true },
    {
      name: "GET /api/v1/audits/batches/{id}",
      method: "GET",
      path: "/api/v1/audits/batches/{batchId}",
      params: batch,
      token: reg,
      heavy: true,
    },
    ...(f.later === undefined ? [] : laterTargets(f, f.later)),
  ];
}

/** Each `name=value` pair of `pairs`, or a hostile value in its place, in a query string. */
function queryOf(pairs: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<string> {
  return fc
    .record(
      Object.fromEntries(
        Object.entries(pairs).map(([name, valid]) => [
          name,
          fc.option(fc.oneof(valid, nasty.map(encode), brokenPercentEncoding, hostileQuery), { nil: undefined }),
        ]),
      ),
    )
    .map((values) =>
      Object.entries(values)
        .filter((entry): entry is [string, string] => entry[1] !== undefined)
        .map(([name, value]) => `${name}=${value}`)
        .join("&"),
    );
}

/**
 * Endpoints added after the first list (resumable uploads, people and sign-in links, joining's
 * decisions, GTIN bindings and grants, 合格证, the lot card, the other consoles, the operator's
 * reads). Each write's fixture is one the write refuses whatever the input (a decided
 * application, a removed person, a GTIN nobody holds, an upload with one byte to go), so that
 * "nothing changed" holds.
 */
function laterTargets(f: HostileFixture, later: LaterFixture): HostileTarget[] {
  const coop = f.cooperative.token;
  const admin = f.adminToken;
  const org = { id: f.cooperative.id };
  const batch = { batchId: f.batchId };
  const lotUrl = `${later.publicOrigin}/01/${f.gtin}/10/${f.lot}`;
  const pieceTypes = [
    "application/offset+octet-stream",
    "application/offset+octet-stream",
    "application/offset+octet-stream",
    "APPLICATION/OFFSET+OCTET-STREAM; charset=utf-8",
    "application/octet-stream",
    "application/json",
    "text/plain",
    "multipart/form-data; boundary=x",
    "",
  ];
  return [
    // Resumable uploads (docs/media-uploads.md). Opening one: no generated body is a valid request.
    { name: "POST /api/v1/media/uploads", method: "POST", path: "/api/v1/media/uploads", token: coop },
    {
      name: "PATCH /api/v1/media/uploads/{id}",
      method: "PATCH",
      path: "/api/v1/media/uploads/{id}",
      params: { id: later.upload.id },
      token: coop,
      contentTypes: pieceTypes,
      extras: uploadPieceExtras(later.upload.offset),
    },
    {
      name: "PATCH /api/v1/media/uploads/{id} (finished)",
      method: "PATCH",
      path: "/api/v1/media/uploads/{id}",
      params: { id: later.finishedUploadId },
      token: coop,
      contentTypes: pieceTypes,
      extras: uploadPieceExtras(0),
    },
    {
      name: "GET /api/v1/media/uploads/{id}",
      method: "GET",
      path: "/api/v1/media/uploads/{id}",
      params: { id: later.upload.id },
      token: coop,
    },
    {
      name: "HEAD /api/v1/media/uploads/{id}",
      method: "HEAD",
      path: "/api/v1/media/uploads/{id}",
      params: { id: later.upload.id },
      token: coop,
    },
    // People and sign-in links (issue 15).
    { name: "DELETE /api/v1/me/session", method: "DELETE", path: "/api/v1/me/session", token: coop },
    {
      name: "GET /api/v1/organisations/{id}/members",
      method: "GET",
      path: "/api/v1/organisations/{id}/members",
      params: org,
      token: coop,
    },
    {
      name: "POST /api/v1/organisations/{id}/members",
      method: "POST",
      path: "/api/v1/organisations/{id}/members",
      params: org,
      token: coop,
    },
    {
      name: "DELETE /api/v1/organisations/{id}/members/{memberId}",
      method: "DELETE",
      path: "/api/v1/organisations/{id}/members/{memberId}",
      params: { ...org, memberId: later.removedMemberId },
      token: coop,
    },
    {
      name: "POST /api/v1/organisations/{id}/members/{memberId}/sign-in-links",
      method: "POST",
      path: "/api/v1/organisations/{id}/members/{memberId}/sign-in-links",
      params: { ...org, memberId: later.removedMemberId },
      token: coop,
    },
    {
      // A real person, a session that is not theirs.
      name: "DELETE /api/v1/organisations/{id}/members/{memberId}/sessions/{credentialId}",
      method: "DELETE",
      path: "/api/v1/organisations/{id}/members/{memberId}/sessions/{credentialId}",
      params: { ...org, memberId: later.memberId, credentialId: "cred_00000000-0000-4000-8000-000000000000" },
      token: coop,
    },
    // Joining: the operator's list and decisions.
    { name: "GET /api/v1/applications", method: "GET", path: "/api/v1/applications", token: admin },
    {
      name: "POST /api/v1/applications/{id}/approve",
      method: "POST",
      path: "/api/v1/applications/{id}/approve",
      params: { id: later.decidedApplicationId },
      token: admin,
    },
    {
      name: "POST /api/v1/applications/{id}/refuse",
      method: "POST",
      path: "/api/v1/applications/{id}/refuse",
      params: { id: later.decidedApplicationId },
      token: admin,
    },
    // GTIN bindings and grants.
    {
      name: "POST /api/v1/organisations/{id}/gtins",
      method: "POST",
      path: "/api/v1/organisations/{id}/gtins",
      params: org,
      token: admin,
    },
    {
      name: "DELETE /api/v1/organisations/{id}/gtins/{gtin}",
      method: "DELETE",
      path: "/api/v1/organisations/{id}/gtins/{gtin}",
      params: { ...org, gtin: UNBOUND_GTIN },
      token: admin,
    },
    {
      name: "GET /api/v1/organisations/{id}/entitlements",
      method: "GET",
      path: "/api/v1/organisations/{id}/entitlements",
      params: org,
      token: coop,
    },
    {
      // The shop holds no grant of the GTIN: there is nothing to withdraw.
      name: "DELETE /api/v1/products/{gtin}/grants/{orgId}",
      method: "DELETE",
      path: "/api/v1/products/{gtin}/grants/{orgId}",
      params: { gtin: f.gtin, orgId: later.retailerId },
      token: coop,
    },
    // 合格证: issuing (no generated body is a valid certificate) and every way of reading one.
    {
      name: "POST /api/v1/batches/{id}/certificates",
      method: "POST",
      path: "/api/v1/batches/{batchId}/certificates",
      params: batch,
      token: coop,
    },
    { name: "POST /api/v1/certificates", method: "POST", path: "/api/v1/certificates", token: coop },
    {
      name: "GET /api/v1/batches/{id}/certificates",
      method: "GET",
      path: "/api/v1/batches/{batchId}/certificates",
      params: batch,
    },
    {
      name: "GET /api/v1/certificates/{id}.pdf",
      method: "GET",
      path: "/api/v1/certificates/{id}.pdf",
      params: { id: later.certificateId },
      heavy: true,
    },
    {
      name: "GET /api/v1/certificates/{id}",
      method: "GET",
      path: "/api/v1/certificates/{id}",
      params: { id: later.certificateId },
    },
    { name: "GET /c/{id}", method: "GET", path: "/c/{id}", params: { id: later.certificateId } },
    {
      name: "GET /c/assets/{name}",
      method: "GET",
      path: "/c/assets/{name}",
      params: { name: later.certificateAsset },
    },
    // The lot card (live streams): its image, its page's files, oEmbed.
    {
      name: "GET /01/{gtin}/10/{lot}/card.png",
      method: "GET",
      path: "/01/{gtin}/10/{lot}/card.png",
      params: { gtin: f.gtin, lot: f.lot },
      query: queryOf({ size: fc.constantFrom("240", "1200", "0", "-1", "99999999", "1e9") }),
      designed: [
        {
          status: 503,
          code: "lot_card.busy",
          why: "two renders at a time, two more waiting 5 s: a flood of new sizes is told to retry",
        },
      ],
    },
    {
      name: "GET /l/assets/{name}",
      method: "GET",
      path: "/l/assets/{name}",
      params: { name: later.lotAsset },
    },
    {
      name: "GET /oembed",
      method: "GET",
      path: "/oembed",
      query: queryOf({
        url: fc
          .oneof(
            fc.constant(lotUrl),
            fc.constant(`${lotUrl}/21/${f.serial}`),
            hostileDigitalLinkPath(f.gtin, f.lot).map((link) => `${later.publicOrigin}${link}`),
            fc.constantFrom(`https://evil.example/01/${f.gtin}/10/${f.lot}`, "javascript:alert(1)", ""),
          )
          .map(encode),
        format: fc.constantFrom("json", "xml", "JSON", ""),
        maxwidth: fc.oneof(fc.constantFrom("0", "-1", "1e9", "NaN", "320"), hugeNumber.map(String)),
        maxheight: fc.oneof(fc.constantFrom("0", "-1", "1e9", "NaN", "240"), hugeNumber.map(String)),
      }),
      designed: [
        { status: 501, code: "lot_card.oembed_format", why: "oEmbed's answer to format=xml, which we do not offer" },
      ],
    },
    // The other consoles and the joining pages: built files, served as they are.
    ...(["regulator", "field", "operator", "sw.js"] as const).map((name): HostileTarget => ({
      name: `GET /console/${name}`,
      method: "GET",
      path: `/console/${name}`,
    })),
    { name: "GET /apply", method: "GET", path: "/apply" },
    { name: "GET /signin", method: "GET", path: "/signin" },
    // The chain proxy's preflight, and the gateway's answer to methods it does not serve.
    { name: "OPTIONS /rpc", method: "OPTIONS", path: "/rpc" },
    {
      name: "PUT /ipfs/{cid}",
      method: "PUT",
      path: "/ipfs/{cid}",
      params: { cid: f.videoCid },
    },
    // The operator's reads (issue 15 part 6): a query string is refused rather than ignored.
    ...(["organisations", "keys", "relayer", "outbox"] as const).map((name): HostileTarget => ({
      name: `GET /api/v1/admin/${name}`,
      method: "GET",
      path: `/api/v1/admin/${name}`,
      token: admin,
    })),
  ];
}

export interface HostileJob {
  baseUrl: string;
  fixture: HostileFixture;
  /** Which of `hostileTargets(fixture)`. */
  index: number;
  runs: number;
  seed: number;
  options: AttackOptions;
}

/**
 * Runs `attack` jobs one at a time in one worker thread, for a server that lives in the
 * caller's own thread (as in the security test, which inspects its store between endpoints).
 */
export class HostileClient {
  readonly #worker = new Worker(new URL("./hostile-worker.ts", import.meta.url));

  run(job: HostileJob): Promise<HostileOutcome> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        reject(error);
      };
      this.#worker.once("error", onError);
      this.#worker.once("message", (outcome: HostileOutcome) => {
        this.#worker.off("error", onError);
        resolve(outcome);
      });
      this.#worker.postMessage(job);
    });
  }

  async close(): Promise<void> {
    await this.#worker.terminate();
  }
}
