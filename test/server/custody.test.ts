/**
 * Custody (issue #12, item 2), through the API against a Hardhat node in its own process:
 * who may record a step about a batch. Its cooperative always; the custodian it handed the
 * batch to (a shipping event names the receiver, whose receiving completes the handover);
 * an inspector only when the cooperative or a regulator in its region asked it. Every refusal
 * is a problem that leaves the store and the chain as they were; every accepted event is
 * anchored, so the registry agreed with the server each time.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";

import { JsonRpcProvider, Wallet, type Contract } from "ethers";

import { apiClient, expectStatus, type ApiClient, type ApiResponse } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { DEMO_GTIN } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry } from "../../scripts/lib/local-stack.ts";
import { gtinCheckDigit } from "../../server/src/domain/gs1.ts";
import { judgeEvents, type Party as CustodyParty } from "../../server/src/domain/custody.ts";
import type { OrganisationKind } from "../../server/src/domain/enumerations.ts";
import type { ItemResolution } from "../../server/src/domain/resolution.ts";
import type { SignatureRequest } from "../../server/src/services/signature-requests.ts";
import { listItemSerials } from "../../server/src/storage/batches.ts";
import { traceRegistryAt } from "../../server/src/ledger/deploy.ts";
import type { RunningServer } from "../../server/src/server.ts";
import { settleLedger } from "../e2e/support/settle-ledger.ts";
import type { Problem } from "../support/problems.ts";
import { refusalChecker } from "../support/refusals.ts";
import { createDemoTea, onboard as onboardParty, registerDemoBatch, type Party } from "../support/onboard.ts";
import { freshTestDatabaseUrl, TEST_DATABASE_URL } from "../support/test-database.ts";
import { startTestServer } from "../support/test-server.ts";

/** The GS1 company prefix of DEMO_GTIN (06901234567892), bound to the cooperative. */
const COMPANY_PREFIX = "6901234";

describe(`custody: who may record a step about a batch (${TEST_DATABASE_URL === undefined ? "SQLite" : "PostgreSQL"})`, () => {
  let node: ChainNode;
  let provider: JsonRpcProvider;
  let registry: Contract;
  let server: RunningServer;
  let dataDir: string;
  let admin: ApiClient;
  const cast = {} as Record<
    | "cooperative"
    | "rival"
    | "carrier"
    | "rivalCarrier"
    | "retailer"
    | "lab"
    | "otherLab"
    | "regulator"
    | "farRegulator",
    Party
  >;
  /** The cooperative's batch, handed over coop → carrier → retailer in the second case. */
  let batchId: string;
  /** A second batch of the cooperative's, for inspection requests. */
  let inspectedBatchId: string;
  /** A third, for writes in flight at once. */
  let racedBatchId: string;

  /** What a refusal must not change: the rows writes touch, and the chain's height. */
  async function snapshot(): Promise<unknown> {
    const db = server.ctx.db;
    return {
      events: await db.selectFrom("events").select(["id", "ledger_state"]).orderBy("id").execute(),
      inspectionRequests: await db
        .selectFrom("inspection_requests")
        .select(["id", "ledger_state"])
        .orderBy("id")
        .execute(),
      outbox: await db.selectFrom("outbox").select(["id", "state"]).orderBy("id").execute(),
      auditLog: (await db.selectFrom("audit_log").select("id").execute()).length,
      signatureRequests: (await db.selectFrom("signature_requests").select("id").execute()).length,
      block: await provider.getBlockNumber(),
    };
  }

  const refusedUnchanged = refusalChecker({ settle: () => settleLedger(server), snapshot });

  const onboard = (
    kind: string,
    regionCode: string,
    serial: number,
    companyPrefixes?: string[],
    signerAddress?: string,
  ): Promise<Party> => onboardParty(server.url, admin, { kind, regionCode, serial, companyPrefixes, signerAddress });

  function event(party: Party, bizStep: string, extra: Record<string, unknown> = {}, batch = batchId) {
    return party.api.post(`/api/v1/batches/${batch}/events`, {
      bizStep,
      occurredAt: "2026-04-16T08:00:00+08:00",
      ...extra,
    });
  }

  async function accepted(what: string, send: Promise<ApiResponse>): Promise<void> {
    expectStatus(await send, 202, what);
  }

  const registerBatch = (lot: string): Promise<string> =>
    registerDemoBatch(cast.cooperative.api, lot, { quantityKg: "2", itemCount: 2 });

  before(async () => {
    node = await startChainNode();
    const deployment = await deployLocalRegistry(node.rpcUrl);
    const databaseUrl = await freshTestDatabaseUrl("custody");
    ({ server, dataDir } = await startTestServer(
      deployment.env,
      "custody",
      databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl },
    ));
    provider = new JsonRpcProvider(node.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
    registry = traceRegistryAt(deployment.env.REGISTRY_ADDRESS ?? "", provider);
    admin = apiClient(server.url, deployment.env.ADMIN_TOKEN ?? "");
    cast.cooperative = await onboard("cooperative", "330106", 9_110, [COMPANY_PREFIX]);
    cast.rival = await onboard("cooperative", "330106", 9_111, ["6909999"]);
    cast.carrier = await onboard("logistics", "330110", 9_112);
    cast.rivalCarrier = await onboard("logistics", "330110", 9_113);
    cast.retailer = await onboard("retailer", "310101", 9_114);
    cast.lab = await onboard("inspector", "330100", 9_115);
    cast.otherLab = await onboard("inspector", "330100", 9_116);
    cast.regulator = await onboard("regulator", "330106", 9_117);
    cast.farRegulator = await onboard("regulator", "530802", 9_118);
    await createDemoTea(cast.cooperative.api);
    await settleLedger(server);
    batchId = await registerBatch("CU2026-01");
    inspectedBatchId = await registerBatch("CU2026-02");
    racedBatchId = await registerBatch("CU2026-03");
    await settleLedger(server);
    const batches = await server.ctx.db.selectFrom("batches").select(["ledger_state", "failure_reason"]).execute();
    assert.deepEqual(
      batches.map((row) => [row.ledger_state, row.failure_reason]),
      [
        ["anchored", null],
        ["anchored", null],
        ["anchored", null],
      ],
    );
  });

  after(async () => {
    provider.destroy();
    await server.close();
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("refuses a rival's shipping event, 45 °C and 'spoiled', on a stranger's batch", async () => {
    const rivalShipping = {
      receiver: cast.retailer.id,
      data: {
        temperatures: [
          { at: "2026-04-16T08:00:00+08:00", celsius: 45 },
          { at: "2026-04-16T09:00:00+08:00", celsius: 45 },
        ],
        note: { zh: "已变质，请勿购买", en: "spoiled, do not buy" },
      },
    };
    await refusedUnchanged(
      "a second cooperative ships the batch",
      () => event(cast.rival, "shipping", rivalShipping),
      403,
      "event.no_custody",
    );
    await refusedUnchanged(
      "a carrier nobody handed the batch to ships it",
      () => event(cast.rivalCarrier, "shipping", rivalShipping),
      403,
      "event.no_custody",
    );
    await refusedUnchanged(
      "a carrier nobody handed the batch to cools it",
      () => event(cast.rivalCarrier, "cooling"),
      403,
      "event.no_custody",
    );
    await refusedUnchanged(
      "a second cooperative harvests it",
      () => event(cast.rival, "harvesting"),
      403,
      "batch.not_yours",
    );
  });

  it("requires a shipping event's receiver to be another organisation that receives, and nobody else's", async () => {
    await refusedUnchanged(
      "a shipping without a receiver",
      () => event(cast.cooperative, "shipping"),
      400,
      "event.receiver_required",
    );
    await refusedUnchanged(
      "a shipping to an organisation that does not exist",
      () => event(cast.cooperative, "shipping", { receiver: "org_nobody" }),
      400,
      "event.receiver_invalid",
    );
    await refusedUnchanged(
      "a shipping to a testing centre (never receives)",
      () => event(cast.cooperative, "shipping", { receiver: cast.lab.id }),
      400,
      "event.receiver_invalid",
    );
    await refusedUnchanged(
      "a shipping to the cooperative itself",
      () => event(cast.cooperative, "shipping", { receiver: cast.cooperative.id }),
      400,
      "event.receiver_invalid",
    );
    await refusedUnchanged(
      "a packing that names a receiver",
      () => event(cast.cooperative, "packing", { receiver: cast.carrier.id }),
      400,
      "event.counterparty_unexpected",
    );
  });

  it("hands the batch over coop → carrier → retailer, each step allowed only to the right party", async () => {
    await refusedUnchanged(
      "the carrier receives before anyone shipped to it",
      () => event(cast.carrier, "receiving"),
      403,
      "event.no_custody",
    );
    await accepted(
      "the cooperative ships to the carrier",
      event(cast.cooperative, "shipping", { receiver: cast.carrier.id }),
    );
    await refusedUnchanged(
      "the retailer receives what was shipped to the carrier",
      () => event(cast.retailer, "receiving"),
      403,
      "event.no_custody",
    );
    await refusedUnchanged(
      "the carrier cools the batch before receiving it",
      () => event(cast.carrier, "cooling"),
      403,
      "event.no_custody",
    );
    await accepted("the carrier receives", event(cast.carrier, "receiving"));
    await accepted("the carrier, now custodian, cools", event(cast.carrier, "cooling"));
    await accepted(
      "the carrier ships to the retailer",
      event(cast.carrier, "shipping", {
        receiver: cast.retailer.id,
        data: { temperatures: [{ at: "2026-04-16T08:00:00+08:00", celsius: 6 }] },
      }),
    );
    await accepted("the retailer receives", event(cast.retailer, "receiving"));
    await accepted("the retailer sells", event(cast.retailer, "retail_selling"));
    await refusedUnchanged(
      "the carrier, custodian no more, cools again",
      () => event(cast.carrier, "cooling"),
      403,
      "event.no_custody",
    );
    await refusedUnchanged(
      "the retailer records a step its kind never records",
      () => event(cast.retailer, "harvesting"),
      403,
      "organisation.wrong_kind",
    );
    // The cooperative keeps its say whoever holds the batch.
    await accepted("the cooperative packs", event(cast.cooperative, "packing"));

    await settleLedger(server);
    const events = await server.ctx.db
      .selectFrom("events")
      .select(["biz_step", "ledger_state", "failure_reason", "counterparty_organisation_id"])
      .where("batch_id", "=", batchId.toLowerCase())
      .execute();
    assert.equal(events.length, 7);
    for (const row of events) assert.equal(row.ledger_state, "anchored", JSON.stringify(row));
    assert.deepEqual(
      events.filter((row) => row.biz_step === "shipping").map((row) => row.counterparty_organisation_id),
      [cast.carrier.id, cast.retailer.id],
    );
    // The registry judged the same: the retailer holds the batch, two handovers logged.
    const record = (await registry.getFunction("batch")(batchId)) as { custodian: string; pendingReceiver: string };
    assert.equal(record.custodian.toLowerCase(), cast.retailer.signerAddress.toLowerCase());
    assert.equal(BigInt(record.pendingReceiver), 0n);
    const transfers = await registry.queryFilter(
      registry.filters.CustodyTransferred?.(batchId) ?? "CustodyTransferred",
    );
    assert.equal(transfers.length, 2);

    // The API names each shipping's receiver.
    const listed = expectStatus(
      await apiClient(server.url).get<{ events: { bizStep: string; receiver: { organisationId: string } | null }[] }>(
        `/api/v1/batches/${batchId}/events`,
      ),
      200,
      "events",
    ).events;
    assert.deepEqual(
      listed.map((e) => [e.bizStep, e.receiver?.organisationId ?? null]),
      [
        ["shipping", cast.carrier.id],
        ["receiving", null],
        ["cooling", null],
        ["shipping", cast.retailer.id],
        ["receiving", null],
        ["retail_selling", null],
        ["packing", null],
      ],
    );
    // So does an item's resolution, with each receiver's name, for the scan page's "handed over by … to …".
    const [serial] = await listItemSerials(server.ctx.db, batchId);
    const resolution = expectStatus(
      await apiClient(server.url).get<ItemResolution>(`/01/${DEMO_GTIN}/10/CU2026-01/21/${serial ?? ""}`),
      200,
      "resolution",
    );
    assert.deepEqual(
      resolution.events
        .filter((e) => e.counterparty !== null)
        .map((e) => [e.bizStep, e.counterparty?.organisationId, e.counterparty?.name.zh, e.value.counterparty]),
      [
        ["shipping", cast.carrier.id, "测试机构 9112", cast.carrier.signerAddress.toLowerCase()],
        ["shipping", cast.retailer.id, "测试机构 9114", cast.retailer.signerAddress.toLowerCase()],
      ],
    );
  });

  it("lets an inspector inspect only when the cooperative or a regulator in its region asked", async () => {
    const tests = {
      data: {
        tests: [{ substance: "联苯菊酯", method: "GB 23200.113", resultMgPerKg: 0.02, limitMgPerKg: 5, passed: true }],
      },
    };
    const requests = `/api/v1/batches/${inspectedBatchId}/inspection-requests`;
    await refusedUnchanged(
      "an inspector nobody asked inspects",
      () => event(cast.lab, "inspecting", tests, inspectedBatchId),
      403,
      "event.no_custody",
    );
    await refusedUnchanged(
      "a regulator outside the batch's region asks an inspector",
      () => cast.farRegulator.api.post(requests, { inspector: cast.lab.id }),
      403,
      "organisation.outside_jurisdiction",
    );
    await refusedUnchanged(
      "another cooperative asks an inspector about a stranger's batch",
      () => cast.rival.api.post(requests, { inspector: cast.lab.id }),
      403,
      "batch.not_yours",
    );
    await refusedUnchanged(
      "the cooperative asks a carrier to inspect",
      () => cast.cooperative.api.post(requests, { inspector: cast.carrier.id }),
      400,
      "inspection.inspector_invalid",
    );
    await refusedUnchanged(
      "a carrier asks for an inspection",
      () => cast.carrier.api.post(requests, { inspector: cast.lab.id }),
      403,
      "auth.forbidden",
    );

    expectStatus(await cast.cooperative.api.post(requests, { inspector: cast.lab.id }), 202, "cooperative asks");
    await refusedUnchanged(
      "the cooperative asks the same inspector again",
      () => cast.cooperative.api.post(requests, { inspector: cast.lab.id }),
      409,
      "inspection.already_requested",
    );
    await accepted("the asked inspector inspects", event(cast.lab, "inspecting", tests, inspectedBatchId));
    await refusedUnchanged(
      "the other inspector, not asked, certifies",
      () => event(cast.otherLab, "certifying", {}, inspectedBatchId),
      403,
      "event.no_custody",
    );
    expectStatus(await cast.regulator.api.post(requests, { inspector: cast.otherLab.id }), 202, "regulator asks");
    await accepted(
      "the inspector the regulator asked certifies",
      event(cast.otherLab, "certifying", {}, inspectedBatchId),
    );

    await settleLedger(server);
    const listed = expectStatus(
      await apiClient(server.url).get<{
        inspectionRequests: { inspectorOrganisationId: string; requestedBy: string; ledger: { state: string } }[];
      }>(requests),
      200,
      "list",
    ).inspectionRequests;
    assert.deepEqual(
      listed.map((r) => [r.inspectorOrganisationId, r.requestedBy, r.ledger.state]),
      [
        [cast.lab.id, "cooperative", "anchored"],
        [cast.otherLab.id, "regulator", "anchored"],
      ],
    );
    const events = await server.ctx.db
      .selectFrom("events")
      .select(["ledger_state"])
      .where("batch_id", "=", inspectedBatchId.toLowerCase())
      .execute();
    assert.deepEqual(
      events.map((row) => row.ledger_state),
      ["anchored", "anchored"],
    );
    for (const lab of [cast.lab, cast.otherLab]) {
      assert.equal(await registry.getFunction("inspectionRequested")(inspectedBatchId, lab.signerAddress), true);
    }
  });

  it("judges custody again when an own wallet's signature arrives: a handover undone meanwhile refuses it", async () => {
    const wallet = Wallet.createRandom();
    const ownCarrier = await onboard("logistics", "330110", 9_119, undefined, wallet.address);
    const batch = await registerBatch("CU2026-04");
    await settleLedger(server);
    await accepted(
      "the cooperative ships to the own-wallet carrier",
      event(cast.cooperative, "shipping", { receiver: ownCarrier.id }, batch),
    );
    // Prepared while the carrier is the named receiver…
    const prepared = expectStatus(await event(ownCarrier, "receiving", {}, batch), 201, "prepare receiving") as {
      signatureRequest: SignatureRequest;
    };
    const { domain, types, message } = prepared.signatureRequest.typedData;
    // …then the cooperative sends the batch elsewhere, so the carrier may no longer receive it.
    await accepted(
      "the cooperative ships to another carrier instead",
      event(cast.cooperative, "shipping", { receiver: cast.carrier.id }, batch),
    );
    const signature = await wallet.signTypedData(domain, types, message);
    await refusedUnchanged(
      "the carrier's signature on a receiving it may no longer record",
      () => ownCarrier.api.post(prepared.signatureRequest.submitUrl, { signature }),
      403,
      "event.no_custody",
    );
  });

  it("never accepts what the registry would refuse, whatever order writes in flight arrive in", async () => {
    await accepted(
      "the cooperative ships to the carrier",
      event(cast.cooperative, "shipping", { receiver: cast.carrier.id }, racedBatchId),
    );
    await settleLedger(server);
    // At once: the carrier receives and ships on to the shop; the cooperative sends the batch to
    // the other carrier; the shop and the other carrier receive. Which are accepted depends on
    // the order they are judged in; none may be one the chain then refuses.
    const answers = await Promise.all([
      event(cast.carrier, "receiving", {}, racedBatchId),
      event(cast.cooperative, "shipping", { receiver: cast.rivalCarrier.id }, racedBatchId),
      event(cast.carrier, "shipping", { receiver: cast.retailer.id }, racedBatchId),
      event(cast.rivalCarrier, "receiving", {}, racedBatchId),
      event(cast.retailer, "receiving", {}, racedBatchId),
      event(cast.carrier, "cooling", {}, racedBatchId),
    ]);
    for (const answer of answers) {
      assert.ok(
        answer.status === 202 || (answer.status === 403 && (answer.body as Problem).code === "event.no_custody"),
        JSON.stringify(answer.body),
      );
    }
    await settleLedger(server);
    const rows = await server.ctx.db
      .selectFrom("events")
      .select(["biz_step", "actor_organisation_id", "counterparty_organisation_id", "ledger_state", "failure_reason"])
      .where("batch_id", "=", racedBatchId.toLowerCase())
      .orderBy("block_number")
      .orderBy("log_index")
      .execute();
    assert.equal(rows.length, 1 + answers.filter((a) => a.status === 202).length);
    for (const row of rows) assert.equal(row.ledger_state, "anchored", JSON.stringify(row));
    // And the store's events, in chain order, pass the rules one by one.
    const kinds = new Map<string, OrganisationKind>([
      [cast.cooperative.id, "cooperative"],
      [cast.carrier.id, "logistics"],
      [cast.rivalCarrier.id, "logistics"],
      [cast.retailer.id, "retailer"],
    ]);
    const partyOf = (id: string): CustodyParty => ({ id, kind: kinds.get(id) ?? null });
    const { judged } = judgeEvents(
      rows.map((row) => ({
        actor: partyOf(row.actor_organisation_id),
        step: row.biz_step,
        counterparty: row.counterparty_organisation_id === null ? null : partyOf(row.counterparty_organisation_id),
      })),
      cast.cooperative.id,
      [],
    );
    assert.deepEqual(
      judged.filter((j) => "refused" in j.authority),
      [],
    );
  });

  it("lets a cooperative holding its own key ask an inspector by signing the request in its wallet", async () => {
    const wallet = Wallet.createRandom();
    const ownCoop = await onboard("cooperative", "330106", 9_120, ["6909998"], wallet.address);
    const body = "0690999800001";
    const gtin = `${body}${String(gtinCheckDigit(body))}`;
    expectStatus(
      await ownCoop.api.post("/api/v1/products", { gtin, name: { zh: "九曲红梅" }, category: "tea", unit: "kg" }),
      201,
      "own product",
    );
    await settleLedger(server);
    const sign = async (request: SignatureRequest, what: string): Promise<unknown> => {
      const { domain, types, message } = request.typedData;
      return expectStatus(
        await ownCoop.api.post(request.submitUrl, { signature: await wallet.signTypedData(domain, types, message) }),
        202,
        what,
      );
    };
    const prepared = expectStatus(
      await ownCoop.api.post<{ signatureRequest: SignatureRequest }>("/api/v1/batches", {
        gtin,
        lot: "JQ2026-01",
        harvestedAt: "2026-04-15T06:00:00+08:00",
        quantity: { value: "2", unit: "kg" },
        itemCount: 2,
      }),
      201,
      "prepare the batch",
    ).signatureRequest;
    const { batch } = (await sign(prepared, "sign the batch")) as { batch: { batchId: string } };
    await settleLedger(server);

    const asked = expectStatus(
      await ownCoop.api.post<{ signatureRequest: SignatureRequest }>(
        `/api/v1/batches/${batch.batchId}/inspection-requests`,
        { inspector: cast.lab.id },
      ),
      201,
      "prepare the inspection request",
    ).signatureRequest;
    assert.equal(asked.typedData.primaryType, "InspectionRequest");
    assert.equal(String(asked.typedData.message.inspector).toLowerCase(), cast.lab.signerAddress.toLowerCase());
    await refusedUnchanged(
      "the inspector, before the cooperative signed",
      () => event(cast.lab, "inspecting", { data: { tests: [{ substance: "铅 lead", passed: true }] } }, batch.batchId),
      403,
      "event.no_custody",
    );
    const { inspectionRequest } = (await sign(asked, "sign the inspection request")) as {
      inspectionRequest: { requestedBy: string; signature: string | null };
    };
    assert.equal(inspectionRequest.requestedBy, "cooperative");
    assert.notEqual(inspectionRequest.signature, null);
    await accepted(
      "the inspector, once asked",
      event(cast.lab, "inspecting", { data: { tests: [{ substance: "铅 lead", passed: true }] } }, batch.batchId),
    );
    await settleLedger(server);
    assert.equal(await registry.getFunction("inspectionRequested")(batch.batchId, cast.lab.signerAddress), true);
    const events = await server.ctx.db
      .selectFrom("events")
      .select("ledger_state")
      .where("batch_id", "=", batch.batchId.toLowerCase())
      .execute();
    assert.deepEqual(
      events.map((row) => row.ledger_state),
      ["anchored"],
    );
  });
});
