/**
 * A JSON-RPC endpoint in front of a real Hardhat node that can be told to lie, as a
 * dishonest or compromised node operator would: forge the answers a verifier can only compare
 * with other endpoints' (`eth_call` results, `eth_getLogs` with its last log left out), forge
 * the storage values of `eth_getProof` (leaving the proof nodes as they are), or drop every
 * request.
 * Browsers call it cross-origin, so it answers CORS as public JSON-RPC endpoints do.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export type LyingMode = "honest" | "forge-reads" | "forge-proof" | "drop";

export interface LyingRpc {
  url: string;
  mode: LyingMode;
  /** Requests forwarded by method, to show a scenario exercised what it claims. */
  seen: Map<string, number>;
  /** Answers this endpoint forged. */
  forged: number;
  close: () => Promise<void>;
}

interface RpcRequest {
  id?: unknown;
  method?: unknown;
}

interface RpcReply {
  id?: unknown;
  result?: unknown;
}

/** A 32-byte word changed in its last nibble; any other hex flipped in its last digit. */
function flipHex(hex: string): string {
  if (!/^0x[0-9a-fA-F]+$/.test(hex)) return hex;
  const last = hex.at(-1) ?? "0";
  return `${hex.slice(0, -1)}${last === "0" ? "1" : "0"}`;
}

/** The same answer, one value falsified. */
function forge(mode: LyingMode, method: string, reply: RpcReply): boolean {
  if (mode === "forge-reads" && method === "eth_getLogs" && Array.isArray(reply.result) && reply.result.length > 0) {
    // A log left out: a grant, a handover or a recall the verifier would then not see.
    reply.result = reply.result.slice(0, -1);
    return true;
  }
  if (mode === "forge-reads" && method === "eth_call" && typeof reply.result === "string" && reply.result.length > 2) {
    // The first word of a batch record is its items root: a forged root hides an item or vouches for a fake one.
    const words = reply.result.slice(2);
    reply.result = `0x${flipHex(`0x${words.slice(0, 64)}`).slice(2)}${words.slice(64)}`;
    return true;
  }
  if (
    mode === "forge-proof" &&
    method === "eth_getProof" &&
    typeof reply.result === "object" &&
    reply.result !== null
  ) {
    const proof = reply.result as { storageProof?: { value?: unknown }[] };
    let changed = false;
    for (const slot of proof.storageProof ?? []) {
      if (typeof slot.value === "string") {
        slot.value = slot.value === "0x0" ? "0x1" : flipHex(slot.value);
        changed = true;
      }
    }
    return changed;
  }
  return false;
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Starts a proxy to `upstream` on 127.0.0.1, in `mode` (changeable through the returned object). */
export async function startLyingRpc(upstream: string, mode: LyingMode = "honest"): Promise<LyingRpc> {
  const state: LyingRpc = {
    url: "",
    mode,
    seen: new Map(),
    forged: 0,
    close: () => Promise.resolve(),
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      if (state.mode === "drop") {
        // As a dead node looks from a browser: the connection goes without an answer.
        req.socket.destroy();
        return;
      }
      res.setHeader("access-control-allow-origin", "*");
      if (req.method === "OPTIONS") {
        res.writeHead(204, {
          "access-control-allow-methods": "POST, OPTIONS",
          "access-control-allow-headers": "content-type",
          "access-control-max-age": "600",
        });
        res.end();
        return;
      }
      const text = await bodyOf(req);
      let requests: RpcRequest[];
      try {
        const parsed = JSON.parse(text) as RpcRequest | RpcRequest[];
        requests = Array.isArray(parsed) ? parsed : [parsed];
      } catch {
        res.writeHead(400).end();
        return;
      }
      const methodOf = new Map<unknown, string>();
      for (const request of requests) {
        const method = typeof request.method === "string" ? request.method : "";
        methodOf.set(request.id, method);
        state.seen.set(method, (state.seen.get(method) ?? 0) + 1);
      }
      let upstreamReply: Response;
      try {
        upstreamReply = await fetch(upstream, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: text,
        });
      } catch {
        res.writeHead(502).end();
        return;
      }
      const body = (await upstreamReply.json()) as RpcReply | RpcReply[];
      for (const reply of Array.isArray(body) ? body : [body]) {
        if (forge(state.mode, methodOf.get(reply.id) ?? "", reply)) state.forged++;
      }
      res.writeHead(upstreamReply.status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  state.url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => {
        resolve();
      });
    });
  return state;
}
