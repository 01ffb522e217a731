/**
 * Projects indexed registry logs onto the query store.
 *
 * Normally the rows already exist (the server wrote them when it accepted the request)
 * and the projection only records where the chain put them. When they do not — the
 * database was deleted and `reindex` reads the chain from the deployment block — the
 * projection rebuilds them from the logs and the documents their CIDs name on IPFS: the
 * organisation and batch metadata documents, the encrypted item archive, the event
 * payloads. Everything the chain committed to comes back.
 *
 * It works in two steps so that no IPFS read happens inside a database transaction (a
 * million-item archive takes seconds to fetch and open, and the transaction holds the
 * writer): `prepare` reads the documents of every row the store lacks, then returns the
 * writes the indexer makes in the transaction that stores the logs. The writes look at
 * the store again, so applying a range twice (a crash before the cursor moved) adds nothing.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

import { getAddress, ZeroAddress } from "ethers";
import type { Logger } from "pino";
import { z } from "zod";

import {
  batchMetadataDocument,
  eventPayloadDocument,
  type BatchMetadataDocument,
  type EventPayloadDocument,
} from "../domain/documents.ts";
import { gtinFromUint64 } from "../domain/gs1.ts";
import { BIZ_STEPS, CURRENT_TYPED_DATA_VERSION } from "../domain/typed-data.ts";
import { parseCid, type ContentStore } from "../ipfs/content-store.ts";
import type { DecodedLog } from "../ledger/indexer.ts";
import type { SigningDomain } from "../ledger/signing.ts";
import { getBatch, insertBatch, insertItems, recallBatch, setBatchLedger } from "../storage/batches.ts";
import { getPlot, getProduct, insertPlot, insertProduct } from "../storage/catalogue.ts";
import { insertEvent, recordEventOnChain, unrecordEventsAfter, getEventByDigest } from "../storage/events.ts";
import {
  insertInspectionRequest,
  recordInspectionRequestOnChain,
  unrecordInspectionRequestsAfter,
} from "../storage/inspection-requests.ts";
import {
  getOrganisationBySigner,
  insertOrganisation,
  setOrganisationStatus,
  type Organisation,
} from "../storage/organisations.ts";
import type { Db } from "../storage/database.ts";
import type { ProjectionWrites } from "../storage/indexer-store.ts";
import { unrecordContainerStepsAfter } from "../storage/containers.ts";
import { newestOutboxEntry } from "../storage/outbox.ts";
import type { Trx } from "../storage/transaction.ts";
import { cidTextFromHex } from "../verify/cid.ts";
import { typedDataDigest } from "../verify/eip712.ts";
import { openItemsArchiveOffLoop } from "../workers/heavy.ts";
import type { ItemsArchive } from "../workers/items-archive.ts";
import { readAll } from "./documents.ts";
import { ENTITLEMENT_LOGS, projectEntitlementLog } from "./entitlement-projection.ts";
import { projectContainerLog, readContainerDocument, type ContainerDocuments } from "./container-projection.ts";

export interface ProjectionDeps {
  content: ContentStore;
  domain: SigningDomain;
  keysDir: string;
  keystoreSecret: string;
  logger: Logger;
  /** The operator's GS1 prefix: restored prefixes under it count as allocated from it. */
  platformPrefix?: string;
}

const ORG_KINDS_BY_INDEX: Record<string, Organisation["kind"]> = {
  "1": "cooperative",
  "2": "processor",
  "3": "logistics",
  "4": "retailer",
  "5": "inspector",
};

const organisationDocument = z.object({
  type: z.literal("oioc.organisation"),
  name: z.object({ zh: z.string(), en: z.string().nullable() }),
  uscc: z.string(),
  regionCode: z.string(),
});

function arg(log: DecodedLog, name: string): string {
  const value = log.args[name];
  if (value === undefined) throw new Error(`${log.name} log without ${name}`);
  return value;
}

async function fetchJson(content: ContentStore, cidHex: string): Promise<unknown> {
  const cid = cidTextFromHex(cidHex);
  const bytes = await readAll(content.cat(parseCid(cid)));
  return JSON.parse(new TextDecoder().decode(bytes));
}

interface OrganisationDocuments {
  document: z.infer<typeof organisationDocument>;
  custody: Organisation["custody"];
}

interface BatchDocuments {
  metadata: BatchMetadataDocument;
  archive: ItemsArchive;
}

/** What IPFS holds for the rows the store lacks, read before the transaction. */
interface Documents {
  /** By lowercase signer address. */
  organisations: Map<string, OrganisationDocuments>;
  /** By batch id. */
  batches: Map<string, BatchDocuments>;
  /** By event digest. */
  eventPayloads: Map<string, EventPayloadDocument>;
  /** Container packings' payload documents, by step digest (a reindex restores the steps from them). */
  containers: ContainerDocuments;
}

function prepared<T>(documents: Map<string, T>, key: string, what: string): T {
  const found = documents.get(key);
  // Rows are never deleted, so a row absent now was absent when the documents were read.
  if (found === undefined) throw new Error(`${what} is missing and its documents were not read`);
  return found;
}

function eventValueOf(log: DecodedLog) {
  return {
    actor: getAddress(arg(log, "actor")),
    batchId: arg(log, "batchId"),
    bizStep: BigInt(arg(log, "bizStep")),
    occurredAt: BigInt(arg(log, "occurredAt")),
    payloadCid: arg(log, "payloadCid"),
    counterparty: getAddress(arg(log, "counterparty")),
    nonce: BigInt(arg(log, "nonce")),
    deadline: BigInt(arg(log, "deadline")),
  };
}

export function createProjection(deps: ProjectionDeps): {
  prepare: (db: Db, logs: readonly DecodedLog[]) => Promise<ProjectionWrites>;
  onRollback: (trx: Trx, blockNumber: number) => Promise<void>;
} {
  const digestOf = (value: ReturnType<typeof eventValueOf>) =>
    typedDataDigest(deps.domain, "TraceEvent", { ...value }).toLowerCase();

  async function readOrganisation(log: DecodedLog, signer: string): Promise<OrganisationDocuments> {
    const document = organisationDocument.parse(await fetchJson(deps.content, arg(log, "metadataCid")));
    const keyFile = path.join(deps.keysDir, `${signer.toLowerCase()}.json`);
    const custody: Organisation["custody"] = existsSync(keyFile)
      ? { kind: "server", keystoreJson: readFileSync(keyFile, "utf8") }
      : { kind: "own" };
    return { document, custody };
  }

  async function readBatch(log: DecodedLog, batchId: string): Promise<BatchDocuments> {
    const metadata = batchMetadataDocument.parse(await fetchJson(deps.content, arg(log, "metadataCid")));
    const sealed = await readAll(deps.content.cat(parseCid(metadata.itemsArchiveCid)));
    // Decrypted and parsed on a worker thread: a million items are 83 MB.
    const archive = await openItemsArchiveOffLoop(deps.keystoreSecret, batchId, sealed);
    return { metadata, archive };
  }

  /** Reads, outside any transaction, the documents of the rows these logs name that the store lacks. */
  async function readDocuments(db: Db, logs: readonly DecodedLog[]): Promise<Documents> {
    const documents: Documents = {
      organisations: new Map(),
      batches: new Map(),
      eventPayloads: new Map(),
      containers: new Map(),
    };
    for (const log of logs) {
      switch (log.name) {
        case "OrganisationRegistered": {
          const signer = getAddress(arg(log, "signer"));
          if ((await getOrganisationBySigner(db, signer)) === null)
            documents.organisations.set(signer.toLowerCase(), await readOrganisation(log, signer));
          break;
        }
        case "BatchAttested": {
          const batchId = arg(log, "batchId").toLowerCase();
          if ((await getBatch(db, batchId)) === null) documents.batches.set(batchId, await readBatch(log, batchId));
          break;
        }
        case "EventRecorded": {
          const value = eventValueOf(log);
          const digest = digestOf(value);
          if ((await getEventByDigest(db, digest)) === null) {
            documents.eventPayloads.set(
              digest,
              eventPayloadDocument.parse(await fetchJson(deps.content, value.payloadCid)),
            );
          }
          break;
        }
        case "ContainerPacked":
        case "ContainerEventRecorded":
          await readContainerDocument(db, log, deps, documents.containers);
          break;
        default:
          break;
      }
    }
    return documents;
  }

  async function ensureOrganisation(trx: Trx, log: DecodedLog, documents: Documents): Promise<void> {
    const signer = getAddress(arg(log, "signer"));
    if ((await getOrganisationBySigner(trx, signer)) !== null) return;
    const { document, custody } = prepared(documents.organisations, signer.toLowerCase(), `organisation ${signer}`);
    await insertOrganisation(trx, {
      id: `org_${signer.toLowerCase()}`,
      kind: ORG_KINDS_BY_INDEX[arg(log, "kind")] ?? "cooperative",
      nameZh: document.name.zh,
      nameEn: document.name.en,
      uscc: document.uscc,
      regionCode: document.regionCode,
      signerAddress: signer,
      custody,
      metadataCid: cidTextFromHex(arg(log, "metadataCid")),
      ledgerState: "anchored",
    });
    deps.logger.info({ signer }, "organisation restored from the chain");
  }

  async function ensureBatch(trx: Trx, log: DecodedLog, documents: Documents): Promise<void> {
    const batchId = arg(log, "batchId").toLowerCase();
    const position = { state: "anchored", failureReason: null, txHash: log.txHash, blockNumber: log.blockNumber };
    if ((await getBatch(trx, batchId)) !== null) {
      await setBatchLedger(trx, batchId, { ...position, state: "anchored" });
      return;
    }
    const attester = await getOrganisationBySigner(trx, arg(log, "attester"));
    if (attester === null) throw new Error(`batch ${batchId} attested by an unknown organisation`);
    const { metadata, archive } = prepared(documents.batches, batchId, `batch ${batchId}`);
    const gtin = gtinFromUint64(BigInt(arg(log, "gtin")));
    if ((await getProduct(trx, gtin)) === null) {
      await insertProduct(trx, {
        gtin,
        nameZh: metadata.product.name.zh,
        nameEn: metadata.product.name.en,
        category: metadata.product.category,
        unit: metadata.product.unit,
        coldChain: null,
        maxYieldPerHa: null,
        netContent: null,
        createdBy: "reindex",
      });
    }
    // The plot as the public document names it; its private coordinates are not on IPFS.
    if (metadata.plot !== null && (await getPlot(trx, metadata.plot.id)) === null) {
      await insertPlot(trx, {
        id: metadata.plot.id,
        organisationId: attester.id,
        name: metadata.plot.name,
        area: metadata.plot.areaHa,
        areaUnit: "ha",
        regionCode: metadata.plot.regionCode,
        location: null,
      });
    }
    await insertBatch(trx, {
      batchId,
      gtin,
      lot: arg(log, "lot"),
      organisationId: attester.id,
      plotId: metadata.plot?.id ?? null,
      harvestedAtMs: Number(arg(log, "harvestedAt")) * 1000,
      quantityMilli: BigInt(arg(log, "quantityMilli")),
      unit: arg(log, "unit"),
      itemCount: Number(arg(log, "itemCount")),
      itemsRoot: arg(log, "itemsRoot"),
      metadataCid: cidTextFromHex(arg(log, "metadataCid")),
      videoCid: metadata.videoCid,
      photoCids: metadata.photoCids,
      certificateNumber: metadata.complianceCertificateNumber,
      certificationIds: [],
      description: { zh: metadata.description?.zh ?? null, en: metadata.description?.en ?? null },
      attestation: {
        signerAddress: arg(log, "attester"),
        signature: arg(log, "signature"),
        nonce: BigInt(arg(log, "nonce")),
        deadline: BigInt(arg(log, "deadline")),
        typedDataVersion: CURRENT_TYPED_DATA_VERSION,
      },
      createdBy: "reindex",
    });
    await setBatchLedger(trx, batchId, { ...position, state: "anchored" });
    await insertItems(
      trx,
      batchId,
      archive.serials.map((serial, leafIndex) => ({
        serial,
        leafIndex,
        hiddenCodeHmac: archive.hiddenCodeHmacs[leafIndex] ?? null,
      })),
    );
    deps.logger.info({ batchId, items: archive.serials.length }, "batch restored from the chain");
  }

  async function ensureEvent(trx: Trx, log: DecodedLog, documents: Documents): Promise<void> {
    const value = eventValueOf(log);
    const digest = digestOf(value);
    const position = {
      txHash: log.txHash,
      blockNumber: log.blockNumber,
      logIndex: log.logIndex,
      eventHead: arg(log, "newHead"),
    };
    if ((await getEventByDigest(trx, digest)) === null) {
      const actor = await getOrganisationBySigner(trx, value.actor);
      if (actor === null) throw new Error(`event ${digest} by an unknown organisation`);
      const payload = prepared(documents.eventPayloads, digest, `event ${digest}`);
      const bizStep = BIZ_STEPS[Number(value.bizStep)];
      if (bizStep === undefined) throw new Error(`unknown business step ${value.bizStep}`);
      const counterparty =
        value.counterparty === ZeroAddress
          ? null
          : {
              address: value.counterparty,
              organisationId: (await getOrganisationBySigner(trx, value.counterparty))?.id ?? null,
            };
      await insertEvent(trx, {
        id: `evt_${digest.slice(2, 34)}`,
        batchId: value.batchId.toLowerCase(),
        bizStep,
        actorOrganisationId: actor.id,
        occurredAtMs: Number(value.occurredAt) * 1000,
        payloadCid: cidTextFromHex(value.payloadCid),
        data: payload.data,
        counterparty,
        signed: {
          signerAddress: value.actor,
          signature: arg(log, "signature"),
          nonce: value.nonce,
          deadline: value.deadline,
          typedDataVersion: CURRENT_TYPED_DATA_VERSION,
        },
        digest,
        createdBy: "reindex",
      });
    }
    await recordEventOnChain(trx, digest, position);
  }

  /**
   * An inspection request: anchors the one this store holds, or restores it from the log (a
   * reindex). The log names the cooperative's signer, or the regulator role's account, which
   * names no organisation: such a request is restored without its regulator.
   */
  async function ensureInspectionRequest(trx: Trx, log: DecodedLog): Promise<void> {
    const batchId = arg(log, "batchId");
    const inspectorAddress = getAddress(arg(log, "inspector"));
    const position = { txHash: log.txHash, blockNumber: log.blockNumber };
    if (await recordInspectionRequestOnChain(trx, batchId, inspectorAddress, position)) return;
    const inspector = await getOrganisationBySigner(trx, inspectorAddress);
    if (inspector === null) throw new Error(`inspection request for an unknown inspector ${inspectorAddress}`);
    const requesterAddress = getAddress(arg(log, "requestedBy"));
    const signature = arg(log, "signature");
    const requester = await getOrganisationBySigner(trx, requesterAddress);
    await insertInspectionRequest(trx, {
      id: `insp_${log.txHash.slice(2, 18)}${String(log.logIndex)}`,
      batchId,
      inspectorOrganisationId: inspector.id,
      inspectorAddress,
      requestedBy: signature === "0x" ? "regulator" : "cooperative",
      requesterOrganisationId: requester?.id ?? null,
      requesterAddress,
      nonce: BigInt(arg(log, "nonce")),
      deadline: BigInt(arg(log, "deadline")),
      signature: signature === "0x" ? null : signature,
      typedDataVersion: signature === "0x" ? null : CURRENT_TYPED_DATA_VERSION,
      createdBy: "reindex",
    });
    await recordInspectionRequestOnChain(trx, batchId, inspectorAddress, position);
  }

  /**
   * A regulator's decision taken through this server is in force here at once; a log of an
   * older decision (the indexer catching up) must not undo a newer one still on its way to
   * the chain. So a status log applies only when it is the newest decision we know of for
   * that organisation, or when we know of none (taken outside this server, or a reindex).
   */
  async function applyOrganisationStatus(trx: Trx, log: DecodedLog, status: "active" | "suspended"): Promise<void> {
    const org = await getOrganisationBySigner(trx, arg(log, "signer"));
    if (org === null) return;
    const newest = await newestOutboxEntry(trx, ["suspension", "reinstatement"], `${org.id}:`);
    if (newest !== null && newest.txHash?.toLowerCase() !== log.txHash.toLowerCase()) return;
    await setOrganisationStatus(trx, org.id, status);
  }

  async function write(trx: Trx, logs: readonly DecodedLog[], documents: Documents): Promise<void> {
    for (const log of logs) {
      switch (log.name) {
        case "OrganisationRegistered":
          await ensureOrganisation(trx, log, documents);
          break;
        case "OrganisationSuspended":
          await applyOrganisationStatus(trx, log, "suspended");
          break;
        case "OrganisationReinstated":
          await applyOrganisationStatus(trx, log, "active");
          break;
        case "BatchAttested":
          await ensureBatch(trx, log, documents);
          break;
        case "EventRecorded":
          await ensureEvent(trx, log, documents);
          break;
        case "InspectionRequested":
          await ensureInspectionRequest(trx, log);
          break;
        case "BatchRecalled":
          await recallBatch(trx, arg(log, "batchId"), cidTextFromHex(arg(log, "reasonCid")));
          break;
        case "ContainerPacked":
        case "ContainerEventRecorded":
          await projectContainerLog(trx, log, deps, documents.containers);
          break;
        default:
          if (ENTITLEMENT_LOGS.has(log.name)) {
            await projectEntitlementLog(trx, log, { platformPrefix: deps.platformPrefix, nowMs: Date.now() });
          }
          break;
      }
    }
  }

  return {
    async prepare(db, logs) {
      const documents = await readDocuments(db, logs);
      return (trx) => write(trx, logs, documents);
    },
    async onRollback(trx, blockNumber) {
      await unrecordEventsAfter(trx, blockNumber);
      await unrecordInspectionRequestsAfter(trx, blockNumber);
      await unrecordContainerStepsAfter(trx, blockNumber);
    },
  };
}
