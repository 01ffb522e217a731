/**
 * Each item's own journey in the demo (issue #14): the demo batch is split into cases through
 * the HTTP API, as its users would. The cooperative packs one case for the Shanghai shop and
 * despatches it there (the shop receives it); it takes two online orders, one on a platform
 * and one sold in a live stream, scans two items into each and despatches each in its own
 * case to the cold-chain carrier, which receives them. Two items of one batch then have two
 * different paths, which the demo prints with the lot card's URL.
 */
import { ssccFor } from "../../server/src/domain/sscc.ts";
import { apiClient, type ApiClient, type ApiResponse } from "./api-client.ts";
import { DEMO_COMPANY_PREFIX, type DemoSystemSummary } from "./demo-system.ts";

/** Items in the shop's case: a 24-item carton, as the gas bench's case. */
export const SHOP_CASE_ITEMS = 24;
const ORDER_ITEMS = 2;

export interface DemoPath {
  /** The item's Digital Link. */
  uri: string;
  sscc: string;
  /** Who the case went to, in words. */
  to: string;
  /** The order it was sold in, when it was. */
  order: { id: string; channel: "platform" | "live_stream" } | null;
}

export interface DemoJourneys {
  shop: DemoPath;
  platform: DemoPath;
  liveStream: DemoPath;
  /** Every case the demo packed (for waiting until they are anchored). */
  ssccs: string[];
}

function accepted<T>(response: ApiResponse<T>, what: string): T {
  if (response.status < 200 || response.status > 202) {
    throw new Error(`${what}: HTTP ${String(response.status)} ${JSON.stringify(response.body)}`);
  }
  return response.body;
}

interface OrderAnswer {
  order: { id: string };
}

async function despatchOrder(
  seller: ApiClient,
  channel: "platform" | "live_stream",
  items: readonly string[],
  sscc: string,
  carrierId: string,
  occurredAt: string,
  lot: { gtin: string; lot: string },
): Promise<string> {
  const order = accepted(
    await seller.post<OrderAnswer>(
      "/api/v1/orders",
      {
        buyerReference: channel === "live_stream" ? "DY-FAN-20260416-0088" : "TM-20260416-3371",
        sellerOrderNumber: channel === "live_stream" ? "LS-0416-0088" : "WEB-0416-3371",
        channel,
        ...(channel === "live_stream"
          ? { liveStream: { platform: "抖音", title: "明前龙井 产地直播", startedAt: "2026-04-16T20:00:00+08:00" } }
          : {}),
        lines: [{ gtin: lot.gtin, lot: lot.lot, quantity: items.length }],
      },
      { idempotencyKey: `demo-order-${channel}` },
    ),
    `create the ${channel} order`,
  ).order.id;
  accepted(
    await seller.post(`/api/v1/orders/${order}/items`, { codes: items }, { idempotencyKey: `demo-scan-${channel}` }),
    `scan items into the ${channel} order`,
  );
  accepted(
    await seller.post(
      `/api/v1/orders/${order}/despatch`,
      { sscc, shipTo: carrierId, occurredAt },
      { idempotencyKey: `demo-despatch-${channel}` },
    ),
    `despatch the ${channel} order`,
  );
  return order;
}

async function receive(receiver: ApiClient, sscc: string, occurredAt: string): Promise<void> {
  accepted(
    await receiver.post(
      `/api/v1/containers/${sscc}/events`,
      { action: "receiving", occurredAt },
      { idempotencyKey: `demo-receive-${sscc}` },
    ),
    `receive case ${sscc}`,
  );
}

async function waitForAttestation(api: ApiClient, batchId: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = (await api.get<{ batch: { ledger: { state: string } } }>(`/api/v1/batches/${batchId}`)).body.batch
      .ledger.state;
    if (state === "anchored") return;
    if (state === "failed") throw new Error("the demo batch's attestation failed on the ledger");
    if (Date.now() > deadline) throw new Error(`batch ${batchId} not anchored within ${String(timeoutMs)} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Splits the demo batch into the shop's case and two online orders' cases, each received. */
export async function seedDemoJourneys(baseUrl: string, summary: DemoSystemSummary): Promise<DemoJourneys> {
  const { organisations, batch } = summary;
  const coop = apiClient(baseUrl, organisations.cooperative.token);
  const items = accepted(
    await coop.get<{ items: { uri: string }[] }>(
      `/api/v1/batches/${batch.batchId}/items?limit=${String(SHOP_CASE_ITEMS + 2 * ORDER_ITEMS)}&offset=100`,
    ),
    "list the batch's items",
  ).items.map((item) => item.uri);
  if (items.length < SHOP_CASE_ITEMS + 2 * ORDER_ITEMS) throw new Error("the demo batch has too few items to split");
  const [shopSscc, platformSscc, liveSscc] = [1n, 2n, 3n].map((n) => ssccFor(0, DEMO_COMPANY_PREFIX, n)) as [
    string,
    string,
    string,
  ];

  const shopItems = items.slice(0, SHOP_CASE_ITEMS);
  accepted(
    await coop.post(
      "/api/v1/containers",
      { sscc: shopSscc, items: shopItems, occurredAt: "2026-04-17T10:00:00+08:00", shipTo: organisations.retailer.id },
      { idempotencyKey: "demo-shop-case" },
    ),
    "pack and despatch the shop's case",
  );
  await receive(apiClient(baseUrl, organisations.retailer.token), shopSscc, "2026-04-18T18:00:00+08:00");

  // Orders are taken only for a lot the registry has accepted (its attestation, not its events).
  await waitForAttestation(coop, batch.batchId);
  const lot = { gtin: batch.gtin, lot: batch.lot };
  const carrier = apiClient(baseUrl, organisations.logistics.token);
  const platformItems = items.slice(SHOP_CASE_ITEMS, SHOP_CASE_ITEMS + ORDER_ITEMS);
  const liveItems = items.slice(SHOP_CASE_ITEMS + ORDER_ITEMS);
  const platformOrder = await despatchOrder(
    coop,
    "platform",
    platformItems,
    platformSscc,
    organisations.logistics.id,
    "2026-04-17T11:00:00+08:00",
    lot,
  );
  const liveOrder = await despatchOrder(
    coop,
    "live_stream",
    liveItems,
    liveSscc,
    organisations.logistics.id,
    "2026-04-17T11:30:00+08:00",
    lot,
  );
  await receive(carrier, platformSscc, "2026-04-17T16:00:00+08:00");
  await receive(carrier, liveSscc, "2026-04-17T16:00:00+08:00");

  const first = (list: readonly string[]): string => list[0] ?? "";
  return {
    shop: { uri: first(shopItems), sscc: shopSscc, to: "上海茶韵专卖店 Shanghai Chayun Tea Shop", order: null },
    platform: {
      uri: first(platformItems),
      sscc: platformSscc,
      to: "浙冷链物流 Zhe Cold-Chain Logistics (parcel to an online buyer)",
      order: { id: platformOrder, channel: "platform" },
    },
    liveStream: {
      uri: first(liveItems),
      sscc: liveSscc,
      to: "浙冷链物流 Zhe Cold-Chain Logistics (parcel to a live-stream buyer)",
      order: { id: liveOrder, channel: "live_stream" },
    },
    ssccs: [shopSscc, platformSscc, liveSscc],
  };
}

/** Polls each case until every step of it is anchored, or fails after `timeoutMs`. */
export async function waitUntilCasesAnchored(
  baseUrl: string,
  token: string,
  ssccs: readonly string[],
  timeoutMs = 120_000,
): Promise<void> {
  const api = apiClient(baseUrl, token);
  const deadline = Date.now() + timeoutMs;
  for (const sscc of ssccs) {
    for (;;) {
      const answer = await api.get<{ container?: { steps?: { ledger?: { state?: string }; ledgerState?: string }[] } }>(
        `/api/v1/containers/${sscc}`,
      );
      const states = (answer.body.container?.steps ?? []).map((step) => step.ledger?.state ?? step.ledgerState);
      if (states.includes("failed")) throw new Error(`a step of case ${sscc} failed on the ledger`);
      if (answer.status === 200 && states.length > 0 && states.every((state) => state === "anchored")) break;
      if (Date.now() > deadline) throw new Error(`case ${sscc} not anchored within ${String(timeoutMs)} ms`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** The lines the demo prints: two items of one batch, each with its own case and where it went. */
export function journeyLines(journeys: DemoJourneys, origin: string, gtin: string, lot: string): string {
  const path = (label: string, p: DemoPath): string =>
    `  ${label}\n    ${p.uri.replace(/^https?:\/\/[^/]+/, origin)}\n    case (SSCC) ${p.sscc} → ${p.to}${
      p.order === null
        ? ""
        : `, order ${p.order.id} (${p.order.channel === "live_stream" ? "live stream 直播" : "online platform"})`
    }`;
  return `Each item's own path (one batch, split into cases):
${path("item for the Shanghai shop 门店:", journeys.shop)}
${path("item sold in the live stream 直播:", journeys.liveStream)}
${path("item sold online 网店:", journeys.platform)}
Lot card for the live stream (show it on screen; PNG overlay at …/card.png):
  ${origin}/01/${gtin}/10/${lot}`;
}
