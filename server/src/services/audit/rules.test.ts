import assert from "node:assert/strict";
import { describe, it } from "node:test";

import type { BatchMetadataDocument } from "../../domain/documents.ts";
import type { GatheredBatch } from "./gather.ts";
import { auditAcrossBatches, auditBatch, type AuditContext, type CrossBatchEntry } from "./rules.ts";

const ZERO = `0x${"00".repeat(32)}`;
const ZERO_ADDRESS = `0x${"00".repeat(20)}`;
const COOP = "0x1111111111111111111111111111111111111111";
const OTHER_COOP = "0x2222222222222222222222222222222222222222";

interface Planted {
  lot?: string;
  /** Harvested quantity in thousandths of `unit` (a Rec 20 code). */
  quantityMilli?: bigint;
  unit?: string;
  itemCount?: number;
  harvestedAt?: string;
  attester?: string;
  plot?: { id: string; areaHa: number } | null;
}

/** A batch as the gatherer returns it when everything re-verifies: only what a rule reads varies. */
function gathered(options: Planted = {}): GatheredBatch {
  const lot = options.lot ?? "L1";
  const batchId = `0x${Buffer.from(lot.padEnd(32, "-")).toString("hex")}`;
  const itemCount = options.itemCount ?? 10;
  const attester = options.attester ?? COOP;
  const harvestedAt = options.harvestedAt ?? "2026-04-20T06:00:00+08:00";
  const plot = options.plot === undefined ? { id: "plot-1", areaHa: 0.83 } : options.plot;
  const metadata: BatchMetadataDocument = {
    type: "oioc.batch-metadata",
    version: 1,
    gtin: "06901234567892",
    lot,
    product: { name: { zh: "龙井", en: null }, category: "tea", unit: "kg" },
    cooperative: {
      name: { zh: "合作社", en: null },
      uscc: "93330106000001000X",
      regionCode: "330106",
      signer: attester,
    },
    plot: plot === null ? null : { ...plot, name: plot.id, regionCode: "330106" },
    harvestedAt,
    quantity: { value: "1", unit: "kg" },
    itemCount,
    complianceCertificateNumber: null,
    certifications: [],
    videoCid: null,
    photoCids: [],
    description: null,
    itemsArchiveCid: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
  };
  return {
    batchId,
    onChain: {
      batchId,
      itemsRoot: ZERO,
      attester,
      itemCount,
      status: "active",
      eventHead: ZERO,
      custodian: ZERO_ADDRESS,
      pendingReceiver: ZERO_ADDRESS,
    },
    attestation: {
      value: {
        attester,
        gtin: 6901234567892n,
        lot,
        itemsRoot: ZERO,
        itemCount: BigInt(itemCount),
        quantityMilli: options.quantityMilli ?? 250_000n,
        unit: options.unit ?? "KGM",
        harvestedAt: BigInt(Date.parse(harvestedAt) / 1000),
        metadataCid: ZERO,
        nonce: 1n,
        deadline: 2_000_000_000n,
      },
      signature: "0x",
      signatureValid: true,
      blockNumber: 10,
      transactionHash: ZERO,
    },
    attester: { registered: true, registeredBeforeAttesting: true, regionCode: 330106, suspended: false },
    events: [],
    recalls: [],
    metadata,
    contents: [],
    items: { recomputedRoot: null, count: null },
    eventHead: { onChain: ZERO, recomputed: ZERO },
  };
}

function context(netContent: { value: string; unit: string } | null | undefined): AuditContext {
  return {
    nowMs: Date.parse("2026-05-01T00:00:00Z"),
    product: { category: "tea", coldChain: null, netContent },
    scans: { itemsFlagged: 0, worstItem: null, unknownCodes: 0 },
  };
}

const TIN = { value: "250", unit: "g" };

void describe("mass balance: items issued against the harvest", () => {
  void it("flags 100 tins of 250 g from a 10 kg harvest, and nothing else", () => {
    const { findings } = auditBatch(gathered({ quantityMilli: 10_000n, itemCount: 100 }), context(TIN));
    assert.deepEqual(
      findings.map((f) => [f.code, f.severity]),
      [["mass_balance.items_exceeded", "critical"]],
    );
    assert.deepEqual(findings[0]?.evidence, { itemCount: 100, netContent: TIN, issuedKg: 25, harvestedKg: 10 });
  });

  void it("accepts items holding exactly the harvest, and flags one item more", () => {
    assert.deepEqual(auditBatch(gathered({ quantityMilli: 10_000n, itemCount: 40 }), context(TIN)).findings, []);
    assert.deepEqual(
      auditBatch(gathered({ quantityMilli: 10_000n, itemCount: 41 }), context(TIN)).findings.map((f) => f.code),
      ["mass_balance.items_exceeded"],
    );
  });

  void it("weighs across units exactly: 0.01 t harvested, 10,001 items of 1 g; 2 kg items from 3,000 g", () => {
    const tonnes = gathered({ quantityMilli: 10n, unit: "TNE", itemCount: 10_001 });
    assert.deepEqual(
      auditBatch(tonnes, context({ value: "1", unit: "g" })).findings.map((f) => f.evidence.issuedKg),
      [10.001],
    );
    const grams = gathered({ quantityMilli: 3_000_000n, unit: "GRM", itemCount: 2 });
    assert.deepEqual(
      auditBatch(grams, context({ value: "2", unit: "kg" })).findings.map((f) => f.code),
      ["mass_balance.items_exceeded"],
    );
    assert.deepEqual(auditBatch(grams, context({ value: "1.5", unit: "kg" })).findings, []);
  });

  void it("cannot run without a declared mass on both sides, and then finds nothing rather than guessing", () => {
    const many = { quantityMilli: 10_000n, itemCount: 100_000 };
    for (const declared of [null, undefined, { value: "1", unit: "litre" }, { value: "abc", unit: "g" }]) {
      assert.deepEqual(auditBatch(gathered(many), context(declared)).findings, [], JSON.stringify(declared));
    }
    assert.deepEqual(auditBatch(gathered({ ...many, unit: "XBX" }), context(TIN)).findings, [], "harvest in boxes");
  });
});

void describe("mass balance: a cooperative's year against all its land", () => {
  const codes = (entries: CrossBatchEntry[]): string[] => auditAcrossBatches(entries).map((f) => f.code);
  /** `kg` of tea, no plot named. */
  const plotless = (lot: string, kg: number, more: Planted = {}): GatheredBatch =>
    gathered({ lot, quantityMilli: BigInt(kg * 1000), plot: null, ...more });

  void it("finds nothing for the demo cooperative: 250 kg of tea from 0.83 ha", () => {
    assert.deepEqual(codes([{ batch: gathered(), category: "tea" }]), []);
  });

  void it("adds plot-less batches to the rest and compares with every plot's yearly capacity", () => {
    // 0.01 ha of tea: 0.01 × 6,000 kg/ha × 4 flushes = 240 kg a year.
    const small = { id: "plot-small", areaHa: 0.01 };
    const entries: CrossBatchEntry[] = [
      { batch: gathered({ lot: "A", quantityMilli: 100_000n, plot: small }), category: "tea" },
      { batch: plotless("B", 100), category: "tea" },
      { batch: plotless("C", 50), category: "tea" },
    ];
    const findings = auditAcrossBatches(entries);
    assert.deepEqual(
      findings.map((f) => [f.code, f.severity]),
      [["mass_balance.cooperative_total_exceeded", "critical"]],
    );
    const evidence = findings[0]?.evidence ?? {};
    assert.equal(evidence.cooperative, COOP);
    assert.equal(evidence.category, "tea");
    assert.equal(evidence.year, "2026");
    assert.equal(evidence.harvestedKg, 250);
    assert.equal(evidence.batchesWithoutPlot, 2);
    assert.deepEqual(evidence.plots, [small]);
    assert.equal(evidence.maxKg, 240);
    assert.equal(evidence.noPlotArea, undefined);
    assert.deepEqual(codes(entries.slice(0, 2)), [], "200 kg fit in 240");
  });

  void it("counts the cooperative's registered plots, named in a batch or not", () => {
    const batches = [
      { batch: plotless("B", 100), category: "tea" },
      { batch: plotless("C", 100), category: "tea" },
    ];
    const registered = { id: "org-1", plots: [{ id: "plot-registered", areaHa: 0.01 }] };
    assert.deepEqual(
      codes(batches.map((b) => ({ ...b, cooperative: registered }))),
      [],
      "200 kg from a registered 0.01 ha",
    );
    const findings = auditAcrossBatches(batches);
    assert.deepEqual(
      findings.map((f) => f.code),
      ["mass_balance.cooperative_total_exceeded"],
    );
    const evidence = findings[0]?.evidence ?? {};
    assert.equal(evidence.areaHa, 0);
    assert.equal(evidence.noPlotArea, "no plot area is known for this cooperative");
  });

  void it("keeps cooperatives, calendar years (China time) and categories apart", () => {
    const plot = { id: "plot-small", areaHa: 0.01 };
    const entries: CrossBatchEntry[] = [
      { batch: gathered({ lot: "A", quantityMilli: 200_000n, plot }), category: "tea" },
      // New Year's Eve 23:30 in China is still 2025 there (15:30 UTC).
      { batch: plotless("B", 200, { harvestedAt: "2025-12-31T23:30:00+08:00" }), category: "tea" },
      { batch: plotless("C", 200, { attester: OTHER_COOP }), category: "rice" },
      { batch: plotless("D", 200), category: "rice" },
      { batch: plotless("E", 200), category: "other" },
      { batch: plotless("F", 200), category: null },
    ];
    // Rice on the same 0.01 ha: 0.01 × 18,000 × 2 = 360 kg a year; the other cooperative has no land at all.
    assert.deepEqual(
      auditAcrossBatches(entries).map((f) => [
        f.evidence.cooperative,
        f.evidence.category,
        f.evidence.year,
        f.evidence.harvestedKg,
        f.evidence.maxKg,
      ]),
      [[OTHER_COOP, "rice", "2026", 200, 0]],
    );
  });
});

void describe("authority: who was entitled, as the verifier judged it from the registry's logs", () => {
  const judged = (findings: NonNullable<GatheredBatch["authority"]>["findings"]): GatheredBatch => ({
    ...gathered(),
    authority: {
      cooperative: COOP,
      entitlement: null,
      events: [],
      handovers: [],
      custody: { custodian: null, pendingReceiver: null },
      findings,
    },
  });

  void it("reports a squatted GTIN, an event without custody and unsigned grants, each with its evidence", () => {
    const report = auditBatch(
      judged([
        { code: "not_entitled", gtin: "06901234567892", attester: OTHER_COOP, owner: COOP },
        { code: "no_custody", index: 3, actor: OTHER_COOP, step: "shipping", reason: "no_custody" },
        { code: "custody_transfers", recomputed: 1, logged: 2 },
        { code: "grant_signature", gtin: "06901234567892", owner: COOP, grantee: OTHER_COOP },
        { code: "inspection_request_not_regulator", inspector: OTHER_COOP, requestedBy: COOP },
        { code: "attestation_missing" },
      ]),
      context(null),
    );
    assert.ok(report.checked.includes("authority"));
    assert.deepEqual(
      report.findings.map((f) => [f.code, f.severity]),
      [
        ["authority.not_entitled", "critical"],
        ["authority.no_custody", "critical"],
        ["authority.custody_transfers", "critical"],
        ["authority.unsigned_grant", "warning"],
        ["authority.request_not_regulator", "warning"],
      ],
    );
    assert.deepEqual(report.findings[1]?.evidence, {
      index: 3,
      bizStep: "shipping",
      actor: OTHER_COOP,
      reason: "no_custody",
    });
  });

  void it("finds nothing when every say was entitled, or when no judgement was gathered", () => {
    assert.deepEqual(auditBatch(judged([]), context(null)).findings, []);
    assert.deepEqual(auditBatch(gathered(), context(null)).findings, []);
  });
});
