/**
 * The indexer's projection of the registry's container logs (`ContainerPacked`,
 * `ContainerEventRecorded`): each anchors the step this store holds (by its EIP-712 digest,
 * recomputed from the signed fields the log carries), checks that the state the server computed
 * when it accepted the step is the one the chain logged, and keeps the container's chain state.
 * A step whose logged state differs is marked failed and logged as an error: the server's
 * rules and the registry's disagree, which an operator must look at.
 */
import { getAddress, TypedDataEncoder } from "ethers";
import type { Logger } from "pino";
import { z } from "zod";

import {
  buildContainerTree,
  containerStateHash,
  ZERO_ADDRESS,
  ZERO_BYTES32,
  type ContainerLeaf,
  type ContainerStateFields,
} from "../domain/container-state.ts";
import {
  CONTAINER_ACTIONS,
  CURRENT_TYPED_DATA_VERSION,
  domainFor,
  typesFor,
  type ContainerEventValue,
  type ContainerPackingValue,
} from "../domain/typed-data.ts";
import { parseDigitalLink } from "../domain/gs1.ts";
import { containerKeyOf } from "../domain/sscc.ts";
import { parseCid, type ContentStore } from "../ipfs/content-store.ts";
import type { DecodedLog } from "../ledger/indexer.ts";
import type { SigningDomain } from "../ledger/signing.ts";
import {
  anchorContainerStep,
  failContainerStepAndLater,
  getContainerByKey,
  getContainerStep,
  insertContainerStep,
  recordContainerChainState,
  type NewContainerTree,
} from "../storage/containers.ts";
import type { Db } from "../storage/database.ts";
import { getOrganisationBySigner } from "../storage/organisations.ts";
import type { Trx } from "../storage/transaction.ts";
import { batchIdOf } from "../verify/batch-id.ts";
import { cidTextFromHex } from "../verify/cid.ts";
import { readAll } from "./documents.ts";

export const CONTAINER_LOGS: ReadonlySet<string> = new Set(["ContainerPacked", "ContainerEventRecorded"]);

const hexArray = z.array(z.string().regex(/^0x[0-9a-fA-F]{64}$/));

function arg(log: DecodedLog, name: string): string {
  const value = log.args[name];
  if (value === undefined) throw new Error(`${log.name} log without ${name}`);
  return value;
}

/** The signed value a container log carries, field for field. */
export function containerValueOf(log: DecodedLog): {
  primaryType: "ContainerPacking" | "ContainerEvent";
  value: ContainerPackingValue | ContainerEventValue;
} {
  const common = {
    actor: getAddress(arg(log, "actor")),
    containerKey: arg(log, "containerKey").toLowerCase(),
    occurredAt: BigInt(arg(log, "occurredAt")),
    payloadCid: arg(log, "payloadCid"),
    counterparty: getAddress(arg(log, "counterparty")),
    previous: arg(log, "previous").toLowerCase(),
    deadline: BigInt(arg(log, "deadline")),
  };
  if (log.name === "ContainerPacked") {
    const value: ContainerPackingValue = {
      actor: common.actor,
      containerKey: common.containerKey,
      childrenRoot: arg(log, "childrenRoot").toLowerCase(),
      childCount: BigInt(arg(log, "childCount")),
      batchIds: hexArray.parse(JSON.parse(arg(log, "batchIds"))),
      childContainers: hexArray.parse(JSON.parse(arg(log, "childContainers"))),
      occurredAt: common.occurredAt,
      payloadCid: common.payloadCid,
      counterparty: common.counterparty,
      previous: common.previous,
      deadline: common.deadline,
    };
    return { primaryType: "ContainerPacking", value };
  }
  const value: ContainerEventValue = { ...common, action: BigInt(arg(log, "action")) };
  return { primaryType: "ContainerEvent", value };
}

export function containerDigestOf(domain: SigningDomain, typed: ReturnType<typeof containerValueOf>): string {
  const typedDomain = domainFor(domain.chainId, domain.verifyingContract, domain.version);
  return TypedDataEncoder.hash(typedDomain, typesFor(typed.primaryType, domain.version), {
    ...typed.value,
  }).toLowerCase();
}

/** The state the log says the container is in now. */
async function loggedState(trx: Trx, log: DecodedLog, digest: string): Promise<ContainerStateFields> {
  const custodian = arg(log, "custodian").toLowerCase();
  const pendingReceiver = arg(log, "pendingReceiver").toLowerCase();
  if (log.name === "ContainerPacked") {
    return { childrenRoot: arg(log, "childrenRoot").toLowerCase(), custodian, pendingReceiver, link: digest };
  }
  // Unpacking clears the root; shipping and receiving keep the one the chain last had.
  if (custodian === ZERO_ADDRESS) return { childrenRoot: ZERO_BYTES32, custodian, pendingReceiver, link: digest };
  const container = await getContainerByKey(trx, arg(log, "containerKey"));
  return {
    childrenRoot: container?.chain?.state.childrenRoot ?? container?.expectedState.childrenRoot ?? ZERO_BYTES32,
    custodian,
    pendingReceiver,
    link: digest,
  };
}

/** Payload documents of container steps the store lacks, by step digest, read before the transaction. */
export type ContainerDocuments = Map<string, unknown>;

interface ProjectionDeps {
  domain: SigningDomain;
  logger: Logger;
  content: ContentStore;
}

/** Reads (outside the transaction) the payload document of a container step the store lacks. */
export async function readContainerDocument(
  db: Db,
  log: DecodedLog,
  deps: ProjectionDeps,
  documents: ContainerDocuments,
): Promise<void> {
  const typed = containerValueOf(log);
  const digest = containerDigestOf(deps.domain, typed);
  if ((await getContainerStep(db, digest)) !== undefined) return;
  try {
    const bytes = await readAll(deps.content.cat(parseCid(cidTextFromHex(typed.value.payloadCid))));
    documents.set(digest, JSON.parse(new TextDecoder().decode(bytes)));
  } catch (error) {
    // A step signed elsewhere whose document this store cannot read: its chain state is still
    // kept; the step itself is not restored (the log alone does not give its leaves).
    deps.logger.warn({ digest, err: error }, "a container step's payload document could not be read");
  }
}

/** The EPCIS events of a payload document. */
function eventsOf(document: unknown): Record<string, unknown>[] {
  const parsed = z
    .object({ epcisBody: z.object({ eventList: z.array(z.record(z.string(), z.unknown())) }) })
    .safeParse(document);
  return parsed.success ? parsed.data.epcisBody.eventList : [];
}

function ssccOfUri(uri: unknown): string | null {
  if (typeof uri !== "string") return null;
  const match = /\/00\/([0-9]{18})$/.exec(uri);
  return match?.[1] ?? null;
}

/**
 * Restores a step the store lacks (a reindex) from its log and its payload document: the SSCC
 * from the document's parentID (or epcList), a packing's leaves from its childEPCs (items by
 * their Digital Link with lot, cases by SSCC), the tree rebuilt and checked against the root
 * the log carries.
 */
async function restoreStep(
  trx: Trx,
  log: DecodedLog,
  digest: string,
  document: unknown,
  state: ContainerStateFields,
  deps: ProjectionDeps,
): Promise<boolean> {
  const typed = containerValueOf(log);
  const events = eventsOf(document);
  const key = typed.value.containerKey;
  const known = await getContainerByKey(trx, key);
  const sscc =
    known?.sscc ??
    events
      .map((event) => ssccOfUri(event["parentID"]) ?? ssccOfUri((event["epcList"] as unknown[] | undefined)?.[0]))
      .find((found) => found !== null) ??
    null;
  if (sscc === null || containerKeyOf(sscc) !== key) {
    deps.logger.error({ digest, containerKey: key }, "a container step's payload document does not name its SSCC");
    return false;
  }
  const actor = await getOrganisationBySigner(trx, typed.value.actor);
  if (actor === null) {
    deps.logger.error({ digest }, "a container step by an organisation this store does not know");
    return false;
  }
  const counterparty =
    typed.value.counterparty === getAddress(ZERO_ADDRESS)
      ? null
      : await getOrganisationBySigner(trx, typed.value.counterparty);
  let tree: NewContainerTree | null = null;
  let packingId = digest;
  let action: "packing" | "unpacking" | "shipping" | "receiving" = "packing";
  if (typed.primaryType === "ContainerPacking") {
    const packing = events.find((event) => event["type"] === "AggregationEvent" && event["action"] === "ADD");
    const epcs = z.array(z.string()).safeParse(packing?.["childEPCs"]);
    const leaves: ContainerLeaf[] = [];
    for (const epc of epcs.success ? epcs.data : []) {
      const child = ssccOfUri(epc);
      if (child !== null) {
        leaves.push({ type: "container", containerKey: containerKeyOf(child) });
        continue;
      }
      let link: ReturnType<typeof parseDigitalLink>;
      try {
        link = parseDigitalLink(epc);
      } catch {
        continue;
      }
      if (link.lot === undefined || link.serial === undefined) continue;
      leaves.push({ type: "item", batchId: batchIdOf(link.gtin, link.lot).toLowerCase(), serial: link.serial });
    }
    if (leaves.length === 0) return false;
    const built = buildContainerTree(leaves);
    if (built.root.toLowerCase() !== state.childrenRoot) {
      deps.logger.error({ digest, sscc }, "a packing's childEPCs do not give the root its log carries");
      return false;
    }
    tree = {
      nodes: built.nodes,
      leaves: leaves.map((leaf, index) => ({ ...leaf, treeIndex: built.treeIndexes[index] ?? -1 })),
    };
  } else {
    const index = Number((typed.value as ContainerEventValue).action);
    action = CONTAINER_ACTIONS[index] ?? "unpacking";
    const packing = known?.steps.findLast((step) => step.action === "packing");
    if (packing === undefined) return false;
    packingId = packing.id;
  }
  await insertContainerStep(
    trx,
    {
      id: digest,
      sscc,
      containerKey: key,
      packingId,
      primaryType: typed.primaryType,
      action,
      value: Object.fromEntries(
        Object.entries(typed.value).map(([name, field]) => [
          name,
          Array.isArray(field) ? field.map(String) : typeof field === "bigint" ? field.toString() : field,
        ]),
      ),
      signature: arg(log, "signature"),
      typedDataVersion: CURRENT_TYPED_DATA_VERSION,
      payloadCid: cidTextFromHex(typed.value.payloadCid),
      state,
      actorOrganisationId: actor.id,
      counterpartyOrganisationId: counterparty?.id ?? null,
      occurredAtMs: Number(typed.value.occurredAt) * 1000,
      createdBy: "reindex",
    },
    tree,
  );
  return true;
}

/** Projects one container log: anchors (or, on a reindex, restores) its step and keeps the chain state. */
export async function projectContainerLog(
  trx: Trx,
  log: DecodedLog,
  deps: ProjectionDeps,
  documents: ContainerDocuments,
): Promise<boolean> {
  const digest = containerDigestOf(deps.domain, containerValueOf(log));
  let step = await getContainerStep(trx, digest);
  if (step === undefined) {
    const document = documents.get(digest);
    const state = await loggedState(trx, log, digest);
    if (document === undefined || !(await restoreStep(trx, log, digest, document, state, deps))) {
      // Not ours and not restorable: keep what the chain says of a container this store knows.
      await recordContainerChainState(trx, arg(log, "containerKey"), state, arg(log, "state"), log.blockNumber);
      return false;
    }
    step = await getContainerStep(trx, digest);
    if (step === undefined) return false;
  }
  const logged = arg(log, "state").toLowerCase();
  const state = await loggedState(trx, log, digest);
  const computed = containerStateHash(state);
  await anchorContainerStep(trx, digest, { txHash: log.txHash, blockNumber: log.blockNumber, logIndex: log.logIndex });
  if (computed !== logged) {
    deps.logger.error(
      { containerKey: step.stateHash, digest, logged, computed },
      "a container's logged state differs from the state rebuilt from its log",
    );
  }
  await recordContainerChainState(trx, arg(log, "containerKey"), state, logged, log.blockNumber);
  if (step.stateHash !== logged) {
    deps.logger.error(
      { digest, logged, expected: step.stateHash },
      "a container step's state on chain differs from the state the server computed when it accepted it",
    );
    await failContainerStepAndLater(trx, digest, "container.state_mismatch");
  }
  return true;
}
