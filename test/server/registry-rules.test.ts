/**
 * What the registry refuses, the server refuses first (issue #12, item 4), against a
 * Hardhat node in its own process: each time, GTIN or count the contract would revert on
 * is answered with its problem code before anything is stored, queued or sent (the store,
 * the IPFS pins and the registry's logs unchanged). And a lot whose attestation the
 * registry refused is not held hostage: events and recalls on it are refused, and the
 * cooperative registers it again with corrected fields, anchored on the second try, the
 * failed attempt kept in the audit log.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { Contract, id, JsonRpcProvider, type ContractTransactionResponse } from "ethers";

import { apiClient, expectStatus } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import {
  DEMO_COMPANY_PREFIX,
  DEMO_GTIN,
  DEMO_PRODUCT,
  onboardCooperative,
  waitUntilAnchored,
} from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry, devAccount, type LocalDeployment } from "../../scripts/lib/local-stack.ts";
import { settledStoreDigest, storeDigest } from "../../scripts/lib/store-digest.ts";
import type { RunningServer } from "../../server/src/server.ts";
import { listAudit } from "../../server/src/storage/audit-log.ts";
import { countItems } from "../../server/src/storage/batches.ts";
import { expectProblem } from "../support/problems.ts";
import { TEST_DATABASE_URL } from "../support/test-database.ts";
import { startApiTestServer } from "../support/test-server.ts";

const ROLES_ABI = [
  "function grantRole(bytes32 role, address account)",
  "function revokeRole(bytes32 role, address account)",
  "function batch(bytes32 batchId) view returns (tuple(bytes32 itemsRoot, address attester, uint32 itemCount, uint8 status, bytes32 eventHead))",
];

function batch(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    gtin: DEMO_GTIN,
    lot: "RULES-1",
    harvestedAt: "2026-04-15T08:00:00+08:00",
    quantity: { value: "10", unit: "kg" },
    itemCount: 3,
    hiddenCodes: false,
    ...overrides,
  };
}

describe(`the server refuses what the registry would (${TEST_DATABASE_URL === undefined ? "SQLite" : "PostgreSQL"})`, () => {
  let node: ChainNode;
  let deployment: LocalDeployment;
  let provider: JsonRpcProvider;
  let server: RunningServer;
  let dataDir: string;
  // One cooperative, its product and one anchored lot: all these refusals need (the full demo
  // seed would cost seconds of events this file never reads).
  let coopToken = "";
  let anchored = { batchId: "", lot: "RULES-ANCHORED" };

  before(async () => {
    node = await startChainNode();
    deployment = await deployLocalRegistry(node.rpcUrl);
    provider = new JsonRpcProvider(node.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
    ({ server, dataDir } = await startApiTestServer(deployment.env, "registry-rules"));
    coopToken = (
      await onboardCooperative(server.url, deployment.env.ADMIN_TOKEN ?? "", {
        name: { zh: "规则测试合作社" },
        serial: 4,
        companyPrefixes: [DEMO_COMPANY_PREFIX],
      })
    ).token;
    const coop = apiClient(server.url, coopToken);
    expectStatus(await coop.post("/api/v1/products", DEMO_PRODUCT), 201, "register product");
    const registered = expectStatus<{ batch: { batchId: string } }>(
      await coop.post("/api/v1/batches", batch({ lot: anchored.lot })),
      202,
      "register the anchored lot",
    );
    anchored = { ...anchored, batchId: registered.batch.batchId };
    await waitUntilAnchored(server.url, anchored.batchId, 0);
  });

  after(async () => {
    await server.close();
    provider.destroy();
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const registryAddress = (): string => deployment.env.REGISTRY_ADDRESS ?? "";
  const chainState = async (): Promise<{ block: number; logs: number }> => ({
    block: await provider.getBlockNumber(),
    logs: (await provider.getLogs({ address: registryAddress(), fromBlock: 0 })).length,
  });
  const settled = () => settledStoreDigest(server.ctx.db, path.join(dataDir, "ipfs"));
  const digest = () => storeDigest(server.ctx.db, path.join(dataDir, "ipfs"));

  async function post(token: string, target: string, body: unknown): Promise<Response> {
    return fetch(`${server.url}${target}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  }

  it("refuses every attestation and event field the registry reverts on, changing nothing", async () => {
    const coop = coopToken;
    const events = `/api/v1/batches/${anchored.batchId}/events`;
    const cases: { name: string; send: () => Promise<Response>; status: number; code: string; detail?: RegExp }[] = [
      {
        name: "harvestedAt at the epoch (RegistryHarvestedAtZero)",
        send: () => post(coop, "/api/v1/batches", batch({ harvestedAt: "1970-01-01T00:00:00Z" })),
        status: 400,
        code: "batch.harvested_at_out_of_range",
        detail: /1970-01-01T00:00:01Z/,
      },
      {
        name: "harvestedAt under one second after the epoch (0 on chain)",
        send: () => post(coop, "/api/v1/batches", batch({ harvestedAt: "1970-01-01T00:00:00.999Z" })),
        status: 400,
        code: "batch.harvested_at_out_of_range",
      },
      {
        name: "harvestedAt within the next 24 hours (RegistryHarvestedAtInFuture)",
        send: () =>
          post(coop, "/api/v1/batches", batch({ harvestedAt: new Date(Date.now() + 3_600_000).toISOString() })),
        status: 400,
        code: "batch.harvested_at_out_of_range",
        detail: /later than the server's clock/,
      },
      {
        name: "harvestedAt before 1970 (never a 500)",
        send: () => post(coop, "/api/v1/batches", batch({ harvestedAt: "1969-12-31T23:59:59Z" })),
        status: 400,
        code: "request.invalid",
      },
      {
        name: "a GTIN of all zeros (RegistryGtinOutOfRange)",
        send: () => post(coop, "/api/v1/batches", batch({ gtin: "00000000000000" })),
        status: 400,
        code: "gs1.gtin_range",
      },
      {
        name: "a lot of 21 characters (RegistryLotTooLong)",
        send: () => post(coop, "/api/v1/batches", batch({ lot: "L".repeat(21) })),
        status: 400,
        code: "gs1.lot_length",
      },
      {
        name: "an empty lot (RegistryLotEmpty)",
        send: () => post(coop, "/api/v1/batches", batch({ lot: "" })),
        status: 400,
        code: "gs1.lot_length",
      },
      {
        name: "a quantity that rounds to zero thousandths",
        send: () => post(coop, "/api/v1/batches", batch({ quantity: { value: "0.0004", unit: "kg" } })),
        status: 400,
        code: "units.quantity_precision",
      },
      {
        name: "a quantity of zero (RegistryQuantityMilliZero)",
        send: () => post(coop, "/api/v1/batches", batch({ quantity: { value: "0", unit: "kg" } })),
        status: 400,
        code: "units.quantity_zero",
      },
      {
        name: "a quantity over uint64",
        send: () => post(coop, "/api/v1/batches", batch({ quantity: { value: "18446744073709551616", unit: "kg" } })),
        status: 400,
        code: "units.quantity_overflow",
      },
      {
        name: "no items (RegistryItemCountZero)",
        send: () => post(coop, "/api/v1/batches", batch({ itemCount: 0 })),
        status: 400,
        code: "request.invalid",
      },
      {
        name: "an anchored lot again (RegistryBatchAlreadyRegistered)",
        send: () => post(coop, "/api/v1/batches", batch({ lot: anchored.lot })),
        status: 409,
        code: "batch.exists",
      },
      {
        name: "an event at the epoch (RegistryOccurredAtZero)",
        send: () => post(coop, events, { bizStep: "harvesting", occurredAt: "1970-01-01T00:00:00.500Z" }),
        status: 400,
        code: "event.before_harvest",
        detail: /occurredAt: the registry refuses/,
      },
      {
        name: "an event on an unknown batch (RegistryBatchUnknown)",
        send: () =>
          post(coop, `/api/v1/batches/0x${"ab".repeat(32)}/events`, {
            bizStep: "harvesting",
            occurredAt: "2026-04-18T07:00:00+08:00",
          }),
        status: 404,
        code: "batch.not_found",
      },
    ];
    const chainBefore = await chainState();
    const before = await settled();
    for (const c of cases) {
      const problem = await expectProblem(await c.send(), c.status, c.code);
      if (c.detail !== undefined) assert.match(problem.detail ?? "", c.detail, c.name);
    }
    assert.deepEqual(await digest(), before);
    // Give the ledger writer a poll or two: had anything been queued, it would be sent by now.
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.deepEqual(await chainState(), chainBefore);
    assert.deepEqual(await digest(), before);
  });

  it("frees a lot whose attestation failed: refused events and recalls, then a corrected registration is anchored", async () => {
    const coop = apiClient(server.url, coopToken);
    const admin = devAccount(0).connect(provider);
    const relayer = devAccount(2).address;
    const roles = new Contract(registryAddress(), ROLES_ABI, admin);
    const relayerRole = id("RELAYER_ROLE");

    // The registry refuses the first attempt: the platform's relayer has lost its role.
    const send = async (name: "grantRole" | "revokeRole"): Promise<void> => {
      const tx = (await roles.getFunction(name)(relayerRole, relayer)) as ContractTransactionResponse;
      await tx.wait();
    };
    await send("revokeRole");
    const first = expectStatus<{ batch: { batchId: string } }>(
      await coop.post("/api/v1/batches", batch({ lot: "RULES-FAIL", itemCount: 4 })),
      202,
      "first attempt",
    );
    const batchId = first.batch.batchId;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const state = (
        await coop.get<{ batch: { ledger: { state: string; failureReason: string | null } } }>(
          `/api/v1/batches/${batchId}`,
        )
      ).body.batch.ledger;
      if (state.state === "failed") {
        assert.match(state.failureReason ?? "", /AccessControl/);
        break;
      }
      assert.ok(Date.now() < deadline, `still ${state.state}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await send("grantRole");

    // An event or a recall on it could only fail on chain too: refused, nothing changed.
    const chainBefore = await chainState();
    const before = await settled();
    await expectProblem(
      await post(coopToken, `/api/v1/batches/${batchId}/events`, {
        bizStep: "harvesting",
        occurredAt: "2026-04-15T07:00:00+08:00",
      }),
      409,
      "batch.attestation_failed",
    );
    await expectProblem(
      await post(coopToken, `/api/v1/batches/${batchId}/recall`, {
        reason: { zh: "测试" },
      }),
      409,
      "batch.attestation_failed",
    );
    assert.deepEqual(await digest(), before);
    assert.deepEqual(await chainState(), chainBefore);

    // The same GTIN + lot again, corrected: the failed row and its items are replaced.
    expectStatus(
      await coop.post(
        "/api/v1/batches",
        batch({ lot: "RULES-FAIL", itemCount: 6, harvestedAt: "2026-04-16T08:00:00+08:00" }),
      ),
      202,
      "second attempt",
    );
    // While the second is pending (or once anchored), the lot is taken.
    await expectProblem(await post(coopToken, "/api/v1/batches", batch({ lot: "RULES-FAIL" })), 409, "batch.exists");
    await waitUntilAnchored(server.url, batchId, 0, 30_000);
    const onChain = (await roles.getFunction("batch")(batchId)) as { itemCount: bigint; status: bigint };
    assert.equal(onChain.itemCount, 6n);
    assert.equal(await countItems(server.ctx.db, batchId), 6);
    const stored = (await coop.get<{ batch: { itemCount: number; harvestedAt: string } }>(`/api/v1/batches/${batchId}`))
      .body.batch;
    assert.equal(stored.itemCount, 6);

    const audit = await listAudit(server.ctx.db, { target: batchId });
    const replaced = audit.filter((e) => e.action === "batch.replace_failed");
    assert.equal(replaced.length, 1);
    assert.match(String(replaced[0]?.details.failureReason), /AccessControl/);
    assert.equal(replaced[0]?.details.itemCount, 4);
    assert.equal(audit.filter((e) => e.action === "batch.register").length, 2);

    await expectProblem(await post(coopToken, "/api/v1/batches", batch({ lot: "RULES-FAIL" })), 409, "batch.exists");
  });
});
