/**
 * The read-only JSON-RPC proxy against a Hardhat node in its own process: it forwards only
 * what it rebuilt from validated calls (no state override, no unknown fields, gas capped,
 * bounded log ranges), its own 16 KiB body limit applies, each address has a budget of
 * calls, and when the node is slow the excess is answered at once instead of queued.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";

import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { deployLocalRegistry, type LocalDeployment } from "../../scripts/lib/local-stack.ts";
import { requestFrom } from "../../scripts/lib/loopback-request.ts";
import { checkCall, createSemaphore } from "../../server/src/http/routes/rpc-proxy.ts";
import type { RunningServer } from "../../server/src/server.ts";
import { startTestServer } from "../support/test-server.ts";

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  ms: number;
}

/** POSTs to `/rpc` from a given loopback address (all of 127/8 reaches the server). */
async function post(
  baseUrl: string,
  payload: unknown,
  options: { from?: string; headers?: Record<string, string>; raw?: string } = {},
): Promise<Reply> {
  const started = performance.now();
  const reply = await requestFrom(new URL("/rpc", baseUrl), {
    method: "POST",
    from: options.from,
    headers: { "content-type": "application/json", ...options.headers },
    body: options.raw ?? JSON.stringify(payload),
  });
  return {
    status: reply.status,
    headers: reply.headers,
    body: reply.text === "" ? null : (JSON.parse(reply.text) as unknown),
    ms: performance.now() - started,
  };
}

interface RpcAnswer {
  jsonrpc: string;
  id: unknown;
  result?: unknown;
  error?: { code: number; message: string };
}

const DOMAIN_SEPARATOR = "0xf698da25";
const ZERO32 = `0x${"00".repeat(32)}`;

describe("the JSON-RPC proxy", () => {
  let node: ChainNode;
  let deployment: LocalDeployment;
  let stalled: Server;
  const stalledSockets = new Set<Socket>();
  const servers: RunningServer[] = [];
  const dataDirs: string[] = [];
  let main: RunningServer;

  async function start(extra: Record<string, string>): Promise<RunningServer> {
    const { server, dataDir } = await startTestServer(deployment.env, "rpc-proxy", extra);
    dataDirs.push(dataDir);
    servers.push(server);
    return server;
  }

  const call = (method: string, params: unknown[], id: unknown = 1) => ({ jsonrpc: "2.0", id, method, params });

  before(async () => {
    node = await startChainNode();
    deployment = await deployLocalRegistry(node.rpcUrl);
    // A chain node that accepts connections and never answers: the proxy must not wait for it for ever.
    stalled = createServer((socket) => {
      stalledSockets.add(socket);
      socket.on("error", () => undefined);
      socket.on("close", () => stalledSockets.delete(socket));
    });
    await new Promise<void>((resolve) => stalled.listen(0, "127.0.0.1", resolve));
    main = await start({ RPC_CALLS_PER_MINUTE: "60", RPC_MAX_LOG_BLOCK_RANGE: "100" });
  });

  after(async () => {
    for (const server of servers) await server.close();
    for (const socket of stalledSockets) socket.destroy();
    await new Promise((resolve) => stalled.close(resolve));
    await node.stop();
    for (const dataDir of dataDirs) rmSync(dataDir, { recursive: true, force: true });
  });

  it("forwards the page's reads, rebuilt, with the callers' ids in order", async () => {
    const registry = deployment.registry;
    const reply = await post(main.url, [
      call("eth_chainId", [], "a"),
      call("eth_blockNumber", [], 7),
      call("eth_call", [{ to: registry, data: DOMAIN_SEPARATOR }, "latest"], 7),
      call("eth_call", [{ to: registry.toLowerCase(), data: DOMAIN_SEPARATOR, gas: "0x30d40" }], null),
      call("eth_getLogs", [{ address: registry, fromBlock: "earliest", toBlock: "latest", topics: [null] }], 9),
      call("eth_getProof", [registry, [ZERO32], "latest"], 10),
      call("eth_getBlockByNumber", ["latest", false], 11),
    ]);
    assert.equal(reply.status, 200);
    const answers = reply.body as RpcAnswer[];
    assert.deepEqual(
      answers.map((a) => a.id),
      ["a", 7, 7, null, 9, 10, 11],
    );
    assert.equal(answers[0]?.result, "0x7a69");
    assert.match(String(answers[1]?.result), /^0x[0-9a-f]+$/);
    assert.match(String(answers[2]?.result), /^0x[0-9a-f]{64}$/);
    assert.equal(answers[3]?.result, answers[2]?.result);
    const logs = answers[4]?.result;
    assert.ok(Array.isArray(logs), JSON.stringify(answers[4]));
    assert.ok(logs.length > 0, "the registry's deployment logs");
    assert.equal(typeof answers[5]?.result, "object", JSON.stringify(answers[5]));
    const header = answers[6]?.result as { stateRoot?: unknown; transactions?: unknown[] } | undefined;
    assert.match(String(header?.stateRoot), /^0x[0-9a-f]{64}$/, JSON.stringify(answers[6]));
    assert.ok(
      header?.transactions?.every((t) => typeof t === "string"),
      "transaction hashes only",
    );
    assert.equal(reply.headers["access-control-allow-origin"], "*");
  });

  it("lets a filter on an indexed value span further than an open one (the scan page reads a batch's history)", async () => {
    const narrow = await start({ RPC_MAX_LOG_BLOCK_RANGE: "1", RPC_MAX_INDEXED_LOG_BLOCK_RANGE: "1000000" });
    const registry = deployment.registry;
    const span = { address: registry, fromBlock: "earliest", toBlock: "latest" };
    const reply = await post(narrow.url, [
      call("eth_getLogs", [{ ...span, topics: [null] }], 1),
      call("eth_getLogs", [{ ...span, topics: [null, ZERO32] }], 2),
      call("eth_getLogs", [{ ...span, topics: [null, [ZERO32, ZERO32]] }], 3),
    ]);
    const answers = reply.body as RpcAnswer[];
    assert.equal(answers[0]?.error?.code, -32602, JSON.stringify(answers[0]));
    assert.match(answers[0].error.message, /spans at most 1 blocks/);
    // Forwarded over the whole chain: the zero topic is the admin role's, granted at deployment.
    for (const answer of [answers[1], answers[2]]) {
      assert.ok(Array.isArray(answer?.result) && answer.result.length > 0, JSON.stringify(answer));
    }
    const tight = await start({ RPC_MAX_LOG_BLOCK_RANGE: "1", RPC_MAX_INDEXED_LOG_BLOCK_RANGE: "1" });
    const refused = (await post(tight.url, [call("eth_getLogs", [{ ...span, topics: [null, ZERO32] }], 4)]))
      .body as RpcAnswer[];
    assert.equal(refused[0]?.error?.code, -32602, "the indexed bound holds too");
  });

  it("refuses state overrides, unknown fields, other contracts, other methods, and too much data or gas", async () => {
    const registry = deployment.registry;
    const override = { [registry]: { code: "0x600160005260206000f3" } };
    const refused: [unknown, number][] = [
      [call("eth_call", [{ to: registry, data: DOMAIN_SEPARATOR }, "latest", override]), -32602],
      [call("eth_call", [{ to: registry, data: DOMAIN_SEPARATOR, value: "0x1" }, "latest"]), -32602],
      [call("eth_call", [{ to: registry, data: DOMAIN_SEPARATOR, stateOverride: override }, "latest"]), -32602],
      [call("eth_call", [{ to: registry, data: DOMAIN_SEPARATOR }, "pending"]), -32602],
      [call("eth_call", [{ to: registry, data: `0x${"00".repeat(4_097)}` }, "latest"]), -32602],
      [call("eth_call", [{ to: registry, data: DOMAIN_SEPARATOR, gas: "0x1312d01" }, "latest"]), -32602],
      [call("eth_call", [{ to: "0x0000000000000000000000000000000000000001", data: "0x" }, "latest"]), -32601],
      [call("eth_getLogs", [{ address: "0x0000000000000000000000000000000000000001" }]), -32601],
      [call("eth_getLogs", [{ address: registry, fromBlock: "0x0", toBlock: "0x64" }]), -32602],
      [call("eth_getLogs", [{ address: registry, blockHash: ZERO32, fromBlock: "0x0" }]), -32602],
      [
        call("eth_getLogs", [
          { address: registry, topics: [[ZERO32, ZERO32, ZERO32, ZERO32, ZERO32, ZERO32, ZERO32, ZERO32, ZERO32]] },
        ]),
        -32602,
      ],
      [call("eth_getProof", ["0x0000000000000000000000000000000000000001", [], "latest"]), -32601],
      [call("eth_chainId", ["extra"]), -32602],
      [call("eth_getBlockByNumber", ["latest", true]), -32602],
      [call("eth_getBlockByNumber", ["pending", false]), -32602],
      [call("eth_getBlockByNumber", [ZERO32, false]), -32602],
      [call("eth_sendRawTransaction", ["0x00"]), -32601],
      [call("hardhat_mine", []), -32601],
      [call("debug_traceCall", [{ to: registry, data: DOMAIN_SEPARATOR }, "latest"]), -32601],
      [{ id: 1, method: "eth_chainId" }, -32600],
    ];
    for (const [payload, code] of refused) {
      const reply = await post(main.url, payload);
      assert.equal(reply.status, 200);
      assert.equal((reply.body as RpcAnswer).error?.code, code, JSON.stringify(payload).slice(0, 200));
      assert.equal((reply.body as RpcAnswer).result, undefined);
    }
    // In a batch, a refused call is answered as refused and the others are still served.
    const mixed = await post(main.url, [refused[0]?.[0], call("eth_chainId", [], 2)]);
    const answers = mixed.body as RpcAnswer[];
    assert.equal(answers[0]?.error?.code, -32602);
    assert.equal(answers[1]?.result, "0x7a69");
    const tooMany = await post(
      main.url,
      Array.from({ length: 21 }, (_, i) => call("eth_chainId", [], i)),
    );
    assert.equal(tooMany.status, 400);
  });

  it("runs every eth_call with the gas cap, given or not", async () => {
    // A cap below what reading the domain separator costs: the node must refuse or run out of gas.
    const capped = await start({ RPC_GAS_CAP: "21100" });
    const reply = await post(capped.url, call("eth_call", [{ to: deployment.registry, data: DOMAIN_SEPARATOR }]));
    assert.equal(reply.status, 200);
    const answer = reply.body as RpcAnswer;
    assert.equal(answer.result, undefined, "the call did not get more gas than the cap");
    assert.ok(answer.error !== undefined && answer.error.code !== -32602, JSON.stringify(answer));
    assert.match(answer.error.message, /gas/i, "the node's own refusal: not enough gas");
  });

  it("applies its own 16 KiB body limit, not the server's 1 MiB one", async () => {
    const filler = "0".repeat(800_000);
    const big = await post(main.url, null, {
      raw: JSON.stringify(call("eth_call", [{ to: deployment.registry, data: `0x${filler}` }, "latest"])),
    });
    assert.equal(big.status, 413);
    assert.equal((big.body as { code: string }).code, "request.too_large");
    const just = await post(main.url, null, {
      raw: JSON.stringify({ ...call("eth_chainId", []), pad: "x".repeat(17_000) }),
    });
    assert.equal(just.status, 413);
  });

  it("counts each address's calls, not requests, and ignores a spoofed X-Forwarded-For", async () => {
    const from = "127.0.0.51";
    const twenty = Array.from({ length: 20 }, (_, i) => call("eth_chainId", [], i));
    for (let i = 0; i < 3; i++) assert.equal((await post(main.url, twenty, { from })).status, 200, `batch ${i}`);
    const limited = await post(main.url, call("eth_chainId", []), { from });
    assert.equal(limited.status, 429);
    assert.equal((limited.body as { code: string }).code, "request.rate_limited");
    assert.ok(limited.headers.ratelimit !== undefined || limited.headers["ratelimit-policy"] !== undefined);
    const spoofed = await post(main.url, call("eth_chainId", []), {
      from,
      headers: { "x-forwarded-for": "198.51.100.9" },
    });
    assert.equal(spoofed.status, 429, "X-Forwarded-For from an untrusted peer changes nothing");
    const other = await post(main.url, call("eth_chainId", []), { from: "127.0.0.52" });
    assert.equal(other.status, 200, "another address has its own budget");
  });

  it("counts the client a trusted proxy names", async () => {
    const behindProxy = await start({ RPC_CALLS_PER_MINUTE: "20", TRUST_PROXY: "127.0.0.0/8" });
    const twenty = Array.from({ length: 20 }, (_, i) => call("eth_chainId", [], i));
    const as = (client: string) => ({ from: "127.0.0.61", headers: { "x-forwarded-for": client } });
    assert.equal((await post(behindProxy.url, twenty, as("198.51.100.1"))).status, 200);
    assert.equal((await post(behindProxy.url, call("eth_chainId", []), as("198.51.100.1"))).status, 429);
    assert.equal((await post(behindProxy.url, call("eth_chainId", []), as("198.51.100.2"))).status, 200);
  });

  it("answers the excess at once when the node is slow, and gives up on the node in time", async () => {
    const address = stalled.address();
    assert.ok(typeof address === "object" && address !== null);
    const slow = await start({
      CHAIN_RPC_URL: `http://127.0.0.1:${String(address.port)}`,
      RPC_MAX_CONCURRENT: "1",
      RPC_UPSTREAM_TIMEOUT_SECONDS: "2",
    });
    const replies = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        post(slow.url, call("eth_chainId", [], i), { from: `127.0.1.${String(i + 1)}` }),
      ),
    );
    const codes = replies.map((r) => (r.body as { code?: string }).code);
    const busy = replies.filter((r) => r.status === 503 && (r.body as { code?: string }).code === "chain.busy");
    const unavailable = replies.filter((r) => (r.body as { code?: string }).code === "chain.unavailable");
    assert.equal(busy.length + unavailable.length, replies.length, JSON.stringify(codes));
    assert.ok(busy.length >= 10, JSON.stringify(codes));
    for (const reply of busy) {
      assert.equal(reply.headers["retry-after"], "1");
      assert.ok(reply.ms < 1_800, `told to come back after ${String(Math.round(reply.ms))} ms`);
    }
    assert.ok(unavailable.length >= 1);
    for (const reply of unavailable) assert.ok(reply.ms < 5_000, `gave up after ${String(Math.round(reply.ms))} ms`);
  });

  it("checks calls without a node: shapes and the semaphore", async () => {
    const options = {
      upstreamUrl: "http://127.0.0.1:9",
      registry: deployment.registry,
      gasCap: 1_000_000,
      maxCallDataBytes: 64,
      maxLogBlockRange: 10,
      callsPerMinute: 10,
      maxConcurrent: 1,
      upstreamTimeoutMs: 1_000,
    };
    const checked = checkCall({ method: "eth_call", params: [{ to: deployment.registry, data: "0x12" }] }, options);
    assert.deepEqual(checked, {
      forward: { method: "eth_call", params: [{ to: deployment.registry, data: "0x12", gas: "0xf4240" }, "latest"] },
    });
    // Another contract only for ERC-1271's isValidSignature (a contract wallet asked about a signature), gas capped.
    const wallet = "0x00000000000000000000000000000000000000aa";
    assert.deepEqual(
      checkCall({ method: "eth_call", params: [{ to: wallet, data: "0x1626BA7E00" }, "0x7"] }, options),
      {
        forward: { method: "eth_call", params: [{ to: wallet, data: "0x1626BA7E00", gas: "0xf4240" }, "0x7"] },
      },
    );
    const elsewhere = checkCall({ method: "eth_call", params: [{ to: wallet, data: "0x1626ba7f00" }] }, options);
    assert.equal("refusal" in elsewhere && elsewhere.refusal.code, -32601);
    const logs = checkCall(
      { method: "eth_getLogs", params: [{ address: [deployment.registry], toBlock: "0x5" }] },
      options,
    );
    assert.deepEqual(logs, {
      forward: {
        method: "eth_getLogs",
        params: [{ address: deployment.registry, fromBlock: "latest", toBlock: "0x5" }],
      },
      range: { from: "head", to: 5 },
    });
    const semaphore = createSemaphore(1, 50);
    const first = await semaphore.acquire();
    assert.ok(first !== null);
    const waiting = semaphore.acquire();
    assert.equal(await semaphore.acquire(), null, "a second waiter is refused at once");
    first();
    first(); // releasing twice frees one slot only
    const second = await waiting;
    assert.ok(second !== null);
    assert.equal(await semaphore.acquire(), null, "times out while the slot is held");
    second();
    assert.equal(semaphore.held, 0);
  });
});
