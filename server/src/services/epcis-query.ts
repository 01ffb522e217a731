/**
 * EPCIS 2.0 event query (`GET /epcis/events`, GS1 REST bindings): the standard query
 * parameters that map to what we store, answered as an EPCISQueryDocument whose events are
 * exactly what the EPCIS export writes for them (exports/epcis.ts).
 *
 * Who may read: anyone, as `GET /api/v1/batches/:id/events` and the resolver show a batch's
 * events to anyone; the answer holds nothing those do not (no buyer data, no credentials).
 *
 * What is queried: stored events (signed by the organisation that did the step), not the
 * two batch facts an export adds (the attestation standing in for an unrecorded harvest, and
 * a recall without an event). Events are about batches: an item's events are its batch's
 * (as its resolution shows), so `MATCH_epc` with an item answers its batch's events and
 * lists that item in `epcList`. Values within one parameter are alternatives (`|` or `,`
 * separated, or the parameter repeated); different parameters all apply. Pages follow record
 * time; `EQ_disposition` is checked on each event as mapped (an inspection is conformant or
 * not by its tests), so such a page may hold fewer than `perPage` events.
 */
import { z } from "zod";

import { isoInstant } from "../domain/instants.ts";
import {
  organisationIdOfUri,
  parseEpc,
  stepsOfBizStep,
  stepsOfDisposition,
  type EpcPattern,
} from "../domain/epcis-mapping.ts";
import { BIZ_STEPS, type BizStep } from "../domain/typed-data.ts";
import { AppError } from "../errors/app-error.ts";
import {
  buildEpcisQueryDocument,
  epcisEventOfStored,
  type EpcisEvent,
  type EpcisQueryDocument,
} from "../exports/epcis.ts";
import { STEP_MAPPING } from "../exports/critical-events.ts";
import type { ExportBatch } from "../exports/types.ts";
import { getBatch, getBatchByLot } from "../storage/batches.ts";
import { getPlot, getProduct } from "../storage/catalogue.ts";
import { batchesOfGtin, batchesOfItem, queryEvents, type EventQueryFilter } from "../storage/epcis-captures.ts";
import { getOrganisation, type Organisation } from "../storage/organisations.ts";
import type { ServiceContext } from "./context.ts";

export const DEFAULT_PER_PAGE = 100;
export const MAX_PER_PAGE = 1_000;
/** Values one parameter may list, and batches one parameter may stand for: a query, not a dump. */
const MAX_VALUES = 100;
const MAX_BATCHES_PER_PATTERN = 1_000;

const EVENT_TYPES = ["ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent"];

const listParameter = z.union([z.string(), z.array(z.string())]).optional();
const singleParameter = z.string().optional();

export const epcisQueryParameters = z
  .object({
    eventType: listParameter,
    GE_eventTime: singleParameter,
    LT_eventTime: singleParameter,
    GE_recordTime: singleParameter,
    LT_recordTime: singleParameter,
    EQ_bizStep: listParameter,
    EQ_disposition: listParameter,
    MATCH_epc: listParameter,
    MATCH_anyEPC: listParameter,
    MATCH_epcClass: listParameter,
    EQ_bizLocation: listParameter,
    perPage: singleParameter,
    nextPageToken: singleParameter,
  })
  .strict();
export type EpcisQueryParameters = z.infer<typeof epcisQueryParameters>;

function badParameter(name: string, detail: string): AppError {
  return new AppError("epcis.query_parameter", { parameter: name }, { detail: `${name}: ${detail}` });
}

/** The query string as parameters, an unknown one refused by name. */
export function parseQueryParameters(query: unknown): EpcisQueryParameters {
  const parsed = epcisQueryParameters.safeParse(query);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue?.code === "unrecognized_keys") {
    throw new AppError(
      "epcis.query_parameter",
      { parameter: issue.keys[0] ?? "" },
      { detail: `unknown parameter ${issue.keys.join(", ")}` },
    );
  }
  throw badParameter(String(issue?.path[0] ?? "?"), issue?.message ?? "not valid");
}

function values(name: string, raw: string | string[] | undefined, splitEpcs = false): string[] | null {
  if (raw === undefined) return null;
  const given = Array.isArray(raw) ? raw : [raw];
  const out: string[] = [];
  for (const value of given) {
    // A whole value that is one identifier stays whole: a lot may contain a comma.
    if (splitEpcs && parseEpc(value, { allowPatterns: true }) !== null) out.push(value);
    else out.push(...value.split(/[|,]/).filter((part) => part.length > 0));
  }
  if (out.length === 0) throw badParameter(name, "no value");
  if (out.length > MAX_VALUES) throw badParameter(name, `at most ${String(MAX_VALUES)} values`);
  return out;
}

function instant(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!isoInstant.safeParse(raw).success) throw badParameter(name, "an ISO 8601 date-time with a zone offset");
  return Date.parse(raw);
}

function intersect(a: readonly string[] | null, b: readonly string[]): string[] {
  return a === null ? [...new Set(b)] : a.filter((value) => b.includes(value));
}

/** Keyset of the last event of a page, opaque to the caller. */
const pageToken = z.object({ t: z.number().int().nonnegative(), i: z.string().max(100) }).strict();

function encodeToken(after: { createdAtMs: number; id: string }): string {
  return Buffer.from(JSON.stringify({ t: after.createdAtMs, i: after.id })).toString("base64url");
}

function decodeToken(raw: string): { createdAtMs: number; id: string } {
  try {
    const token = pageToken.parse(JSON.parse(Buffer.from(raw, "base64url").toString("utf8")));
    return { createdAtMs: token.t, id: token.i };
  } catch {
    throw badParameter("nextPageToken", "not a token this server gave");
  }
}

export interface EpcisQueryAnswer {
  document: EpcisQueryDocument;
  /** Null on the last page. */
  nextPageToken: string | null;
}

/** Batches (and the items of each the query named) that the EPC parameters stand for. */
async function batchesOfEpcs(
  ctx: ServiceContext,
  name: string,
  raw: string | string[] | undefined,
  kinds: ReadonlyArray<EpcPattern["kind"]>,
  serialsOf: Map<string, Set<string>>,
): Promise<string[] | null> {
  const given = values(name, raw, true);
  if (given === null) return null;
  const batchIds: string[] = [];
  for (const value of given) {
    const key = parseEpc(value, { allowPatterns: true });
    if (key === null || !kinds.includes(key.kind)) {
      throw badParameter(name, `${value} is not ${kinds.includes("lot") ? "an LGTIN class" : "an SGTIN"} of ours`);
    }
    if (key.kind === "item") {
      for (const batchId of await batchesOfItem(ctx.db, key.gtin, key.serial)) {
        batchIds.push(batchId);
        const serials = serialsOf.get(batchId) ?? new Set<string>();
        serials.add(key.serial);
        serialsOf.set(batchId, serials);
      }
    } else if (key.kind === "lot") {
      const batch = await getBatchByLot(ctx.db, key.gtin, key.lot);
      if (batch !== null) batchIds.push(batch.batchId);
    } else {
      batchIds.push(...(await batchesOfGtin(ctx.db, key.gtin, MAX_BATCHES_PER_PATTERN + 1)));
    }
  }
  const distinct = [...new Set(batchIds)];
  // One query's `in` list stays far below any engine's limit on bound parameters.
  if (distinct.length > MAX_BATCHES_PER_PATTERN) {
    throw badParameter(name, `names more than ${String(MAX_BATCHES_PER_PATTERN)} batches; narrow it`);
  }
  return distinct;
}

/** Answers one page of a query. */
export async function queryEpcisEvents(
  ctx: ServiceContext,
  parameters: EpcisQueryParameters,
): Promise<EpcisQueryAnswer> {
  let steps: BizStep[] | null = null;
  const eventTypes = values("eventType", parameters.eventType);
  if (eventTypes !== null) {
    for (const type of eventTypes)
      if (!EVENT_TYPES.includes(type)) throw badParameter("eventType", `${type} is no EPCIS event type`);
    steps = BIZ_STEPS.filter((step) => eventTypes.includes(STEP_MAPPING[step].eventType));
  }
  const bizSteps = values("EQ_bizStep", parameters.EQ_bizStep);
  if (bizSteps !== null) steps = intersect(steps, bizSteps.flatMap(stepsOfBizStep)) as BizStep[];
  const dispositions = values("EQ_disposition", parameters.EQ_disposition);
  if (dispositions !== null) steps = intersect(steps, dispositions.flatMap(stepsOfDisposition)) as BizStep[];

  const serialsOf = new Map<string, Set<string>>();
  let batchIds: string[] | null = null;
  for (const [name, raw, kinds] of [
    ["MATCH_epc", parameters.MATCH_epc, ["item", "gtin"]],
    ["MATCH_anyEPC", parameters.MATCH_anyEPC, ["item", "gtin"]],
    ["MATCH_epcClass", parameters.MATCH_epcClass, ["lot"]],
  ] as const) {
    const found = await batchesOfEpcs(ctx, name, raw, kinds, serialsOf);
    if (found !== null) batchIds = intersect(batchIds, found);
  }
  const locations = values("EQ_bizLocation", parameters.EQ_bizLocation);
  const bizLocationOrganisationIds =
    locations === null ? null : locations.map(organisationIdOfUri).filter((id): id is string => id !== null);

  let limit = DEFAULT_PER_PAGE;
  if (parameters.perPage !== undefined) {
    if (!/^\d{1,5}$/.test(parameters.perPage)) throw badParameter("perPage", "a whole number");
    limit = Number(parameters.perPage);
    if (limit < 1 || limit > MAX_PER_PAGE) throw badParameter("perPage", `from 1 to ${String(MAX_PER_PAGE)}`);
  }
  const filter: EventQueryFilter = {
    steps,
    occurredFromMs: instant("GE_eventTime", parameters.GE_eventTime),
    occurredBeforeMs: instant("LT_eventTime", parameters.LT_eventTime),
    recordedFromMs: instant("GE_recordTime", parameters.GE_recordTime),
    recordedBeforeMs: instant("LT_recordTime", parameters.LT_recordTime),
    batchIds,
    bizLocationOrganisationIds,
    ...(parameters.nextPageToken === undefined ? {} : { after: decodeToken(parameters.nextPageToken) }),
    limit,
  };
  const rows = await queryEvents(ctx.db, filter);

  const organisations = new Map<string, Organisation>();
  const organisation = async (id: string): Promise<Organisation> => {
    const known = organisations.get(id) ?? (await getOrganisation(ctx.db, id));
    if (known === null) throw new Error(`organisation ${id} referenced but not stored`);
    organisations.set(id, known);
    return known;
  };
  const entries = new Map<string, ExportBatch>();
  const entryOf = async (batchId: string): Promise<ExportBatch> => {
    const known = entries.get(batchId);
    if (known !== undefined) return known;
    const batch = await getBatch(ctx.db, batchId);
    if (batch === null) throw new Error(`batch ${batchId} referenced but not stored`);
    const entry: ExportBatch = {
      batch,
      product: await getProduct(ctx.db, batch.gtin),
      plot: batch.plotId === null ? null : await getPlot(ctx.db, batch.plotId),
      cooperative: await organisation(batch.organisationId),
      events: [],
    };
    entries.set(batchId, entry);
    return entry;
  };

  const options = { creationDate: new Date(ctx.now()), publicOrigin: ctx.publicOrigin };
  const wanted = dispositions?.map((value) => value.replace(/^.*[-:]/, ""));
  const eventList: EpcisEvent[] = [];
  for (const { event, epcisEventId } of rows) {
    const entry = await entryOf(event.batchId);
    const serials = [...(serialsOf.get(event.batchId) ?? [])];
    const mapped = epcisEventOfStored(
      entry,
      { event, actor: await organisation(event.actorOrganisationId), serials },
      options,
    );
    if (epcisEventId !== null) {
      mapped["oioc:eventId"] = mapped.eventID;
      mapped.eventID = epcisEventId;
    }
    mapped.recordTime = new Date(event.createdAtMs).toISOString();
    if (wanted !== undefined && !wanted.includes(typeof mapped.disposition === "string" ? mapped.disposition : ""))
      continue;
    eventList.push(mapped);
  }
  const last = rows.at(-1);
  return {
    document: buildEpcisQueryDocument(eventList, options),
    nextPageToken:
      rows.length === limit && last !== undefined
        ? encodeToken({ createdAtMs: last.event.createdAtMs, id: last.event.id })
        : null,
  };
}
