/**
 * Chain reads no single party controls, against a real Hardhat node: three endpoints are
 * small HTTP proxies to the node that, on demand, forge one kind of answer (a storage value
 * or a proof node in `eth_getProof`, an `eth_call` result, a block hash, the chain id) or
 * drop the connection. The quorum and proof client must read what the node really holds,
 * name the liar, and refuse to answer when too few endpoints remain. Then the regulator's
 * CLI reads the same way (`verify-link` with several `--rpc`, and `connect()`'s fallback
 * provider for the ethers-based commands).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";

import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { seedDemoSystem, waitUntilAnchored, type DemoSystemSummary } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry, type LocalDeployment } from "../../scripts/lib/local-stack.ts";
import { verifyLink } from "../../scripts/lib/verify-link.ts";
import { connect } from "../../scripts/tasks/cli/chain.ts";
import type { ItemResolution } from "../../server/src/domain/resolution.ts";
import { isAppError } from "../../server/src/errors/app-error.ts";
import type { RunningServer } from "../../server/src/server.ts";
import { listItemSerials } from "../../server/src/storage/batches.ts";
import { keccak256Hex } from "../../server/src/verify/bytes.ts";
import { LOG_TOPICS } from "../../server/src/verify/registry-logs.ts";
import {
  createRpcClient,
  readBatchRecord,
  readOrganisation,
  readOriginOf,
  type RpcClient,
} from "../../server/src/verify/rpc.ts";
import type { EndpointOutcome, TrustRoots } from "../../server/src/verify/trust-roots.ts";
import { createTrustedRpcClient, type TrustedRpcClient } from "../../server/src/verify/trusted-rpc.ts";
import { verifyResolution } from "../../server/src/verify/verify-resolution.ts";
import { startTestServer } from "../support/test-server.ts";

const execFileAsync = promisify(execFile);
const projectRoot = path.resolve(import.meta.dirname, "../..");

/** What a proxy does to the answers it forwards. */
type Behaviour =
  | "honest"
  | "forge-storage-value"
  | "forge-proof-node"
  | "forge-eth-call"
  | "forge-block-hash"
  | "wrong-chain"
  | "down";

interface Proxy {
  url: string;
  behaviour: Behaviour;
  /** HTTP requests received (a JSON-RPC batch is one). */
  requests: number;
  close(): Promise<void>;
}

interface RpcMessage {
  id?: unknown;
  method?: string;
  result?: unknown;
}

/** Flips the last hex digit: a value of the same shape that is wrong. */
function flipLast(hex: string): string {
  const last = hex.at(-1) ?? "0";
  return `${hex.slice(0, -1)}${last === "0" ? "1" : "0"}`;
}

function forge(behaviour: Behaviour, method: string, result: unknown): unknown {
  if (behaviour === "forge-eth-call" && method === "eth_call" && typeof result === "string") return flipLast(result);
  if (behaviour === "wrong-chain" && method === "eth_chainId") return "0x1";
  if (behaviour === "forge-block-hash" && method === "eth_getBlockByNumber" && result !== null) {
    const block = result as Record<string, string>;
    return { ...block, hash: flipLast(block.hash ?? "0x") };
  }
  if (method === "eth_getProof" && (behaviour === "forge-storage-value" || behaviour === "forge-proof-node")) {
    const answer = result as { storageProof: { key: string; value: string; proof: string[] }[] };
    const storageProof = answer.storageProof.map((entry, index) => {
      if (index !== 0) return entry;
      if (behaviour === "forge-storage-value") return { ...entry, value: entry.value === "0x0" ? "0x1" : "0x0" };
      // A leaf whose value says something else: it no longer hashes into its parent.
      return { ...entry, proof: entry.proof.map((node, i) => (i === entry.proof.length - 1 ? flipLast(node) : node)) };
    });
    return { ...answer, storageProof };
  }
  return result;
}

async function startProxy(target: string): Promise<Proxy> {
  const proxy: Proxy = { url: "", behaviour: "honest", requests: 0, close: () => Promise.resolve() };
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    proxy.requests++;
    if (proxy.behaviour === "down") {
      request.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString();
    const sent = JSON.parse(body) as RpcMessage | RpcMessage[];
    const upstream = await fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body });
    const answer = (await upstream.json()) as RpcMessage | RpcMessage[];
    const calls = Array.isArray(sent) ? sent : [sent];
    const methodOf = (id: unknown): string => calls.find((c) => c.id === id)?.method ?? "";
    const rewrite = (a: RpcMessage): RpcMessage =>
      a.result === undefined ? a : { ...a, result: forge(proxy.behaviour, methodOf(a.id), a.result) };
    const out = Array.isArray(answer) ? answer.map(rewrite) : rewrite(answer);
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(out));
  };
  const server: Server = createServer((request, response) => {
    handle(request, response).catch(() => request.socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => {
        resolve();
      });
    });
  return proxy;
}

/** One endpoint's outcome in `client`'s report. */
function outcomeAt(client: TrustedRpcClient, index: number): EndpointOutcome {
  const outcome = client.trustReport().endpoints.at(index);
  assert.ok(outcome !== undefined, `endpoint ${String(index)} in the report`);
  return outcome;
}

describe("chain reads no single party controls (quorum and storage proofs)", () => {
  let node: ChainNode;
  let deployment: LocalDeployment;
  let server: RunningServer;
  let dataDir: string;
  let demo: DemoSystemSummary;
  let proxies: Proxy[];
  let plain: RpcClient;
  let link: string;

  const roots = (overrides: Partial<TrustRoots> = {}): TrustRoots => ({
    chainId: deployment.chainId.toString(),
    registry: deployment.registry,
    typedDataVersion: "2",
    deploymentBlock: String(deployment.deployedAtBlock),
    endpoints: proxies.map((p) => p.url),
    quorum: 2,
    ...overrides,
  });
  const behave = (...behaviours: Behaviour[]): void => {
    proxies.forEach((proxy, index) => {
      proxy.behaviour = behaviours[index] ?? "honest";
    });
  };
  const outcomes = (client: { trustReport(): { endpoints: { status: string; detail?: string }[] } }) =>
    client.trustReport().endpoints.map((e) => e.status);

  before(async () => {
    node = await startChainNode({ projectRoot });
    deployment = await deployLocalRegistry(node.rpcUrl);
    const started = await startTestServer(deployment.env, "trusted-rpc", { WORKERS: "on" });
    server = started.server;
    dataDir = started.dataDir;
    demo = await seedDemoSystem(server.url, deployment.env.ADMIN_TOKEN ?? "", { itemCount: 4, video: null });
    await waitUntilAnchored(server.url, demo.batch.batchId, demo.eventIds.length);
    const serial = (await listItemSerials(server.ctx.db, demo.batch.batchId))[0] ?? "";
    link = `${server.url}/01/${demo.batch.gtin}/10/${demo.batch.lot}/21/${serial}`;
    proxies = await Promise.all([0, 1, 2].map(() => startProxy(node.rpcUrl)));
    plain = createRpcClient(node.rpcUrl);
  });

  after(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    await server.close();
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The three views the verifier reads, through `rpc`. */
  async function views(rpc: RpcClient) {
    const { registry } = deployment;
    const { cooperative, processor } = demo.organisations;
    return {
      batch: await readBatchRecord(rpc, registry, demo.batch.batchId),
      unknownBatch: await readBatchRecord(rpc, registry, keccak256Hex(new TextEncoder().encode("no such batch"))),
      cooperative: await readOrganisation(rpc, registry, cooperative.signerAddress),
      processor: await readOrganisation(rpc, registry, processor.signerAddress),
      originOfCoop: await readOriginOf(rpc, registry, cooperative.signerAddress),
      originOfStranger: await readOriginOf(rpc, registry, "0x00000000000000000000000000000000000000a1"),
    };
  }

  it("three honest endpoints agree, and the proven reads equal the node's own eth_call", async () => {
    behave("honest", "honest", "honest");
    // A first read costs one round trip: the heads and the proof leave together.
    const first = createTrustedRpcClient(roots());
    const before = proxies.map((p) => p.requests);
    await readBatchRecord(first, deployment.registry, demo.batch.batchId);
    assert.deepEqual(
      proxies.map((p, i) => p.requests - (before[i] ?? 0)),
      [1, 1, 1],
    );

    const client = createTrustedRpcClient(roots());
    const proven = await views(client);
    assert.deepEqual(proven, await views(plain));
    // The real batch and organisation, not zeros that would also compare equal.
    assert.equal(proven.batch.status, "active");
    assert.equal(proven.batch.itemCount, 4);
    assert.equal(proven.cooperative.kind, "cooperative");
    assert.ok(proven.cooperative.metadataCid.length > 2 + 2 * 32, "a long-form bytes value (over 32 bytes)");
    assert.equal(proven.unknownBatch.status, "none");
    assert.equal(proven.originOfStranger, "0x0000000000000000000000000000000000000000");
    assert.equal(await client.chainId(), deployment.chainId);
    const report = client.trustReport();
    assert.equal(report.mode, "quorum");
    assert.deepEqual(outcomes(client), ["agreed", "agreed", "agreed"]);
    const head = (await (
      await fetch(node.rpcUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_getBlockByNumber", params: ["latest", false] }),
      })
    ).json()) as { result: { number: string; hash: string; stateRoot: string } };
    assert.deepEqual(report.block, {
      number: BigInt(head.result.number).toString(),
      hash: head.result.hash,
      stateRoot: head.result.stateRoot,
    });
  });

  it("names an endpoint that forges a storage value beside an honest proof, and still reads right", async () => {
    behave("honest", "forge-storage-value", "honest");
    const client = createTrustedRpcClient(roots());
    assert.deepEqual(await views(client), await views(plain));
    const liar = outcomeAt(client, 1);
    assert.equal(liar.status, "lied");
    assert.match(liar.detail ?? "", /different storage value for batch\(0x[0-9a-f]{64}\) than its proof/);
    assert.deepEqual(outcomes(client), ["agreed", "lied", "agreed"]);
  });

  it("names an endpoint whose proof node does not hash into the state root", async () => {
    behave("forge-proof-node", "honest", "honest");
    const client = createTrustedRpcClient(roots());
    assert.deepEqual(
      await readBatchRecord(client, deployment.registry, demo.batch.batchId),
      await readBatchRecord(plain, deployment.registry, demo.batch.batchId),
    );
    const liar = outcomeAt(client, 0);
    assert.equal(liar.status, "lied");
    assert.match(liar.detail ?? "", /storage proof of batch\(.*\) does not match the account's storage root/);
  });

  it("refuses when every endpoint's proof is forged, rather than trust one", async () => {
    behave("forge-storage-value", "forge-proof-node", "forge-storage-value");
    const client = createTrustedRpcClient(roots());
    await assert.rejects(readBatchRecord(client, deployment.registry, demo.batch.batchId), (error: unknown) =>
      isAppError(error, "verify.proof_invalid"),
    );
    assert.deepEqual(outcomes(client), ["lied", "lied", "lied"]);
  });

  it("catches a forged eth_call of a view no proof covers by the quorum", async () => {
    behave("honest", "honest", "forge-eth-call");
    const client = createTrustedRpcClient(roots());
    // REGULATOR_ROLE(): a constant, read by eth_call, compared across endpoints.
    const data = keccak256Hex(new TextEncoder().encode("REGULATOR_ROLE()")).slice(0, 10);
    const expected = await plain.ethCall(deployment.registry, data);
    assert.equal(await client.ethCall(deployment.registry, data), expected);
    assert.equal(expected, keccak256Hex(new TextEncoder().encode("REGULATOR_ROLE")));
    const liar = outcomeAt(client, 2);
    assert.equal(liar.status, "lied");
    assert.match(liar.detail ?? "", /answered eth_call to .* differently from 2 others/);
    // Logs too are compared, read up to the trusted block only.
    const filter = {
      address: deployment.registry,
      topics: [LOG_TOPICS.BatchAttested],
      fromBlock: `0x${deployment.deployedAtBlock.toString(16)}`,
      toBlock: "latest",
    };
    const logs = await client.getLogs?.(filter);
    assert.equal(logs?.length, 1);
    assert.deepEqual(logs, await plain.getLogs?.(filter));
    // An explicit end stays as asked, early (a fresh client) as well as at the block.
    const beforeBatch = { ...filter, toBlock: filter.fromBlock };
    assert.deepEqual(await createTrustedRpcClient(roots()).getLogs?.(beforeBatch), []);
    assert.deepEqual(await client.getLogs?.(beforeBatch), []);
  });

  it("says a quorum cannot be reached when two of three endpoints are down, never answers", async () => {
    behave("down", "honest", "down");
    const client = createTrustedRpcClient(roots(), { timeoutMs: 3_000 });
    await assert.rejects(readBatchRecord(client, deployment.registry, demo.batch.batchId), (error: unknown) =>
      isAppError(error, "verify.quorum_unreachable"),
    );
    assert.deepEqual(outcomes(client), ["unreachable", "agreed", "unreachable"]);
    assert.equal(outcomeAt(client, 0).detail, "no connection");
    assert.equal(client.trustReport().block, null);
  });

  it("counts an endpoint on another chain as a liar, and one forging the block hash", async () => {
    behave("wrong-chain", "honest", "forge-block-hash");
    const lone = createTrustedRpcClient(roots());
    // One honest endpoint is not a quorum of two.
    await assert.rejects(lone.chainId(), (error: unknown) => isAppError(error, "verify.quorum_disagreement"));
    behave("wrong-chain", "honest", "honest");
    const client = createTrustedRpcClient(roots());
    assert.equal(await client.chainId(), deployment.chainId);
    const [wrong] = client.trustReport().endpoints;
    assert.deepEqual(wrong, {
      endpoint: proxies[0]?.url,
      status: "lied",
      detail: `on chain 1, not ${deployment.chainId}`,
    });
    behave("honest", "forge-block-hash", "honest");
    const forged = createTrustedRpcClient(roots());
    await forged.chainId();
    assert.match(outcomeAt(forged, 1).detail ?? "", /answered block \d+ as 0x[0-9a-f]{64}/);
  });

  it("verifies an item through it, and refuses a resolution naming another registry or version", async () => {
    behave("honest", "forge-storage-value", "honest");
    const resolution = (await (
      await fetch(link, { headers: { accept: "application/json" } })
    ).json()) as ItemResolution;
    const pinned = {
      chainId: deployment.chainId.toString(),
      registry: deployment.registry,
      typedDataVersion: "2",
      fromBlock: String(deployment.deployedAtBlock),
    };
    const report = await verifyResolution(resolution, {
      baseUrl: link,
      rpc: createTrustedRpcClient(roots()),
      expected: pinned,
    });
    assert.equal(report.verdict, "verified", JSON.stringify(report.checks.filter((c) => c.ok !== true)));
    assert.ok(report.chainTrust !== null);
    assert.deepEqual(
      report.chainTrust.endpoints.map((e) => e.status),
      ["agreed", "lied", "agreed"],
    );

    const otherRegistry = {
      ...resolution,
      chain: { ...resolution.chain, registry: "0x00000000000000000000000000000000000000b2" },
    };
    const refused = await verifyResolution(otherRegistry, {
      baseUrl: link,
      rpc: createTrustedRpcClient(roots()),
      expected: pinned,
    });
    assert.notEqual(refused.verdict, "verified");
    assert.match(refused.checks.find((c) => c.id === "chain_id")?.detail ?? "", /expected registry/);

    const claimsV1 = { ...resolution, chain: { ...resolution.chain, typedDataVersion: "1" as const } };
    const v1 = await verifyResolution(claimsV1, {
      baseUrl: link,
      rpc: createTrustedRpcClient(roots()),
      expected: pinned,
    });
    assert.notEqual(v1.verdict, "verified");
    assert.match(v1.checks.find((c) => c.id === "chain_id")?.detail ?? "", /typed-data version 2/);

    behave("down", "down", "honest");
    const down = await verifyResolution(resolution, {
      baseUrl: link,
      rpc: createTrustedRpcClient(roots(), { timeoutMs: 3_000 }),
      expected: pinned,
    });
    assert.equal(down.verdict, "not_verified");
    assert.equal(down.chainReachable, false);
  });

  it("takes the platform's own read-only /rpc as one of its endpoints", async () => {
    behave("honest", "down", "down");
    const resolution = (await (
      await fetch(link, { headers: { accept: "application/json" } })
    ).json()) as ItemResolution;
    const endpoints = [`${server.url}/rpc`, proxies[0]?.url ?? ""];
    const report = await verifyResolution(resolution, {
      baseUrl: link,
      rpc: createTrustedRpcClient(roots({ endpoints, quorum: 2 })),
      expected: {
        chainId: deployment.chainId.toString(),
        registry: deployment.registry,
        typedDataVersion: "2",
        fromBlock: String(deployment.deployedAtBlock),
      },
    });
    assert.equal(report.verdict, "verified", JSON.stringify(report.chainTrust));
    assert.deepEqual(
      report.chainTrust?.endpoints.map((e) => e.status),
      ["agreed", "agreed"],
    );
  });

  it("verify-link reads through several endpoints with a quorum and prints each one's outcome", async () => {
    behave("honest", "honest", "forge-storage-value");
    const lines: string[] = [];
    const outcome = await verifyLink(link, {
      rpcs: proxies.map((p) => p.url),
      quorum: 2,
      registry: deployment.registry,
      chainId: deployment.chainId.toString(),
      typedDataVersion: "2",
      fromBlock: String(deployment.deployedAtBlock),
      print: (line) => lines.push(line),
    });
    assert.deepEqual(outcome, { kind: "verdict", verdict: "verified", findingCodes: [] });
    const text = lines.join("\n");
    assert.match(text, /read at block \d+ \(0x[0-9a-f]{64}\), quorum 2 of 3/);
    assert.match(text, new RegExp(`LIED +${proxies[2]?.url ?? ""}: answered a different storage value`));
    assert.equal(text.match(/agreed/g)?.length, 2);

    // The command itself, as a regulator types it: --rpc three times; two down is no quorum.
    behave("down", "honest", "down");
    const run = await execFileAsync(
      process.execPath,
      [
        "scripts/tasks/cli.ts",
        "verify-link",
        "--url",
        link,
        ...proxies.flatMap((p) => ["--rpc", p.url]),
        "--registry",
        deployment.registry,
        "--chain-id",
        deployment.chainId.toString(),
      ],
      { cwd: projectRoot },
    ).then(
      () => ({ code: 0, stdout: "" }),
      (error: unknown) => error as { code: number; stdout: string },
    );
    assert.equal(run.code, 1);
    assert.match(run.stdout, /cannot reach a quorum/);
    assert.match(run.stdout, /verdict: NOT VERIFIED/);
  });

  it("connect() reads through a fallback provider with a quorum when --rpc is given several times", async () => {
    behave("honest", "honest", "forge-eth-call");
    const { provider, registry } = await connect(
      { registry: deployment.registry, quorum: "2" },
      proxies.map((p) => p.url),
    );
    try {
      const data = keccak256Hex(new TextEncoder().encode("REGULATOR_ROLE()")).slice(0, 10);
      assert.equal(
        await provider.call({ to: deployment.registry, data }),
        keccak256Hex(new TextEncoder().encode("REGULATOR_ROLE")),
      );
      assert.equal(await registry.getAddress(), deployment.registry);
    } finally {
      await provider.destroy();
    }

    // verify-batch and audit as typed, each endpoint given with --rpc: the answers they act on
    // come from the agreeing two; the batch verifies and its audit finds nothing critical.
    const cli = (args: string[], env: Record<string, string> = {}) =>
      execFileAsync(process.execPath, ["scripts/tasks/cli.ts", ...args, ...proxies.flatMap((p) => ["--rpc", p.url])], {
        cwd: projectRoot,
        env: { ...process.env, ...env },
      }).then(
        ({ stdout }) => ({ code: 0, stdout }),
        (error: unknown) => error as { code: number; stdout: string },
      );
    const common = ["--registry", deployment.registry, "--from-block", String(deployment.deployedAtBlock)];
    const [batch, audit] = await Promise.all([
      cli(["verify-batch", ...common, "--gtin", demo.batch.gtin, "--lot", demo.batch.lot, "--quorum", "2"]),
      cli(["audit", ...common, "--batch", demo.batch.batchId, "--server", server.url], {
        REGULATOR_TOKEN: demo.organisations.regulator.token,
      }),
    ]);
    assert.equal(batch.code, 0, batch.stdout);
    assert.match(batch.stdout, /VERIFIED/);
    assert.equal(audit.code, 0, audit.stdout);
    assert.match(audit.stdout, new RegExp(`audit of ${demo.batch.gtin} / ${demo.batch.lot}`));
    // A command that reads one endpoint refuses several rather than silently use the first.
    const deploy = await cli(["deploy", "--relayer", deployment.registry]);
    assert.equal(deploy.code, 2);
  });
});
