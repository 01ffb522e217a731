/**
 * Running an audit: gather from the sources, apply the rules, assemble the report. The
 * server runs it with its own chain provider and content store; the CLI with any
 * JSON-RPC endpoint and IPFS gateway (scripts/tasks/cli.ts), through the same functions.
 */
import type { JsonRpcProvider } from "ethers";

import { isContentError, parseCid } from "../../ipfs/content-store.ts";
import type { Batch } from "../../storage/batches.ts";
import { listItemSerials } from "../../storage/batches.ts";
import { countResolvedScansBySerial, countUnknownScans } from "../../storage/batch-scans.ts";
import { getProduct, listPlots } from "../../storage/catalogue.ts";
import { listItemClaims } from "../../storage/item-claims.ts";
import type { ServiceContext } from "../context.ts";
import { batchesInScope, type BatchScope } from "../export-input.ts";
import { gatherBatch, type AuditSources, type GatheredBatch } from "./gather.ts";
import { formatCompanyPrefix } from "../../domain/gtin-entitlement.ts";
import type { AuthorityReport } from "../../verify/authority.ts";
import type { AuthoritySummary, BatchAuditReport, ScopeAuditReport } from "./report.ts";
import { lotPacking } from "./container-rules.ts";
import { auditAcrossBatches, auditBatch, type AuditContext, type CrossBatchEntry } from "./rules.ts";

export function serverAuditSources(ctx: ServiceContext, provider: JsonRpcProvider, fromBlock: number): AuditSources {
  return {
    provider,
    registryAddress: ctx.domain.verifyingContract,
    domain: ctx.domain,
    fromBlock,
    streamContent: (cid) => ctx.content.cat(parseCid(cid)),
    // The store re-hashes every block it reads: a block that fails is altered, not absent.
    isCorrupt: (error) => isContentError(error, "corrupt"),
    isPinned: (cid) => ctx.content.isPinned(parseCid(cid)),
    itemSerials: (batchId) => listItemSerials(ctx.db, batchId),
  };
}

export interface ScanFacts {
  itemsFlagged: number;
  worstItem: { serial: string; scansDay: number; scansWeek: number } | null;
  unknownCodes: number;
}

/** Clone signals over a batch's items, from the scan records, with the configured thresholds. */
export async function scanFacts(ctx: ServiceContext, batchId: string): Promise<ScanFacts> {
  const now = ctx.now();
  const week = await countResolvedScansBySerial(ctx.db, batchId, now - 7 * 86_400_000);
  const day = await countResolvedScansBySerial(ctx.db, batchId, now - 86_400_000);
  let itemsFlagged = 0;
  let worstItem: ScanFacts["worstItem"] = null;
  for (const [serial, scansWeek] of week) {
    const scansDay = day.get(serial) ?? 0;
    if (scansDay >= ctx.cloneThresholds.scansPerDay || scansWeek >= ctx.cloneThresholds.scansPerWeek) {
      itemsFlagged += 1;
      if (worstItem === null || scansWeek > worstItem.scansWeek) worstItem = { serial, scansDay, scansWeek };
    }
  }
  return { itemsFlagged, worstItem, unknownCodes: await countUnknownScans(ctx.db, batchId) };
}

async function contextFor(ctx: ServiceContext, batch: Pick<Batch, "batchId" | "gtin">): Promise<AuditContext> {
  const product = await getProduct(ctx.db, batch.gtin);
  return {
    nowMs: ctx.now(),
    product:
      product === null
        ? null
        : { category: product.category, coldChain: product.coldChain, netContent: product.netContent },
    scans: await scanFacts(ctx, batch.batchId),
    claims: new Map(
      [...(await listItemClaims(ctx.db, batch.batchId))].map(([serial, atMs]) => [
        `${batch.batchId.toLowerCase()}/${serial}`,
        atMs,
      ]),
    ),
  };
}

export function buildReport(
  gathered: GatheredBatch,
  result: { checked: string[]; findings: BatchAuditReport["findings"] },
  sources: BatchAuditReport["sources"],
  nowMs: number,
): BatchAuditReport {
  return {
    type: "oioc.audit-report",
    version: 1,
    batchId: gathered.batchId,
    gtin: gathered.attestation === null ? null : gathered.attestation.value.gtin.toString().padStart(14, "0"),
    lot: gathered.attestation?.value.lot ?? null,
    generatedAt: new Date(nowMs).toISOString(),
    sources,
    checked: result.checked,
    findings: result.findings,
    authority: authoritySummary(gathered.authority ?? null),
    ...(gathered.containers === undefined || gathered.attestation === null
      ? {}
      : { packing: lotPacking(gathered.containers, gathered.batchId, gathered.onChain.itemCount) }),
  };
}

/** The judgement in JSON's terms (prefixes as printed, times as ISO 8601). */
function authoritySummary(report: AuthorityReport | null): AuthoritySummary | null {
  if (report === null) return null;
  const e = report.entitlement;
  const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();
  return {
    entitlement:
      e === null
        ? null
        : {
            attester: e.attesterOrigin,
            basis: e.basis,
            owner: e.owner,
            companyPrefix: e.prefix === null ? null : formatCompanyPrefix(e.prefix),
          },
    handovers: report.handovers.map((h) => ({
      from: h.from,
      to: h.to,
      shippedAt: h.shippedAt === null ? null : iso(h.shippedAt),
      receivedAt: iso(h.receivedAt),
    })),
    events: report.events.map((event) => ({
      index: event.index,
      bizStep: event.step,
      actor: event.actorOrigin,
      basis: event.basis,
      refusal: event.refusal,
    })),
  };
}

export async function auditStoredBatch(
  ctx: ServiceContext,
  sources: AuditSources,
  batch: Batch,
  describe: BatchAuditReport["sources"],
): Promise<{ report: BatchAuditReport; gathered: GatheredBatch; category: string | null }> {
  const gathered = await gatherBatch(sources, batch.batchId);
  const context = await contextFor(ctx, batch);
  return {
    report: buildReport(gathered, auditBatch(gathered, context), describe, ctx.now()),
    gathered,
    category: context.product?.category ?? null,
  };
}

export async function auditScope(
  ctx: ServiceContext,
  sources: AuditSources,
  scope: BatchScope,
  describe: BatchAuditReport["sources"],
  /** A regulator's region prefix: the audit covers only its batches (null: no limit). */
  jurisdiction: string | null = null,
): Promise<ScopeAuditReport> {
  const batches = await batchesInScope(ctx, scope, jurisdiction);
  const results = [];
  const across: CrossBatchEntry[] = [];
  // Each cooperative's registered plots: its capacity counts all its land, named in a batch or not.
  const plotsOf = new Map<string, { id: string; areaHa: number }[]>();
  for (const batch of batches) {
    const result = await auditStoredBatch(ctx, sources, batch, describe);
    results.push(result);
    let plots = plotsOf.get(batch.organisationId);
    if (plots === undefined) {
      plots = (await listPlots(ctx.db, batch.organisationId))
        .filter((plot) => plot.areaUnit === "ha")
        .map((plot) => ({ id: plot.id, areaHa: plot.area }));
      plotsOf.set(batch.organisationId, plots);
    }
    across.push({
      batch: result.gathered,
      category: result.category,
      cooperative: { id: batch.organisationId, plots },
    });
  }
  return {
    type: "oioc.audit-scope-report",
    version: 1,
    generatedAt: new Date(ctx.now()).toISOString(),
    scope: Object.fromEntries(Object.entries(scope).filter((e): e is [string, string] => typeof e[1] === "string")),
    batches: results.map((r) => r.report),
    findings: auditAcrossBatches(across),
  };
}
