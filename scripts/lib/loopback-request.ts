/**
 * One HTTP request from a chosen loopback address (all of 127/8 reaches a local server), on
 * a fresh connection: to the server's per-address limits, each address is its own client.
 */
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";

export interface LoopbackReply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export function requestFrom(
  url: string | URL,
  init: { method: "GET" | "POST"; from?: string; headers?: Record<string, string>; body?: string },
): Promise<LoopbackReply> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: init.method,
        localAddress: init.from ?? "127.0.0.1",
        agent: false,
        headers: {
          ...(init.body === undefined ? {} : { "content-length": Buffer.byteLength(init.body) }),
          ...init.headers,
        },
      },
      (response) => {
        const parts: Buffer[] = [];
        response.on("data", (part: Buffer) => parts.push(part));
        response.on("end", () => {
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text: Buffer.concat(parts).toString("utf8"),
          });
        });
      },
    );
    // A server that answers (413, 429) before reading the whole body may close while we still write.
    request.on("error", reject);
    request.end(init.body);
  });
}
