/**
 * The audit's rules: pure functions from gathered, re-verified evidence to findings.
 * Each finding has a stable code, a severity, fixed zh/en messages and the values that
 * support it; each rule family reports that it ran, so "no findings" says what was
 * checked. Nothing here reads a database, a chain or a network.
 */
import { chinaDate } from "../../domain/china-time.ts";
import { analyseTemperatures } from "../../domain/cold-chain.ts";
import { parseRegionCode } from "../../domain/region.ts";
import { massMilligrams, quantityMilli, unitFromCode, UNITS, type UnitName } from "../../domain/units.ts";
import type { GatheredBatch } from "./gather.ts";
import type { AuditFinding } from "./report.ts";
import { yieldCeiling } from "../../domain/yield-ceilings.ts";
import { auditContainers, lotPacking, packedOverRegistered } from "./container-rules.ts";

/** What the chain and IPFS cannot say, from the platform's records (and labelled as such). */
export interface AuditContext {
  nowMs: number;
  product: {
    category: string;
    coldChain: { minC: number; maxC: number } | null;
    /** Net content per item ("250", "g"); null or absent when the product declares none. */
    netContent?: { value: string; unit: string } | null;
  } | null;
  /** Clone signals over the batch's items, from the scan records. */
  scans: {
    itemsFlagged: number;
    worstItem: { serial: string; scansDay: number; scansWeek: number } | null;
    unknownCodes: number;
  };
  /** When consumers claimed items (bought them), by `${batchId}/${serial}`: the platform's record. */
  claims?: ReadonlyMap<string, number>;
}

type Message = Pick<AuditFinding, "code" | "severity" | "en" | "zh">;

const M = {
  notOnChain: {
    code: "integrity.not_on_chain",
    severity: "critical",
    en: "The batch is not on the ledger.",
    zh: "账本上没有该批次。",
  },
  signature: {
    code: "integrity.signature",
    severity: "critical",
    en: "The attestation's signature is not the attester's.",
    zh: "批次声明的签名与声明人不符。",
  },
  attester: {
    code: "integrity.attester",
    severity: "critical",
    en: "The attester was not a registered organisation when it attested.",
    zh: "声明时声明人并非已登记的组织。",
  },
  itemsRoot: {
    code: "integrity.items_root",
    severity: "critical",
    en: "The item list does not rebuild the Merkle root on chain.",
    zh: "商品码清单无法重建链上的默克尔根。",
  },
  itemCount: {
    code: "integrity.item_count",
    severity: "critical",
    en: "The number of items differs from the count on chain.",
    zh: "商品数量与链上记录不一致。",
  },
  eventSignature: {
    code: "integrity.event_signature",
    severity: "critical",
    en: "An event's signature is not its actor's.",
    zh: "某事件的签名与其记录人不符。",
  },
  eventChain: {
    code: "integrity.event_chain",
    severity: "critical",
    en: "The events in the logs do not chain to the head on chain.",
    zh: "日志中的事件无法串联到链上的事件链头。",
  },
  cidMissing: {
    code: "integrity.cid_missing",
    severity: "critical",
    en: "Content the batch refers to cannot be fetched.",
    zh: "批次引用的内容无法获取。",
  },
  cidTampered: {
    code: "integrity.cid_tampered",
    severity: "critical",
    en: "Content does not match the CID that was signed.",
    zh: "内容与签名中的内容标识符（CID）不符。",
  },
  cidUnpinned: {
    code: "integrity.cid_unpinned",
    severity: "warning",
    en: "Referenced content is not pinned and may disappear.",
    zh: "被引用的内容未固定（pin），可能丢失。",
  },
  notEntitled: {
    code: "authority.not_entitled",
    severity: "critical",
    en: "The batch was registered by an organisation not entitled to its GTIN (neither its owner nor granted it).",
    zh: "登记该批次的单位无权使用其商品条码（既非条码所有者，也未获授权）。",
  },
  noCustody: {
    code: "authority.no_custody",
    severity: "critical",
    en: "An event was recorded by an organisation that had no custody of the batch and was not asked to inspect it.",
    zh: "有事件由当时不负责该批次、也未受委托检测的单位记录。",
  },
  custodyTransfers: {
    code: "authority.custody_transfers",
    severity: "critical",
    en: "The registry's custody transfers differ from the handovers its events record.",
    zh: "账本记录的保管交接与事件所记录的交接不一致。",
  },
  unsignedGrant: {
    code: "authority.unsigned_grant",
    severity: "warning",
    en: "A GTIN grant or inspection request on the ledger does not carry a valid signature; it was not counted.",
    zh: "账本上的条码授权或检测委托没有有效签名，未予采信。",
  },
  requestNotRegulator: {
    code: "authority.request_not_regulator",
    severity: "warning",
    en: "An unsigned inspection request on the ledger came from an account that did not hold the regulator role then; it was not counted.",
    zh: "账本上的一项无签名检测委托，其发起账户当时不具有监管角色，未予采信。",
  },
  regionMismatch: {
    code: "origin.region_mismatch",
    severity: "critical",
    en: "The plot lies outside the cooperative's registered region.",
    zh: "地块不在合作社登记的行政区域内。",
  },
  registeredRegion: {
    code: "origin.registered_region",
    severity: "warning",
    en: "The region in the batch's documents differs from the one registered on chain.",
    zh: "批次文件中的区域与链上登记的区域不一致。",
  },
  certExpired: {
    code: "certification.expired",
    severity: "critical",
    en: "A certificate had expired on the harvest date.",
    zh: "采收日期时认证证书已过期。",
  },
  certNotYetValid: {
    code: "certification.not_yet_valid",
    severity: "critical",
    en: "A certificate was not yet valid on the harvest date.",
    zh: "采收日期时认证证书尚未生效。",
  },
  certScope: {
    code: "certification.scope",
    severity: "critical",
    en: "A certificate does not cover this product.",
    zh: "认证证书不涵盖该产品。",
  },
  massPlot: {
    code: "mass_balance.plot_exceeded",
    severity: "critical",
    en: "More was harvested than the plot's area can yield in a season.",
    zh: "采收量超过该地块面积一季可能的产量。",
  },
  massCooperative: {
    code: "mass_balance.cooperative_exceeded",
    severity: "critical",
    en: "A plot's batches in one year exceed what it can yield in a year.",
    zh: "同一地块一年内各批次总量超过其年产能力。",
  },
  massCooperativeTotal: {
    code: "mass_balance.cooperative_total_exceeded",
    severity: "critical",
    en: "A cooperative's harvests of a product in one year exceed what all its plots can yield in a year.",
    zh: "合作社一年内某产品的采收总量超过其全部地块的年产能力。",
  },
  massItems: {
    code: "mass_balance.items_exceeded",
    severity: "critical",
    en: "The items issued hold more product than was harvested.",
    zh: "已发放商品码的商品净含量合计超过采收量。",
  },
  timelineOrder: {
    code: "timeline.order",
    severity: "critical",
    en: "Events are in an impossible order.",
    zh: "事件顺序不可能成立。",
  },
  afterRecall: {
    code: "timeline.after_recall",
    severity: "critical",
    en: "Goods were handled or sold after the recall.",
    zh: "召回之后仍有流转或销售。",
  },
  excursion: {
    code: "cold_chain.excursion",
    severity: "warning",
    en: "The temperature left the product's range during transport or storage.",
    zh: "运输或储存期间温度超出产品要求范围。",
  },
  gap: { code: "cold_chain.gap", severity: "info", en: "The temperature record has a gap.", zh: "温度记录有中断。" },
  clone: {
    code: "clone.scans",
    severity: "warning",
    en: "Some items' codes were scanned like copied codes.",
    zh: "部分商品码的扫描情况像是被复制的码。",
  },
  unknownCodes: {
    code: "clone.unknown_codes",
    severity: "warning",
    en: "Codes of this lot that were never issued were scanned.",
    zh: "有人扫描了本批次从未发放的码。",
  },
} as const satisfies Record<string, Message>;

function finding(message: Message, evidence: Record<string, unknown>): AuditFinding {
  return { ...message, evidence };
}

/** Whether `inner` lies within `outer` (a county within its prefecture or province). */
export function regionWithin(inner: string, outer: string): boolean {
  const o = parseRegionCode(outer);
  const prefix = o.level === "province" ? outer.slice(0, 2) : o.level === "prefecture" ? outer.slice(0, 4) : outer;
  return inner.startsWith(prefix);
}

function dateInChina(seconds: number): string {
  return chinaDate(seconds * 1000);
}

/** The signed harvest quantity in milligrams (exact), or null when it is not a mass. */
function harvestedMilligrams(batch: GatheredBatch): bigint | null {
  const a = batch.attestation;
  if (a === null) return null;
  let unit;
  try {
    unit = unitFromCode(a.value.unit);
  } catch {
    return null;
  }
  return massMilligrams(a.value.quantityMilli, unit) ?? null;
}

export function harvestedKg(batch: GatheredBatch): number | null {
  const mg = harvestedMilligrams(batch);
  return mg === null ? null : Number(mg) / 1e6;
}

/**
 * One item's net content in milligrams, or null when none is declared or it is not a
 * readable mass (the product record comes from the platform's API and is not trusted).
 */
function netContentMilligrams(netContent: { value: string; unit: string } | null | undefined): bigint | null {
  if (netContent == null || !Object.hasOwn(UNITS, netContent.unit)) return null;
  try {
    return massMilligrams(quantityMilli(netContent.value), netContent.unit as UnitName) ?? null;
  } catch {
    return null;
  }
}

const AFTER_HARVEST = new Set(["transforming", "packing", "shipping", "receiving", "retail_selling", "cooling"]);
const HANDLING = new Set(["transforming", "packing", "shipping", "receiving", "retail_selling"]);

export interface BatchAudit {
  checked: string[];
  findings: AuditFinding[];
}

/** A batch that is on the ledger, as every per-batch rule reads it. */
export interface RuleInput {
  batch: GatheredBatch;
  context: AuditContext;
  /** The batch's attestation: the rules only run once the batch is known to be on chain. */
  attestation: NonNullable<GatheredBatch["attestation"]>;
}

/**
 * One rule of the audit. `scope` is the family it belongs to (what the report lists as
 * checked); `reports` are the findings it can raise, each with its code and severity.
 */
export interface AuditRule<Input> {
  id: string;
  scope:
    | "integrity"
    | "authority"
    | "origin"
    | "certification"
    | "mass_balance"
    | "timeline"
    | "cold_chain"
    | "clones"
    | "containers";
  reports: readonly Message[];
  check: (input: Input) => AuditFinding[];
}

const integrityRules: AuditRule<RuleInput>[] = [
  {
    id: "integrity.attestation",
    scope: "integrity",
    reports: [M.signature, M.attester],
    check: ({ batch, attestation: a }) => [
      ...(a.signatureValid ? [] : [finding(M.signature, { attester: a.value.attester, tx: a.transactionHash })]),
      ...(batch.attester.registeredBeforeAttesting ? [] : [finding(M.attester, { attester: a.value.attester })]),
    ],
  },
  {
    id: "integrity.items",
    scope: "integrity",
    reports: [M.itemsRoot, M.itemCount],
    check: ({ batch }) => {
      const findings: AuditFinding[] = [];
      if (batch.items.recomputedRoot !== null && batch.items.recomputedRoot !== batch.onChain.itemsRoot) {
        findings.push(
          finding(M.itemsRoot, { onChain: batch.onChain.itemsRoot, recomputed: batch.items.recomputedRoot }),
        );
      }
      if (batch.items.count !== null && batch.items.count !== batch.onChain.itemCount) {
        findings.push(finding(M.itemCount, { onChain: batch.onChain.itemCount, listed: batch.items.count }));
      }
      return findings;
    },
  },
  {
    id: "integrity.events",
    scope: "integrity",
    reports: [M.eventSignature, M.eventChain],
    check: ({ batch }) => {
      const findings = batch.events.flatMap((e, index) =>
        e.log.signatureValid
          ? []
          : [
              finding(M.eventSignature, {
                index,
                bizStep: e.log.bizStep,
                actor: e.log.value.actor,
                tx: e.log.transactionHash,
              }),
            ],
      );
      if (batch.eventHead.recomputed.toLowerCase() !== batch.eventHead.onChain.toLowerCase()) {
        findings.push(
          finding(M.eventChain, { onChain: batch.eventHead.onChain, recomputed: batch.eventHead.recomputed }),
        );
      }
      return findings;
    },
  },
  {
    id: "integrity.contents",
    scope: "integrity",
    reports: [M.cidMissing, M.cidTampered, M.cidUnpinned],
    check: ({ batch }) =>
      batch.contents.flatMap((content) => {
        const evidence = { cid: content.cid, role: content.role };
        if (!content.present) return [finding(M.cidMissing, evidence)];
        if (!content.matches) return [finding(M.cidTampered, evidence)];
        return content.pinned === false ? [finding(M.cidUnpinned, evidence)] : [];
      }),
  },
];

/**
 * Who was entitled to speak (`verify/authority.ts` judged it from the registry's logs, with
 * the same rules the server and the registry apply): one finding per entitlement missing.
 */
const authorityRule: AuditRule<RuleInput> = {
  id: "authority.entitlement_and_custody",
  scope: "authority",
  reports: [M.notEntitled, M.noCustody, M.custodyTransfers, M.unsignedGrant, M.requestNotRegulator],
  check: ({ batch }) =>
    (batch.authority?.findings ?? []).flatMap((f) => {
      switch (f.code) {
        case "not_entitled":
          return [finding(M.notEntitled, { gtin: f.gtin, attester: f.attester, owner: f.owner })];
        case "no_custody":
          return [finding(M.noCustody, { index: f.index, bizStep: f.step, actor: f.actor, reason: f.reason })];
        case "custody_transfers":
          return [finding(M.custodyTransfers, { recomputed: f.recomputed, logged: f.logged })];
        case "grant_signature":
          return [finding(M.unsignedGrant, { gtin: f.gtin, owner: f.owner, grantee: f.grantee })];
        case "inspection_request_signature":
          return [finding(M.unsignedGrant, { inspector: f.inspector, requestedBy: f.requestedBy })];
        case "inspection_request_not_regulator":
          return [finding(M.requestNotRegulator, { inspector: f.inspector, requestedBy: f.requestedBy })];
        case "attestation_missing":
          // The integrity rules already say the batch is not on the ledger.
          return [];
      }
    }),
};

const originRule: AuditRule<RuleInput> = {
  id: "origin.region",
  scope: "origin",
  reports: [M.registeredRegion, M.regionMismatch],
  check: ({ batch }) => {
    const metadata = batch.metadata;
    const registered = batch.attester.regionCode === null ? null : String(batch.attester.regionCode);
    if (metadata === null || registered === null) return [];
    const findings: AuditFinding[] = [];
    if (metadata.cooperative.regionCode !== registered) {
      findings.push(finding(M.registeredRegion, { documents: metadata.cooperative.regionCode, onChain: registered }));
    }
    if (metadata.plot !== null) {
      // A plot may lie in a neighbouring county of the same prefecture; beyond that it is not local produce.
      const prefecture = `${registered.slice(0, 4)}00`;
      let within: boolean;
      try {
        within = regionWithin(metadata.plot.regionCode, prefecture);
      } catch {
        within = false;
      }
      if (!within) {
        findings.push(
          finding(M.regionMismatch, { plotRegion: metadata.plot.regionCode, cooperativeRegion: registered }),
        );
      }
    }
    return findings;
  },
};

const certificationRule: AuditRule<RuleInput> = {
  id: "certification.validity",
  scope: "certification",
  reports: [M.certExpired, M.certNotYetValid, M.certScope],
  check: ({ batch, attestation: a }) => {
    const harvestDate = dateInChina(Number(a.value.harvestedAt));
    const gtin = a.value.gtin.toString().padStart(14, "0");
    return (batch.metadata?.certifications ?? []).flatMap((cert) => {
      const evidence = {
        kind: cert.kind,
        number: cert.number,
        validFrom: cert.validFrom,
        validTo: cert.validTo,
        harvestDate,
      };
      const findings: AuditFinding[] = [];
      if (harvestDate > cert.validTo) findings.push(finding(M.certExpired, evidence));
      else if (harvestDate < cert.validFrom) findings.push(finding(M.certNotYetValid, evidence));
      if (!cert.scopeGtins.includes(gtin))
        findings.push(finding(M.certScope, { ...evidence, gtin, scope: cert.scopeGtins }));
      return findings;
    });
  },
};

const massBalanceRules: AuditRule<RuleInput>[] = [
  {
    id: "mass_balance.plot_season",
    scope: "mass_balance",
    reports: [M.massPlot],
    check: ({ batch, context }) => {
      const kg = harvestedKg(batch);
      const ceiling = context.product === null ? null : yieldCeiling(context.product.category);
      const plot = batch.metadata?.plot;
      if (kg === null || ceiling === null || plot == null) return [];
      const maxKg = plot.areaHa * ceiling.maxKgPerHa;
      if (kg <= maxKg) return [];
      return [
        finding(M.massPlot, {
          harvestedKg: kg,
          areaHa: plot.areaHa,
          ceilingKgPerHa: ceiling.maxKgPerHa,
          maxKg,
          source: ceiling.source,
        }),
      ];
    },
  },
  {
    // Primary produce only loses mass on its way to the package (drying, sorting, trimming:
    // fresh tea leaf to made tea is about 4:1), so what the issued items hold can never
    // honestly exceed what was harvested: a sound upper bound, however loose, that needs no
    // conversion ratio per product.
    id: "mass_balance.items_issued",
    scope: "mass_balance",
    reports: [M.massItems],
    check: ({ batch, context }) => {
      const harvestedMg = harvestedMilligrams(batch);
      const perItemMg = netContentMilligrams(context.product?.netContent);
      if (harvestedMg === null || perItemMg === null) return [];
      const issuedMg = BigInt(batch.onChain.itemCount) * perItemMg;
      if (issuedMg <= harvestedMg) return [];
      return [
        finding(M.massItems, {
          itemCount: batch.onChain.itemCount,
          netContent: context.product?.netContent,
          issuedKg: Number(issuedMg) / 1e6,
          harvestedKg: Number(harvestedMg) / 1e6,
        }),
      ];
    },
  },
];

/** The batch's events as the timeline rules compare them: step and time in seconds. */
function eventTimes(batch: GatheredBatch): { step: string; at: number }[] {
  return batch.events.map((e) => ({ step: e.log.bizStep, at: Number(e.log.value.occurredAt) }));
}

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();

const timelineRules: AuditRule<RuleInput>[] = [
  {
    id: "timeline.after_harvest",
    scope: "timeline",
    reports: [M.timelineOrder],
    check: ({ batch, attestation: a }) => {
      const harvestedAt = Number(a.value.harvestedAt);
      return eventTimes(batch)
        .filter((e) => AFTER_HARVEST.has(e.step) && e.at < harvestedAt)
        .map((e) => finding(M.timelineOrder, { step: e.step, occurredAt: iso(e.at), harvestedAt: iso(harvestedAt) }));
    },
  },
  {
    id: "timeline.receiving_after_shipping",
    scope: "timeline",
    reports: [M.timelineOrder],
    check: ({ batch }) => {
      const events = eventTimes(batch);
      const firstShipping = events
        .filter((e) => e.step === "shipping")
        .reduce((min, e) => Math.min(min, e.at), Infinity);
      return events
        .filter((e) => e.step === "receiving" && e.at < firstShipping && Number.isFinite(firstShipping))
        .map((e) =>
          finding(M.timelineOrder, { step: "receiving", occurredAt: iso(e.at), firstShipping: iso(firstShipping) }),
        );
    },
  },
  {
    id: "timeline.after_recall",
    scope: "timeline",
    reports: [M.afterRecall],
    check: ({ batch }) => {
      const recallAt = batch.recalls.reduce((min, r) => Math.min(min, r.atSeconds), Infinity);
      return eventTimes(batch)
        .filter((e) => HANDLING.has(e.step) && e.at > recallAt)
        .map((e) => finding(M.afterRecall, { step: e.step, occurredAt: iso(e.at), recalledAt: iso(recallAt) }));
    },
  },
];

const coldChainRule: AuditRule<RuleInput> = {
  id: "cold_chain.temperatures",
  scope: "cold_chain",
  reports: [M.excursion, M.gap],
  check: ({ batch, context }) => {
    const range = context.product?.coldChain ?? null;
    if (range === null) return [];
    const findings: AuditFinding[] = [];
    for (const [index, e] of batch.events.entries()) {
      const readings = e.payload?.data.temperatures ?? [];
      if (readings.length === 0) continue;
      const report = analyseTemperatures(
        readings.map((r) => ({ at: Math.floor(Date.parse(r.at) / 1000), celsius: r.celsius })),
        { minCelsius: range.minC, maxCelsius: range.maxC, toleranceSeconds: 15 * 60, maxGapSeconds: 2 * 3600 },
      );
      for (const x of report.excursions) {
        findings.push(
          finding(M.excursion, {
            event: index,
            bizStep: e.log.bizStep,
            kind: x.kind,
            worstCelsius: x.worstCelsius,
            minutes: Math.round(x.durationSeconds / 60),
            range,
          }),
        );
      }
      for (const g of report.gaps)
        findings.push(finding(M.gap, { event: index, bizStep: e.log.bizStep, from: iso(g.start), to: iso(g.end) }));
    }
    return findings;
  },
};

const cloneRule: AuditRule<RuleInput> = {
  id: "clones.scans",
  scope: "clones",
  reports: [M.clone, M.unknownCodes],
  check: ({ context }) => [
    ...(context.scans.itemsFlagged > 0
      ? [finding(M.clone, { itemsFlagged: context.scans.itemsFlagged, worstItem: context.scans.worstItem })]
      : []),
    ...(context.scans.unknownCodes > 0 ? [finding(M.unknownCodes, { scans: context.scans.unknownCodes })] : []),
  ],
};

/**
 * Cases and pallets (`container-rules.ts`): what their leaves say, which the chain never
 * sees, and the lot's items packed against those it registered.
 */
const containerRule: AuditRule<RuleInput> = {
  id: "containers.aggregation",
  scope: "containers",
  reports: [],
  check: ({ batch, context }) => {
    if (batch.containers === undefined) return [];
    return [
      ...auditContainers(batch.containers, [batch.batchId], { claims: context.claims ?? new Map() }),
      ...packedOverRegistered(lotPacking(batch.containers, batch.batchId, batch.onChain.itemCount)),
    ];
  },
};

/** The per-batch rules, in the order their findings are reported. */
export const BATCH_RULES: readonly AuditRule<RuleInput>[] = [
  ...integrityRules,
  authorityRule,
  originRule,
  certificationRule,
  ...massBalanceRules,
  ...timelineRules,
  coldChainRule,
  cloneRule,
  containerRule,
];

/** A batch missing from the ledger is the one finding: nothing else can be checked against it. */
export function auditBatch(batch: GatheredBatch, context: AuditContext): BatchAudit {
  const attestation = batch.attestation;
  if (attestation === null || batch.onChain.status === "none") {
    return { checked: ["integrity"], findings: [finding(M.notOnChain, { batchId: batch.batchId })] };
  }
  const input: RuleInput = { batch, context, attestation };
  return {
    checked: [...new Set(BATCH_RULES.map((rule) => rule.scope))],
    findings: BATCH_RULES.flatMap((rule) => rule.check(input)),
  };
}

/** A batch as the audits across batches see it: its evidence, and what the platform records of it. */
export interface CrossBatchEntry {
  batch: GatheredBatch;
  /** Its product's category (null when the product is unknown: no ceiling applies). */
  category: string | null;
  /**
   * The cooperative that registered it, as the platform records it: its id and its registered
   * plots (a regulator reads the same through `GET /api/v1/organisations/{id}`). Null or
   * absent when unknown: the attester's address then stands for the cooperative, and only the
   * plots its batches' signed metadata name count towards its capacity.
   */
  cooperative?: { id: string; plots: readonly { id: string; areaHa: number }[] } | null;
}

/**
 * Across batches: a plot's harvests in one calendar year against what it can yield in a
 * year, and a cooperative's harvests of a product in one year against all its land.
 */
export function auditAcrossBatches(batches: readonly CrossBatchEntry[]): AuditFinding[] {
  return CROSS_BATCH_RULES.flatMap((rule) => rule.check(batches));
}

function acrossPlotYears(batches: readonly CrossBatchEntry[]): AuditFinding[] {
  const perPlotYear = new Map<string, { kg: number; areaHa: number; category: string; batches: string[] }>();
  for (const { batch, category } of batches) {
    const plot = batch.metadata?.plot;
    const kg = harvestedKg(batch);
    if (plot == null || kg === null || category === null || batch.attestation === null) continue;
    const year = dateInChina(Number(batch.attestation.value.harvestedAt)).slice(0, 4);
    const key = `${plot.id}:${year}`;
    const entry = perPlotYear.get(key) ?? { kg: 0, areaHa: plot.areaHa, category, batches: [] };
    entry.kg += kg;
    entry.batches.push(batch.batchId);
    perPlotYear.set(key, entry);
  }
  const findings: AuditFinding[] = [];
  for (const [key, entry] of perPlotYear) {
    const ceiling = yieldCeiling(entry.category);
    if (ceiling === null) continue;
    const maxKg = entry.areaHa * ceiling.maxKgPerHa * ceiling.seasonsPerYear;
    if (entry.kg > maxKg) {
      findings.push(
        finding(M.massCooperative, {
          plotYear: key,
          harvestedKg: entry.kg,
          maxKg,
          batches: entry.batches,
          source: ceiling.source,
        }),
      );
    }
  }
  return findings;
}

/**
 * Per cooperative, product category and calendar year (China time): everything harvested
 * (a mass, signed in the attestation), in batches with a plot or without one, against the
 * yearly capacity of all the cooperative's land: Σ plot area × the category's ceiling ×
 * its seasons a year. Its plots are those registered with the platform and those its
 * batches' signed metadata name, by id (where both give an area, the larger counts). Every
 * plot counts for every category: beyond what batches name, the audit cannot know what
 * grows where, and a plot may carry more than one crop a year, so only what all the
 * cooperative's land together could not give of that one product is flagged. Harvests with
 * no plot area at all behind them are flagged too. Categories without a ceiling are skipped.
 */
function acrossCooperativeYears(batches: readonly CrossBatchEntry[]): AuditFinding[] {
  const plotsOf = new Map<string, Map<string, number>>();
  const perYear = new Map<
    string,
    { cooperative: string; category: string; year: string; mg: bigint; batches: string[]; withoutPlot: number }
  >();
  const addPlot = (cooperative: string, id: string, areaHa: number): void => {
    const plots = plotsOf.get(cooperative) ?? new Map<string, number>();
    if (Number.isFinite(areaHa) && areaHa > 0) plots.set(id, Math.max(plots.get(id) ?? 0, areaHa));
    plotsOf.set(cooperative, plots);
  };
  for (const { batch, category, cooperative } of batches) {
    const attestation = batch.attestation;
    if (attestation === null) continue;
    const key = cooperative?.id ?? attestation.value.attester;
    for (const plot of cooperative?.plots ?? []) addPlot(key, plot.id, plot.areaHa);
    const plot = batch.metadata?.plot ?? null;
    if (plot !== null) addPlot(key, plot.id, plot.areaHa);
    const mg = harvestedMilligrams(batch);
    const ceiling = category === null ? null : yieldCeiling(category);
    if (mg === null || ceiling === null) continue;
    const year = dateInChina(Number(attestation.value.harvestedAt)).slice(0, 4);
    const totalKey = `${key}:${ceiling.category}:${year}`;
    const total = perYear.get(totalKey) ?? {
      cooperative: key,
      category: ceiling.category,
      year,
      mg: 0n,
      batches: [],
      withoutPlot: 0,
    };
    total.mg += mg;
    total.batches.push(batch.batchId);
    if (plot === null) total.withoutPlot += 1;
    perYear.set(totalKey, total);
  }
  const findings: AuditFinding[] = [];
  for (const total of perYear.values()) {
    const ceiling = yieldCeiling(total.category);
    if (ceiling === null) continue;
    const plots = [...(plotsOf.get(total.cooperative) ?? new Map<string, number>())]
      .map(([id, areaHa]) => ({ id, areaHa }))
      .sort((a, b) => a.id.localeCompare(b.id));
    const areaHa = Math.round(plots.reduce((sum, p) => sum + p.areaHa, 0) * 1e6) / 1e6;
    const maxKg = areaHa * ceiling.maxKgPerHa * ceiling.seasonsPerYear;
    const harvested = Number(total.mg) / 1e6;
    if (harvested > maxKg) {
      findings.push(
        finding(M.massCooperativeTotal, {
          cooperative: total.cooperative,
          category: total.category,
          year: total.year,
          harvestedKg: harvested,
          batches: total.batches,
          batchesWithoutPlot: total.withoutPlot,
          areaHa,
          plots,
          ...(plots.length === 0 ? { noPlotArea: "no plot area is known for this cooperative" } : {}),
          ceilingKgPerHa: ceiling.maxKgPerHa,
          seasonsPerYear: ceiling.seasonsPerYear,
          maxKg,
          source: ceiling.source,
        }),
      );
    }
  }
  return findings;
}

/** The rules across batches, in the order their findings are reported. */
export const CROSS_BATCH_RULES: readonly AuditRule<readonly CrossBatchEntry[]>[] = [
  { id: "mass_balance.plot_year", scope: "mass_balance", reports: [M.massCooperative], check: acrossPlotYears },
  {
    id: "mass_balance.cooperative_year",
    scope: "mass_balance",
    reports: [M.massCooperativeTotal],
    check: acrossCooperativeYears,
  },
];
