/**
 * The quorum client's seals mode, on a real Besu QBFT block (block 7528 of a four-validator
 * network, test/data/qbft/, recorded by others: no Besu runs here): endpoints answer over
 * the client's `fetch` with that block, honestly or forged. One honest endpoint must suffice
 * for the block; a forged header must be named; logs, which no header proves, still need
 * the quorum. The quorum mode and the proofs are tested against a real Hardhat node in
 * test/server/trusted-rpc.test.ts.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";

import { RLP } from "@ethereumjs/rlp";

import { isAppError } from "../errors/app-error.ts";
import { hexToBytes } from "./bytes.ts";
import { qbftHeaderFromRlp } from "./qbft-seals.ts";
import type { FetchLike } from "./rpc.ts";
import { HEADER_FIELD_NAMES, rpcBlockOf } from "../../../test/support/qbft-blocks.ts";
import type { TrustRoots } from "./trust-roots.ts";
import { createTrustedRpcClient } from "./trusted-rpc.ts";

const recorded = JSON.parse(
  readFileSync(path.join(import.meta.dirname, "../../../test/data/qbft/recorded-besu-header.json"), "utf8"),
) as { headerRlp: string; number: number; stateRoot: string; validators: string[] };

const STATE_ROOT = HEADER_FIELD_NAMES.indexOf("stateRoot");

/** The JSON an endpoint answers for a header's RLP, with the hash Besu's rule gives it (constructed, not recorded). */
function rpcBlockOfRlp(rlp: Uint8Array): Record<string, string> {
  return rpcBlockOf(RLP.decode(rlp) as Uint8Array[], qbftHeaderFromRlp(rlp).hash);
}

const REAL = rpcBlockOfRlp(hexToBytes(recorded.headerRlp));
/** The same block with another state root: re-hashed, so only the seals can give it away. */
const FORGED = (() => {
  const fields = RLP.decode(hexToBytes(recorded.headerRlp)) as Uint8Array[];
  fields[STATE_ROOT] = hexToBytes(`0x${"ab".repeat(32)}`);
  return rpcBlockOfRlp(RLP.encode(fields));
})();

type Behaviour = "honest" | "forged" | "down" | "ahead" | "inflated";
const CHAIN_ID = 1337n;

interface Call {
  id: number;
  method: string;
  params: unknown[];
}

/** What an endpoint that behaves so answers to `call`. */
function resultOf(behaviour: Behaviour, call: Call): unknown {
  switch (call.method) {
    case "eth_chainId":
      return `0x${CHAIN_ID.toString(16)}`;
    case "eth_getBlockByNumber":
      if (behaviour === "forged") return FORGED;
      // One block further on; asked for the trusted block by its number, it has that too.
      // Claims a height nobody sealed; asked for a real block, it serves it.
      if (behaviour === "inflated" && call.params[0] === "latest") {
        return { ...REAL, number: `0x${(recorded.number + 1000).toString(16)}`, hash: `0x${"66".repeat(32)}` };
      }
      if (behaviour === "ahead" && call.params[0] === "latest") {
        return { ...REAL, number: `0x${(recorded.number + 1).toString(16)}`, hash: `0x${"77".repeat(32)}` };
      }
      return REAL;
    case "eth_getLogs":
      return [];
    default:
      return null;
  }
}

/** Endpoints `https://e0.test` … answering with the recorded block as `behaviours` say; `asked` counts by endpoint and method. */
function endpoints(behaviours: Behaviour[]): { urls: string[]; fetch: FetchLike; asked: string[][] } {
  const urls = behaviours.map((_, i) => `https://e${String(i)}.test/`);
  const asked: string[][] = behaviours.map(() => []);
  const fetch: FetchLike = (url, init) => {
    const index = urls.indexOf(url);
    const behaviour = behaviours[index];
    if (behaviour === "down" || behaviour === undefined) return Promise.reject(new TypeError("fetch failed"));
    const sent = JSON.parse(typeof init.body === "string" ? init.body : "null") as Call | Call[];
    const answer = (call: Call) => {
      asked[index]?.push(`${call.method}(${call.params.map((p) => JSON.stringify(p)).join(",")})`);
      return { jsonrpc: "2.0", id: call.id, result: resultOf(behaviour, call) };
    };
    const body = Array.isArray(sent) ? sent.map(answer) : answer(sent);
    return Promise.resolve(new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } }));
  };
  return { urls, fetch, asked };
}

function roots(urls: string[], overrides: Partial<TrustRoots> = {}): TrustRoots {
  return {
    chainId: CHAIN_ID.toString(),
    registry: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    typedDataVersion: "2",
    deploymentBlock: "0",
    endpoints: urls,
    quorum: 2,
    validators: recorded.validators,
    ...overrides,
  };
}

const LOGS = { address: "0x5FbDB2315678afecb367f032d93F642f64180aa3", topics: [], fromBlock: "0x0", toBlock: "latest" };

describe("trusted reads in seals mode (a recorded Besu QBFT block)", () => {
  it("trusts the block sealed by three of the four pinned validators, from one honest endpoint", async () => {
    const { urls, fetch } = endpoints(["down", "honest", "down"]);
    const client = createTrustedRpcClient(roots(urls), { fetch });
    assert.equal(await client.chainId(), CHAIN_ID);
    const report = client.trustReport();
    assert.equal(report.mode, "seals");
    assert.deepEqual(report.block, { number: String(recorded.number), hash: REAL.hash, stateRoot: recorded.stateRoot });
    assert.equal(report.sealedBy?.length, 3);
    for (const signer of report.sealedBy ?? []) assert.ok(recorded.validators.includes(signer.toLowerCase()));
    assert.deepEqual(
      report.endpoints.map((e) => e.status),
      ["unreachable", "agreed", "unreachable"],
    );
    // Logs are not proven by a header: one endpoint is not the quorum of two they need.
    await assert.rejects(client.getLogs?.(LOGS) ?? Promise.resolve(), (error: unknown) =>
      isAppError(error, "verify.quorum_unreachable"),
    );
  });

  it("names an endpoint whose block (another state root, re-hashed) the validators never sealed", async () => {
    const { urls, fetch } = endpoints(["forged", "honest", "honest"]);
    const client = createTrustedRpcClient(roots(urls), { fetch });
    await client.chainId();
    const report = client.trustReport();
    assert.equal(report.block?.stateRoot, recorded.stateRoot);
    const forger = report.endpoints.at(0);
    const others = report.endpoints.slice(1);
    assert.equal(forger?.status, "lied");
    assert.match(forger.detail ?? "", /not sealed by two thirds of the pinned validators/);
    assert.deepEqual(
      others.map((e) => e.status),
      ["agreed", "agreed"],
    );
    assert.deepEqual(await client.getLogs?.(LOGS), []);
  });

  it("reads at the highest block a quorum has reached, asking an endpoint ahead of it for that block", async () => {
    const { urls, fetch, asked } = endpoints(["ahead", "honest", "honest"]);
    const client = createTrustedRpcClient(roots(urls), { fetch });
    await client.chainId();
    assert.equal(client.trustReport().block?.number, String(recorded.number));
    assert.deepEqual(
      client.trustReport().endpoints.map((e) => e.status),
      ["agreed", "agreed", "agreed"],
    );
    const tag = JSON.stringify(`0x${recorded.number.toString(16)}`);
    assert.deepEqual(asked[0], [
      "eth_chainId()",
      'eth_getBlockByNumber("latest",false)',
      `eth_getBlockByNumber(${tag},false)`,
    ]);
    // The others' latest block was the one read at: one round trip for them.
    assert.deepEqual(asked[1], ["eth_chainId()", 'eth_getBlockByNumber("latest",false)']);
  });

  it("does not let one endpoint claiming an unsealed, higher block choose the block read at (quorum 1)", async () => {
    const { urls, fetch } = endpoints(["inflated", "honest", "honest"]);
    const client = createTrustedRpcClient(roots(urls, { quorum: 1 }), { fetch });
    await client.chainId();
    const report = client.trustReport();
    assert.equal(report.block?.number, String(recorded.number));
    assert.equal(report.block.stateRoot, recorded.stateRoot);
  });

  it("refuses a genuine block older than the pinned maximum age, and takes it while it is fresh", async () => {
    const sealedAt = Number(BigInt(REAL.timestamp ?? "0x0")) * 1000;
    const { urls, fetch } = endpoints(["honest", "honest", "honest"]);
    const stale = createTrustedRpcClient(roots(urls, { maxBlockAgeSeconds: 60 }), {
      fetch,
      now: () => sealedAt + 61_000,
    });
    await assert.rejects(stale.chainId(), (error: unknown) => isAppError(error, "verify.block_stale"));
    assert.equal(stale.trustReport().block, null);
    const fresh = createTrustedRpcClient(roots(urls, { maxBlockAgeSeconds: 60 }), {
      fetch,
      now: () => sealedAt + 59_000,
    });
    await fresh.chainId();
    assert.equal(fresh.trustReport().block?.number, String(recorded.number));
  });

  it("trusts no block when the pinned validators are not the ones that sealed it", async () => {
    const { urls, fetch } = endpoints(["honest", "honest", "honest"]);
    const strangers = ["0x1", "0x2", "0x3", "0x4"].map((n) => `0x${n.slice(2).padStart(40, "0")}`);
    const client = createTrustedRpcClient(roots(urls, { validators: strangers }), { fetch });
    await assert.rejects(client.chainId(), (error: unknown) => isAppError(error, "verify.quorum_disagreement"));
    assert.equal(client.trustReport().block, null);
    assert.ok(client.trustReport().endpoints.every((e) => e.status === "lied"));
  });

  it("without validators, the same three answers are trusted by the quorum alone", async () => {
    const { urls, fetch } = endpoints(["honest", "forged", "honest"]);
    const client = createTrustedRpcClient(roots(urls, { validators: [] }), { fetch });
    await client.chainId();
    const report = client.trustReport();
    assert.equal(report.mode, "quorum");
    assert.equal(report.block?.hash, REAL.hash);
    assert.match(report.endpoints.at(1)?.detail ?? "", /not the trusted/);
  });
});
