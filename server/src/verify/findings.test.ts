import assert from "node:assert/strict";
import { describe, it } from "node:test";

import type { BatchMetadataDocument, EventPayloadDocument } from "../domain/documents.ts";
import { safetyFindings, testFailed, verdictOf, type FindingInputs } from "./findings.ts";

const metadata = (over: Partial<BatchMetadataDocument> = {}): BatchMetadataDocument => ({
  type: "oioc.batch-metadata",
  version: 2,
  gtin: "06901234567892",
  lot: "L1",
  product: { name: { zh: "龙井", en: "Longjing" }, category: "tea", unit: "kg", coldChain: { minC: 0, maxC: 8 } },
  cooperative: {
    name: { zh: "合作社", en: null },
    uscc: "91330106MA2AXXXX0X",
    regionCode: "330106",
    signer: "0x" + "1".repeat(40),
  },
  plot: null,
  harvestedAt: "2026-05-02T00:00:00.000Z",
  quantity: { value: "5", unit: "kg" },
  itemCount: 6,
  complianceCertificateNumber: "ZJ-2026-0001",
  certifications: [],
  videoCid: null,
  photoCids: [],
  description: null,
  itemsArchiveCid: "b" + "a".repeat(58),
  ...over,
});

const payload = (data: EventPayloadDocument["data"]): EventPayloadDocument => ({
  type: "oioc.event-payload",
  version: 1,
  batch: { gtin: "06901234567892", lot: "L1" },
  bizStep: "shipping",
  occurredAt: "2026-05-03T01:00:00.000Z",
  actor: { name: { zh: "冷链", en: null }, regionCode: "330110", signer: "0x" + "2".repeat(40) },
  data,
  attachmentCids: [],
});

/** Readings every 10 minutes from 2026-05-03 00:00 UTC. */
const series = (celsius: number[]): { at: string; celsius: number }[] =>
  celsius.map((c, i) => ({ at: new Date(Date.parse("2026-05-03T00:00:00Z") + i * 600_000).toISOString(), celsius: c }));

const inputs = (over: Partial<FindingInputs>): FindingInputs => ({
  metadata: metadata(),
  events: [],
  recalledOnChain: false,
  platformColdChain: null,
  ...over,
});

const signedEvent = (p: EventPayloadDocument, signatureValid = true) => ({
  occurredAt: Date.parse(p.occurredAt) / 1000,
  signatureValid,
  payload: p,
});

describe("safety findings", () => {
  it("finds nothing in a clean batch", () => {
    const clean = signedEvent(payload({ temperatures: series([3, 4, 5, 4]) }));
    assert.deepEqual(safetyFindings(inputs({ events: [clean] })), []);
  });

  it("finds a cold-chain excursion against the signed range, in plain words", () => {
    const warm = signedEvent(payload({ temperatures: series([4, 33, 31, 30, 29, 5]) }));
    const [finding, ...rest] = safetyFindings(inputs({ events: [warm] }));
    assert.equal(rest.length, 0);
    assert.equal(finding?.code, "cold_chain_excursion");
    assert.equal(finding.basis, "signed");
    assert.match(finding.zh, /33 °C/);
    assert.match(finding.zh, /0 °C–8 °C/);
    assert.match(finding.en, /reached 33 °C, above this product's 0 °C–8 °C range, for about 40 minutes/);
  });

  it("ignores a blip shorter than the tolerance, and readings of an unsigned or unverified event", () => {
    const blip = signedEvent(payload({ temperatures: series([4, 12, 4]) }));
    const forged = signedEvent(payload({ temperatures: series([4, 40, 40, 40, 40, 4]) }), false);
    assert.deepEqual(safetyFindings(inputs({ events: [blip, forged] })), []);
    assert.deepEqual(safetyFindings(inputs({ events: [{ occurredAt: 0, signatureValid: true, payload: null }] })), []);
  });

  it("uses the platform's range for a version 1 document, and says so", () => {
    const v1 = metadata({ version: 1, product: { name: { zh: "龙井", en: null }, category: "tea", unit: "kg" } });
    const warm = signedEvent(payload({ temperatures: series([4, 33, 33, 33, 4]) }));
    assert.deepEqual(safetyFindings(inputs({ metadata: v1, events: [warm] })), [], "no range, no judgement");
    const [finding] = safetyFindings(inputs({ metadata: v1, events: [warm], platformColdChain: { minC: 0, maxC: 8 } }));
    assert.equal(finding?.basis, "platform");
    assert.match(finding.en, /platform's record, not signed/);
  });

  it("finds a certificate expired, or not yet valid, at the harvest date (China time)", () => {
    const cert = { kind: "organic" as const, issuer: "CQC", scopeGtins: [] };
    const doc = metadata({
      certifications: [
        { ...cert, number: "OLD-1", validFrom: "2024-01-01", validTo: "2026-03-31" },
        { ...cert, number: "NEW-1", validFrom: "2026-06-01", validTo: "2029-05-31" },
        { ...cert, number: "OK-1", validFrom: "2026-05-02", validTo: "2026-05-02" },
        { ...cert, number: "OTHER-1", validFrom: "2020-01-01", validTo: "2020-12-31", scopeGtins: ["06900000000000"] },
      ],
    });
    const found = safetyFindings(inputs({ metadata: doc }));
    assert.deepEqual(
      found.map((f) => f.code),
      ["certification_expired", "certification_not_yet_valid"],
    );
    assert.match(found[0]?.zh ?? "", /有机产品认证（编号 OLD-1）在采收日 2026-05-02 已过期/);
    assert.match(found[0]?.en ?? "", /organic certificate No\. OLD-1 had expired by the harvest date 2026-05-02/);
  });

  it("finds a failed test by its signed flag or by its signed result over its limit", () => {
    const tests = [
      {
        substance: "毒死蜱",
        resultMgPerKg: 0.52,
        limitMgPerKg: 0.1,
        passed: true,
        standard: "GB 2763-2021",
        laboratory: "杭州检测中心",
      },
      { substance: "铅", passed: false },
      { substance: "吡虫啉", resultMgPerKg: 0.01, limitMgPerKg: 0.5, passed: true },
    ];
    const inspection = signedEvent({ ...payload({ tests }), bizStep: "inspecting" });
    const found = safetyFindings(inputs({ events: [inspection] }));
    assert.deepEqual(
      found.map((f) => f.code),
      ["test_failed", "test_failed"],
    );
    assert.match(
      found[0]?.zh ?? "",
      /检测不合格：毒死蜱（检出 0\.52 mg\/kg，限量 0\.1 mg\/kg）。依据 GB 2763-2021，检测机构 杭州检测中心/,
    );
    assert.match(found[0]?.en ?? "", /Failed test: 毒死蜱 \(found 0\.52 mg\/kg, limit 0\.1 mg\/kg\)/);
    assert.equal(testFailed({ passed: true }), false);
    assert.equal(testFailed({ passed: true, resultMgPerKg: 0.1, limitMgPerKg: 0.1 }), false, "at the limit passes");
  });

  it("puts a recall first", () => {
    const warm = signedEvent(payload({ temperatures: series([4, 33, 33, 33, 4]) }));
    const found = safetyFindings(inputs({ events: [warm], recalledOnChain: true }));
    assert.deepEqual(
      found.map((f) => f.code),
      ["recalled", "cold_chain_excursion"],
    );
  });
});

describe("verdictOf", () => {
  const pass = { ok: true };
  const fail = { ok: false };
  const wait = { ok: null };
  const excursion = { code: "cold_chain_excursion" as const };
  const recall = { code: "recalled" as const };

  it("is verified only when every check passed, nothing was found and no clone signal", () => {
    assert.equal(verdictOf([pass, pass], []), "verified");
    assert.equal(verdictOf([pass, pass], [], 1), "suspicious");
  });

  it("is a warning, never verified, when authentic records show a safety problem", () => {
    assert.equal(verdictOf([pass], [excursion]), "warning");
    assert.equal(verdictOf([pass], [excursion], 2), "warning", "the safety problem outranks a clone signal");
  });

  it("keeps recalled its own verdict, even beside a failed check", () => {
    assert.equal(verdictOf([pass], [recall, excursion]), "recalled");
    assert.equal(verdictOf([fail], [recall]), "recalled");
  });

  it("says not verified when a check failed, pending when one waits for the chain", () => {
    assert.equal(verdictOf([pass, fail, wait], [excursion]), "not_verified");
    assert.equal(verdictOf([pass, wait], []), "pending");
    assert.equal(verdictOf([pass, wait], [excursion]), "pending");
  });
});
