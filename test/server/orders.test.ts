/**
 * Orders and the mass balance (issue 14, part 3), through the API against a Hardhat node in
 * its own process: a seller takes an order (the buyer kept only as a salted hash), scans
 * items into it, is refused an item not of its lines, over a line, in another order or
 * unknown; an order for more than remains of a lot is refused with nothing stored, and 8
 * orders racing for the last units leave exactly as many winners as units; another
 * organisation neither sees nor scans nor cancels the order; cancelling gives the units and
 * items back.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";

import { apiClient, expectStatus, type ApiClient, type ApiResponse } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { DEMO_GTIN } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry } from "../../scripts/lib/local-stack.ts";
import type { RunningServer } from "../../server/src/server.ts";
import { ssccFor } from "../../server/src/domain/sscc.ts";
import { packContainer, recordContainerEvent } from "../../server/src/services/containers.ts";
import { lotBalance } from "../../server/src/services/mass-balance.ts";
import type { WriteOrigin } from "../../server/src/services/write-log.ts";
import { getContainerBySscc } from "../../server/src/storage/containers.ts";
import type { OrderDetail, OrderView } from "../../server/src/services/orders.ts";
import { listItemSerials } from "../../server/src/storage/batches.ts";
import { settleLedger } from "../e2e/support/settle-ledger.ts";
import { onboard as onboardParty, registerDemoBatch, type Party } from "../support/onboard.ts";
import { refusalChecker } from "../support/refusals.ts";
import { TEST_DATABASE_URL } from "../support/test-database.ts";
import { startApiTestServer } from "../support/test-server.ts";

const COMPANY_PREFIX = "6901234";
const BUYER = "taobao-buyer-7781 王小明 13800138000";
const CASE = ssccFor(0, COMPANY_PREFIX, 1n);
const PARCEL = ssccFor(0, COMPANY_PREFIX, 2n);
const STRAY = ssccFor(0, COMPANY_PREFIX, 3n);

describe(`orders and the mass balance (${TEST_DATABASE_URL === undefined ? "SQLite" : "PostgreSQL"})`, () => {
  let node: ChainNode;
  let server: RunningServer;
  let dataDir: string;
  let admin: ApiClient;
  const cast = {} as Record<"seller" | "rival" | "retailer", Party>;
  const lots = { a: "ORD-A", b: "ORD-B", race: "ORD-RACE", c: "ORD-C", scan: "ORD-SCAN" };
  const batches = {} as Record<keyof typeof lots, string>;
  const serials = {} as Record<keyof typeof lots, string[]>;

  async function snapshot(): Promise<unknown> {
    const db = server.ctx.db;
    return {
      orders: await db.selectFrom("orders").select(["id", "status", "updated_at_ms"]).orderBy("id").execute(),
      lines: await db.selectFrom("order_lines").selectAll().orderBy("order_id").orderBy("position").execute(),
      items: await db.selectFrom("order_items").selectAll().orderBy("batch_id").orderBy("serial").execute(),
      auditLog: (await db.selectFrom("audit_log").select("id").execute()).length,
    };
  }
  const refusedUnchanged = refusalChecker({ settle: () => Promise.resolve(), snapshot });

  const code = (lot: string, serial: string): string => `${server.url}/01/${DEMO_GTIN}/10/${lot}/21/${serial}`;
  const line = (lot: string, quantity: number) => ({ gtin: DEMO_GTIN, lot, quantity });

  function order(party: Party, lines: { gtin: string; lot: string; quantity: number }[]): Promise<ApiResponse> {
    return party.api.post<{ order: OrderDetail }>("/api/v1/orders", {
      buyerReference: BUYER,
      channel: "platform",
      lines,
    });
  }

  async function created(party: Party, lines: { gtin: string; lot: string; quantity: number }[]): Promise<OrderDetail> {
    return (expectStatus(await order(party, lines), 201, "order") as { order: OrderDetail }).order;
  }

  function scan(party: Party, id: string, codes: string[]): Promise<ApiResponse> {
    return party.api.post(`/api/v1/orders/${id}/items`, { codes });
  }

  before(async () => {
    node = await startChainNode();
    const deployment = await deployLocalRegistry(node.rpcUrl);
    ({ server, dataDir } = await startApiTestServer(deployment.env, "orders"));
    admin = apiClient(server.url, deployment.env.ADMIN_TOKEN ?? "");
    const onboard = (kind: string, serial: number, prefixes?: string[]) =>
      onboardParty(server.url, admin, {
        kind,
        regionCode: "330106",
        serial,
        companyPrefixes: prefixes,
        name: `订单测试 ${String(serial)}`,
      });
    cast.seller = await onboard("cooperative", 9_410, [COMPANY_PREFIX]);
    cast.rival = await onboard("cooperative", 9_411, ["6909998"]);
    cast.retailer = await onboard("retailer", 9_412);
    expectStatus(
      await cast.seller.api.post("/api/v1/products", {
        gtin: DEMO_GTIN,
        name: { zh: "西湖龙井", en: "West Lake Longjing" },
        category: "tea",
        unit: "kg",
      }),
      201,
      "product",
    );
    await settleLedger(server);
    for (const key of Object.keys(lots) as (keyof typeof lots)[]) {
      batches[key] = await registerDemoBatch(cast.seller.api, lots[key], { quantityKg: "10", itemCount: 10 });
    }
    await settleLedger(server);
    for (const key of Object.keys(lots) as (keyof typeof lots)[]) {
      serials[key] = await listItemSerials(server.ctx.db, batches[key]);
    }
  });

  after(async () => {
    await (server as RunningServer | undefined)?.close();
    await (node as ChainNode | undefined)?.stop();
    if ((dataDir as string | undefined) !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  it("takes an order, keeping the buyer only as a salted hash, and counts it in the lot's balance", async () => {
    const taken = await created(cast.seller, [line(lots.a, 3)]);
    assert.equal(taken.status, "open");
    assert.match(taken.reference, /^PO-[0-9A-Z]{12}$/);
    assert.deepEqual(
      taken.lines.map((l) => [l.lot, l.batchId, l.quantity, l.packed, l.toPack]),
      [[lots.a, batches.a, 3, 0, 3]],
    );
    assert.match(taken.buyerReference, /^[0-9a-f]{16}$/);
    const row = await server.ctx.db
      .selectFrom("orders")
      .selectAll()
      .where("id", "=", taken.id)
      .executeTakeFirstOrThrow();
    const stored = JSON.stringify(row);
    for (const part of BUYER.split(" ")) assert.ok(!stored.includes(part), `no "${part}" in the stored order`);
    const audit = JSON.stringify(await server.ctx.db.selectFrom("audit_log").selectAll().execute());
    assert.ok(!audit.includes("13800138000"), "nor in the audit log");
    // The same buyer on a second order gets another hash: orders are not linkable by it.
    const again = await created(cast.seller, [line(lots.b, 1)]);
    assert.notEqual(again.buyerReference, taken.buyerReference);

    assert.deepEqual(await lotBalance(server.ctx, batches.a), {
      batchId: batches.a,
      registered: 10,
      ordered: 3,
      remaining: 7,
      soldOut: false,
    });
    const listed = expectStatus(await cast.seller.api.get<{ orders: OrderView[] }>("/api/v1/orders"), 200, "list");
    assert.deepEqual(
      listed.orders.map((o) => o.id),
      [again.id, taken.id],
    );
    const paged = expectStatus(
      await cast.seller.api.get<{ orders: OrderView[] }>("/api/v1/orders?limit=1&offset=1"),
      200,
      "page",
    );
    assert.deepEqual(
      paged.orders.map((o) => o.id),
      [taken.id],
    );
  });

  it("scans items into an order and refuses what does not belong, changing nothing", async () => {
    const taken = await created(cast.seller, [line(lots.a, 2)]);
    const [first, second, third] = serials.a.slice(0, 3) as [string, string, string];
    const answer = expectStatus(await scan(cast.seller, taken.id, [code(lots.a, first)]), 200, "scan one") as {
      order: OrderView;
      added: number;
      alreadyInOrder: number;
    };
    assert.equal(answer.added, 1);
    assert.equal(answer.order.status, "packing");
    assert.deepEqual(
      answer.order.lines.map((l) => [l.packed, l.toPack]),
      [[1, 1]],
    );
    // A double read of the same code, and a path instead of a URI: one new item.
    const twice = expectStatus(
      await scan(cast.seller, taken.id, [code(lots.a, first), `/01/${DEMO_GTIN}/10/${lots.a}/21/${second}`]),
      200,
      "scan again",
    ) as { order: OrderView; added: number; alreadyInOrder: number };
    assert.deepEqual([twice.added, twice.alreadyInOrder], [1, 1]);
    assert.deepEqual(
      twice.order.lines.map((l) => [l.packed, l.toPack]),
      [[1 + 1, 0]],
    );

    await refusedUnchanged(
      "over the line",
      () => scan(cast.seller, taken.id, [code(lots.a, third)]),
      409,
      "order.line_full",
    );
    await refusedUnchanged(
      "a lot the order has no line for",
      () => scan(cast.seller, taken.id, [code(lots.b, serials.b[5] ?? "")]),
      409,
      "order.item_not_ordered",
    );
    const other = await created(cast.seller, [line(lots.a, 2)]);
    await refusedUnchanged(
      "an item packed into another order (with a good one before it)",
      () => scan(cast.seller, other.id, [code(lots.a, third), code(lots.a, first)]),
      409,
      "order.item_in_other_order",
    );
    await refusedUnchanged(
      "a serial never issued",
      () => scan(cast.seller, other.id, [code(lots.a, "NOSUCHSERIAL")]),
      404,
      "item.not_found",
    );
    await refusedUnchanged(
      "a lot code without a serial",
      () => scan(cast.seller, other.id, [`/01/${DEMO_GTIN}/10/${lots.a}`]),
      400,
      "request.invalid",
    );

    const detail = expectStatus(await cast.seller.api.get<{ order: OrderDetail }>(taken.url), 200, "read").order;
    assert.deepEqual(detail.items.map((item) => item.serial).sort(), [first, second].sort());
  });

  it("refuses an order for more than remains of a lot, and lets exactly the remaining units win a race", async () => {
    const taken = await created(cast.seller, [line(lots.race, 7)]);
    const problem = (await refusedUnchanged(
      "more than remains",
      () => order(cast.seller, [line(lots.b, 1), line(lots.race, 4)]),
      409,
      "lot.sold_out",
    )) as unknown as { remaining: number; requested: number; lot: string };
    assert.deepEqual([problem.lot, problem.requested, problem.remaining], [lots.race, 4, 3]);

    // 8 orders of one unit race for the last 3.
    const answers = await Promise.all(Array.from({ length: 8 }, () => order(cast.seller, [line(lots.race, 1)])));
    const statuses = answers.map((answer) => answer.status).sort();
    assert.deepEqual(statuses, [201, 201, 201, 409, 409, 409, 409, 409], JSON.stringify(answers.map((a) => a.body)));
    for (const answer of answers.filter((a) => a.status === 409)) {
      assert.equal((answer.body as { code: string }).code, "lot.sold_out");
    }
    const balance = await lotBalance(server.ctx, batches.race);
    assert.deepEqual(balance, { batchId: batches.race, registered: 10, ordered: 10, remaining: 0, soldOut: true });
    const lines = await server.ctx.db
      .selectFrom("order_lines")
      .select("quantity")
      .where("batch_id", "=", batches.race)
      .execute();
    assert.equal(
      lines.reduce((sum, row) => sum + row.quantity, 0),
      10,
    );

    // Cancelling gives the units back.
    const cancelled = expectStatus(
      await cast.seller.api.post<{ order: OrderDetail }>(`${taken.url}/cancel`, {}),
      200,
      "cancel",
    ).order;
    assert.equal(cancelled.status, "cancelled");
    assert.equal((await lotBalance(server.ctx, batches.race)).remaining, 7);
    await created(cast.seller, [line(lots.race, 7)]);
    assert.equal((await lotBalance(server.ctx, batches.race)).soldOut, true);
  });

  it("judges parallel scans one after the other: a line takes exactly its quantity", async () => {
    const full = await created(cast.seller, [line(lots.scan, 4)]);
    const other = await created(cast.seller, [line(lots.scan, 2)]);
    const codes = serials.scan.map((serial) => code(lots.scan, serial));
    const answers = await Promise.all([
      ...codes.slice(0, 6).map((one) => scan(cast.seller, full.id, [one])),
      ...codes.slice(6, 8).map((one) => scan(cast.seller, other.id, [one])),
    ]);
    const intoFull = answers.slice(0, 6);
    assert.equal(
      intoFull.filter((answer) => answer.status === 200).length,
      4,
      JSON.stringify(intoFull.map((a) => a.body)),
    );
    for (const refused of intoFull.filter((answer) => answer.status !== 200)) {
      assert.equal(refused.status, 409);
      assert.equal((refused.body as { code: string }).code, "order.line_full");
    }
    assert.deepEqual(
      answers.slice(6).map((answer) => answer.status),
      [200, 200],
    );
    const stored = await server.ctx.db
      .selectFrom("order_items")
      .select(["order_id"])
      .where("batch_id", "=", batches.scan)
      .execute();
    assert.equal(stored.filter((row) => row.order_id === full.id).length, 4);
    assert.equal(stored.filter((row) => row.order_id === other.id).length, 2);
    const read = expectStatus(await cast.seller.api.get<{ order: OrderDetail }>(full.url), 200, "read").order;
    assert.deepEqual(
      read.lines.map((l) => [l.packed, l.toPack]),
      [[4, 0]],
    );
  });

  it("cancelling releases the scanned items; a cancelled order takes no more scans", async () => {
    const taken = await created(cast.seller, [line(lots.b, 2)]);
    const item = serials.b[0] ?? "";
    expectStatus(await scan(cast.seller, taken.id, [code(lots.b, item)]), 200, "scan");
    expectStatus(await cast.seller.api.post(`${taken.url}/cancel`, {}), 200, "cancel");
    await refusedUnchanged(
      "cancel twice",
      () => cast.seller.api.post(`${taken.url}/cancel`, {}),
      409,
      "order.not_open",
    );
    await refusedUnchanged(
      "scan into a cancelled order",
      () => scan(cast.seller, taken.id, [code(lots.b, serials.b[1] ?? "")]),
      409,
      "order.not_open",
    );
    const next = await created(cast.seller, [line(lots.b, 1)]);
    expectStatus(await scan(cast.seller, next.id, [code(lots.b, item)]), 200, "the released item in another order");
  });

  it("hides an order from every other organisation (404, not 403) and refuses lots the seller does not hold", async () => {
    const taken = await created(cast.seller, [line(lots.a, 1)]);
    const rivalList = expectStatus(await cast.rival.api.get<{ orders: OrderView[] }>("/api/v1/orders"), 200, "list");
    assert.deepEqual(rivalList.orders, []);
    for (const party of [cast.rival, cast.retailer]) {
      await refusedUnchanged("read", () => party.api.get(taken.url), 404, "order.not_found");
      await refusedUnchanged(
        "scan",
        () => scan(party, taken.id, [code(lots.a, serials.a[9] ?? "")]),
        404,
        "order.not_found",
      );
      await refusedUnchanged("cancel", () => party.api.post(`${taken.url}/cancel`, {}), 404, "order.not_found");
    }
    await refusedUnchanged(
      "an unknown id reads the same",
      () => cast.rival.api.get("/api/v1/orders/00000000-0000-4000-8000-000000000000"),
      404,
      "order.not_found",
    );
    await refusedUnchanged(
      "the rival orders the seller's lot",
      () => order(cast.rival, [line(lots.a, 1)]),
      403,
      "order.lot_not_held",
    );
    await refusedUnchanged(
      "no credentials",
      () =>
        apiClient(server.url).post("/api/v1/orders", {
          buyerReference: "x",
          channel: "shop",
          lines: [line(lots.a, 1)],
        }),
      401,
      "auth.missing",
    );
    await refusedUnchanged(
      "a live-stream order without its stream",
      () =>
        cast.seller.api.post("/api/v1/orders", {
          buyerReference: "x",
          channel: "live_stream",
          lines: [line(lots.a, 1)],
        }),
      400,
      "request.invalid",
    );
    const live = expectStatus(
      await cast.seller.api.post<{ order: OrderDetail }>("/api/v1/orders", {
        buyerReference: "dy-88",
        channel: "live_stream",
        liveStream: { platform: "抖音", title: "龙井开采直播", startedAt: "2026-04-20T20:00:00+08:00" },
        lines: [line(lots.a, 1)],
      }),
      201,
      "live-stream order",
    ).order;
    assert.deepEqual(live.liveStream, {
      platform: "抖音",
      title: "龙井开采直播",
      startedAt: "2026-04-20T20:00:00+08:00",
    });
  });
  it("scans a case into an order, despatches it in one signed packing naming the order, and reads it received", async () => {
    const origin = (party: Party, roles: ("cooperative" | "actor")[]): WriteOrigin => ({
      principal: { organisationId: party.id, credentialId: null, roles },
      requestId: null,
    });
    const [c0, c1, c2, c3, c4, c5] = serials.c as [string, string, string, string, string, string];
    // A case of three items the seller packed earlier.
    await packContainer(server.ctx, origin(cast.seller, ["cooperative"]), {
      sscc: CASE,
      items: [{ gtin: DEMO_GTIN, lot: lots.c, serials: [c0, c1, c2] }],
      occurredAt: new Date(Date.now() - 60_000).toISOString(),
    });
    await settleLedger(server);
    const taken = await created(cast.seller, [line(lots.c, 5)]);
    await refusedUnchanged(
      "an item of a case scanned alone",
      () => scan(cast.seller, taken.id, [code(lots.c, c1)]),
      409,
      "order.item_in_case",
    );
    await refusedUnchanged(
      "an SSCC never packed",
      () => scan(cast.seller, taken.id, [`(00)${STRAY}`]),
      409,
      "order.case_invalid",
    );
    const scanned = expectStatus(
      await scan(cast.seller, taken.id, [`https://id.gs1.org/00/${CASE}`, code(lots.c, c3)]),
      200,
      "case and an item",
    ) as { added: number; order: OrderView };
    assert.equal(scanned.added, 4);
    assert.deepEqual(
      scanned.order.lines.map((l) => [l.packed, l.toPack]),
      [[4, 1]],
    );
    const despatch = { sscc: PARCEL, shipTo: cast.retailer.id, occurredAt: new Date().toISOString() };
    await refusedUnchanged(
      "despatch before every line is packed",
      () => cast.seller.api.post(`${taken.url}/despatch`, despatch),
      409,
      "order.not_fully_packed",
    );
    expectStatus(await scan(cast.seller, taken.id, [code(lots.c, c4)]), 200, "the last item");
    const sent = expectStatus(
      await cast.seller.api.post<{ order: OrderDetail }>(`${taken.url}/despatch`, despatch),
      200,
      "despatch",
    ).order;
    assert.equal(sent.status, "despatched");
    assert.equal(sent.despatch?.sscc, PARCEL);
    await refusedUnchanged(
      "cancel after despatch",
      () => cast.seller.api.post(`${taken.url}/cancel`, {}),
      409,
      "order.not_open",
    );
    await refusedUnchanged(
      "scan after despatch",
      () => scan(cast.seller, taken.id, [code(lots.c, c5)]),
      409,
      "order.not_open",
    );

    await settleLedger(server);
    const parcel = await getContainerBySscc(server.ctx.db, PARCEL);
    const packing = parcel?.steps[0];
    assert.ok(packing !== undefined, "the parcel's packing is stored");
    assert.equal(packing.primaryType, "ContainerPacking");
    assert.equal(packing.actorOrganisationId, cast.seller.id);
    assert.equal(packing.counterpartyOrganisationId, cast.retailer.id);
    // The registry checked the seller's signature when it accepted the packing.
    assert.equal(packing.ledgerState, "anchored");
    assert.deepEqual(parcel?.livePacking?.childContainers.length, 1);
    const document = (await (await fetch(`${server.url}/ipfs/${packing.payloadCid}`)).json()) as {
      epcisBody: { eventList: { type: string; bizTransactionList?: { type: string; bizTransaction: string }[] }[] };
    };
    const events = document.epcisBody.eventList;
    assert.deepEqual(
      events.map((event) => event.type),
      ["AggregationEvent", "ObjectEvent"],
    );
    for (const event of events) {
      const list = event.bizTransactionList ?? [];
      // CBV 2.0 types, as the JSON-LD context abbreviates them.
      assert.deepEqual(
        list.map((entry) => entry.type.replace(/^bt:/, "")),
        ["po", "desadv"],
      );
      assert.equal(list[0]?.bizTransaction, `urn:uuid:${taken.id}`);
    }
    assert.ok(!JSON.stringify(document).includes("13800138000"), "no buyer data in the public document");

    await recordContainerEvent(server.ctx, origin(cast.retailer, ["actor"]), PARCEL, {
      action: "receiving",
      occurredAt: new Date().toISOString(),
    });
    const read = expectStatus(await cast.seller.api.get<{ order: OrderDetail }>(taken.url), 200, "read").order;
    assert.equal(read.status, "received");
    assert.deepEqual(
      read.items.map((item) => [item.serial, item.caseSscc]).sort(),
      [
        [c0, CASE],
        [c1, CASE],
        [c2, CASE],
        [c3, null],
        [c4, null],
      ].sort(),
    );
  });
});
