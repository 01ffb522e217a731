/**
 * Realistic stored records for export tests and benchmarks: an Anji white-tea batch from
 * planting to the shop shelf, recalled at the end, and a generator of large exports.
 * Records are built in the shapes storage returns, with real GTIN check digits.
 */
import { createHash } from "node:crypto";

import type { EventData } from "../../server/src/domain/documents.ts";
import { gtinCheckDigit } from "../../server/src/domain/gs1.ts";
import type { BizStep } from "../../server/src/domain/typed-data.ts";
import type { Batch, LedgerPosition } from "../../server/src/storage/batches.ts";
import type { Plot, Product } from "../../server/src/storage/catalogue.ts";
import type { TraceEvent } from "../../server/src/storage/events.ts";
import type { Organisation } from "../../server/src/storage/organisations.ts";
import type { OrganisationKind } from "../../server/src/domain/enumerations.ts";
import type { ExportBatch, ExportEvent, ExportInput } from "../../server/src/exports/types.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

function hex32(seed: string): string {
  return `0x${createHash("sha256").update(seed).digest("hex")}`;
}

/** A CIDv1 (raw, sha2-256) spelled in base32, as our documents' CIDs are. */
export function fakeCid(seed: string): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  const digest = createHash("sha256").update(seed).digest();
  let text = "bafkrei";
  for (let i = 0; i < 52; i++) text += alphabet.charAt((digest[i % digest.length] ?? 0) % 32);
  return text;
}

function addressOf(seed: string): string {
  return hex32(`address:${seed}`).slice(0, 42);
}

export function gtinFor(body13: string): string {
  return `${body13}${gtinCheckDigit(body13)}`;
}

export function organisation(
  id: string,
  kind: OrganisationKind,
  nameZh: string,
  nameEn: string | null,
  regionCode: string,
): Organisation {
  return {
    id,
    kind,
    nameZh,
    nameEn,
    uscc: "91330523MA2B1C2D3E",
    regionCode,
    signerAddress: addressOf(id),
    custody: { kind: "own" },
    status: "active",
    metadataCid: fakeCid(`org:${id}`),
    ledgerState: "anchored",
    createdAtMs: Date.UTC(2025, 0, 1),
    updatedAtMs: Date.UTC(2025, 0, 1),
  };
}

export const ORGANISATIONS = {
  cooperative: organisation(
    "org-anji-coop",
    "cooperative",
    "安吉县白茶专业合作社",
    "Anji White Tea Cooperative",
    "330523",
  ),
  processor: organisation("org-huzhou-tea", "processor", "湖州茶叶加工有限公司", "Huzhou Tea Processing Co.", "330502"),
  logistics: organisation("org-zj-cold", "logistics", "浙江冷链物流有限公司", null, "330106"),
  retailer: organisation("org-sh-shop", "retailer", "上海名茶超市", "Shanghai Fine Tea Market", "310104"),
  inspector: organisation("org-hz-lab", "inspector", "湖州市农产品质量检测中心", null, "330500"),
} as const;

export const TEA_GTIN = gtinFor("0690123456789");
export const RAW_LEAF_GTIN = gtinFor("0690123456790");

export const TEA_PRODUCT: Product = {
  gtin: TEA_GTIN,
  nameZh: "安吉白茶",
  nameEn: "Anji white tea",
  category: "tea",
  unit: "kg",
  coldChain: { minC: 0, maxC: 8 },
  maxYieldPerHa: 1_500,
  netContent: null,
  createdBy: "user-coop-admin",
  createdAtMs: Date.UTC(2025, 0, 2),
};

export const TEA_PLOT: Plot = {
  id: "plot-huangdu-3",
  organisationId: ORGANISATIONS.cooperative.id,
  name: "溪龙乡黄杜村3号茶园",
  area: 2.5,
  areaUnit: "ha",
  regionCode: "330523",
  location: { latitude: 30.53, longitude: 119.68 },
  createdAtMs: Date.UTC(2025, 0, 2),
};

function anchored(seed: string, blockNumber: number): LedgerPosition {
  return { state: "anchored", failureReason: null, txHash: hex32(`tx:${seed}`), blockNumber };
}

export function batchRecord(gtin: string, lot: string, overrides: Partial<Batch> = {}): Batch {
  const batchId = hex32(`batch:${gtin}:${lot}`);
  return {
    batchId,
    gtin,
    lot,
    organisationId: ORGANISATIONS.cooperative.id,
    plotId: TEA_PLOT.id,
    harvestedAtMs: Date.UTC(2026, 3, 1, 1, 30),
    quantityMilli: 1_250_500n,
    unit: "KGM",
    itemCount: 500,
    itemsRoot: hex32(`root:${batchId}`),
    metadataCid: fakeCid(`metadata:${batchId}`),
    videoCid: null,
    photoCids: [],
    certificateNumber: "HZ-AJ-2026-000123",
    certificationIds: [],
    description: { zh: "安吉白茶 明前特级 250 克罐装", en: "Anji white tea, pre-Qingming grade, 250 g tins" },
    attestation: {
      signerAddress: ORGANISATIONS.cooperative.signerAddress,
      signature: `0x${"11".repeat(65)}`,
      nonce: 1n,
      deadline: 2_000_000_000n,
      typedDataVersion: "1",
    },
    ledger: anchored(`batch:${batchId}`, 100),
    status: "active",
    recall: null,
    createdBy: "user-coop-admin",
    createdAtMs: Date.UTC(2026, 3, 1, 2),
    updatedAtMs: Date.UTC(2026, 3, 1, 2),
    ...overrides,
  };
}

let eventSequence = 0;

export function traceEvent(
  batch: Batch,
  actor: Organisation,
  bizStep: BizStep,
  occurredAtMs: number,
  data: EventData,
  ledger: "anchored" | "pending" = "anchored",
): TraceEvent {
  eventSequence += 1;
  const id = `evt-${eventSequence.toString().padStart(6, "0")}`;
  const digest = hex32(`digest:${batch.batchId}:${id}`);
  const position: LedgerPosition =
    ledger === "anchored"
      ? anchored(id, 200 + eventSequence)
      : { state: "pending", failureReason: null, txHash: null, blockNumber: null };
  return {
    id,
    batchId: batch.batchId,
    bizStep,
    actorOrganisationId: actor.id,
    occurredAtMs,
    payloadCid: fakeCid(`payload:${id}`),
    data,
    counterparty: null,
    signed: {
      signerAddress: actor.signerAddress,
      signature: `0x${"22".repeat(65)}`,
      nonce: BigInt(eventSequence),
      deadline: 2_000_000_000n,
      typedDataVersion: "1",
    },
    digest,
    ledger: position,
    chain: ledger === "anchored" ? { logIndex: 0, eventHead: hex32(`head:${id}`) } : null,
    createdBy: `user-${actor.id}`,
    createdAtMs: occurredAtMs + 60_000,
    updatedAtMs: occurredAtMs + 120_000,
  };
}

/** A cold-chain logger's series: one reading every `stepMinutes`, drifting between 2 and 6 °C. */
export function temperatureSeries(startMs: number, count: number, stepMinutes = 15): EventData["temperatures"] {
  return Array.from({ length: count }, (_, i) => ({
    at: new Date(startMs + i * stepMinutes * 60_000).toISOString(),
    celsius: Math.round((4 + 2 * Math.sin(i / 5)) * 10) / 10,
  }));
}

export interface TeaFixture {
  input: ExportInput;
  batch: Batch;
  entry: ExportBatch;
  /** The events in the order recorded, by step. */
  events: Record<Exclude<BizStep, "recalling">, TraceEvent>;
}

/**
 * One tea batch's whole history: planting → input application → harvesting → cooling →
 * transforming (from a raw-leaf batch) → packing → shipping (temperature series) →
 * receiving → inspecting (residue tests) → certifying → retail selling, then recalled.
 */
export function teaFixture(): TeaFixture {
  const { cooperative, processor, logistics, retailer, inspector } = ORGANISATIONS;
  const harvest = Date.UTC(2026, 3, 1, 1, 30);
  const batch = batchRecord(TEA_GTIN, "AJ2026-0401", {
    status: "recalled",
    recall: { reasonCid: fakeCid("recall-reason"), atMs: harvest + 20 * DAY_MS },
  });
  const event = (
    actor: Organisation,
    step: BizStep,
    atMs: number,
    data: EventData,
    ledger?: "pending",
  ): ExportEvent => ({
    event: traceEvent(batch, actor, step, atMs, data, ledger),
    actor,
  });
  const list: ExportEvent[] = [
    event(cooperative, "planting", harvest - 200 * DAY_MS, {
      note: { zh: "茶苗补种 1200 株", en: "1,200 seedlings replanted" },
    }),
    event(cooperative, "input_application", harvest - 40 * DAY_MS, {
      inputs: [
        { name: "有机肥", kind: "fertilizer", amount: "300", unit: "kg" },
        { name: "苦参碱", kind: "pesticide", amount: "1.5", unit: "litre", registrationNumber: "PD20101867" },
      ],
    }),
    event(cooperative, "harvesting", harvest, { quantity: { value: "1250.5", unit: "kg" } }),
    event(processor, "cooling", harvest + 3 * HOUR_MS, {
      location: { regionCode: "330502", name: "湖州加工厂 2 号冷库" },
      temperatures: temperatureSeries(harvest + 3 * HOUR_MS, 8),
    }),
    event(processor, "transforming", harvest + DAY_MS, {
      inputBatches: [{ gtin: RAW_LEAF_GTIN, lot: "AJ-RAW-0331" }],
      quantity: { value: "250", unit: "kg" },
      referenceDocument: { type: "production_order", number: "PO-2026-0402" },
    }),
    event(processor, "packing", harvest + 2 * DAY_MS, {
      quantity: { value: "1000", unit: "box" },
    }),
    event(logistics, "shipping", harvest + 3 * DAY_MS, {
      counterpartyId: retailer.id,
      referenceDocument: { type: "bill_of_lading", number: "ZJCL-88231" },
      temperatures: temperatureSeries(harvest + 3 * DAY_MS, 48),
    }),
    event(retailer, "receiving", harvest + 4 * DAY_MS, {
      counterpartyId: logistics.id,
      location: { regionCode: "310104", name: "上海名茶超市 徐汇店" },
      referenceDocument: { type: "invoice", number: '=HYPERLINK("http://evil")' },
    }),
    event(inspector, "inspecting", harvest + 5 * DAY_MS, {
      tests: [
        { substance: "联苯菊酯 bifenthrin", method: "GB 23200.113", resultMgPerKg: 0.8, limitMgPerKg: 5, passed: true },
        { substance: "草甘膦 glyphosate", resultMgPerKg: 0.2, limitMgPerKg: 1, passed: true },
      ],
      referenceDocument: { type: "inspection_report", number: "HZQT-2026-0417" },
    }),
    event(inspector, "certifying", harvest + 6 * DAY_MS, {
      referenceDocument: { type: "compliance_certificate", number: "HZ-AJ-2026-000123" },
    }),
    event(retailer, "retail_selling", harvest + 7 * DAY_MS, { quantity: { value: "40", unit: "box" } }, "pending"),
  ];
  const entry: ExportBatch = { batch, product: TEA_PRODUCT, plot: TEA_PLOT, cooperative, events: list };
  const events = Object.fromEntries(list.map(({ event: e }) => [e.bizStep, e])) as TeaFixture["events"];
  return { input: { batches: [entry] }, batch, entry, events };
}

const CYCLE: readonly BizStep[] = [
  "planting",
  "input_application",
  "harvesting",
  "cooling",
  "packing",
  "shipping",
  "receiving",
  "inspecting",
  "retail_selling",
  "shipping",
];

/**
 * `batchCount` batches of `eventsPerBatch` events each (every batch has its harvest, so
 * the export has exactly batchCount × eventsPerBatch events); shipments carry a day's
 * temperature log at one reading an hour.
 */
export function largeExportInput(batchCount: number, eventsPerBatch: number): ExportInput {
  const { cooperative, processor, logistics, retailer, inspector } = ORGANISATIONS;
  const actors: Record<BizStep, Organisation> = {
    planting: cooperative,
    input_application: cooperative,
    harvesting: cooperative,
    cooling: processor,
    transforming: processor,
    packing: processor,
    shipping: logistics,
    receiving: retailer,
    inspecting: inspector,
    certifying: inspector,
    retail_selling: retailer,
    recalling: cooperative,
  };
  const batches: ExportBatch[] = [];
  for (let b = 0; b < batchCount; b++) {
    const batch = batchRecord(TEA_GTIN, `AJ2026-${b.toString().padStart(5, "0")}`);
    const events: ExportEvent[] = [];
    for (let e = 0; e < eventsPerBatch; e++) {
      const step = CYCLE[e % CYCLE.length] ?? "shipping";
      const atMs = batch.harvestedAtMs + (e - 2) * HOUR_MS;
      const data: EventData =
        step === "shipping"
          ? {
              temperatures: temperatureSeries(atMs, 24, 60),
              referenceDocument: { type: "bill_of_lading", number: `BOL-${b}-${e}` },
            }
          : step === "inspecting"
            ? { tests: [{ substance: "bifenthrin", resultMgPerKg: 0.5, limitMgPerKg: 5, passed: true }] }
            : {};
      events.push({ event: traceEvent(batch, actors[step], step, atMs, data), actor: actors[step] });
    }
    batches.push({ batch, product: TEA_PRODUCT, plot: TEA_PLOT, cooperative, events });
  }
  return { batches };
}
