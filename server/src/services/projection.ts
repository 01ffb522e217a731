/**
 * Projects indexed registry logs onto the query store, in the indexer's transaction.
 *
 * Normally the rows already exist (the server wrote them when it accepted the request)
 * and the projection only records where the chain put them. When they do not — the
 * database was deleted and `reindex` reads the chain from the deployment block — the
 * projection rebuilds them from the logs and the documents their CIDs name on IPFS: the
 * organisation and batch metadata documents, the encrypted item archive, the event
 * payloads. Everything the chain committed to comes back.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

import { getAddress } from "ethers";
import type { Transaction } from "kysely";
import type { Logger } from "pino";
import { z } from "zod";

import { batchMetadataDocument, eventPayloadDocument } from "../domain/documents.ts";
import { gtinFromUint64 } from "../domain/gs1.ts";
import { BIZ_STEPS, CURRENT_TYPED_DATA_VERSION } from "../domain/typed-data.ts";
import { parseCid, type ContentStore } from "../ipfs/content-store.ts";
import type { DecodedLog } from "../ledger/indexer.ts";
import { typedDigest, type SigningDomain } from "../ledger/signing.ts";
import { getBatch, insertBatch, insertItems, recallBatch, setBatchLedger } from "../storage/batches.ts";
import { getPlot, getProduct, insertPlot, insertProduct } from "../storage/catalogue.ts";
import { insertEvent, recordEventOnChain, unrecordEventsAfter, getEventByDigest } from "../storage/events.ts";
import {
  getOrganisationBySigner,
  insertOrganisation,
  setOrganisationStatus,
  type Organisation,
} from "../storage/organisations.ts";
import type { Database } from "../storage/schema.ts";
import { openItemsArchiveOffLoop } from "../workers/heavy.ts";
import { cidTextFromHex, readAll } from "./documents.ts";

export interface ProjectionDeps {
  content: ContentStore;
  domain: SigningDomain;
  keysDir: string;
  keystoreSecret: string;
  logger: Logger;
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

export function createProjection(deps: ProjectionDeps): {
  onApply: (trx: Transaction<Database>, logs: readonly DecodedLog[]) => Promise<void>;
  onRollback: (trx: Transaction<Database>, blockNumber: number) => Promise<void>;
} {
  async function ensureOrganisation(trx: Transaction<Database>, log: DecodedLog): Promise<void> {
    const signer = getAddress(arg(log, "signer"));
    if ((await getOrganisationBySigner(trx, signer)) !== null) return;
    const document = organisationDocument.parse(await fetchJson(deps.content, arg(log, "metadataCid")));
    const keyFile = path.join(deps.keysDir, `${signer.toLowerCase()}.json`);
    const custody: Organisation["custody"] = existsSync(keyFile)
      ? { kind: "server", keystoreJson: readFileSync(keyFile, "utf8") }
      : { kind: "own" };
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

  async function ensureBatch(trx: Transaction<Database>, log: DecodedLog): Promise<void> {
    const batchId = arg(log, "batchId").toLowerCase();
    const position = { state: "anchored", failureReason: null, txHash: log.txHash, blockNumber: log.blockNumber };
    if ((await getBatch(trx, batchId)) !== null) {
      await setBatchLedger(trx, batchId, { ...position, state: "anchored" });
      return;
    }
    const attester = await getOrganisationBySigner(trx, arg(log, "attester"));
    if (attester === null) throw new Error(`batch ${batchId} attested by an unknown organisation`);
    const metadata = batchMetadataDocument.parse(await fetchJson(deps.content, arg(log, "metadataCid")));
    const sealed = await readAll(deps.content.cat(parseCid(metadata.itemsArchiveCid)));
    // Decrypted and parsed on a worker thread: a million items are 83 MB.
    const archive = await openItemsArchiveOffLoop(deps.keystoreSecret, batchId, sealed);
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

  async function ensureEvent(trx: Transaction<Database>, log: DecodedLog): Promise<void> {
    const value = {
      actor: getAddress(arg(log, "actor")),
      batchId: arg(log, "batchId"),
      bizStep: BigInt(arg(log, "bizStep")),
      occurredAt: BigInt(arg(log, "occurredAt")),
      payloadCid: arg(log, "payloadCid"),
      nonce: BigInt(arg(log, "nonce")),
      deadline: BigInt(arg(log, "deadline")),
    };
    const digest = typedDigest(deps.domain, "TraceEvent", value).toLowerCase();
    const position = {
      txHash: log.txHash,
      blockNumber: log.blockNumber,
      logIndex: log.logIndex,
      eventHead: arg(log, "newHead"),
    };
    if ((await getEventByDigest(trx, digest)) === null) {
      const actor = await getOrganisationBySigner(trx, value.actor);
      if (actor === null) throw new Error(`event ${digest} by an unknown organisation`);
      const payload = eventPayloadDocument.parse(await fetchJson(deps.content, value.payloadCid));
      const bizStep = BIZ_STEPS[Number(value.bizStep)];
      if (bizStep === undefined) throw new Error(`unknown business step ${value.bizStep}`);
      await insertEvent(trx, {
        id: `evt_${digest.slice(2, 34)}`,
        batchId: value.batchId.toLowerCase(),
        bizStep,
        actorOrganisationId: actor.id,
        occurredAtMs: Number(value.occurredAt) * 1000,
        payloadCid: cidTextFromHex(value.payloadCid),
        data: payload.data,
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
   * A regulator's decision taken through this server is in force here at once; a log of an
   * older decision (the indexer catching up) must not undo a newer one still on its way to
   * the chain. So a status log applies only when it is the newest decision we know of for
   * that organisation, or when we know of none (taken outside this server, or a reindex).
   */
  async function applyOrganisationStatus(
    trx: Transaction<Database>,
    log: DecodedLog,
    status: "active" | "suspended",
  ): Promise<void> {
    const org = await getOrganisationBySigner(trx, arg(log, "signer"));
    if (org === null) return;
    const newest = await trx
      .selectFrom("outbox")
      .select("tx_hash")
      .where("kind", "in", ["suspension", "reinstatement"])
      .where("reference_id", "like", `${org.id}:%`)
      .orderBy("id", "desc")
      .limit(1)
      .executeTakeFirst();
    if (newest !== undefined && newest.tx_hash?.toLowerCase() !== log.txHash.toLowerCase()) return;
    await setOrganisationStatus(trx, org.id, status);
  }

  return {
    async onApply(trx, logs) {
      for (const log of logs) {
        switch (log.name) {
          case "OrganisationRegistered":
            await ensureOrganisation(trx, log);
            break;
          case "OrganisationSuspended":
            await applyOrganisationStatus(trx, log, "suspended");
            break;
          case "OrganisationReinstated":
            await applyOrganisationStatus(trx, log, "active");
            break;
          case "BatchAttested":
            await ensureBatch(trx, log);
            break;
          case "EventRecorded":
            await ensureEvent(trx, log);
            break;
          case "BatchRecalled":
            await recallBatch(trx, arg(log, "batchId"), cidTextFromHex(arg(log, "reasonCid")));
            break;
          default:
            break;
        }
      }
    },
    async onRollback(trx, blockNumber) {
      await unrecordEventsAfter(trx, blockNumber);
    },
  };
}
