/**
 * Gathers what the exports and the audit read, for one batch or a query (cooperative,
 * region, product, harvest dates), from the query store.
 */
import { z } from "zod";

import { chinaDayStartMs, chinaNextDayStartMs } from "../domain/china-time.ts";
import { narrowRegionPrefix } from "../domain/region.ts";
import { payloadEvents } from "../exports/container-events.ts";
import type { ExportBatch, ExportContainer, ExportInput } from "../exports/types.ts";
import { parseCid } from "../ipfs/content-store.ts";
import { containerKeysOfBatch } from "../storage/batch-containers.ts";
import { getContainerByKey } from "../storage/containers.ts";
import { AppError } from "../errors/app-error.ts";
import { getBatch, listBatches, type Batch } from "../storage/batches.ts";
import { getPlot, getProduct } from "../storage/catalogue.ts";
import { listBatchEvents } from "../storage/events.ts";
import { getOrganisation, type Organisation } from "../storage/organisations.ts";
import type { ServiceContext } from "./context.ts";
import { readAll } from "./documents.ts";
import { requireBatchInJurisdiction } from "./regulator.ts";

/** At most this many batches per export or audit request: a region's season, not the whole country. */
export const MAX_BATCHES_PER_QUERY = 2_000;

export const batchScope = z
  .object({
    batchId: z
      .string()
      .regex(/^0x[0-9a-fA-F]{64}$/)
      .optional(),
    organisationId: z.string().max(64).optional(),
    region: z
      .string()
      .regex(/^\d{1,6}$/)
      .optional(),
    gtin: z
      .string()
      .regex(/^\d{14}$/)
      .optional(),
    from: z.iso.date().optional(),
    to: z.iso.date().optional(),
  })
  .strict()
  .refine((s) => Object.keys(s).length > 0, "give a batchId or at least one filter");
export type BatchScope = z.infer<typeof batchScope>;

/**
 * The batches a scope names; `jurisdiction` (a regulator's region prefix, null for no limit)
 * narrows a search to its region and refuses a named batch outside it (services/regulator.ts).
 */
export async function batchesInScope(
  ctx: ServiceContext,
  scope: BatchScope,
  jurisdiction: string | null = null,
): Promise<Batch[]> {
  if (scope.batchId !== undefined) {
    const batch = await getBatch(ctx.db, scope.batchId);
    if (batch === null) throw new AppError("batch.not_found");
    await requireBatchInJurisdiction(ctx, jurisdiction, batch);
    return [batch];
  }
  const region = jurisdiction === null ? scope.region : narrowRegionPrefix(jurisdiction, scope.region);
  if (region === null) return [];
  const batches: Batch[] = [];
  for (let offset = 0; offset < MAX_BATCHES_PER_QUERY; offset += 500) {
    const page = await listBatches(ctx.db, {
      organisationId: scope.organisationId,
      regionPrefix: region === "" ? undefined : region,
      gtin: scope.gtin,
      harvestedFromMs: scope.from === undefined ? undefined : chinaDayStartMs(scope.from),
      harvestedBeforeMs: scope.to === undefined ? undefined : chinaNextDayStartMs(scope.to),
      limit: 500,
      offset,
    });
    batches.push(...page);
    if (page.length < 500) break;
  }
  return batches;
}

export async function loadExportInput(ctx: ServiceContext, batches: readonly Batch[]): Promise<ExportInput> {
  const organisations = new Map<string, Organisation>();
  const organisation = async (id: string): Promise<Organisation> => {
    const known = organisations.get(id);
    if (known !== undefined) return known;
    const found = await getOrganisation(ctx.db, id);
    if (found === null) throw new Error(`organisation ${id} referenced but not stored`);
    organisations.set(id, found);
    return found;
  };
  const containers = new Map<string, ExportContainer | null>();
  const container = async (key: string): Promise<ExportContainer | null> => {
    if (containers.has(key)) return containers.get(key) ?? null;
    const stored = await getContainerByKey(ctx.db, key);
    const loaded =
      stored === undefined
        ? null
        : {
            sscc: stored.sscc,
            containerKey: stored.containerKey,
            steps: await Promise.all(
              stored.steps
                .filter((step) => step.ledgerState !== "failed")
                .map(async (step) => ({
                  digest: step.id,
                  action: step.action,
                  occurredAtMs: step.occurredAtMs,
                  actor: await organisation(step.actorOrganisationId),
                  counterparty:
                    step.counterpartyOrganisationId === null
                      ? null
                      : await organisation(step.counterpartyOrganisationId),
                  payloadCid: step.payloadCid,
                  ledger: { state: step.ledgerState, txHash: step.txHash },
                  events: await containerPayloadEvents(ctx, step.payloadCid),
                })),
            ),
          };
    containers.set(key, loaded);
    return loaded;
  };
  const result: ExportBatch[] = [];
  for (const batch of batches) {
    const events = await listBatchEvents(ctx.db, batch.batchId);
    result.push({
      batch,
      product: await getProduct(ctx.db, batch.gtin),
      plot: batch.plotId === null ? null : await getPlot(ctx.db, batch.plotId),
      cooperative: await organisation(batch.organisationId),
      events: await Promise.all(
        events.map(async (event) => ({ event, actor: await organisation(event.actorOrganisationId) })),
      ),
      containers: (
        await Promise.all((await containerKeysOfBatch(ctx.db, batch.batchId)).map((key) => container(key)))
      ).filter((found): found is ExportContainer => found !== null),
    });
  }
  return { batches: result };
}

/** The EPCIS events of a container step's payload document; [] when it cannot be read (the export then writes the record). */
async function containerPayloadEvents(ctx: ServiceContext, cid: string): Promise<Record<string, unknown>[]> {
  try {
    return payloadEvents(JSON.parse(new TextDecoder().decode(await readAll(ctx.content.cat(parseCid(cid))))));
  } catch {
    return [];
  }
}
