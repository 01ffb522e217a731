/**
 * The operator's endpoints (issue 15 part 6, `/api/v1/admin/…`) against a real Hardhat node
 * and the server with SQLite: organisations with their prefixes and people; the server's keys
 * with the roles the registry gives them (read on chain, no private material in the answer);
 * the relayer's balance against the warning line, its last day's fees and the fee per
 * registration, checked against the chain's own receipts; the outbox's counts, its oldest
 * pending entry and a registration the registry refused for an expired signature, beside the
 * indexer's lag. Regulators and cooperatives are refused; the admin suspends and reinstates.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";

import { JsonRpcProvider, Wallet } from "ethers";

import { apiClient, expectStatus, type ApiClient } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { deployLocalRegistry, offlineServerEnv, type LocalDeployment } from "../../scripts/lib/local-stack.ts";
import { loadConfig } from "../../server/src/config.ts";
import type { RunningServer } from "../../server/src/server.ts";
import { outboxErrorCode, publicErrorText } from "../../server/src/services/operator.ts";
import { settleLedger } from "../e2e/support/settle-ledger.ts";
import { createDemoTea, onboard, registerDemoBatch, type Party } from "../support/onboard.ts";
import { startTestServer } from "../support/test-server.ts";

const ADMIN_PATHS = [
  "/api/v1/admin/organisations",
  "/api/v1/admin/keys",
  "/api/v1/admin/relayer",
  "/api/v1/admin/outbox",
];
/** Above a Hardhat account's 10,000 coins: the relayer is "low" on this server. */
const WARN_WEI = 10n ** 24n;

interface OutboxAnswer {
  counts: { kind: string; state: string; count: number }[];
  totals: Record<string, number>;
  oldestPending: { acceptedAt: string; ageSeconds: number } | null;
  lastErrors: { id: number; kind: string; state: string; code: string; message: string; explanation: unknown }[];
  indexer: { indexedBlock: number | null; chainHead: number | null; lagBlocks: number | null; confirmations: number };
}

describe("the operator's endpoints", () => {
  let node: ChainNode;
  let deployment: LocalDeployment;
  let server: RunningServer;
  let dataDir = "";
  let provider: JsonRpcProvider;
  let admin: ApiClient;
  let cooperative: Party;
  let regulator: Party;

  async function chainCall(method: string, params: unknown[]): Promise<void> {
    const response = await fetch(node.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    assert.equal(response.status, 200, method);
  }

  before(async () => {
    node = await startChainNode();
    deployment = await deployLocalRegistry(node.rpcUrl);
    ({ server, dataDir } = await startTestServer(deployment.env, "operator", {
      RELAYER_BALANCE_WARN_WEI: WARN_WEI.toString(),
    }));
    provider = new JsonRpcProvider(node.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
    admin = apiClient(server.url, deployment.env.ADMIN_TOKEN);
    cooperative = await onboard(server.url, admin, {
      kind: "cooperative",
      regionCode: "330106",
      serial: 1_501,
      companyPrefixes: ["6901234"],
    });
    regulator = await onboard(server.url, admin, { kind: "regulator", regionCode: "330106", serial: 1_502 });
    await onboard(server.url, admin, { kind: "logistics", regionCode: "330110", serial: 1_503 });
    expectStatus(
      await cooperative.api.post(`/api/v1/organisations/${cooperative.id}/members`, {
        name: "王秀英",
        capabilities: ["batches"],
      }),
      201,
      "a person in the cooperative",
    );
    await createDemoTea(cooperative.api);
    // One registration anchored (the fee sample), one the registry refuses (its signature
    // expired while the chain moved a month on), one still waiting.
    await registerDemoBatch(cooperative.api, "OP-1", { quantityKg: "2", itemCount: 2 });
    await settleLedger(server);
    await registerDemoBatch(cooperative.api, "OP-LATE", { quantityKg: "2", itemCount: 2 });
    await chainCall("evm_increaseTime", [server.ctx.signatureTtlSeconds + 3_600]);
    await chainCall("evm_mine", []);
    await settleLedger(server);
    await registerDemoBatch(cooperative.api, "OP-WAIT", { quantityKg: "2", itemCount: 2 });
  });

  after(async () => {
    provider.destroy();
    await server.close();
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("refuses everyone but the admin, and a query string it does not take", async () => {
    for (const path of ADMIN_PATHS) {
      const anonymous = await apiClient(server.url).get<{ code: string }>(path);
      assert.equal(anonymous.status, 401, `${path} without credentials`);
      for (const [who, party] of [
        ["regulator", regulator],
        ["cooperative", cooperative],
      ] as const) {
        const refused = await party.api.get<{ code: string }>(path);
        assert.equal(refused.status, 403, `${who} → ${path}`);
        assert.equal(refused.body.code, "auth.forbidden");
      }
      const odd = await admin.get<{ code: string }>(`${path}?limit=5`);
      assert.equal(odd.status, 400, `${path} with a query`);
      assert.equal(odd.body.code, "request.invalid");
    }
  });

  it("lists organisations with their prefixes and people", async () => {
    const list = expectStatus(
      await admin.get<{
        organisations: {
          id: string;
          kind: string;
          regionCode: string;
          prefixes: { prefix: string }[];
          members: number;
        }[];
      }>("/api/v1/admin/organisations"),
      200,
      "organisations",
    ).organisations;
    assert.equal(list.length, 3);
    const coop = list.find((org) => org.id === cooperative.id);
    assert.ok(coop !== undefined);
    assert.deepEqual(
      coop.prefixes.map((p) => p.prefix),
      ["6901234"],
    );
    assert.equal(coop.members, 1);
    assert.equal(list.find((org) => org.id === regulator.id)?.members, 0);
  });

  it("shows the server's keys with their roles on chain, and every organisation's address, never a private key", async () => {
    const response = await admin.get<{
      chainReachable: boolean;
      server: { use: string; address: string; roles: string[] | null; balanceWei: string | null }[];
      organisations: { organisationId: string; address: string; custody: string; createdAt: string }[];
    }>("/api/v1/admin/keys");
    const keys = expectStatus(response, 200, "keys");
    assert.equal(keys.chainReachable, true);
    const expected = {
      relayer: [deployment.env.RELAYER_PRIVATE_KEY, "RELAYER_ROLE"],
      admin: [deployment.env.LEDGER_ADMIN_PRIVATE_KEY, "DEFAULT_ADMIN_ROLE"],
      regulator: [deployment.env.LEDGER_REGULATOR_PRIVATE_KEY, "REGULATOR_ROLE"],
    } as const;
    assert.deepEqual(keys.server.map((key) => key.use).sort(), Object.keys(expected).sort());
    for (const key of keys.server) {
      const [privateKey, role] = expected[key.use as keyof typeof expected];
      const address = new Wallet(privateKey ?? "").address;
      assert.equal(key.address, address);
      assert.deepEqual(key.roles, [role], `${key.use} holds exactly its role`);
      assert.equal(key.balanceWei, (await provider.getBalance(address)).toString());
    }
    const stored = await server.ctx.db.selectFrom("organisations").select(["id", "created_at_ms"]).execute();
    assert.deepEqual(keys.organisations.map((key) => key.organisationId).sort(), stored.map((org) => org.id).sort());
    for (const org of stored) {
      const key = keys.organisations.find((k) => k.organisationId === org.id);
      assert.equal(key?.createdAt, new Date(org.created_at_ms).toISOString());
    }
    assert.equal(
      keys.organisations.find((key) => key.organisationId === cooperative.id)?.address,
      cooperative.signerAddress,
    );
    assert.ok(keys.organisations.every((key) => key.custody === "server"));
    const text = JSON.stringify(response.body).toLowerCase();
    for (const secret of [
      deployment.env.RELAYER_PRIVATE_KEY,
      deployment.env.LEDGER_ADMIN_PRIVATE_KEY,
      deployment.env.LEDGER_REGULATOR_PRIVATE_KEY,
    ]) {
      assert.ok(!text.includes((secret ?? "").slice(2).toLowerCase()), "no private key in the answer");
    }
    assert.ok(!text.includes("keystore") && !text.includes("ciphertext"), "no keystore in the answer");
  });

  it("reports the relayer's balance against the warning line and what it spent, from the chain's receipts", async () => {
    const relayer = expectStatus(
      await admin.get<{
        relayer: {
          address: string;
          balanceWei: string;
          warnBelowWei: string;
          low: boolean;
          last24h: { transactions: number; mined: number; gasUsed: string; feesWei: string; truncated: boolean };
          perRegistration: { feeWei: string | null; sampleTransactions: number; registrationsCovered: string | null };
        };
      }>("/api/v1/admin/relayer"),
      200,
      "relayer",
    ).relayer;
    const address = new Wallet(deployment.env.RELAYER_PRIVATE_KEY ?? "").address;
    assert.equal(relayer.address, address);
    const balance = await provider.getBalance(address);
    assert.equal(relayer.balanceWei, balance.toString());
    assert.equal(relayer.warnBelowWei, WARN_WEI.toString());
    assert.equal(relayer.low, balance < WARN_WEI);
    assert.equal(relayer.low, true, "10,000 coins are below this server's line");

    // The day's figures are the sum of the relayer's receipts for the transactions it recorded.
    const sent = await server.ctx.db
      .selectFrom("ledger_transactions")
      .select("tx_hash")
      .where("sender", "=", address)
      .execute();
    assert.ok(sent.length >= 1, "the relayer sent the registration at least");
    let gas = 0n;
    let fees = 0n;
    for (const { tx_hash } of sent) {
      const receipt = await provider.getTransactionReceipt(tx_hash);
      assert.ok(receipt !== null);
      gas += receipt.gasUsed;
      fees += receipt.fee;
    }
    assert.deepEqual(relayer.last24h, {
      transactions: sent.length,
      mined: sent.length,
      gasUsed: gas.toString(),
      feesWei: fees.toString(),
      truncated: false,
    });

    // One registration anchored: its transaction's fee is the estimate, and the balance covers so many.
    const anchored = await server.ctx.db
      .selectFrom("outbox")
      .select("tx_hash")
      .where("kind", "=", "attestation")
      .where("state", "=", "anchored")
      .execute();
    assert.equal(anchored.length, 1);
    const receipt = await provider.getTransactionReceipt(anchored[0]?.tx_hash ?? "");
    assert.ok(receipt !== null);
    assert.equal(relayer.perRegistration.feeWei, receipt.fee.toString());
    assert.equal(relayer.perRegistration.sampleTransactions, 1);
    assert.equal(relayer.perRegistration.registrationsCovered, (balance / receipt.fee).toString());
  });

  it("counts the outbox by kind and state, names the refused registration, and measures the indexer's lag", async () => {
    const health = expectStatus(await admin.get<OutboxAnswer>("/api/v1/admin/outbox"), 200, "outbox");
    const attestations = Object.fromEntries(
      health.counts.filter((c) => c.kind === "attestation").map((c) => [c.state, c.count]),
    );
    assert.deepEqual(attestations, { anchored: 1, failed: 1, pending: 1 });
    const rows = await server.ctx.db.selectFrom("outbox").select(["state"]).execute();
    for (const state of ["pending", "submitted", "anchored", "failed"]) {
      assert.equal(health.totals[state], rows.filter((row) => row.state === state).length, `${state} total`);
    }
    assert.ok(health.oldestPending !== null);
    assert.ok(health.oldestPending.ageSeconds >= 0 && health.oldestPending.ageSeconds < 600);

    const failed = health.lastErrors.find((error) => error.state === "failed");
    assert.ok(failed !== undefined, "the refused registration is among the last errors");
    assert.equal(failed.kind, "attestation");
    assert.equal(failed.code, "SignatureExpired");
    assert.match(failed.message, /^RegistrySignatureExpired\(/);
    assert.ok(failed.explanation !== null);

    const head = await provider.getBlockNumber();
    const cursor = await server.ctx.db.selectFrom("indexer_cursors").select("last_block").executeTakeFirstOrThrow();
    assert.equal(health.indexer.indexedBlock, cursor.last_block);
    assert.ok(health.indexer.chainHead !== null && health.indexer.chainHead >= head);
    assert.equal(health.indexer.lagBlocks, health.indexer.chainHead - cursor.last_block);
    assert.equal(health.indexer.confirmations, 1);
  });

  it("keeps URLs and long hex out of the error texts it shows", () => {
    const text = publicErrorText(
      `could not reach the chain: request to https://rpc.example.cn/v3/0123456789abcdef failed, data=0x${"ab".repeat(200)}`,
    );
    assert.ok(!text.includes("rpc.example.cn") && !text.includes("0123456789abcdef"), text);
    assert.match(text, /\[url\]/);
    assert.match(text, /200 bytes/);
    assert.equal(outboxErrorCode("could not reach the chain: timeout"), "chain_unreachable");
    assert.equal(outboxErrorCode("waiting: RegistryBatchUnknown(0x01)"), "BatchUnknown");
  });

  it("lets the admin suspend and reinstate an organisation, in force at once and anchored", async () => {
    const path = `/api/v1/organisations/${cooperative.id}`;
    const reason = { reason: { zh: "运营方核查资质", en: "The operator checks the licence" } };
    expectStatus(await admin.post(`${path}/suspend`, reason), 202, "the admin suspends");
    const statusOf = async (): Promise<string | undefined> =>
      expectStatus(
        await admin.get<{ organisations: { id: string; status: string }[] }>("/api/v1/admin/organisations"),
        200,
        "organisations",
      ).organisations.find((org) => org.id === cooperative.id)?.status;
    assert.equal(await statusOf(), "suspended");
    const refused = await cooperative.api.post("/api/v1/batches", {});
    assert.equal(refused.status, 403, "a suspended cooperative records nothing");
    expectStatus(await admin.post(`${path}/reinstate`, reason), 202, "the admin reinstates");
    assert.equal(await statusOf(), "active");
    await settleLedger(server);
    const actions = await server.ctx.db
      .selectFrom("outbox")
      .select(["kind", "state"])
      .where("kind", "in", ["suspension", "reinstatement"])
      .execute();
    assert.deepEqual(actions.map((a) => `${a.kind}:${a.state}`).sort(), [
      "reinstatement:anchored",
      "suspension:anchored",
    ]);
  });

  it("documents the admin endpoints in the OpenAPI document, and the threshold's default", async () => {
    const doc = expectStatus(
      await admin.get<{ paths: Record<string, { get?: { description: string } }> }>("/api/v1/openapi.json"),
      200,
      "openapi",
    );
    for (const path of ADMIN_PATHS) assert.match(doc.paths[path]?.get?.description ?? "", /admin/, path);
    const defaults = loadConfig({ ...deployment.env });
    assert.equal(defaults.chain.relayerBalanceWarnWei, 10n ** 17n);
    assert.throws(() => loadConfig({ ...deployment.env, RELAYER_BALANCE_WARN_WEI: "0.5" }), /RELAYER_BALANCE_WARN_WEI/);
  });
});

describe("the operator's endpoints with the chain unreachable", () => {
  let server: RunningServer;
  let dataDir = "";
  let admin: ApiClient;
  const env = offlineServerEnv("");

  before(async () => {
    ({ server, dataDir } = await startTestServer(env, "operator-offline"));
    admin = apiClient(server.url, env.ADMIN_TOKEN);
  });

  after(async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("still answers what the database knows, says what the chain did not, and refuses the relayer's figures", async () => {
    const keys = expectStatus(
      await admin.get<{
        chainReachable: boolean;
        server: { use: string; address: string; roles: unknown; balanceWei: unknown }[];
      }>("/api/v1/admin/keys"),
      200,
      "keys",
    );
    assert.equal(keys.chainReachable, false);
    // Only the relayer is configured here; its address is known without the chain.
    assert.deepEqual(keys.server, [
      { use: "relayer", address: new Wallet(env.RELAYER_PRIVATE_KEY ?? "").address, roles: null, balanceWei: null },
    ]);
    const outbox = expectStatus(await admin.get<OutboxAnswer>("/api/v1/admin/outbox"), 200, "outbox");
    assert.equal(outbox.indexer.chainHead, null);
    assert.equal(outbox.indexer.lagBlocks, null);
    assert.equal(outbox.oldestPending, null);
    const relayer = await admin.get<{ code: string }>("/api/v1/admin/relayer");
    assert.equal(relayer.status, 503);
    assert.equal(relayer.body.code, "chain.unavailable");
  });
});
