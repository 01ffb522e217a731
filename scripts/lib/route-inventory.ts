/**
 * What a running Express application answers, read from its router stack (Express 5's
 * `router` 2.x layers), not from a list kept by hand: every route with its methods and path
 * pattern, and every middleware mounted inside a router (which may answer paths of its own,
 * as the Digital Link resolver and the scan page's files do). The application's own
 * middleware (request ids, headers, rate limits, body parsing, authentication, the 404 and
 * the error handler) runs for every request and is not listed.
 *
 * `dispatch` answers which of them a request would reach, with the routers' own matchers, so
 * the security test can check that a hostile target exists for each (scripts/lib/hostile-inputs.ts).
 */

export interface Endpoint {
  /** `GET /api/v1/batches/:batchId`, `ALL /ipfs/:cid`, `USE /web`: how reports name it. */
  key: string;
  kind: "route" | "middleware";
  /** Upper-case methods the route declares (`ALL` for any); `USE` for a middleware. */
  methods: readonly string[];
  /** The pattern as declared: a path with `:params`, or a regular expression's source. */
  pattern: string;
  /** The middleware's function name (`<anonymous>` when it has none). */
  name: string;
  matches: (path: string) => boolean;
}

type Matcher = (path: string) => unknown;

interface LayerShape {
  matchers: Matcher[];
  rawPath: unknown;
  name: string;
  route?: { path: unknown; methods: Record<string, unknown> };
  handle?: { stack?: unknown };
}

function isLayer(value: unknown): value is LayerShape {
  if (typeof value !== "object" || value === null) return false;
  const layer = value as Record<string, unknown>;
  return (
    Array.isArray(layer.matchers) &&
    layer.matchers.every((matcher) => typeof matcher === "function") &&
    typeof layer.name === "string"
  );
}

function stackOf(value: unknown): unknown[] | null {
  if (typeof value !== "object" && typeof value !== "function") return null;
  if (value === null) return null;
  const stack = (value as { stack?: unknown }).stack;
  return Array.isArray(stack) ? stack : null;
}

function patternOf(raw: unknown): string {
  if (raw instanceof RegExp) return String(raw);
  if (Array.isArray(raw)) return raw.map(patternOf).join(" | ");
  return String(raw);
}

/** Every route and every middleware inside a router, in the order a request meets them. */
export function endpointsOf(app: unknown): Endpoint[] {
  const top = stackOf((app as { router?: unknown } | null)?.router);
  if (top === null) throw new Error("not an Express 5 application: no router stack");
  const endpoints: Endpoint[] = [];
  const walk = (stack: unknown[], nested: boolean): void => {
    for (const layer of stack) {
      if (!isLayer(layer)) throw new Error("a router layer of an unknown shape: the route inventory needs updating");
      const matches = (path: string): boolean => layer.matchers.some((matcher) => matcher(path) !== false);
      if (layer.route !== undefined) {
        const methods = Object.keys(layer.route.methods).map((method) =>
          method === "_all" ? "ALL" : method.toUpperCase(),
        );
        const pattern = patternOf(layer.route.path);
        endpoints.push({
          key: `${methods.join(",")} ${pattern}`,
          kind: "route",
          methods,
          pattern,
          name: layer.name,
          matches,
        });
        continue;
      }
      const inner = stackOf(layer.handle);
      if (inner !== null) {
        walk(inner, true);
        continue;
      }
      if (!nested) continue;
      const pattern = patternOf(layer.rawPath);
      endpoints.push({
        key: `USE ${pattern}${layer.name === "<anonymous>" ? "" : ` (${layer.name})`}`,
        kind: "middleware",
        methods: ["USE"],
        pattern,
        name: layer.name,
        matches,
      });
    }
  };
  walk(top, false);
  return endpoints;
}

function handles(endpoint: Endpoint, method: string): boolean {
  const upper = method.toUpperCase();
  return (
    endpoint.methods.includes(upper) ||
    endpoint.methods.includes("ALL") ||
    // As Express does: a GET route answers HEAD.
    (upper === "HEAD" && endpoint.methods.includes("GET"))
  );
}

/**
 * What a request (method and path, no query) reaches: the first route that takes it, as
 * Express picks it, and the middleware mounted on a path inside routers that it may pass
 * (before the route, or after it as an error handler). A middleware mounted at `/` inside a
 * router sees every request and is not counted here.
 */
export function dispatch(endpoints: readonly Endpoint[], method: string, path: string): Endpoint[] {
  const route = endpoints.find(
    (endpoint) => endpoint.kind === "route" && handles(endpoint, method) && endpoint.matches(path),
  );
  const middleware = endpoints.filter(
    (endpoint) => endpoint.kind === "middleware" && endpoint.pattern !== "/" && endpoint.matches(path),
  );
  return route === undefined ? middleware : [route, ...middleware];
}
