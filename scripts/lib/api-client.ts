/** A small client of the server's HTTP API, for the demo, the CLI and tests. */
export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export interface ApiClient {
  get: <T = unknown>(path: string) => Promise<ApiResponse<T>>;
  post: <T = unknown>(path: string, body: unknown, options?: { idempotencyKey?: string }) => Promise<ApiResponse<T>>;
  upload: <T = unknown>(path: string, bytes: Uint8Array, contentType: string) => Promise<ApiResponse<T>>;
}

async function parse<T>(response: Response): Promise<ApiResponse<T>> {
  const text = await response.text();
  return {
    status: response.status,
    body: (text.length === 0 ? null : JSON.parse(text)) as T,
    headers: response.headers,
  };
}

export function apiClient(baseUrl: string, token?: string): ApiClient {
  const auth: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  return {
    get: async (path) =>
      parse(await fetch(new URL(path, baseUrl), { headers: { ...auth, accept: "application/json" } })),
    post: async (path, body, options = {}) =>
      parse(
        await fetch(new URL(path, baseUrl), {
          method: "POST",
          headers: {
            ...auth,
            "content-type": "application/json",
            ...(options.idempotencyKey === undefined ? {} : { "idempotency-key": options.idempotencyKey }),
          },
          body: JSON.stringify(body),
        }),
      ),
    upload: async (path, bytes, contentType) =>
      parse(
        await fetch(new URL(path, baseUrl), {
          method: "POST",
          headers: { ...auth, "content-type": contentType },
          body: new Blob([new Uint8Array(bytes)]),
        }),
      ),
  };
}

/** Throws with the problem's code and detail unless the status is the expected one. */
export function expectStatus<T>(response: ApiResponse<T>, status: number, what: string): T {
  if (response.status !== status) {
    throw new Error(`${what}: expected ${status}, got ${response.status}: ${JSON.stringify(response.body)}`);
  }
  return response.body;
}
