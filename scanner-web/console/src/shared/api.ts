/**
 * The consoles' client of the server's HTTP API: the same endpoints the CLI and any
 * integrator call, with the organisation's bearer token. Every refusal arrives as
 * problem+json and is thrown as a `ProblemFailure` carrying the server's zh/en message;
 * a request that never reached the server is a `NetworkFailure`, which the offline queue
 * turns into "sent later".
 */
export interface ProblemBody {
  code: string;
  status: number;
  message: { zh: string; en: string };
  detail?: string;
  /** For `request.invalid`: which fields were wrong (the English reasons are in `detail`). */
  issues?: { path: string[]; message: string }[];
}

export class ProblemFailure extends Error {
  readonly problem: ProblemBody;

  constructor(problem: ProblemBody) {
    super(`${problem.code}: ${problem.message.en}`);
    this.problem = problem;
  }
}

export class NetworkFailure extends Error {}

/** Each console keeps its own token: one browser may serve a cooperative and a regulator desk. */
export type ConsoleName = "cooperative" | "regulator" | "field" | "operator";

const tokenKey = (console: ConsoleName): string => `oioc.console.${console}.token`;

export function storedToken(console: ConsoleName): string | null {
  try {
    return localStorage.getItem(tokenKey(console));
  } catch {
    return null;
  }
}

export function storeToken(console: ConsoleName, token: string | null): void {
  try {
    if (token === null) localStorage.removeItem(tokenKey(console));
    else localStorage.setItem(tokenKey(console), token);
  } catch {
    // Storage off: the session lasts as long as the page.
  }
}

/** A fresh Idempotency-Key. getRandomValues works on plain-HTTP intranet hosts, where randomUUID does not. */
export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `console-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function isProblem(value: unknown): value is ProblemBody {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  const message = record.message as Record<string, unknown> | undefined;
  return typeof record.code === "string" && typeof message?.zh === "string" && typeof message.en === "string";
}

/** A problem for an answer that is not one (a proxy's HTML error page, an empty 502). */
function unexpected(status: number): ProblemBody {
  return {
    code: "console.unexpected_answer",
    status,
    message: {
      zh: `服务器返回了意外的结果（${String(status)}）。请稍后再试。`,
      en: `The server gave an unexpected answer (${String(status)}). Try again later.`,
    },
  };
}

export interface RequestOptions {
  method?: "GET" | "POST" | "DELETE";
  body?: unknown;
  idempotencyKey?: string;
  accept?: string;
}

export interface Answer<T> {
  status: number;
  body: T;
}

export class Api {
  constructor(private readonly token: string) {}

  /** The raw response of a successful request; refusals are thrown. */
  async fetch(path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.token}`,
      accept: options.accept ?? "application/json",
    };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    if (options.idempotencyKey !== undefined) headers["idempotency-key"] = options.idempotencyKey;
    let response: Response;
    try {
      response = await fetch(path, {
        method: options.method ?? "GET",
        headers,
        body: options.body === undefined ? null : JSON.stringify(options.body),
        cache: "no-store",
      });
    } catch (cause) {
      throw new NetworkFailure("the request did not reach the server", { cause });
    }
    if (response.ok) return response;
    const body: unknown = await response.json().catch(() => null);
    throw new ProblemFailure(isProblem(body) ? body : unexpected(response.status));
  }

  async json<T>(path: string, options: RequestOptions = {}): Promise<Answer<T>> {
    const response = await this.fetch(path, options);
    const text = await response.text();
    return { status: response.status, body: (text === "" ? null : JSON.parse(text)) as T };
  }

  get<T>(path: string): Promise<T> {
    return this.json<T>(path).then((r) => r.body);
  }

  /** The header value a raw XHR upload needs (fetch cannot report upload progress). */
  authorization(): string {
    return `Bearer ${this.token}`;
  }
}

/** `?a=1&b=2` from the non-empty fields of a form's values. */
export function queryString(values: Record<string, string>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value.trim() !== "") params.set(key, value.trim());
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}
