/**
 * Hostile input against a running server, generated with fast-check: random and
 * adversarial JSON bodies (deep nesting, huge numbers, long and odd strings), content
 * types, idempotency keys, Digital Link paths (traversal, NUL bytes, confusable and
 * full-width characters, huge numbers), and Range headers (many ranges, inverted, beyond
 * the end). Used by the security test (which asserts) and the bench (which counts).
 */
import fc from "fast-check";

export interface HostileTarget {
  name: string;
  method: "GET" | "POST";
  /** Path, or a generator of paths. */
  path: string | fc.Arbitrary<string>;
  token?: string;
  /** json: hostile bodies; range: hostile Range headers; query: hostile query strings on a GET. */
  kind: "json" | "raw" | "range" | "query";
}

export interface HostileOutcome {
  name: string;
  tried: number;
  /** Status codes of 500 and above, with the input that caused the first one. */
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

const contentType = fc.constantFrom(
  "application/json",
  "application/json; charset=utf-8",
  "application/json; charset=latin1",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/merge-patch+json",
  "",
);

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

/** Query strings: repeated keys, huge numbers, arrays, odd encodings, the filters' names with nonsense. */
export const hostileQuery: fc.Arbitrary<string> = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom(
          "limit",
          "offset",
          "region",
          "gtin",
          "from",
          "to",
          "batchId",
          "organisationId",
          "status",
          "format",
          "columns",
          "rows",
          "kind",
          "__proto__",
          "limit[]",
          "a[b][c]",
        ),
        nasty,
      ),
      fc.oneof(nasty, hugeNumber.map(String), fc.constantFrom("-1", "1e400", "NaN", "", "2026-13-45", "0x")),
    ),
    { maxLength: 12 },
  )
  .map((pairs) =>
    pairs
      .map(
        ([k, v]) =>
          `${encodeURIComponent(k.replace(/[\uD800-\uDFFF]/g, "x"))}=${encodeURIComponent(v.replace(/[\uD800-\uDFFF]/g, "x"))}`,
      )
      .join("&"),
  );

/** A path under /01/ that may or may not be a well-formed Digital Link. */
/** encodeURIComponent refuses lone surrogates; a URL cannot carry them anyway. */
const encode = (text: string): string =>
  encodeURIComponent(text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD"));

export const hostileDigitalLinkPath = (gtin: string, lot: string): fc.Arbitrary<string> =>
  fc.oneof(
    nasty.map((text) => `/01/${encode(text)}`),
    nasty.map((text) => `/01/${gtin}/10/${encode(text)}/21/${encode(text)}`),
    nasty.map((text) => `/01/${gtin}/10/${lot}/21/${text.replace(/[/?#]/g, "")}`),
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

/** Printable ASCII only: anything else becomes "x". */
function byteString(text: string): string {
  return text.replace(/[^ -~]/g, "x");
}

export async function attack(
  baseUrl: string,
  target: HostileTarget,
  runs: number,
  seed: number,
): Promise<HostileOutcome> {
  const outcome: HostileOutcome = {
    name: target.name,
    tried: 0,
    serverErrors: 0,
    firstServerError: null,
    statuses: {},
  };
  const paths = typeof target.path === "string" ? fc.constant(target.path) : target.path;
  const inputs = fc.sample(
    fc.record({
      path: paths,
      body: hostileBody,
      type: contentType,
      key: idempotencyKey,
      range: hostileRange,
      query: hostileQuery,
    }),
    { numRuns: runs, seed },
  );
  for (const input of inputs) {
    const headers: Record<string, string> = {};
    if (target.token !== undefined) headers.authorization = `Bearer ${target.token}`;
    // Header values must be ByteStrings (fetch refuses others before sending): odd bytes become "x".
    if (target.kind === "range") headers.range = byteString(input.range);
    if (target.kind !== "range" && input.type !== "") headers["content-type"] = input.type;
    if (input.key !== undefined) headers["idempotency-key"] = byteString(input.key);
    let status: number;
    try {
      const url = target.kind === "query" ? `${baseUrl}${input.path}?${input.query}` : `${baseUrl}${input.path}`;
      const response = await fetch(url, {
        method: target.method,
        headers,
        body: target.method === "POST" ? input.body : undefined,
        signal: AbortSignal.timeout(15_000),
      });
      status = response.status;
      await response.arrayBuffer();
    } catch (error) {
      // A header fetch itself refuses to send is not an answer of ours; anything else is a failure.
      if (error instanceof TypeError && /header|ByteString|Invalid URL/i.test(error.message)) continue;
      status = 599;
    }
    outcome.tried += 1;
    outcome.statuses[String(status)] = (outcome.statuses[String(status)] ?? 0) + 1;
    if (status >= 500) {
      outcome.serverErrors += 1;
      outcome.firstServerError ??= JSON.stringify({ path: input.path, body: input.body.slice(0, 300), status });
    }
  }
  return outcome;
}
