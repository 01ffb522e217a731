/**
 * Cases and pallets through the API against a Hardhat node in its own process (issue 14,
 * part 1, server half): a case of 24 items packed and despatched to a shop in one signed
 * request is anchored with the state hash the registry stores and a proof per item that
 * verifies (off chain and with the registry's `containsItem`); shipping and receiving by the
 * named receiver; a pallet of two cases; two queued requests for one container anchored in
 * order; and every refusal (wrong receiver, unpacking by a non-custodian, an item packed
 * twice, a case in a second pallet, a bad SSCC, an unknown serial, a batch not held, by a
 * custodial key or an own wallet) answered with its problem and nothing stored or prepared.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { Contract, JsonRpcProvider, Wallet } from "ethers";
import { pino } from "pino";

import { apiClient, expectStatus, type ApiClient } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { DEMO_GTIN } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry } from "../../scripts/lib/local-stack.ts";
import { loadConfig } from "../../server/src/config.ts";
import { containerStateHash } from "../../server/src/domain/container-state.ts";
import { containerKeyOf, normalizeSscc, ssccFor } from "../../server/src/domain/sscc.ts";
import { parseCid } from "../../server/src/ipfs/content-store.ts";
import { traceRegistryArtifact } from "../../server/src/ledger/registry-artifact.ts";
import { reindex } from "../../server/src/reindex.ts";
import type { RunningServer } from "../../server/src/server.ts";
import { readAll } from "../../server/src/services/documents.ts";
import { sharedEpcisValidator } from "../../server/src/services/epcis-schema.ts";
import { listItemSerials } from "../../server/src/storage/batches.ts";
import { containersOfItem } from "../../server/src/storage/containers.ts";
import { onboard as onboardParty, registerDemoBatch, type Party } from "../support/onboard.ts";
import { containerSnapshot, settleContainerSteps } from "../support/container-ledger.ts";
import { refusalChecker } from "../support/refusals.ts";
import { freshTestDatabaseUrl, TEST_DATABASE_URL } from "../support/test-database.ts";
import { startApiTestServer } from "../support/test-server.ts";

const COMPANY_PREFIX = "6901234";

interface StepView {
  id: string;
  action: string;
  ledgerState: string;
  stateHash: string;
  payloadCid: string;
  state: { childrenRoot: string; custodian: string; pendingReceiver: string; link: string };
}
interface ContainerView {
  sscc: string;
  containerKey: string;
  state: string;
  custodianOrganisationId: string | null;
  pendingReceiverOrganisationId: string | null;
  steps: StepView[];
  contents: { childCount: number; batches: { batchId: string; items: number }[] } | null;
}

describe(`cases and pallets through the API (${TEST_DATABASE_URL === undefined ? "SQLite" : "PostgreSQL"})`, () => {
  let node: ChainNode;
  let provider: JsonRpcProvider;
  let registry: Contract;
  let server: RunningServer;
  let dataDir: string;
  let env: Record<string, string>;
  let admin: ApiClient;
  const cast = {} as Record<"cooperative" | "rival" | "shop" | "carrier", Party>;
  let batchA: string;
  let batchB: string;
  let serialsA: string[];
  let serialsB: string[];
  let reference = 100;
  const nextSscc = () => ssccFor(0, COMPANY_PREFIX, BigInt(reference++));

  const settle = (): Promise<void> => settleContainerSteps(server);
  const snapshot = (): Promise<unknown> => containerSnapshot(server, provider);
  const refusedUnchanged = refusalChecker({ settle, snapshot });

  const itemLink = (lot: string, serial: string) => `https://id.gs1.org/01/${DEMO_GTIN}/10/${lot}/21/${serial}`;

  async function view(sscc: string): Promise<ContainerView> {
    return expectStatus(
      await apiClient(server.url).get<{ container: ContainerView }>(`/api/v1/containers/${sscc}`),
      200,
      `read ${sscc}`,
    ).container;
  }

  async function pack(party: Party, body: Record<string, unknown>): Promise<{ sscc: string; step: StepView }> {
    return expectStatus(
      await party.api.post<{ sscc: string; step: StepView }>("/api/v1/containers", {
        occurredAt: "2026-04-20T09:00:00+08:00",
        ...body,
      }),
      202,
      `pack ${String(body.sscc)}`,
    );
  }

  async function containerEvent(party: Party, sscc: string, body: Record<string, unknown>): Promise<StepView> {
    return expectStatus(
      await party.api.post<{ step: StepView }>(`/api/v1/containers/${sscc}/events`, {
        occurredAt: "2026-04-21T09:00:00+08:00",
        ...body,
      }),
      202,
      `${String(body.action)} ${sscc}`,
    ).step;
  }

  /** The chain stores exactly the hash of the state the server computed for the container's last step. */
  async function assertOnChain(sscc: string): Promise<ContainerView> {
    const container = await view(sscc);
    const last = container.steps.at(-1);
    assert.ok(last);
    assert.deepEqual(
      container.steps.map((step) => step.ledgerState),
      container.steps.map(() => "anchored"),
      `${sscc}: every step anchored`,
    );
    assert.equal(last.stateHash, containerStateHash(last.state));
    assert.equal(await registry.getFunction("containerState")(containerKeyOf(sscc)), last.stateHash);
    return container;
  }

  before(async () => {
    node = await startChainNode();
    const deployment = await deployLocalRegistry(node.rpcUrl);
    ({ server, dataDir, env } = await startApiTestServer(deployment.env, "containers"));
    provider = new JsonRpcProvider(node.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
    registry = new Contract(deployment.env.REGISTRY_ADDRESS ?? "", traceRegistryArtifact().abi, provider);
    admin = apiClient(server.url, deployment.env.ADMIN_TOKEN ?? "");
    const onboard = (kind: string, regionCode: string, serial: number, prefixes?: string[]) =>
      onboardParty(server.url, admin, {
        kind,
        regionCode,
        serial,
        companyPrefixes: prefixes,
        name: `装箱测试 ${String(serial)}`,
      });
    cast.cooperative = await onboard("cooperative", "330106", 9_410, [COMPANY_PREFIX]);
    cast.rival = await onboard("processor", "330106", 9_411);
    cast.shop = await onboard("retailer", "310101", 9_412);
    cast.carrier = await onboard("logistics", "310101", 9_413);
    expectStatus(
      await cast.cooperative.api.post("/api/v1/products", {
        gtin: DEMO_GTIN,
        name: { zh: "西湖龙井" },
        category: "tea",
        unit: "kg",
      }),
      201,
      "product",
    );
    await settle();
    batchA = await registerDemoBatch(cast.cooperative.api, "CASE-A", { quantityKg: "60", itemCount: 40 });
    batchB = await registerDemoBatch(cast.cooperative.api, "CASE-B", { quantityKg: "10", itemCount: 6 });
    await settle();
    serialsA = (await listItemSerials(server.ctx.db, batchA)).sort();
    serialsB = (await listItemSerials(server.ctx.db, batchB)).sort();
  });

  after(async () => {
    (provider as JsonRpcProvider | undefined)?.destroy();
    await (server as RunningServer | undefined)?.close();
    await (node as ChainNode | undefined)?.stop();
    if ((dataDir as string | undefined) !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  it("packs 24 items into a case and despatches it to a shop in one signed request", async () => {
    const sscc = nextSscc();
    const byLink = serialsA.slice(0, 4).map((serial) => itemLink("CASE-A", serial));
    const range = { gtin: DEMO_GTIN, lot: "CASE-A", from: serialsA[4], to: serialsA[23] };
    const accepted = await pack(cast.cooperative, {
      sscc,
      items: [...byLink, range],
      shipTo: cast.shop.id,
      bizTransactions: [{ type: "po", id: "PO-2026-0001" }],
    });
    assert.equal(accepted.step.action, "packing");
    assert.equal(accepted.step.ledgerState, "pending");
    await settle();
    const container = await assertOnChain(sscc);
    assert.equal(container.state, "in_transit");
    assert.equal(container.pendingReceiverOrganisationId, cast.shop.id);
    assert.deepEqual(container.contents?.batches, [{ batchId: batchA, gtin: DEMO_GTIN, lot: "CASE-A", items: 24 }]);

    // The payload: an EPCIS 2.0 document (GS1's schema) whose childEPCs are exactly the leaves.
    const [step] = container.steps;
    assert.ok(step);
    const document = JSON.parse(
      new TextDecoder().decode(await readAll(server.ctx.content.cat(parseCid(step.payloadCid)))),
    ) as { epcisBody: { eventList: Record<string, unknown>[] } };
    assert.deepEqual(sharedEpcisValidator()(document).valid, true);
    const [aggregation, shipping] = document.epcisBody.eventList;
    assert.equal(aggregation?.type, "AggregationEvent");
    assert.equal(aggregation.parentID, `https://id.gs1.org/00/${sscc}`);
    assert.deepEqual(
      new Set(aggregation.childEPCs as string[]),
      new Set(serialsA.slice(0, 24).map((serial) => itemLink("CASE-A", serial))),
    );
    assert.equal(shipping?.bizStep, "shipping");
    const rebuilt = StandardMerkleTree.of(
      serialsA.slice(0, 24).map((serial) => [batchA, serial]),
      ["bytes32", "string"],
    );
    assert.equal(rebuilt.root, step.state.childrenRoot);

    // Each item's proof verifies under the root, off chain and with the registry.
    for (const serial of serialsA.slice(0, 24)) {
      const [held] = await containersOfItem(server.ctx.db, batchA, serial);
      assert.ok(held, serial);
      assert.equal(held.sscc, sscc);
      assert.equal(held.live, true);
      assert.ok(
        StandardMerkleTree.verify(step.state.childrenRoot, ["bytes32", "string"], [batchA, serial], held.proof),
      );
    }
    const [first] = await containersOfItem(server.ctx.db, batchA, serialsA[0] ?? "");
    assert.ok(first);
    const last = container.steps.at(-1);
    assert.ok(last);
    assert.equal(
      await registry.getFunction("containsItem")(containerKeyOf(sscc), last.state, batchA, serialsA[0], first.proof),
      true,
    );
    assert.equal(
      await registry.getFunction("containsItem")(containerKeyOf(sscc), last.state, batchA, serialsA[30], first.proof),
      false,
    );

    // Only the named receiver receives.
    await refusedUnchanged(
      "a carrier receiving a case shipped to the shop",
      () =>
        cast.carrier.api.post(`/api/v1/containers/${sscc}/events`, {
          action: "receiving",
          occurredAt: "2026-04-21T09:00:00+08:00",
        }),
      403,
      "container.no_custody",
    );
    await containerEvent(cast.shop, sscc, { action: "receiving" });
    await settle();
    const received = await assertOnChain(sscc);
    assert.equal(received.state, "packed");
    assert.equal(received.custodianOrganisationId, cast.shop.id);

    // Unpacking is the custodian's: the cooperative no longer holds it.
    await refusedUnchanged(
      "the former custodian unpacking",
      () =>
        cast.cooperative.api.post(`/api/v1/containers/${sscc}/events`, {
          action: "unpacking",
          occurredAt: "2026-04-22T09:00:00+08:00",
        }),
      403,
      "container.no_custody",
    );
    // An item of a live case cannot go into another case.
    await refusedUnchanged(
      "an item packed twice",
      () =>
        cast.cooperative.api.post("/api/v1/containers", {
          sscc: nextSscc(),
          items: [itemLink("CASE-A", serialsA[3] ?? ""), itemLink("CASE-A", serialsA[30] ?? "")],
          occurredAt: "2026-04-22T09:00:00+08:00",
        }),
      409,
      "container.item_in_live_container",
    );
  });

  it("ships and receives a case in two requests, and palletises two cases", async () => {
    const caseOne = nextSscc();
    const caseTwo = nextSscc();
    const pallet = ssccFor(3, COMPANY_PREFIX, BigInt(reference++));
    await pack(cast.cooperative, {
      sscc: caseOne,
      items: [{ gtin: DEMO_GTIN, lot: "CASE-A", serials: serialsA.slice(24, 26) }],
    });
    await pack(cast.cooperative, { sscc: caseTwo, items: [{ gtin: DEMO_GTIN, lot: "CASE-A", serial: serialsA[26] }] });
    await settle();
    await pack(cast.cooperative, { sscc: pallet, containers: [caseOne, caseTwo] });
    await containerEvent(cast.cooperative, pallet, { action: "shipping", receiver: cast.carrier.id });
    await settle();
    await assertOnChain(caseOne);
    const shipped = await assertOnChain(pallet);
    assert.equal(shipped.state, "in_transit");
    await containerEvent(cast.carrier, pallet, { action: "receiving" });
    await settle();
    const palletView = await assertOnChain(pallet);
    assert.equal(palletView.custodianOrganisationId, cast.carrier.id);

    const held = await containersOfItem(server.ctx.db, batchA, serialsA[25] ?? "");
    assert.deepEqual(
      held.map((entry) => [entry.sscc, entry.leaf.type]),
      [
        [caseOne, "item"],
        [pallet, "container"],
      ],
    );
    const [, onPallet] = held;
    assert.ok(onPallet);
    const palletRoot = palletView.steps[0]?.state.childrenRoot ?? "";
    assert.ok(StandardMerkleTree.verify(palletRoot, ["bytes32"], [containerKeyOf(caseOne)], onPallet.proof));
    const palletState = palletView.steps.at(-1)?.state;
    assert.equal(
      await registry.getFunction("containsContainer")(
        containerKeyOf(pallet),
        palletState,
        containerKeyOf(caseOne),
        onPallet.proof,
      ),
      true,
    );

    await refusedUnchanged(
      "a case of a live pallet packed into a second pallet",
      () =>
        cast.cooperative.api.post("/api/v1/containers", {
          sscc: ssccFor(3, COMPANY_PREFIX, BigInt(reference++)),
          containers: [caseTwo],
          occurredAt: "2026-04-22T09:00:00+08:00",
        }),
      409,
      "container.child_in_live_container",
    );
  });

  it("anchors two queued requests for one container in order", async () => {
    const sscc = nextSscc();
    await pack(cast.cooperative, {
      sscc,
      items: [{ gtin: DEMO_GTIN, lot: "CASE-B", from: serialsB[0], to: serialsB[2] }],
    });
    // Signed over the packing's state before the packing reached the chain.
    await containerEvent(cast.cooperative, sscc, { action: "shipping", receiver: cast.shop.id });
    const queued = await view(sscc);
    assert.deepEqual(
      queued.steps.map((step) => step.action),
      ["packing", "shipping"],
    );
    await settle();
    const anchored = await assertOnChain(sscc);
    assert.equal(anchored.steps[1]?.state.pendingReceiver, cast.shop.signerAddress.toLowerCase());
    await containerEvent(cast.shop, sscc, { action: "receiving" });
    await containerEvent(cast.shop, sscc, { action: "unpacking", occurredAt: "2026-04-22T09:00:00+08:00" });
    await settle();
    const unpacked = await assertOnChain(sscc);
    assert.equal(unpacked.state, "empty");
    const [item] = await containersOfItem(server.ctx.db, batchB, serialsB[0] ?? "");
    assert.equal(item?.live, false);
  });

  it("refuses a bad SSCC, an unknown serial and a batch the packer does not hold, storing nothing", async () => {
    const items = [itemLink("CASE-B", serialsB[4] ?? "")];
    const send = (party: Party, body: Record<string, unknown>) => () =>
      party.api.post("/api/v1/containers", { occurredAt: "2026-04-22T09:00:00+08:00", items, ...body });
    const good = nextSscc();
    const badDigit = `${good.slice(0, 17)}${String((Number(good[17]) + 1) % 10)}`;
    await refusedUnchanged("a wrong check digit", send(cast.cooperative, { sscc: badDigit }), 400, "gs1.check_digit");
    await refusedUnchanged(
      "seventeen digits",
      send(cast.cooperative, { sscc: good.slice(0, 17) }),
      400,
      "container.sscc_invalid",
    );
    await refusedUnchanged(
      "an unknown serial",
      send(cast.cooperative, { sscc: good, items: [{ gtin: DEMO_GTIN, lot: "CASE-B", serial: "NOSUCHSERIAL" }] }),
      422,
      "container.item_unknown",
    );
    await refusedUnchanged(
      "a batch the packer does not hold",
      send(cast.rival, { sscc: good }),
      403,
      "event.no_custody",
    );
    await refusedUnchanged("a retailer packing", send(cast.shop, { sscc: good }), 403, "organisation.wrong_kind");
    const ownWallet = await onboardParty(server.url, admin, {
      kind: "processor",
      regionCode: "330106",
      serial: 9_414,
      name: "装箱测试 自持密钥",
      signerAddress: Wallet.createRandom().address,
    });
    // Its own wallet would be asked to sign (containers-own-wallet.test.ts), but only after every
    // check: a batch it does not hold is refused with nothing prepared.
    await refusedUnchanged(
      "an organisation holding its own key, packing a batch it does not hold",
      send(ownWallet, { sscc: good }),
      403,
      "event.no_custody",
    );
    assert.equal(await view(good).catch(() => null), null);
  });

  it("allocates SSCCs under the organisation's own company prefix, each once", async () => {
    const allocate = async () =>
      expectStatus(
        await cast.cooperative.api.post<{ ssccs: string[]; prefix: string }>("/api/v1/containers/sscc", {
          count: 3,
          extension: 3,
        }),
        201,
        "allocate",
      );
    const first = await allocate();
    const second = await allocate();
    assert.equal(first.prefix, COMPANY_PREFIX);
    const all = [...first.ssccs, ...second.ssccs];
    assert.equal(new Set(all).size, 6);
    for (const sscc of all) {
      assert.equal(normalizeSscc(sscc), sscc);
      assert.ok(sscc.startsWith(`3${COMPANY_PREFIX}`), sscc);
    }
    const refused = await cast.shop.api.post("/api/v1/containers/sscc", { count: 1 });
    assert.equal(refused.status, 403);
  });

  it("restores every container, step and tree from the chain and the payload documents (reindex)", async () => {
    await settle();
    const stored = async (db: typeof server.ctx.db) => ({
      containers: await db
        .selectFrom("containers")
        .select(["container_key", "sscc", "expected_state_hash", "chain_state_hash"])
        .orderBy("container_key")
        .execute(),
      steps: await db
        .selectFrom("container_steps")
        .select([
          "id",
          "container_key",
          "sequence",
          "packing_id",
          "action",
          "state_hash",
          "ledger_state",
          "payload_cid",
        ])
        .where("ledger_state", "=", "anchored")
        .orderBy("id")
        .execute(),
      leaves: await db
        .selectFrom("container_leaves")
        .select(["packing_id", "tree_index", "batch_id", "serial", "child_container_key"])
        .orderBy("packing_id")
        .orderBy("tree_index")
        .execute(),
    });
    const before = await stored(server.ctx.db);
    assert.ok(before.containers.length >= 5 && before.leaves.length >= 30, JSON.stringify(before.containers));
    const dir = mkdtempSync(path.join(tmpdir(), "containers-reindex-"));
    for (const sub of ["ipfs", "keys"]) cpSync(path.join(dataDir, sub), path.join(dir, sub), { recursive: true });
    const url = await freshTestDatabaseUrl("containers_reindex");
    const restored = await reindex(
      loadConfig({ ...env, DATA_DIR: dir, WORKERS: "off", ...(url === undefined ? {} : { DATABASE_URL: url }) }),
      { logger: pino({ level: "silent" }) },
    );
    try {
      assert.deepEqual(await stored(restored.db), before);
    } finally {
      await restored.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
