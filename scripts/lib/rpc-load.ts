/**
 * The load the `/rpc` hammer bench and its security test share: requests from a chosen
 * loopback address (so each client is its own address to the server's per-address
 * limits), and the JSON-RPC bodies of an honest page read and of the heaviest batch the
 * proxy allows.
 */
import { request as httpRequest } from "node:http";

import { encodeBatchCall, encodeOrganisationCall } from "../../server/src/verify/rpc.ts";

export interface SentReply {
  status: number;
  text: string;
  retryAfter: string | undefined;
}

/** One request from a given loopback address, on a fresh connection. */
export function sendFrom(
  url: string,
  from: string,
  init: { method: "GET" | "POST"; accept?: string; body?: string },
): Promise<SentReply> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: init.method,
        localAddress: from,
        agent: false,
        headers: {
          accept: init.accept ?? "application/json",
          ...(init.body === undefined
            ? {}
            : { "content-type": "application/json", "content-length": Buffer.byteLength(init.body) }),
        },
      },
      (response) => {
        const parts: Buffer[] = [];
        response.on("data", (part: Buffer) => parts.push(part));
        response.on("end", () => {
          const retryAfter = response.headers["retry-after"];
          resolve({
            status: response.statusCode ?? 0,
            text: Buffer.concat(parts).toString("utf8"),
            retryAfter: typeof retryAfter === "string" ? retryAfter : undefined,
          });
        });
      },
    );
    request.on("error", reject);
    request.end(init.body);
  });
}

export function rpcRequest(
  id: number,
  method: string,
  params: unknown[],
): { jsonrpc: "2.0"; id: number; method: string; params: unknown[] } {
  return { jsonrpc: "2.0", id, method, params };
}

/**
 * The bodies: `page` is what the scan page sends for one item (chain id, the batch, its
 * organisation); `heavy` is the heaviest batch the proxy allows (20 calls, full-range log
 * queries and capped calls).
 */
export function rpcLoadBodies(
  registry: string,
  batchId: string,
  signerAddress: string,
): { page: string; heavy: string } {
  const batchCall = { to: registry, data: encodeBatchCall(batchId) };
  return {
    page: JSON.stringify([
      rpcRequest(1, "eth_chainId", []),
      rpcRequest(2, "eth_call", [batchCall, "latest"]),
      rpcRequest(3, "eth_call", [{ to: registry, data: encodeOrganisationCall(signerAddress) }, "latest"]),
    ]),
    heavy: JSON.stringify(
      Array.from({ length: 20 }, (_, i) =>
        i % 2 === 0
          ? rpcRequest(i, "eth_getLogs", [{ address: registry, fromBlock: "earliest", toBlock: "latest" }])
          : rpcRequest(i, "eth_call", [batchCall, "latest"]),
      ),
    ),
  };
}
