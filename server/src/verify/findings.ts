/**
 * Safety findings and the verdict. "Verified" means the records are authentic AND nothing
 * in them is a safety problem, so after the authenticity checks the core reads what the
 * verified records say: a cold-chain excursion, a certificate not valid on the harvest date,
 * a failed inspection, a recall. Findings are computed only from data whose bytes matched a
 * signed CID (the metadata document, event payloads of correctly signed events) and from the
 * chain's batch status; the one exception is a cold-chain range that only the platform
 * records (metadata version 1 carries none), which is used and labelled as such.
 *
 * Each finding carries a stable code and a plain-words sentence in Chinese and English,
 * built here so the page and the CLI say the same thing.
 */
import { chinaDate } from "../domain/china-time.ts";
import { analyseValidSeries, type TemperatureReading } from "../domain/cold-chain-series.ts";
import type { BatchMetadataDocument, EventPayloadDocument } from "../domain/documents.ts";
import type { CheckOutcome, Verdict } from "./checks.ts";

export type FindingCode =
  | "recalled"
  | "cold_chain_excursion"
  | "certification_expired"
  | "certification_not_yet_valid"
  | "test_failed"
  // The item's cases and pallets (verify/containers.ts).
  | "container_forged"
  | "container_proof_failed"
  | "container_chain_mismatch"
  | "in_two_live_containers"
  | "shipped_after_sale";

/** Findings that say the code may be a copy, not that the product is unsafe: the verdict is `suspicious`. */
export const CLONE_FINDINGS: ReadonlySet<FindingCode> = new Set<FindingCode>([
  "in_two_live_containers",
  "shipped_after_sale",
]);

export interface Finding {
  code: FindingCode;
  /**
   * `signed`: judged only from signed data. `platform`: signed readings judged against a
   * range the platform records but the cooperative did not sign.
   */
  basis: "signed" | "platform";
  zh: string;
  en: string;
}

/** As the regulator's audit judges excursions: 15 minutes out of range count; 2 h without a reading is a gap. */
export const EXCURSION_TOLERANCE_SECONDS = 15 * 60;
export const EXCURSION_MAX_GAP_SECONDS = 2 * 3600;

export interface ColdChainRangeC {
  minC: number;
  maxC: number;
}

/** What findings are computed from: only verified data (see the module comment). */
export interface FindingInputs {
  /** The metadata document, only when its bytes matched the signed CID. */
  metadata: BatchMetadataDocument | null;
  events: readonly {
    occurredAt: number;
    signatureValid: boolean;
    /** Only when its bytes matched the signed CID. */
    payload: EventPayloadDocument | null;
  }[];
  /** The chain says the batch is recalled and the item is proven to belong to it. */
  recalledOnChain: boolean;
  /** The platform's record of the product's range, used only when the signed metadata has none. */
  platformColdChain: ColdChainRangeC | null;
}

const CERT_NAMES: Record<string, readonly [string, string]> = {
  pollution_free: ["无公害农产品认证", "pollution-free produce certificate"],
  green_food: ["绿色食品认证", "Green Food certificate"],
  organic: ["有机产品认证", "organic certificate"],
  geographical_indication: ["农产品地理标志", "geographical indication"],
};

const isFiniteNumber = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);

function celsius(value: number): string {
  return `${String(Math.round(value * 10) / 10)} °C`;
}

function duration(seconds: number): { zh: string; en: string } {
  const minutes = Math.max(1, Math.round(seconds / 60));
  if (minutes < 90) return { zh: `${String(minutes)} 分钟`, en: `${String(minutes)} minutes` };
  const hours = Math.round(minutes / 6) / 10;
  return { zh: `${String(hours)} 小时`, en: `${String(hours)} hours` };
}

/** The readings of a payload, only those well formed (the page's document guards are shallow). */
export function readingsOf(payload: EventPayloadDocument): TemperatureReading[] {
  const series = (payload.data as { temperatures?: unknown }).temperatures;
  if (!Array.isArray(series)) return [];
  const readings: TemperatureReading[] = [];
  for (const reading of series as unknown[]) {
    if (typeof reading !== "object" || reading === null) continue;
    const { at, celsius: value } = reading as { at?: unknown; celsius?: unknown };
    const ms = typeof at === "string" ? Date.parse(at) : Number.NaN;
    if (Number.isFinite(ms) && isFiniteNumber(value)) readings.push({ at: ms / 1000, celsius: value });
  }
  return readings;
}

function validRange(range: unknown): ColdChainRangeC | null {
  if (typeof range !== "object" || range === null) return null;
  const { minC, maxC } = range as { minC?: unknown; maxC?: unknown };
  return isFiniteNumber(minC) && isFiniteNumber(maxC) && minC <= maxC ? { minC, maxC } : null;
}

/** The range excursions are judged against, and whether it was signed. */
export function coldChainRangeOf(
  metadata: BatchMetadataDocument | null,
  platform: ColdChainRangeC | null,
): { range: ColdChainRangeC; basis: Finding["basis"] } | null {
  const signed = validRange(metadata?.product.coldChain);
  if (signed !== null) return { range: signed, basis: "signed" };
  const reported = validRange(platform);
  return reported === null ? null : { range: reported, basis: "platform" };
}

function excursionFindings(inputs: FindingInputs, payloads: readonly EventPayloadDocument[]): Finding[] {
  const judged = coldChainRangeOf(inputs.metadata, inputs.platformColdChain);
  if (judged === null) return [];
  const { range, basis } = judged;
  const findings: Finding[] = [];
  const rangeText = `${celsius(range.minC)}–${celsius(range.maxC)}`;
  const note =
    basis === "platform"
      ? { zh: "（保存温度范围为平台登记，未经合作社签名）", en: " (the range is the platform's record, not signed)" }
      : { zh: "", en: "" };
  for (const payload of payloads) {
    const readings = readingsOf(payload);
    if (readings.length === 0) continue;
    const { excursions } = analyseValidSeries(readings, {
      minCelsius: range.minC,
      maxCelsius: range.maxC,
      toleranceSeconds: EXCURSION_TOLERANCE_SECONDS,
      maxGapSeconds: EXCURSION_MAX_GAP_SECONDS,
    });
    for (const excursion of excursions) {
      const lasted = duration(excursion.durationSeconds);
      const day = chinaDate(excursion.start * 1000);
      const warm = excursion.kind === "too_warm";
      findings.push({
        code: "cold_chain_excursion",
        basis,
        zh: `冷链温度异常：${day} 的温度记录${warm ? "最高" : "最低"}达 ${celsius(excursion.worstCelsius)}，超出本产品 ${rangeText} 的保存范围，持续约 ${lasted.zh}${note.zh}。`,
        en: `Cold-chain break: on ${day} the temperature reached ${celsius(excursion.worstCelsius)}, ${warm ? "above" : "below"} this product's ${rangeText} range, for about ${lasted.en}${note.en}.`,
      });
    }
  }
  return findings;
}

function certificationFindings(metadata: BatchMetadataDocument): Finding[] {
  const harvestedMs = Date.parse(metadata.harvestedAt);
  if (!Number.isFinite(harvestedMs)) return [];
  const harvest = chinaDate(harvestedMs);
  const findings: Finding[] = [];
  for (const cert of metadata.certifications) {
    // A certificate for other products says nothing about this one.
    const scope = Array.isArray(cert.scopeGtins) ? cert.scopeGtins : [];
    if (scope.length > 0 && !scope.includes(metadata.gtin)) continue;
    const [zhName, enName] = CERT_NAMES[cert.kind] ?? [cert.kind, cert.kind];
    if (cert.validTo < harvest) {
      findings.push({
        code: "certification_expired",
        basis: "signed",
        zh: `证书过期：${zhName}（编号 ${cert.number}）在采收日 ${harvest} 已过期（有效期至 ${cert.validTo}），该批次不能使用此认证。`,
        en: `Expired certificate: the ${enName} No. ${cert.number} had expired by the harvest date ${harvest} (valid until ${cert.validTo}); it does not cover this batch.`,
      });
    } else if (cert.validFrom > harvest) {
      findings.push({
        code: "certification_not_yet_valid",
        basis: "signed",
        zh: `证书未生效：${zhName}（编号 ${cert.number}）自 ${cert.validFrom} 起有效，晚于采收日 ${harvest}，不适用于该批次。`,
        en: `Certificate not yet valid: the ${enName} No. ${cert.number} is valid from ${cert.validFrom}, after the harvest date ${harvest}; it does not cover this batch.`,
      });
    }
  }
  return findings;
}

/** A test failed when its signed record says so, or when its signed result exceeds its signed limit. */
export function testFailed(test: { passed?: unknown; resultMgPerKg?: unknown; limitMgPerKg?: unknown }): boolean {
  if (test.passed === false) return true;
  return (
    isFiniteNumber(test.resultMgPerKg) && isFiniteNumber(test.limitMgPerKg) && test.resultMgPerKg > test.limitMgPerKg
  );
}

function testFindings(payload: EventPayloadDocument, occurredAt: number): Finding[] {
  const tests = (payload.data as { tests?: unknown }).tests;
  if (!Array.isArray(tests)) return [];
  const findings: Finding[] = [];
  for (const test of tests as unknown[]) {
    if (typeof test !== "object" || test === null) continue;
    const t = test as Record<string, unknown>;
    if (!testFailed(t)) continue;
    const substance = typeof t.substance === "string" ? t.substance : "?";
    const measured = isFiniteNumber(t.resultMgPerKg) ? `${String(t.resultMgPerKg)} mg/kg` : null;
    const limit = isFiniteNumber(t.limitMgPerKg) ? `${String(t.limitMgPerKg)} mg/kg` : null;
    const lab = typeof t.laboratory === "string" && t.laboratory !== "" ? t.laboratory : null;
    const standard = [t.method, t.standard].filter((s): s is string => typeof s === "string" && s !== "").join("; ");
    const day = chinaDate(occurredAt * 1000);
    const zhParts = [measured === null ? null : `检出 ${measured}`, limit === null ? null : `限量 ${limit}`];
    const enParts = [measured === null ? null : `found ${measured}`, limit === null ? null : `limit ${limit}`];
    const zhSource = [standard === "" ? null : `依据 ${standard}`, lab === null ? null : `检测机构 ${lab}`, day];
    const enSource = [standard === "" ? null : `by ${standard}`, lab === null ? null : `lab: ${lab}`, day];
    const join = (parts: (string | null)[], sep: string): string => parts.filter((p) => p !== null).join(sep);
    findings.push({
      code: "test_failed",
      basis: "signed",
      zh: `检测不合格：${substance}${zhParts.some((p) => p !== null) ? `（${join(zhParts, "，")}）` : ""}。${join(zhSource, "，")}。`,
      en: `Failed test: ${substance}${enParts.some((p) => p !== null) ? ` (${join(enParts, ", ")})` : ""}. ${join(enSource, ", ")}.`,
    });
  }
  return findings;
}

/** Every safety finding in what was verified, the recall first. */
export function safetyFindings(inputs: FindingInputs): Finding[] {
  const findings: Finding[] = [];
  if (inputs.recalledOnChain) {
    findings.push({
      code: "recalled",
      basis: "signed",
      zh: "该批次已被召回：请勿食用，可联系商家退货。",
      en: "This batch has been recalled: do not eat it; ask the shop for a refund.",
    });
  }
  const trusted = inputs.events.filter(
    (e): e is typeof e & { payload: EventPayloadDocument } => e.signatureValid && e.payload !== null,
  );
  findings.push(
    ...excursionFindings(
      inputs,
      trusted.map((e) => e.payload),
    ),
  );
  if (inputs.metadata !== null) findings.push(...certificationFindings(inputs.metadata));
  for (const e of trusted) findings.push(...testFindings(e.payload, e.occurredAt));
  return findings;
}

/**
 * The verdict from the checks' outcomes, the findings and the number of clone signals:
 * `recalled` when a recall was found (only found for an item proven to be in the batch,
 * even if other checks failed: a recall must never be hidden); `not_verified` when any
 * check failed; `pending` when a check waits for the chain; `warning` when the records are
 * authentic but show a safety problem; `suspicious` when the server reports clone signals
 * or the verified containers show a copy (CLONE_FINDINGS);
 * else `verified`.
 */
export function verdictOf(
  checks: readonly Pick<CheckOutcome, "ok">[],
  findings: readonly Pick<Finding, "code">[],
  cloneSignals = 0,
): Verdict {
  if (findings.some((f) => f.code === "recalled")) return "recalled";
  if (checks.some((c) => c.ok === false)) return "not_verified";
  if (checks.some((c) => c.ok === null)) return "pending";
  const copied = findings.filter((f) => CLONE_FINDINGS.has(f.code)).length;
  if (findings.length > copied) return "warning";
  if (cloneSignals + copied > 0) return "suspicious";
  return "verified";
}
