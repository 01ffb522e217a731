/**
 * The load the `/rpc` hammer bench and its security test share: requests from a chosen
 * loopback address (so each client is its own address to the server's per-address
 * limits), and the JSON-RPC bodies of an honest page read and of the heaviest batch the
 * proxy allows.
 */
import { encodeBatchCall, encodeOrganisationCall } from "../../server/src/verify/rpc.ts";
import { requestFrom } from "./loopback-request.ts";

export interface SentReply {
  status: number;
  text: string;
  retryAfter: string | undefined;
}

/** One request from a given loopback address, on a fresh connection; JSON unless `accept` says otherwise. */
export async function sendFrom(
  url: string,
  from: string,
  init: { method: "GET" | "POST"; accept?: string; body?: string },
): Promise<SentReply> {
  const reply = await requestFrom(url, {
    method: init.method,
    from,
    headers: {
      accept: init.accept ?? "application/json",
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: init.body,
  });
  const retryAfter = reply.headers["retry-after"];
  return {
    status: reply.status,
    text: reply.text,
    retryAfter: typeof retryAfter === "string" ? retryAfter : undefined,
  };
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
