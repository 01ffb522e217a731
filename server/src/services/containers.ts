/**
 * Cases and pallets (issue 14, part 1; docs/aggregation.md "What the server does"): packing
 * items (by Digital Link, by GTIN/lot/serial, by serial ranges or lists of one batch) and
 * cases into a case or pallet named by its SSCC, optionally shipping it in the same signed
 * request (a despatch); shipping, receiving and unpacking it later. Every rule the registry
 * applies is checked here first, so a refused request changes nothing and never reaches the
 * chain; the checks the chain cannot make (the leaves) are the server's alone.
 *
 * Each request is signed by the organisation over `previous`: the state hash after the
 * requests already accepted for the container, so several can queue. A custodial key signs
 * at once; an organisation holding its own key is asked for its signature (a signature
 * request) and the step is stored when it arrives, if the container is still where it was
 * prepared for (docs/aggregation.md "Keys"). The step, its tree and its outbox entry are
 * stored in one transaction.
 */
import { randomUUID } from "node:crypto";

import { TypedDataEncoder, ZeroAddress } from "ethers";
import { z } from "zod";

import { CHINA_OFFSET, chinaIsoTime } from "../domain/china-time.ts";
import {
  buildContainerTree,
  containerStateHash,
  EMPTY_CONTAINER_STATE,
  ZERO_ADDRESS,
  ZERO_BYTES32,
  type ContainerLeaf,
  type ContainerStateFields,
} from "../domain/container-state.ts";
import { buildDigitalLink, normalizeGtin, parseDigitalLink } from "../domain/gs1.ts";
import { isoInstant } from "../domain/instants.ts";
import { checkOccurredAt, ledgerSeconds } from "../domain/registry-rules.ts";
import { containerKeyOf, normalizeSscc, ssccFor, ssccUri } from "../domain/sscc.ts";
import { STEP_ACTORS } from "../domain/step-actors.ts";
import {
  CONTAINER_ACTIONS,
  CURRENT_TYPED_DATA_VERSION,
  domainFor,
  typesFor,
  type ContainerEventValue,
  type ContainerPackingValue,
} from "../domain/typed-data.ts";
import { AppError } from "../errors/app-error.ts";
import { outboxEntry } from "../ledger/outbox-kinds.ts";
import { getBatch, getBatchByLot, type Batch } from "../storage/batches.ts";
import {
  batchesWithSerial,
  existingSerials,
  getContainerByKey,
  getContainerBySscc,
  insertContainerStep,
  itemsInLiveContainers,
  liveParentsOf,
  packingLeaves,
  serialsBetween,
  ssccsOfKeys,
  takeSsccReferences,
  type StoredContainer,
  type StoredContainerStep,
} from "../storage/containers.ts";
import { isUniqueViolation } from "../storage/database.ts";
import { organisationPrefixBindings } from "../storage/entitlements.ts";
import { getOrganisation, type Organisation } from "../storage/organisations.ts";
import { enqueueOutbox } from "../storage/outbox.ts";
import { inTransaction, type Trx } from "../storage/transaction.ts";
import { activeOrganisation } from "./active-organisation.ts";
import type { ServiceContext } from "./context.ts";
import { requireEventAuthority } from "./custody.ts";
import { storeBytes, storeJsonDocument, type StoredDocument } from "./documents.ts";
import { sharedEpcisValidator } from "./epcis-schema.ts";
import { signAsOrganisation } from "./organisation-signature.ts";
import type { SignatureRequest } from "./signature-requests.ts";
import { recordWrite, type WriteOrigin } from "./write-log.ts";

/** Items one packing may hold: a pallet of cases is named by its cases, not by their items. */
export const MAX_PACKED_ITEMS = 10_000;
const MAX_CHILD_CONTAINERS = 1_000;
const CLOCK_SKEW_MS = 10 * 60_000;

const gtinText = z.string().regex(/^[0-9]{8,14}$/, "a GTIN");
const aiText = z.string().min(1).max(20);

/** One item, or several of one batch, as a packing names them. */
export const itemRef = z.union([
  z.string().min(1).max(500),
  z.object({ gtin: gtinText, lot: aiText, serial: aiText }).strict(),
  z.object({ gtin: gtinText, lot: aiText, from: aiText, to: aiText }).strict(),
  z.object({ gtin: gtinText, lot: aiText, serials: z.array(aiText).min(1).max(MAX_PACKED_ITEMS) }).strict(),
]);
export type ItemRef = z.infer<typeof itemRef>;

const bizTransaction = z
  .object({ type: z.enum(["po", "desadv", "inv", "rma"]), id: z.string().min(1).max(200) })
  .strict();

export const packRequest = z
  .object({
    sscc: z.string().min(1).max(100),
    /** Items by Digital Link URI or {gtin, lot, serial}; or serial ranges {gtin, lot, from, to} / lists of one batch. */
    items: z.array(itemRef).max(MAX_PACKED_ITEMS).optional(),
    /** Child containers (cases into a pallet) by SSCC. */
    containers: z.array(z.string().min(1).max(100)).max(MAX_CHILD_CONTAINERS).optional(),
    occurredAt: isoInstant,
    /** Ship in the same signed request (a despatch): the receiving organisation's id. */
    shipTo: z.string().min(1).max(100).optional(),
    /** EPCIS bizTransactionList entries written into the payload document (e.g. po, desadv). */
    bizTransactions: z.array(bizTransaction).max(20).optional(),
  })
  .strict();
export type PackRequest = z.infer<typeof packRequest>;

export const containerEventRequest = z
  .object({
    action: z.enum(["shipping", "receiving", "unpacking"]),
    occurredAt: isoInstant,
    /** For shipping (and only shipping): the organisation the container goes to. */
    receiver: z.string().min(1).max(100).optional(),
    bizTransactions: z.array(bizTransaction).max(20).optional(),
  })
  .strict();
export type ContainerEventRequest = z.infer<typeof containerEventRequest>;

export const ssccAllocationRequest = z
  .object({
    /** The SSCC's extension digit (the company's own use: e.g. 0 for cases, 3 for pallets). */
    extension: z.number().int().min(0).max(9).default(0),
    count: z.number().int().min(1).max(100).default(1),
  })
  .strict();

/** A request accepted: the step stored and queued for the ledger. */
export interface AcceptedContainerStep {
  sscc: string;
  containerKey: string;
  step: StoredContainerStep;
}

interface ResolvedItems {
  /** Serials by batch id, in the order first named. */
  byBatch: Map<string, { batch: Batch; serials: string[] }>;
  count: number;
}

function originOf(organisation: Organisation): string {
  // The server never rotates a key, so an organisation's origin is its signer.
  return organisation.signerAddress.toLowerCase();
}

async function batchOf(ctx: ServiceContext, cache: Map<string, Batch>, gtin: string, lot: string): Promise<Batch> {
  const gtin14 = normalizeGtin(gtin);
  const key = `${gtin14}/${lot}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const batch = await getBatchByLot(ctx.db, gtin14, lot);
  if (batch === null) throw new AppError("batch.not_found", { gtin: gtin14, lot });
  cache.set(key, batch);
  return batch;
}

/** The items a packing names, grouped by batch; unknown serials and repeats refused. */
async function resolveItems(ctx: ServiceContext, refs: readonly ItemRef[]): Promise<ResolvedItems> {
  const lots = new Map<string, Batch>();
  const byBatch = new Map<string, { batch: Batch; serials: string[] }>();
  const unknown: string[] = [];
  let count = 0;
  const add = (batch: Batch, serials: readonly string[]) => {
    const entry = byBatch.get(batch.batchId) ?? { batch, serials: [] };
    entry.serials.push(...serials);
    byBatch.set(batch.batchId, entry);
    count += serials.length;
    if (count > MAX_PACKED_ITEMS) {
      throw new AppError("container.children_invalid", { maxItems: MAX_PACKED_ITEMS });
    }
  };
  for (const ref of refs) {
    if (typeof ref === "string") {
      const link = parseDigitalLink(ref);
      if (link.serial === undefined) throw new AppError("container.item_unknown", { items: [ref] });
      if (link.lot !== undefined) {
        add(await batchOf(ctx, lots, link.gtin, link.lot), [link.serial]);
        continue;
      }
      const batches = await batchesWithSerial(ctx.db, link.gtin, link.serial);
      const [only] = batches;
      if (only === undefined || batches.length > 1) {
        unknown.push(ref);
        continue;
      }
      const batch = await getBatch(ctx.db, only);
      if (batch === null) throw new AppError("batch.not_found");
      add(batch, [link.serial]);
    } else if ("serial" in ref) {
      add(await batchOf(ctx, lots, ref.gtin, ref.lot), [ref.serial]);
    } else if ("serials" in ref) {
      add(await batchOf(ctx, lots, ref.gtin, ref.lot), ref.serials);
    } else {
      const batch = await batchOf(ctx, lots, ref.gtin, ref.lot);
      const serials = await serialsBetween(ctx.db, batch.batchId, ref.from, ref.to, MAX_PACKED_ITEMS);
      if (serials[0] !== ref.from || serials.at(-1) !== ref.to) {
        unknown.push(`${ref.gtin}/${ref.lot}/${ref.from}..${ref.to}`);
        continue;
      }
      add(batch, serials);
    }
  }
  if (unknown.length > 0) throw new AppError("container.item_unknown", { items: unknown.slice(0, 20) });
  for (const { batch, serials } of byBatch.values()) {
    if (new Set(serials).size !== serials.length) {
      throw new AppError("container.children_invalid", { duplicateIn: `${batch.gtin}/${batch.lot}` });
    }
  }
  return { byBatch, count };
}

/** Refuses serials their batch does not have (checked after custody: a stranger learns nothing of a batch). */
async function requireItemsExist(ctx: ServiceContext, items: ResolvedItems): Promise<void> {
  const unknown: string[] = [];
  for (const { batch, serials } of items.byBatch.values()) {
    const found = await existingSerials(ctx.db, batch.batchId, serials);
    for (const serial of serials) if (!found.has(serial)) unknown.push(`${batch.gtin}/${batch.lot}/${serial}`);
  }
  if (unknown.length > 0) throw new AppError("container.item_unknown", { items: unknown.slice(0, 20) });
}

/** Refuses the actor unless it holds custody of every batch, as the registry will judge. */
async function requireBatchCustody(db: Trx | ServiceContext["db"], actor: Organisation, items: ResolvedItems) {
  for (const { batch } of items.byBatch.values()) {
    if (batch.ledger.state === "failed") throw new AppError("batch.attestation_failed");
    if (batch.status === "recalled") throw new AppError("batch.recalled");
    await requireEventAuthority(db, {
      batchId: batch.batchId,
      cooperativeId: batch.organisationId,
      actorId: actor.id,
      step: "packing",
      receiverId: null,
    });
  }
}

/** Refuses items that a live container already holds. */
async function requireItemsFree(db: Trx | ServiceContext["db"], items: ResolvedItems): Promise<void> {
  const taken: { gtin: string; lot: string; serial: string; sscc: string }[] = [];
  for (const { batch, serials } of items.byBatch.values()) {
    for (const found of await itemsInLiveContainers(db, batch.batchId, serials)) {
      taken.push({ gtin: batch.gtin, lot: batch.lot, serial: found.serial, sscc: found.sscc });
    }
  }
  if (taken.length > 0) throw new AppError("container.item_in_live_container", { items: taken.slice(0, 20) });
}

/** The child containers: each live, held by the actor, not in transit, in no other live pallet. */
async function requireChildren(
  db: Trx | ServiceContext["db"],
  actor: Organisation,
  containerKey: string,
  childSsccs: readonly string[],
): Promise<StoredContainer[]> {
  const children: StoredContainer[] = [];
  for (const sscc of childSsccs) {
    const child = await getContainerBySscc(db, sscc);
    if (child?.containerKey === containerKey) throw new AppError("container.children_invalid", { sscc });
    if (
      child?.livePacking == null ||
      child.expectedState.custodian !== originOf(actor) ||
      child.expectedState.pendingReceiver !== ZERO_ADDRESS
    ) {
      throw new AppError("container.child_invalid", { sscc });
    }
    const parents = await liveParentsOf(db, child.containerKey, containerKey);
    if (parents.length > 0) throw new AppError("container.child_in_live_container", { sscc, pallet: parents[0] });
    children.push(child);
  }
  return children;
}

/** The receiver a shipping names: registered, of a kind that receives, not the shipper. */
async function requireReceiver(
  db: Trx | ServiceContext["db"],
  actor: Organisation,
  receiverId: string,
): Promise<Organisation> {
  const receiver = await getOrganisation(db, receiverId);
  if (
    receiver === null ||
    receiver.id === actor.id ||
    receiver.ledgerState === "failed" ||
    !STEP_ACTORS.receiving.includes(receiver.kind)
  ) {
    throw new AppError("event.receiver_invalid");
  }
  if (!STEP_ACTORS.shipping.includes(actor.kind))
    throw new AppError("container.step_not_allowed", { step: "shipping" });
  return receiver;
}

function occurredAtOf(ctx: ServiceContext, text: string): number {
  const occurredAtMs = Date.parse(text);
  checkOccurredAt(occurredAtMs);
  if (occurredAtMs > ctx.now() + CLOCK_SKEW_MS) throw new AppError("event.before_harvest");
  return occurredAtMs;
}

function organisationUri(ctx: ServiceContext, id: string): string {
  return `${ctx.publicOrigin}/organisations/${encodeURIComponent(id)}`;
}

/** An item's instance-level Digital Link with its lot: the leaf is rebuilt from it (batch = GTIN + lot). */
function itemEpc(batch: Batch, serial: string): string {
  return buildDigitalLink({ host: "id.gs1.org", gtin: batch.gtin, lot: batch.lot, serial });
}

interface EventParts {
  ctx: ServiceContext;
  actor: Organisation;
  occurredAtMs: number;
  bizTransactions: PackRequest["bizTransactions"];
}

/** EPCIS 2.0 wants a business transaction as a URI: a bare reference becomes one under our origin. */
function transactionUri(ctx: ServiceContext, entry: { type: string; id: string }): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(entry.id)) return entry.id;
  return `${ctx.publicOrigin}/bt/${entry.type}/${encodeURIComponent(entry.id)}`;
}

function commonEventFields({ ctx, actor, occurredAtMs, bizTransactions }: EventParts) {
  return {
    eventID: `urn:uuid:${randomUUID()}`,
    eventTime: chinaIsoTime(occurredAtMs),
    eventTimeZoneOffset: CHINA_OFFSET,
    readPoint: { id: `${ctx.publicOrigin}/locations/${actor.regionCode}` },
    ...(bizTransactions === undefined || bizTransactions.length === 0
      ? {}
      : {
          bizTransactionList: bizTransactions.map((entry) => ({
            type: entry.type,
            bizTransaction: transactionUri(ctx, entry),
          })),
        }),
  };
}

function shippingEvent(parts: EventParts, sscc: string, receiver: Organisation): Record<string, unknown> {
  return {
    type: "ObjectEvent",
    ...commonEventFields(parts),
    action: "OBSERVE",
    epcList: [ssccUri(sscc)],
    bizStep: "shipping",
    disposition: "in_transit",
    sourceList: [{ type: "owning_party", source: organisationUri(parts.ctx, parts.actor.id) }],
    destinationList: [{ type: "owning_party", destination: organisationUri(parts.ctx, receiver.id) }],
  };
}

/** The payload document of a step: an EPCIS 2.0 document holding its event(s), as JSON-LD. */
function epcisDocument(ctx: ServiceContext, occurredAtMs: number, events: Record<string, unknown>[]) {
  return {
    "@context": [
      "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
      { oioc: `${ctx.publicOrigin}/ns/epcis#` },
    ],
    type: "EPCISDocument",
    schemaVersion: "2.0",
    creationDate: new Date(occurredAtMs).toISOString(),
    epcisBody: { eventList: events },
  };
}

/**
 * Stores a payload document after checking it against GS1's EPCIS 2.0 schema: one raw block
 * when it fits (the scan page checks its hash), else as a file (a large case's childEPCs).
 */
async function storePayload(ctx: ServiceContext, document: unknown): Promise<StoredDocument> {
  const validation = sharedEpcisValidator()(document);
  if (!validation.valid) throw new Error(`container payload fails the EPCIS 2.0 schema: ${JSON.stringify(validation)}`);
  const text = JSON.stringify(document);
  const bytes = new TextEncoder().encode(text);
  if (bytes.byteLength <= 262_144) return storeJsonDocument(ctx.content, document);
  return storeBytes(ctx.content, bytes);
}

function deadlineOf(ctx: ServiceContext): bigint {
  return BigInt(Math.floor(ctx.now() / 1000) + ctx.signatureTtlSeconds);
}

/** A container request's EIP-712 digest (its arrays are beyond the browser-safe encoder in verify/). */
export function digestOf(
  ctx: ServiceContext,
  primaryType: "ContainerPacking" | "ContainerEvent",
  value: object,
): string {
  const domain = domainFor(ctx.domain.chainId, ctx.domain.verifyingContract, ctx.domain.version);
  return TypedDataEncoder.hash(domain, typesFor(primaryType, ctx.domain.version), value).toLowerCase();
}

/** Inside the write's transaction: the container must still be where the request was signed for. */
async function requireUnchanged(
  trx: Trx,
  containerKey: string,
  previous: string,
): Promise<StoredContainer | undefined> {
  const container = await getContainerByKey(trx, containerKey);
  const expected = container?.expectedStateHash ?? ZERO_BYTES32;
  if (expected !== previous) throw new AppError("container.state_conflict", { rule: "changed_meanwhile" });
  return container;
}

function stateOf(container: StoredContainer | undefined): { current: ContainerStateFields; previous: string } {
  if (container === undefined) return { current: EMPTY_CONTAINER_STATE, previous: ZERO_BYTES32 };
  const previous = container.expectedStateHash;
  // All steps failed and nothing on chain: the container is as never packed.
  if (previous === ZERO_BYTES32) return { current: EMPTY_CONTAINER_STATE, previous };
  return { current: container.expectedState, previous };
}

async function storeStep(write: () => Promise<StoredContainerStep>): Promise<StoredContainerStep> {
  try {
    return await write();
  } catch (error) {
    // Another request for the container took the same place first (PostgreSQL, concurrent writes).
    if (isUniqueViolation(error)) throw new AppError("container.state_conflict", { rule: "changed_meanwhile" });
    throw error;
  }
}

/**
 * What a container request needs to be stored once signed, kept with the signature request
 * of an organisation holding its own key. The leaves are kept (at most 10,000 items, a few
 * hundred kilobytes) and the tree rebuilt from them at submission, deterministically, and
 * checked against the signed root: the nodes are derived data, twice the leaves' size.
 */
const preparedPacking = z
  .object({
    sscc: z.string(),
    containerKey: z.string(),
    items: z.array(z.object({ batchId: z.string(), serials: z.array(z.string()) }).strict()),
    childSsccs: z.array(z.string()),
    receiverId: z.string().nullable(),
    payloadCid: z.string(),
    occurredAtMs: z.number(),
    createdBy: z.string(),
  })
  .strict();
type PreparedPacking = z.infer<typeof preparedPacking>;

const preparedEvent = z
  .object({
    sscc: z.string(),
    containerKey: z.string(),
    action: z.enum(["shipping", "receiving", "unpacking"]),
    receiverId: z.string().nullable(),
    payloadCid: z.string(),
    occurredAtMs: z.number(),
    createdBy: z.string(),
  })
  .strict();
type PreparedEvent = z.infer<typeof preparedEvent>;

/** A container request: stored at once (custodial key), or waiting for the organisation's own wallet. */
export type ContainerWrite = AcceptedContainerStep | { awaitingSignature: SignatureRequest };

/**
 * Runs the rules judged again with the write held. For a signature the organisation made
 * over an earlier state, any refusal there means the container or what it names changed
 * while it was signing: it is told so (and which rule), and asks again for the state now.
 */
async function judgedAgain<T>(submitted: boolean, judge: () => Promise<T>): Promise<T> {
  try {
    return await judge();
  } catch (error) {
    if (!submitted || !(error instanceof AppError) || error.code === "container.state_conflict") throw error;
    throw new AppError(
      "container.state_conflict",
      { rule: "changed_meanwhile", refusal: error.code },
      { cause: error },
    );
  }
}

/** Packs items and/or cases into a case or pallet; with `shipTo`, ships it in the same signed request. */
export async function packContainer(
  ctx: ServiceContext,
  origin: WriteOrigin,
  request: PackRequest,
): Promise<ContainerWrite> {
  const sscc = normalizeSscc(request.sscc);
  const containerKey = containerKeyOf(sscc);
  const actor = await activeOrganisation(ctx, origin.principal.organisationId, STEP_ACTORS.packing);
  const occurredAtMs = occurredAtOf(ctx, request.occurredAt);
  const childSsccs = (request.containers ?? []).map(normalizeSscc);
  if (new Set(childSsccs).size !== childSsccs.length)
    throw new AppError("container.children_invalid", { duplicate: "containers" });
  const items = await resolveItems(ctx, request.items ?? []);
  if (items.count === 0 && childSsccs.length === 0) throw new AppError("container.children_invalid", { empty: true });

  const existing = await getContainerByKey(ctx.db, containerKey);
  if (existing?.livePacking != null) throw new AppError("container.live", { sscc });
  await requireBatchCustody(ctx.db, actor, items);
  await requireItemsExist(ctx, items);
  await requireItemsFree(ctx.db, items);
  const children = await requireChildren(ctx.db, actor, containerKey, childSsccs);
  const receiver = request.shipTo === undefined ? null : await requireReceiver(ctx.db, actor, request.shipTo);

  const prepared: PreparedPacking = {
    sscc,
    containerKey,
    items: [...items.byBatch.values()].map(({ batch, serials }) => ({ batchId: batch.batchId, serials })),
    childSsccs: children.map((child) => child.sscc),
    receiverId: receiver?.id ?? null,
    payloadCid: "",
    occurredAtMs,
    createdBy: origin.principal.credentialId ?? "admin",
  };
  const leaves = leavesOf(prepared);
  const childEpcs: string[] = [];
  for (const { batch, serials } of items.byBatch.values())
    for (const serial of serials) childEpcs.push(itemEpc(batch, serial));
  for (const child of children) childEpcs.push(ssccUri(child.sscc));
  const tree = buildContainerTree(leaves);

  const parts: EventParts = { ctx, actor, occurredAtMs, bizTransactions: request.bizTransactions };
  const events: Record<string, unknown>[] = [
    {
      type: "AggregationEvent",
      ...commonEventFields(parts),
      parentID: ssccUri(sscc),
      childEPCs: childEpcs,
      action: "ADD",
      bizStep: "packing",
      disposition: "in_progress",
      bizLocation: { id: organisationUri(ctx, actor.id) },
    },
  ];
  if (receiver !== null) events.push(shippingEvent(parts, sscc, receiver));
  const payload = await storePayload(ctx, epcisDocument(ctx, occurredAtMs, events));
  prepared.payloadCid = payload.cidText;

  const { previous } = stateOf(existing);
  const value: ContainerPackingValue = {
    actor: actor.signerAddress,
    containerKey,
    childrenRoot: tree.root,
    childCount: BigInt(leaves.length),
    batchIds: prepared.items.map((entry) => entry.batchId.toLowerCase()),
    childContainers: children.map((child) => child.containerKey),
    occurredAt: ledgerSeconds(occurredAtMs),
    payloadCid: payload.cidHex,
    counterparty: receiver?.signerAddress ?? ZeroAddress,
    previous,
    deadline: deadlineOf(ctx),
  };
  const signed = await signAsOrganisation(
    ctx,
    origin,
    actor,
    { primaryType: "ContainerPacking", value },
    { record: prepared, deadline: value.deadline },
  );
  if ("awaitingSignature" in signed) return signed;
  return commitPacking(ctx, origin, actor, prepared, value, signed.signature, false);
}

/** A packing's leaves in the order its tree was built: items batch by batch, then child containers. */
function leavesOf(prepared: PreparedPacking): ContainerLeaf[] {
  const leaves: ContainerLeaf[] = [];
  for (const { batchId, serials } of prepared.items)
    for (const serial of serials) leaves.push({ type: "item", batchId, serial });
  for (const sscc of prepared.childSsccs) leaves.push({ type: "container", containerKey: containerKeyOf(sscc) });
  return leaves;
}

/** The batches a prepared packing names, read again (inside the write's transaction at submission). */
async function itemsOf(db: Trx | ServiceContext["db"], prepared: PreparedPacking): Promise<ResolvedItems> {
  const byBatch = new Map<string, { batch: Batch; serials: string[] }>();
  let count = 0;
  for (const { batchId, serials } of prepared.items) {
    const batch = await getBatch(db, batchId);
    if (batch === null) throw new AppError("batch.not_found");
    byBatch.set(batch.batchId, { batch, serials });
    count += serials.length;
  }
  return { byBatch, count };
}

/**
 * Stores a signed packing, its tree and its outbox entry in one transaction, after judging
 * again, with the write held, everything that may have changed since it was prepared: the
 * container's state (`previous`), custody of each batch, items still free, children still
 * live and held, the receiver. A request accepted meanwhile counts.
 */
async function commitPacking(
  ctx: ServiceContext,
  origin: WriteOrigin,
  actor: Organisation,
  prepared: PreparedPacking,
  value: ContainerPackingValue,
  signature: string,
  submitted: boolean,
): Promise<AcceptedContainerStep> {
  const { sscc, containerKey } = prepared;
  const leaves = leavesOf(prepared);
  const tree = buildContainerTree(leaves);
  if (tree.root.toLowerCase() !== value.childrenRoot.toLowerCase() || BigInt(leaves.length) !== value.childCount) {
    throw new Error(`the leaves kept for ${sscc} do not rebuild the signed root`);
  }
  const digest = digestOf(ctx, "ContainerPacking", value);
  const nowMs = ctx.now();
  const step = await inTransaction(ctx.db, async (trx) => {
    const { current, children, receiver, items } = await judgedAgain(submitted, async () => {
      const container = await requireUnchanged(trx, containerKey, value.previous);
      if (container?.livePacking != null) throw new AppError("container.live", { sscc });
      const items = await itemsOf(trx, prepared);
      await requireBatchCustody(trx, actor, items);
      await requireItemsFree(trx, items);
      const children = await requireChildren(trx, actor, containerKey, prepared.childSsccs);
      const receiver = prepared.receiverId === null ? null : await requireReceiver(trx, actor, prepared.receiverId);
      return { current: stateOf(container).current, children, receiver, items };
    });
    const state: ContainerStateFields = {
      childrenRoot: tree.root.toLowerCase(),
      custodian: originOf(actor),
      pendingReceiver: receiver === null ? ZERO_ADDRESS : originOf(receiver),
      link: digest,
    };
    const stored = await storeStep(() =>
      insertContainerStep(
        trx,
        {
          id: digest,
          sscc,
          containerKey,
          packingId: digest,
          primaryType: "ContainerPacking",
          action: "packing",
          value: { ...encodeValue(value) },
          signature,
          typedDataVersion: CURRENT_TYPED_DATA_VERSION,
          payloadCid: prepared.payloadCid,
          state,
          actorOrganisationId: actor.id,
          counterpartyOrganisationId: receiver?.id ?? null,
          occurredAtMs: prepared.occurredAtMs,
          createdBy: prepared.createdBy,
        },
        {
          nodes: tree.nodes,
          leaves: leaves.map((leaf, index) => ({ ...leaf, treeIndex: tree.treeIndexes[index] ?? -1 })),
        },
        nowMs,
      ),
    );
    await enqueueOutbox(
      trx,
      outboxEntry("container_packing", digest, {
        value,
        signature,
        current,
        childStates: children.map((child) => child.expectedState),
      }),
      nowMs,
    );
    await recordWrite(
      trx,
      origin,
      "container.pack",
      sscc,
      { items: items.count, containers: children.length, shipTo: receiver?.id ?? null },
      nowMs,
    );
    return stored;
  });
  return { sscc, containerKey, step };
}

/** The signed value's JSON form as the step stores it (integers in decimal, arrays of hex). */
function encodeValue(value: ContainerPackingValue | ContainerEventValue): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(value).map(([name, field]) => [
      name,
      Array.isArray(field) ? field.map(String) : typeof field === "bigint" ? field.toString() : field,
    ]),
  );
}

function eventActorKinds(action: ContainerEventRequest["action"]): readonly Organisation["kind"][] {
  return action === "unpacking"
    ? ["cooperative", "processor", "logistics", "retailer", "inspector"]
    : STEP_ACTORS[action];
}

/** The container as a step needs it: packed, and held (or awaited) by the actor. */
function requireStepCustody(
  sscc: string,
  container: StoredContainer | undefined,
  actor: Organisation,
  action: ContainerEventRequest["action"],
): { current: ContainerStateFields; packingId: string } {
  if (container === undefined) throw new AppError("container.not_found", { sscc });
  const packing = container.livePacking;
  if (packing === null) throw new AppError("container.empty", { sscc });
  const { current } = stateOf(container);
  const me = originOf(actor);
  if (action === "receiving") {
    if (current.pendingReceiver !== me) throw new AppError("container.no_custody", { sscc, action });
  } else {
    if (current.custodian !== me) throw new AppError("container.no_custody", { sscc, action });
    if (action === "unpacking" && current.pendingReceiver !== ZERO_ADDRESS) {
      throw new AppError("container.in_transit", { sscc });
    }
  }
  return { current, packingId: packing.packingId };
}

/** Ships, receives or unpacks a container. */
export async function recordContainerEvent(
  ctx: ServiceContext,
  origin: WriteOrigin,
  ssccText: string,
  request: ContainerEventRequest,
): Promise<ContainerWrite> {
  const sscc = normalizeSscc(ssccText);
  const containerKey = containerKeyOf(sscc);
  const actor = await activeOrganisation(ctx, origin.principal.organisationId, eventActorKinds(request.action));
  const occurredAtMs = occurredAtOf(ctx, request.occurredAt);
  if (request.action !== "shipping" && request.receiver !== undefined)
    throw new AppError("event.counterparty_unexpected");
  if (request.action === "shipping" && request.receiver === undefined) throw new AppError("event.receiver_required");
  const container = await getContainerByKey(ctx.db, containerKey);
  requireStepCustody(sscc, container, actor, request.action);
  const { previous } = stateOf(container);
  const receiver = request.receiver === undefined ? null : await requireReceiver(ctx.db, actor, request.receiver);

  const parts: EventParts = { ctx, actor, occurredAtMs, bizTransactions: request.bizTransactions };
  const event: Record<string, unknown> =
    request.action === "shipping" && receiver !== null
      ? shippingEvent(parts, sscc, receiver)
      : request.action === "receiving"
        ? {
            type: "ObjectEvent",
            ...commonEventFields(parts),
            action: "OBSERVE",
            epcList: [ssccUri(sscc)],
            bizStep: "receiving",
            disposition: "in_progress",
            bizLocation: { id: organisationUri(ctx, actor.id) },
          }
        : {
            // DELETE without childEPCs: every child leaves the parent (EPCIS 2.0, 7.4.3).
            type: "AggregationEvent",
            ...commonEventFields(parts),
            parentID: ssccUri(sscc),
            action: "DELETE",
            bizStep: "unpacking",
            disposition: "in_progress",
            bizLocation: { id: organisationUri(ctx, actor.id) },
          };
  const payload = await storePayload(ctx, epcisDocument(ctx, occurredAtMs, [event]));
  const value: ContainerEventValue = {
    actor: actor.signerAddress,
    containerKey,
    action: BigInt(CONTAINER_ACTIONS.indexOf(request.action)),
    occurredAt: ledgerSeconds(occurredAtMs),
    payloadCid: payload.cidHex,
    counterparty: receiver?.signerAddress ?? ZeroAddress,
    previous,
    deadline: deadlineOf(ctx),
  };
  const prepared: PreparedEvent = {
    sscc,
    containerKey,
    action: request.action,
    receiverId: receiver?.id ?? null,
    payloadCid: payload.cidText,
    occurredAtMs,
    createdBy: origin.principal.credentialId ?? "admin",
  };
  const signed = await signAsOrganisation(
    ctx,
    origin,
    actor,
    { primaryType: "ContainerEvent", value },
    { record: prepared, deadline: value.deadline },
  );
  if ("awaitingSignature" in signed) return signed;
  return commitContainerEvent(ctx, origin, actor, prepared, value, signed.signature, false);
}

/** Stores a signed shipping, receiving or unpacking with its outbox entry, judged again with the write held. */
async function commitContainerEvent(
  ctx: ServiceContext,
  origin: WriteOrigin,
  actor: Organisation,
  prepared: PreparedEvent,
  value: ContainerEventValue,
  signature: string,
  submitted: boolean,
): Promise<AcceptedContainerStep> {
  const { sscc, containerKey, action } = prepared;
  const digest = digestOf(ctx, "ContainerEvent", value);
  const nowMs = ctx.now();
  const step = await inTransaction(ctx.db, async (trx) => {
    const { current, packingId, receiver } = await judgedAgain(submitted, async () => {
      const container = await requireUnchanged(trx, containerKey, value.previous);
      const held = requireStepCustody(sscc, container, actor, action);
      const receiver = prepared.receiverId === null ? null : await requireReceiver(trx, actor, prepared.receiverId);
      return { ...held, receiver };
    });
    const state: ContainerStateFields =
      action === "shipping" && receiver !== null
        ? { ...current, pendingReceiver: originOf(receiver), link: digest }
        : action === "receiving"
          ? { ...current, custodian: originOf(actor), pendingReceiver: ZERO_ADDRESS, link: digest }
          : { childrenRoot: ZERO_BYTES32, custodian: ZERO_ADDRESS, pendingReceiver: ZERO_ADDRESS, link: digest };
    const stored = await storeStep(() =>
      insertContainerStep(
        trx,
        {
          id: digest,
          sscc,
          containerKey,
          packingId,
          primaryType: "ContainerEvent",
          action,
          value: encodeValue(value),
          signature,
          typedDataVersion: CURRENT_TYPED_DATA_VERSION,
          payloadCid: prepared.payloadCid,
          state,
          actorOrganisationId: actor.id,
          counterpartyOrganisationId: receiver?.id ?? null,
          occurredAtMs: prepared.occurredAtMs,
          createdBy: prepared.createdBy,
        },
        null,
        nowMs,
      ),
    );
    await enqueueOutbox(trx, outboxEntry("container_event", digest, { value, signature, current }), nowMs);
    await recordWrite(trx, origin, `container.${action}`, sscc, { receiver: receiver?.id ?? null }, nowMs);
    return stored;
  });
  return { sscc, containerKey, step };
}

/**
 * Completes a container request an organisation holding its own key signed (its signature
 * already checked by sign-and-submit.ts): stored exactly as a custodial one, once the rules
 * are judged again inside the write; a container changed meanwhile refuses it.
 */
export async function submitContainerPacking(
  ctx: ServiceContext,
  origin: WriteOrigin,
  organisationId: string,
  record: Record<string, unknown>,
  value: ContainerPackingValue,
  signature: string,
): Promise<AcceptedContainerStep> {
  const prepared = preparedPacking.parse(record);
  const actor = await activeOrganisation(ctx, organisationId, STEP_ACTORS.packing);
  return commitPacking(ctx, origin, actor, prepared, value, signature, true);
}

export async function submitContainerEvent(
  ctx: ServiceContext,
  origin: WriteOrigin,
  organisationId: string,
  record: Record<string, unknown>,
  value: ContainerEventValue,
  signature: string,
): Promise<AcceptedContainerStep> {
  const prepared = preparedEvent.parse(record);
  const actor = await activeOrganisation(ctx, organisationId, eventActorKinds(prepared.action));
  return commitContainerEvent(ctx, origin, actor, prepared, value, signature, true);
}

/** A container's state, contents and steps, as the API answers it. */
export interface ContainerView {
  sscc: string;
  containerKey: string;
  state: "empty" | "packed" | "in_transit";
  custodianOrganisationId: string | null;
  pendingReceiverOrganisationId: string | null;
  expectedState: ContainerStateFields;
  expectedStateHash: string;
  chain: StoredContainer["chain"];
  contents: {
    childCount: number;
    batches: { batchId: string; gtin: string; lot: string; items: number }[];
    containers: { containerKey: string; sscc: string | null }[];
  } | null;
  steps: (StoredContainerStep & { stateHashMatches: boolean })[];
}

export async function getContainer(ctx: ServiceContext, ssccText: string): Promise<ContainerView> {
  const sscc = normalizeSscc(ssccText);
  const container = await getContainerBySscc(ctx.db, sscc);
  if (container === undefined) throw new AppError("container.not_found", { sscc });
  const { expectedState } = container;
  const organisationOf = async (address: string): Promise<string | null> => {
    if (address === ZERO_ADDRESS) return null;
    const step = container.steps.findLast(
      (candidate) => candidate.state.custodian === address || candidate.state.pendingReceiver === address,
    );
    if (step === undefined) return null;
    const ids = [step.actorOrganisationId, step.counterpartyOrganisationId].filter((id): id is string => id !== null);
    for (const id of ids) {
      const organisation = await getOrganisation(ctx.db, id);
      if (organisation !== null && originOf(organisation) === address) return organisation.id;
    }
    return null;
  };
  let contents: ContainerView["contents"] = null;
  if (container.livePacking !== null) {
    const leaves = await packingLeaves(ctx.db, container.livePacking.packingId);
    const perBatch = new Map<string, number>();
    for (const leaf of leaves)
      if (leaf.batchId !== null) perBatch.set(leaf.batchId, (perBatch.get(leaf.batchId) ?? 0) + 1);
    const batches: NonNullable<ContainerView["contents"]>["batches"] = [];
    for (const [batchId, count] of perBatch) {
      const batch = await getBatch(ctx.db, batchId);
      batches.push({ batchId, gtin: batch?.gtin ?? "", lot: batch?.lot ?? "", items: count });
    }
    const ssccs = await ssccsOfKeys(ctx.db, container.livePacking.childContainers);
    contents = {
      childCount: container.livePacking.childCount,
      batches,
      containers: container.livePacking.childContainers.map((key) => ({
        containerKey: key,
        sscc: ssccs.get(key.toLowerCase()) ?? null,
      })),
    };
  }
  return {
    sscc: container.sscc,
    containerKey: container.containerKey,
    state:
      container.livePacking === null
        ? "empty"
        : expectedState.pendingReceiver !== ZERO_ADDRESS
          ? "in_transit"
          : "packed",
    custodianOrganisationId: await organisationOf(expectedState.custodian),
    pendingReceiverOrganisationId: await organisationOf(expectedState.pendingReceiver),
    expectedState,
    expectedStateHash: container.expectedStateHash,
    chain: container.chain,
    contents,
    steps: container.steps.map((step) => ({
      ...step,
      stateHashMatches: containerStateHash(step.state) === step.stateHash,
    })),
  };
}

/**
 * Allocates SSCCs under the organisation's own company prefix (its first binding in force),
 * else under the platform's, as GTINs are: extension digit, prefix, serial reference, check digit.
 */
export async function allocateSsccs(
  ctx: ServiceContext,
  origin: WriteOrigin,
  request: z.infer<typeof ssccAllocationRequest>,
): Promise<{ ssccs: string[]; prefix: string }> {
  const actor = await activeOrganisation(ctx, origin.principal.organisationId, STEP_ACTORS.packing);
  const bindings = await organisationPrefixBindings(ctx.db, actor.id);
  const own = bindings.find((binding) => binding.releasedAtMs === null && binding.ledger.state !== "failed");
  const prefix = own?.prefix ?? ctx.platformPrefix?.prefix;
  if (prefix === undefined) throw new AppError("platform_prefix.not_configured");
  const key = `${String(request.extension)}${prefix}`;
  const first = await takeSsccReferences(ctx.db, key, actor.id, request.count, ctx.now());
  const ssccs = Array.from({ length: request.count }, (_, index) =>
    ssccFor(request.extension, prefix, first + BigInt(index)),
  );
  return { ssccs, prefix };
}
