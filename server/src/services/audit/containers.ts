/**
 * Gathers the cases and pallets that hold a batch's items from the registry's logs alone
 * (`ContainerPacked`, `ContainerEventRecorded`; docs/aggregation.md): every request's
 * signature recovered again, every state hash recomputed and chained through `previous`,
 * each packing's payload document fetched by its signed CID and its `childEPCs` turned
 * back into leaves, and the children's Merkle root rebuilt from them. What the leaves mean
 * (one item in two live cases, a serial never issued) is judged in `container-rules.ts`.
 */
import { SimpleMerkleTree } from "@openzeppelin/merkle-tree";
import {
  AbiCoder,
  Contract,
  TypedDataEncoder,
  getAddress,
  keccak256,
  recoverAddress,
  type EventLog,
  type Log,
} from "ethers";

import { parseDigitalLink } from "../../domain/gs1.ts";
import { CONTAINER_ACTIONS, containerTypesFor, domainFor, type ContainerType } from "../../domain/typed-data.ts";
import { traceRegistryArtifact } from "../../ledger/registry-artifact.ts";
import { batchIdOf } from "../../verify/batch-id.ts";
import { cidTextFromHex } from "../../verify/cid.ts";
import { checkContent, type ContentCheck } from "./content-check.ts";
import type { AuditSources } from "./gather.ts";

const abi = AbiCoder.defaultAbiCoder();
const ZERO_WORD = `0x${"0".repeat(64)}`;
/** Pallets hold cases; a deeper nesting than this is not followed (nor built by the server). */
const MAX_NESTING = 4;

export type ContainerLeaf =
  | { type: "item"; epc: string; batchId: string; gtin: string; lot: string; serial: string }
  | { type: "container"; epc: string; containerKey: string; sscc: string };

export interface ContainerStateFields {
  childrenRoot: string;
  custodian: string;
  pendingReceiver: string;
  link: string;
}

export interface ContainerPackingEvidence {
  childrenRoot: string;
  childCount: number;
  batchIds: string[];
  childContainers: string[];
  /** The leaves named by the payload document's AggregationEvent(s); null when it cannot be read. */
  leaves: ContainerLeaf[] | null;
  /** `childEPCs` that are neither an item's Digital Link (with its lot) nor an SSCC. */
  unreadable: string[];
  /** The root the leaves give (OpenZeppelin's StandardMerkleTree over their hashes), or null. */
  recomputedRoot: string | null;
  /** The SSCC the document names as `parentID`, if any. */
  sscc: string | null;
}

export interface ContainerStepEvidence {
  action: "packing" | (typeof CONTAINER_ACTIONS)[number];
  containerKey: string;
  actor: string;
  occurredAt: number;
  payloadCid: string;
  counterparty: string;
  previous: string;
  blockNumber: number;
  logIndex: number;
  transactionHash: string;
  /** The state after this step as logged, and its logged hash. */
  state: ContainerStateFields;
  stateHash: string;
  /** The signature recovers to the actor (or, for a contract wallet, the wallet agreed). */
  signatureValid: boolean;
  /** The logged state is what this request produces from the one before it, and `previous` names that one. */
  stateValid: boolean;
  /** EPCIS `bizTransactionList` entries of the payload document (the order's po, the despatch's desadv). */
  bizTransactions: { type: string; id: string }[];
  packing: ContainerPackingEvidence | null;
}

export interface GatheredContainer {
  containerKey: string;
  sscc: string | null;
  /** In the registry's order (block, then log index). */
  steps: ContainerStepEvidence[];
}

export interface GatheredContainers {
  containers: GatheredContainer[];
  /** Each batch's issued serials as the platform lists them (checked against its root by the batch audit); null when unknown. */
  issued: Record<string, string[] | null>;
  /** Each packing's payload document, fetched by CID and hashed again. */
  contents: ContentCheck[];
}

/** `keccak256(abi.encode(uint64 sscc))`: the registry's key of a container. */
export function containerKeyOf(sscc: string): string {
  return keccak256(abi.encode(["uint64"], [BigInt(sscc)]));
}

export function stateHashOf(state: ContainerStateFields): string {
  return keccak256(
    abi.encode(
      ["bytes32", "address", "address", "bytes32"],
      [state.childrenRoot, state.custodian, state.pendingReceiver, state.link],
    ),
  );
}

/** The leaf hash of an item or a child container, as docs/aggregation.md gives it. */
export function leafHashOf(leaf: ContainerLeaf): string {
  const encoded =
    leaf.type === "item"
      ? abi.encode(["bytes32", "string"], [leaf.batchId, leaf.serial])
      : abi.encode(["bytes32"], [leaf.containerKey]);
  return keccak256(keccak256(encoded));
}

/** The root of the leaves as OpenZeppelin's StandardMerkleTree builds it (leaves sorted by hash). */
export function containerRootOf(leaves: readonly ContainerLeaf[]): string | null {
  if (leaves.length === 0) return null;
  return SimpleMerkleTree.of(leaves.map(leafHashOf)).root;
}

const SSCC_PATH = /\/00\/(\d{18})(?:[/?#]|$)/;

/** One `childEPCs`/`parentID` entry as a leaf: an item's Digital Link with its lot, or an SSCC. */
export function leafOfEpc(epc: string): ContainerLeaf | null {
  const sscc = SSCC_PATH.exec(epc)?.[1] ?? /^urn:epc:id:sscc:(\d+)\.(\d+)$/.exec(epc)?.slice(1).join("");
  if (sscc !== undefined && /^\d{18}$/.test(sscc)) {
    return { type: "container", epc, containerKey: containerKeyOf(sscc), sscc };
  }
  try {
    const link = parseDigitalLink(epc);
    if (link.lot === undefined || link.serial === undefined) return null;
    return {
      type: "item",
      epc,
      batchId: batchIdOf(link.gtin, link.lot),
      gtin: link.gtin,
      lot: link.lot,
      serial: link.serial,
    };
  } catch {
    return null;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Every EPCIS event object in a document, wherever the payload nests its event list. */
function epcisEvents(document: unknown, depth = 0): Record<string, unknown>[] {
  if (depth > 6) return [];
  if (Array.isArray(document)) return document.flatMap((value) => epcisEvents(value, depth + 1));
  if (!isRecord(document)) return [];
  if (typeof document.type === "string" && document.type.endsWith("Event")) return [document];
  return Object.values(document).flatMap((value) => epcisEvents(value, depth + 1));
}

/** What the audit reads of a payload document: the packing's leaves and the business transactions. */
export function readContainerDocument(document: unknown): {
  leaves: ContainerLeaf[];
  unreadable: string[];
  sscc: string | null;
  bizTransactions: { type: string; id: string }[];
} {
  const leaves: ContainerLeaf[] = [];
  const unreadable: string[] = [];
  const bizTransactions: { type: string; id: string }[] = [];
  let sscc: string | null = null;
  for (const event of epcisEvents(document)) {
    for (const entry of Array.isArray(event.bizTransactionList) ? event.bizTransactionList : []) {
      if (isRecord(entry) && typeof entry.bizTransaction === "string") {
        const type = typeof entry.type === "string" ? entry.type.replace(/^.*[:/#]/, "").replace(/^BTT-/, "") : "";
        if (!bizTransactions.some((b) => b.type === type && b.id === entry.bizTransaction)) {
          bizTransactions.push({ type, id: entry.bizTransaction });
        }
      }
    }
    if (event.type !== "AggregationEvent" || event.action !== "ADD") continue;
    if (typeof event.parentID === "string") {
      const parent = leafOfEpc(event.parentID);
      if (parent?.type === "container") sscc = parent.sscc;
    }
    for (const epc of Array.isArray(event.childEPCs) ? event.childEPCs : []) {
      if (typeof epc !== "string") continue;
      const leaf = leafOfEpc(epc);
      if (leaf === null) unreadable.push(epc);
      else leaves.push(leaf);
    }
  }
  return { leaves, unreadable, sscc, bizTransactions };
}

function isEventLog(log: Log | EventLog): log is EventLog {
  return "args" in log;
}

const ERC1271 = ["function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)"];

async function signatureValid(
  sources: AuditSources,
  actor: string,
  digest: string,
  signature: string,
): Promise<boolean> {
  try {
    if (getAddress(recoverAddress(digest, signature)) === getAddress(actor)) return true;
  } catch {
    // Not an ECDSA signature: a contract wallet's may still be valid.
  }
  if ((await sources.provider.getCode(actor)) === "0x") return false;
  try {
    const wallet = new Contract(actor, ERC1271, sources.provider);
    return ((await wallet.getFunction("isValidSignature")(digest, signature)) as string) === "0x1626ba7e";
  } catch {
    return false;
  }
}

interface RawStep {
  primaryType: ContainerType;
  value: Record<string, unknown>;
  signature: string;
  state: ContainerStateFields;
  stateHash: string;
  log: EventLog;
  packing: { childrenRoot: string; childCount: number; batchIds: string[]; childContainers: string[] } | null;
}

function rawStepOf(log: EventLog): RawStep {
  const a = log.args;
  const get = (name: string): unknown => a.getValue(name);
  const state: ContainerStateFields = {
    childrenRoot: ZERO_WORD,
    custodian: getAddress(get("custodian") as string),
    pendingReceiver: getAddress(get("pendingReceiver") as string),
    link: ZERO_WORD,
  };
  const common = {
    actor: getAddress(get("actor") as string),
    containerKey: get("containerKey") as string,
    occurredAt: get("occurredAt") as bigint,
    payloadCid: get("payloadCid") as string,
    counterparty: getAddress(get("counterparty") as string),
    previous: get("previous") as string,
    deadline: get("deadline") as bigint,
  };
  if (log.eventName === "ContainerPacked") {
    const batchIds = [...(get("batchIds") as string[])];
    const childContainers = [...(get("childContainers") as string[])];
    const childrenRoot = get("childrenRoot") as string;
    const childCount = Number(get("childCount"));
    return {
      primaryType: "ContainerPacking",
      value: { ...common, childrenRoot, childCount, batchIds, childContainers },
      signature: get("signature") as string,
      state: { ...state, childrenRoot },
      stateHash: get("state") as string,
      log,
      packing: { childrenRoot, childCount, batchIds, childContainers },
    };
  }
  return {
    primaryType: "ContainerEvent",
    value: { ...common, action: get("action") },
    signature: get("signature") as string,
    state,
    stateHash: get("state") as string,
    log,
    packing: null,
  };
}

/**
 * Every container log of the registry up to the chain's head, read once per head and set of
 * sources: an audit of a search reads them for each of its batches, and until a new block they
 * cannot change (a new block reads them again).
 */
const logsOfSources = new WeakMap<AuditSources, { head: number; logs: Promise<EventLog[]> }>();

async function containerLogs(sources: AuditSources): Promise<EventLog[]> {
  const head = await sources.provider.getBlockNumber();
  const cached = logsOfSources.get(sources);
  if (cached?.head === head) return cached.logs;
  const registry = new Contract(sources.registryAddress, traceRegistryArtifact().abi, sources.provider);
  const logs = Promise.all([
    registry.queryFilter("ContainerPacked", sources.fromBlock, head),
    registry.queryFilter("ContainerEventRecorded", sources.fromBlock, head),
  ]).then(([packed, recorded]) => [...packed, ...recorded].filter(isEventLog));
  // A failed read is not kept: the next batch asks the chain again.
  logs.catch(() => logsOfSources.delete(sources));
  logsOfSources.set(sources, { head, logs });
  return logs;
}

/**
 * The containers whose packings list one of `batchIds`, and the pallets (to `MAX_NESTING`
 * levels) that hold such a container, each with every step it went through.
 */
export async function gatherContainers(
  sources: AuditSources,
  batchIds: readonly string[],
): Promise<GatheredContainers> {
  const byKey = new Map<string, RawStep[]>();
  for (const log of await containerLogs(sources)) {
    const step = rawStepOf(log);
    const key = (step.value.containerKey as string).toLowerCase();
    byKey.set(key, [...(byKey.get(key) ?? []), step]);
  }
  for (const steps of byKey.values()) {
    steps.sort((x, y) => x.log.blockNumber - y.log.blockNumber || x.log.index - y.log.index);
  }

  // In scope: containers packing a batch of the audit, then whatever packs those, level by level.
  const wanted = new Set(batchIds.map((id) => id.toLowerCase()));
  const inScope = new Set<string>();
  for (const [key, steps] of byKey) {
    if (steps.some((s) => s.packing?.batchIds.some((id) => wanted.has(id.toLowerCase())))) inScope.add(key);
  }
  for (let level = 0; level < MAX_NESTING; level++) {
    const before = inScope.size;
    for (const [key, steps] of byKey) {
      if (steps.some((s) => s.packing?.childContainers.some((child) => inScope.has(child.toLowerCase())))) {
        inScope.add(key);
      }
    }
    if (inScope.size === before) break;
  }

  const domain = domainFor(sources.domain.chainId, sources.domain.verifyingContract);
  const contents: ContentCheck[] = [];
  const containers: GatheredContainer[] = [];
  for (const key of inScope) {
    const raw = byKey.get(key) ?? [];
    const steps: ContainerStepEvidence[] = [];
    let previousHash = ZERO_WORD;
    let root = ZERO_WORD;
    let sscc: string | null = null;
    for (const step of raw) {
      const digest = TypedDataEncoder.hash(domain, containerTypesFor(step.primaryType), step.value);
      const action =
        step.primaryType === "ContainerPacking"
          ? "packing"
          : (CONTAINER_ACTIONS[Number(step.value.action)] ?? "unpacking");
      if (step.packing !== null) root = step.packing.childrenRoot;
      else if (action === "unpacking") root = ZERO_WORD;
      const state = { ...step.state, childrenRoot: root, link: digest };
      const stateValid =
        (step.value.previous as string).toLowerCase() === previousHash.toLowerCase() &&
        stateHashOf(state).toLowerCase() === step.stateHash.toLowerCase();
      previousHash = step.stateHash;

      const cid = cidTextFromHex(step.value.payloadCid as string);
      const { check, bytes } = await checkContent(sources, cid, "container_payload", true);
      contents.push(check);
      let document: ReturnType<typeof readContainerDocument> | null = null;
      if (bytes !== null) {
        try {
          document = readContainerDocument(JSON.parse(new TextDecoder().decode(bytes)));
        } catch {
          document = null;
        }
      }
      let packing: ContainerPackingEvidence | null = null;
      if (step.packing !== null) {
        const leaves = document?.leaves ?? null;
        packing = {
          ...step.packing,
          leaves,
          unreadable: document?.unreadable ?? [],
          recomputedRoot: leaves === null ? null : containerRootOf(leaves),
          sscc: document?.sscc ?? null,
        };
        // The SSCC is known only from a document; it counts when it gives the logged key.
        if (packing.sscc !== null && containerKeyOf(packing.sscc).toLowerCase() === key) sscc = packing.sscc;
      }
      steps.push({
        action,
        containerKey: key,
        actor: step.value.actor as string,
        occurredAt: Number(step.value.occurredAt),
        payloadCid: cid,
        counterparty: step.value.counterparty as string,
        previous: step.value.previous as string,
        blockNumber: step.log.blockNumber,
        logIndex: step.log.index,
        transactionHash: step.log.transactionHash,
        state,
        stateHash: step.stateHash,
        signatureValid: await signatureValid(sources, step.value.actor as string, digest, step.signature),
        stateValid,
        bizTransactions: document?.bizTransactions ?? [],
        packing,
      });
    }
    containers.push({ containerKey: key, sscc, steps });
  }

  const issued: Record<string, string[] | null> = {};
  for (const container of containers) {
    for (const step of container.steps) {
      for (const leaf of step.packing?.leaves ?? []) {
        if (leaf.type !== "item" || leaf.batchId in issued) continue;
        issued[leaf.batchId] = await sources.itemSerials(leaf.batchId).catch(() => null);
      }
    }
  }
  return { containers, issued, contents };
}
