/**
 * Resolving one item's Digital Link into everything a verifier needs (see
 * domain/resolution.ts), recording the scan, and the clone signals a consumer is shown.
 * Nothing here decides "verified": the page and any third party check the answer against
 * the chain themselves.
 */
import { createHmac, createSecretKey, type KeyObject } from "node:crypto";

import { ZeroAddress } from "ethers";
import { z } from "zod";

import type { ItemTree } from "../domain/merkle.ts";
import type {
  CloneSignal,
  ItemResolution,
  LocalisedText,
  ResolvedEvent,
  ResolvedParty,
  UnknownItemResolution,
} from "../domain/resolution.ts";
import { bizStepIndex, TYPED_CODECS } from "../domain/typed-data.ts";
import { parseCid } from "../ipfs/content-store.ts";
import { getBatchByLot, listItemSerials, type Batch } from "../storage/batches.ts";
import { getScanRecords, type ScanRecords } from "../storage/scan-reads.ts";
import { bufferScan, countScansByNewClientsAfter, itemScanSummary } from "../storage/scans.ts";
import { buildItemTreeOffLoop } from "../workers/heavy.ts";
import {
  objectClosing,
  objectOpening,
  scriptSafeJson,
  sharedText,
  type SharedText,
  type TextPiece,
} from "./answer-text.ts";
import { BATCH_RECORDS_MAX_AGE_MS, batchRecords } from "./batch-records.ts";
import type { ServiceContext } from "./context.ts";
import { cidHexFromText, readAll } from "./documents.ts";
import { inlineDocuments } from "./inline-documents.ts";
import { batchCertificates, containerSignals, itemContainers } from "./item-path.ts";
import { memoised } from "./memoise.ts";
import { attestationJson, resolvedChain } from "./resolved-batch.ts";
import { itemUri } from "./items.ts";
import { regionName } from "../domain/region-names.ts";
import { batchIdOf } from "../verify/batch-id.ts";

/**
 * Configured (CLONE_* settings). The public heuristic: a code looks copied when it was
 * scanned 6 or more times in 24 h, or 10 or more in 7 days, or from 4 or more network
 * addresses in 24 h, or after its hidden code was claimed by an address that had not scanned
 * it before. Clients are told apart by network address only: a User-Agent is whatever the
 * phone says, so changing it must not make one phone look like many. A genuine buyer (shop,
 * home, claim: 3 scans from 2-3 addresses in a day) trips none of these.
 */
export interface CloneThresholds {
  scansPerDay: number;
  scansPerWeek: number;
  distinctAddressesPerDay: number;
}

export interface ScanSummary {
  scansDay: number;
  scansWeek: number;
  distinctAddressesDay: number;
  /** Scans after the claim by addresses that had not scanned the item before it. */
  scansAfterClaimByOthers: number;
}

export function cloneSignals(scans: ScanSummary, thresholds: CloneThresholds): CloneSignal[] {
  const signals: CloneSignal[] = [];
  if (scans.scansDay >= thresholds.scansPerDay) {
    signals.push({
      code: "many_scans_day",
      en: `This code was scanned ${scans.scansDay} times in the last 24 hours; it may have been copied.`,
      zh: `此码在 24 小时内已被扫描 ${scans.scansDay} 次，可能被复制。`,
    });
  } else if (scans.scansWeek >= thresholds.scansPerWeek) {
    signals.push({
      code: "many_scans_week",
      en: `This code was scanned ${scans.scansWeek} times in the last 7 days; it may have been copied.`,
      zh: `此码在 7 天内已被扫描 ${scans.scansWeek} 次，可能被复制。`,
    });
  }
  if (scans.distinctAddressesDay >= thresholds.distinctAddressesPerDay) {
    signals.push({
      code: "many_places",
      en: `This code was scanned from ${scans.distinctAddressesDay} different networks in the last 24 hours; one item is usually scanned by one buyer.`,
      zh: `此码在 24 小时内从 ${scans.distinctAddressesDay} 个不同的网络被扫描；一件商品通常只由一位买家扫描。`,
    });
  }
  if (scans.scansAfterClaimByOthers > 0) {
    signals.push({
      code: "scanned_after_claim",
      en: "This item's hidden code was already used, and the code was scanned since from somewhere else; it may be a copy.",
      zh: "此商品的刮开验证码已被使用过，之后又有其他地方扫描此码；可能是复制的码。",
    });
  }
  return signals;
}

/** The pepper as a key object, made once: importing raw key bytes costs more than the HMAC of a scan. */
const pepperKeys = new WeakMap<Uint8Array, KeyObject>();
function pepperKey(pepper: Uint8Array): KeyObject {
  let key = pepperKeys.get(pepper);
  if (key === undefined) {
    key = createSecretKey(pepper);
    pepperKeys.set(pepper, key);
  }
  return key;
}

/**
 * A keyed, daily-rotating hash of the client's network address, for limits across items
 * (hidden-code guesses per client). The User-Agent is not part of it: a client chooses it,
 * and a new one must not buy a new budget.
 */
export function clientHash(ctx: ServiceContext, client: { ip: string; userAgent?: string }): string {
  const day = Math.floor(ctx.now() / 86_400_000);
  return createHmac("sha256", pepperKey(ctx.secrets.hiddenCodePepper))
    .update(`oioc:scan-client:v2\u0000${String(day)}\u0000${client.ip}`)
    .digest("hex");
}

/**
 * A keyed hash of the network address a scan of one item came from: stable for that item
 * (so "scanned from 4 addresses in 24 h" and "scanned after the claim from a new address"
 * do not depend on when a day turns), and unlinkable across items, so the scans table
 * cannot follow one person from item to item.
 */
export function scanClientHash(ctx: ServiceContext, item: { batchId: string; serial: string }, ip: string): string {
  return createHmac("sha256", pepperKey(ctx.secrets.hiddenCodePepper))
    .update(`oioc:item-scan-client:v1\u0000${item.batchId.toLowerCase()}\u0000${item.serial}\u0000${ip}`)
    .digest("hex");
}

/** Computed once per distinct input: romanising a region's name costs more than the queries of a scan. */
const regionNameOf = memoised(regionName);
const cidHexOf = memoised(cidHexFromText);

/** Item trees of recently scanned batches: building one for 100,000 items takes about a second. */
const TREE_CACHE_ENTRIES = 16;
const trees = new Map<string, Promise<ItemTree>>();

async function itemTree(ctx: ServiceContext, batch: { batchId: string; itemsRoot: string }): Promise<ItemTree> {
  const key = `${batch.batchId}:${batch.itemsRoot}`;
  const cached = trees.get(key);
  if (cached !== undefined) {
    trees.delete(key);
    trees.set(key, cached);
    return cached;
  }
  // Hashed on a worker thread (a 1,000,000-item tree takes seconds of CPU), and shared by
  // the scans that arrive while it is built; a build that fails is not kept.
  const tree = listItemSerials(ctx.db, batch.batchId).then(buildItemTreeOffLoop);
  trees.set(key, tree);
  tree.catch(() => trees.delete(key));
  if (trees.size > TREE_CACHE_ENTRIES) {
    const oldest = trees.keys().next();
    if (oldest.done !== true) trees.delete(oldest.value);
  }
  return tree;
}

const recallReasonDocument = z.object({ reason: z.object({ zh: z.string(), en: z.string().nullable() }) });

async function recallReason(ctx: ServiceContext, cid: string | null): Promise<LocalisedText | null> {
  if (cid === null) return null;
  try {
    const bytes = await readAll(ctx.content.cat(parseCid(cid)));
    return recallReasonDocument.parse(JSON.parse(new TextDecoder().decode(bytes))).reason;
  } catch (error) {
    ctx.logger.warn({ err: error, cid }, "recall reason document unreadable");
    return null;
  }
}

export interface ResolveOptions {
  /** Record this as a consumer's scan (an HTML page view), and from whom. */
  scan: { ip: string; userAgent: string } | null;
  thresholds?: CloneThresholds;
}

/**
 * The answer's JSON text in pieces (answer-text.ts): for a known item, the batch's part
 * shared by all its items' answers, then the item's own members.
 */
export type Resolved = { known: true; pieces: readonly TextPiece[] } | { known: false; pieces: readonly TextPiece[] };

/** The members of a resolution every item of a batch shares. */
type BatchMembers = Omit<ItemResolution, "uri" | "item" | "proof" | "scans" | "containers">;
/** The members that are one item's own. */
type ItemMembers = Pick<ItemResolution, "uri" | "item" | "proof" | "scans" | "containers">;

interface BatchPart {
  /** What the part was built from: the batch's mutable fields and its events' stamp. */
  key: string;
  builtAtMs: number;
  opening: Promise<SharedText>;
}

/**
 * Batches' parts of recent answers. A part is used while its version is unchanged (the batch
 * row, its events, inspection requests and certificates: checked on every scan, in the query
 * that reads the batch, so a write through any replica shows at the next scan) and for at
 * most BATCH_RECORDS_MAX_AGE_MS, the age names (organisations, plots, products) may have anyway.
 */
const BATCH_PART_ENTRIES = 256;
const batchPartsByContext = new WeakMap<ServiceContext, Map<string, BatchPart>>();

/** One server's parts: an answer names its server's chain and endpoint, so servers never share them. */
function batchPartsOf(ctx: ServiceContext): Map<string, BatchPart> {
  let parts = batchPartsByContext.get(ctx);
  if (parts === undefined) {
    parts = new Map();
    batchPartsByContext.set(ctx, parts);
  }
  return parts;
}

async function buildBatchMembers(ctx: ServiceContext, batch: Batch, version: string): Promise<BatchMembers> {
  const { events, actors, cooperative, plot, product, inspectionRequests } = await batchRecords(ctx, batch, version);
  const certificates = await batchCertificates(ctx, batch.batchId);
  const partyOf = (organisationId: string | null, signer: string): ResolvedParty => {
    const organisation = organisationId === null ? null : (actors.get(organisationId) ?? null);
    return {
      organisationId: organisationId ?? "",
      signer,
      name: { zh: organisation?.nameZh ?? "", en: organisation?.nameEn ?? null },
      kind: organisation?.kind ?? "unknown",
      regionCode: organisation?.regionCode ?? "",
    };
  };
  const resolvedEvents: ResolvedEvent[] = events.map((event) => {
    const actor = actors.get(event.actorOrganisationId) ?? null;
    return {
      value: TYPED_CODECS.TraceEvent.encode({
        actor: event.signed.signerAddress,
        batchId: batch.batchId,
        bizStep: BigInt(bizStepIndex(event.bizStep)),
        occurredAt: BigInt(Math.floor(event.occurredAtMs / 1000)),
        payloadCid: cidHexOf(event.payloadCid),
        counterparty: event.counterparty?.address ?? ZeroAddress,
        nonce: event.signed.nonce,
        deadline: event.signed.deadline,
      }),
      // No digest and no transaction hash: a verifier computes the one from `value` and finds
      // the event on chain by its batch's head, and the page shows neither; they were about
      // 650 of the page's 9,400 compressed bytes.
      signature: event.signed.signature,
      bizStep: event.bizStep,
      payloadCid: event.payloadCid,
      actor: {
        name: { zh: actor?.nameZh ?? "", en: actor?.nameEn ?? null },
        kind: actor?.kind ?? "unknown",
        regionCode: actor?.regionCode ?? "",
      },
      counterparty:
        event.counterparty === null ? null : partyOf(event.counterparty.organisationId, event.counterparty.address),
      ledgerState: event.ledger.state,
    };
  });
  return {
    type: "oioc.item-resolution",
    version: 1,
    chain: resolvedChain(ctx, batch),
    batch: {
      batchId: batch.batchId,
      attestation: attestationJson(batch),
      signature: batch.attestation.signature,
      metadataCid: batch.metadataCid,
      ledgerState: batch.ledger.state,
      txHash: batch.ledger.txHash,
      status: batch.status,
      recall:
        batch.recall === null
          ? null
          : {
              atMs: batch.recall.atMs,
              reasonCid: batch.recall.reasonCid,
              reason: await recallReason(ctx, batch.recall.reasonCid),
            },
      inspectionRequests: inspectionRequests
        .filter((request) => request.ledger.state !== "failed")
        .map((request) => ({
          inspector: partyOf(request.inspectorOrganisationId, request.inspectorAddress),
          requestedBy: request.requestedBy,
          requester: partyOf(request.requesterOrganisationId, request.requesterAddress),
          nonce: request.nonce.toString(),
          deadline: request.deadline.toString(),
          signature: request.signature,
          ledgerState: request.ledger.state,
          txHash: request.ledger.txHash,
        })),
    },
    events: resolvedEvents,
    // Left out when none, as most answers are: every byte is on a phone's wire.
    ...(certificates.length === 0 ? {} : { certificates }),
    ipfsGateway: "/ipfs/",
    documents: await inlineDocuments(ctx, [batch.metadataCid, ...events.map((event) => event.payloadCid)]),
    display: {
      regionName: cooperative === null ? null : regionNameOf(cooperative.regionCode),
      plotRegionName: plot === null ? null : regionNameOf(plot.regionCode),
      coldChain: product?.coldChain ?? null,
      ...(ctx.verifierUrl === undefined ? {} : { verifierUrl: ctx.verifierUrl }),
    },
  };
}

/** The whole batch row, read when its part of the answers is built. */
async function wholeBatch(ctx: ServiceContext, scanned: ScanRecords): Promise<Batch> {
  const batch = await getBatchByLot(ctx.db, scanned.gtin, scanned.lot);
  // Batches are never deleted: one found a moment ago is still there.
  if (batch === null) throw new Error(`batch ${scanned.batchId} vanished while being read`);
  return batch;
}

/** The batch's part of its items' answers, from memory while its version is current. */
function batchOpening(ctx: ServiceContext, scanned: ScanRecords): Promise<SharedText> {
  const batchParts = batchPartsOf(ctx);
  const cached = batchParts.get(scanned.batchId);
  const now = performance.now();
  if (cached?.key === scanned.version && now - cached.builtAtMs < BATCH_RECORDS_MAX_AGE_MS) return cached.opening;
  const opening = wholeBatch(ctx, scanned)
    .then((batch) => buildBatchMembers(ctx, batch, scanned.version))
    .then((members) => sharedText(objectOpening(members)));
  const part: BatchPart = { key: scanned.version, builtAtMs: now, opening };
  batchParts.delete(scanned.batchId);
  batchParts.set(scanned.batchId, part);
  // A failed build is not kept: the next scan tries again.
  opening.catch(() => {
    if (batchParts.get(scanned.batchId) === part) batchParts.delete(scanned.batchId);
  });
  if (batchParts.size > BATCH_PART_ENTRIES) {
    const oldest = batchParts.keys().next();
    if (oldest.done !== true) batchParts.delete(oldest.value);
  }
  return opening;
}

export async function resolveItem(
  ctx: ServiceContext,
  link: { gtin: string; lot: string | undefined; serial: string | undefined },
  options: ResolveOptions,
): Promise<Resolved> {
  const found =
    link.lot === undefined || link.serial === undefined
      ? null
      : await getScanRecords(ctx.db, link.gtin, link.lot, link.serial);
  const item = found?.item ?? null;
  const nowMs = ctx.now();
  if (found === null || item === null || link.serial === undefined) {
    if (options.scan !== null && link.lot !== undefined && link.serial !== undefined) {
      // Remembered so regulators see where unknown (possibly counterfeit) codes turn up.
      await bufferScan(ctx.db, {
        batchId: batchIdOf(link.gtin, link.lot),
        serial: link.serial,
        scannedAtMs: nowMs,
        coarsePlace: null,
        clientHash: scanClientHash(
          ctx,
          { batchId: batchIdOf(link.gtin, link.lot), serial: link.serial },
          options.scan.ip,
        ),
        verdict: "unknown",
      });
    }
    const unknown: UnknownItemResolution = {
      type: "oioc.item-unknown",
      version: 1,
      uri: itemUri(ctx, link.gtin, link.lot ?? "", link.serial ?? ""),
      item: { gtin: link.gtin, lot: link.lot ?? null, serial: link.serial ?? null },
      message: {
        zh: "此码不是我们发放的商品码，可能是假冒产品。请谨慎购买，并可向当地市场监管部门反映。",
        en: "We never issued this code: the product may be counterfeit. Be careful, and consider telling the local market regulator.",
      },
    };
    return { known: false, pieces: [scriptSafeJson(unknown)] };
  }

  // Counted at once; committed with the page views of this moment while the answer is built,
  // and waited for before it is returned: an answered scan is on disk.
  const ownClient =
    options.scan === null
      ? null
      : scanClientHash(ctx, { batchId: found.batchId, serial: item.serial }, options.scan.ip);
  const recorded =
    ownClient === null
      ? null
      : bufferScan(ctx.db, {
          batchId: found.batchId,
          serial: item.serial,
          scannedAtMs: nowMs,
          coarsePlace: null,
          clientHash: ownClient,
          verdict: "resolved",
        });
  // Observed now, so a failed commit is not unhandled while the answer is built; awaited below.
  recorded?.catch(() => undefined);
  const opening = batchOpening(ctx, found);
  const seen = await itemScanSummary(ctx.db, found.batchId, item.serial, nowMs, ownClient);
  const afterClaimByOthers =
    item.claim === null ? 0 : await countScansByNewClientsAfter(ctx.db, found.batchId, item.serial, item.claim.atMs);
  const tree = await itemTree(ctx, found);
  // Read only for an item some packing named (the scan's first query says): most never are.
  const containers = found.packed ? await itemContainers(ctx, found.batchId, item.serial) : [];

  const own: ItemMembers = {
    uri: itemUri(ctx, found.gtin, found.lot, item.serial),
    item: {
      gtin: found.gtin,
      lot: found.lot,
      serial: item.serial,
      hasHiddenCode: item.hiddenCodeHmac !== null,
      claimedAtMs: item.claim?.atMs ?? null,
    },
    // By leaf position: finding a serial among a million would build an index on the loop.
    proof: tree.serialAt(item.leafIndex) === item.serial ? tree.proofAt(item.leafIndex) : tree.proofOf(item.serial),
    ...(containers.length === 0 ? {} : { containers }),
    scans: {
      count: seen.scansWeek,
      firstAtMs: seen.firstAtMs,
      signals: [
        ...cloneSignals(
          {
            scansDay: seen.scansDay,
            scansWeek: seen.scansWeek,
            distinctAddressesDay: seen.distinctClientsDay,
            scansAfterClaimByOthers: afterClaimByOthers,
          },
          options.thresholds ?? ctx.cloneThresholds,
        ),
        ...containerSignals(containers),
      ],
    },
  };
  const pieces = [await opening, objectClosing(own)];
  await recorded;
  return { known: true, pieces };
}
