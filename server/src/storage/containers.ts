/**
 * Cases and pallets (docs/aggregation.md): each container with its SSCC, the state hash the
 * server expects after the requests it accepted and the state the chain reported; each signed
 * request of a container (a step) with the state after it; and each packing's tree (the
 * OpenZeppelin node array) with every leaf's node index, so an item's containers and their
 * proofs are read without rebuilding a tree.
 */
import { getProof } from "@openzeppelin/merkle-tree/dist/core.js";
import type { Selectable } from "kysely";

import {
  containerStateHash,
  EMPTY_CONTAINER_STATE,
  ZERO_BYTES32,
  type ContainerStateFields,
} from "../domain/container-state.ts";
import { LEDGER_STATES, type LedgerState } from "../domain/enumerations.ts";
import { fromJson, jsonObject, oneOf, stringArray, toJson } from "./codec.ts";
import type { Db } from "./database.ts";
import type { ContainerStepsTable, ContainersTable } from "./schema.ts";
import { inTransaction, type Trx } from "./transaction.ts";

export const CONTAINER_STEP_ACTIONS = ["packing", "unpacking", "shipping", "receiving"] as const;
export type ContainerStepAction = (typeof CONTAINER_STEP_ACTIONS)[number];
const PRIMARY_TYPES = ["ContainerPacking", "ContainerEvent"] as const;

/** One signed request of a container (its packing or a later event), with the state after it. */
export interface StoredContainerStep {
  /** The EIP-712 digest of the signed request (the `link` of the state after it). */
  id: string;
  /** Acceptance order within the container. */
  sequence: number;
  /** The packing this step belongs to (a packing's own id for the packing). */
  packingId: string;
  primaryType: "ContainerPacking" | "ContainerEvent";
  action: ContainerStepAction;
  /** The signed value in its JSON codec form (TYPED_CODECS[primaryType].encode). */
  value: Record<string, unknown>;
  signature: string;
  typedDataVersion: string;
  /** Base32 CIDv1 of the payload document (the EPCIS event(s) of this step). */
  payloadCid: string;
  /** The state after this step: keccak256(abi.encode(state)) is what the registry stores. */
  state: ContainerStateFields;
  stateHash: string;
  actorOrganisationId: string;
  counterpartyOrganisationId: string | null;
  ledgerState: LedgerState;
  failureReason: string | null;
  txHash: string | null;
  blockNumber: number | null;
  logIndex: number | null;
  occurredAtMs: number;
  createdAtMs: number;
}

/** A container an item is (or was) in: from the packing that holds it to the container's latest step. */
export interface StoredItemContainer {
  /** 18 digits. */
  sscc: string;
  /** 0x bytes32. */
  containerKey: string;
  /** What the proof is for: the item itself, or the child container (case) it reaches this pallet through. */
  leaf: { type: "item" } | { type: "container"; containerKey: string; sscc: string };
  /** OpenZeppelin StandardMerkleTree proof of the leaf under steps[0].value.childrenRoot. */
  proof: string[];
  steps: StoredContainerStep[];
  /** True while the packing that holds it is the container's current one (not unpacked since). */
  live: boolean;
}

/** The live packing of a container: what it holds now. */
export interface LivePacking {
  packingId: string;
  childCount: number;
  batchIds: string[];
  /** Keys of the child containers. */
  childContainers: string[];
}

/** A container with its current state (for consoles, orders, audit, exports). */
export interface StoredContainer {
  sscc: string;
  containerKey: string;
  /** The state after the last step not failed (the empty state when there is none). */
  expectedState: ContainerStateFields;
  /** What the next request signs as `previous`: zero when the container was never packed on chain. */
  expectedStateHash: string;
  /** The state the indexer last read from the chain; null before its first log. */
  chain: { state: ContainerStateFields; stateHash: string; blockNumber: number | null } | null;
  /** Every step, in acceptance order (failed ones included). */
  steps: StoredContainerStep[];
  livePacking: LivePacking | null;
  createdAtMs: number;
  updatedAtMs: number;
}

/** A step to store; the tree comes with a packing. */
export interface NewContainerStep {
  id: string;
  sscc: string;
  containerKey: string;
  packingId: string;
  primaryType: "ContainerPacking" | "ContainerEvent";
  action: ContainerStepAction;
  value: Record<string, unknown>;
  signature: string;
  typedDataVersion: string;
  payloadCid: string;
  state: ContainerStateFields;
  actorOrganisationId: string;
  counterpartyOrganisationId: string | null;
  occurredAtMs: number;
  createdBy: string;
}

/** A packing's tree: the node array (root first) and each leaf's node index. */
export interface NewContainerTree {
  nodes: string[];
  leaves: (
    | { treeIndex: number; type: "item"; batchId: string; serial: string }
    | { treeIndex: number; type: "container"; containerKey: string }
  )[];
}

function toStep(row: Selectable<ContainerStepsTable>): StoredContainerStep {
  const state: ContainerStateFields = {
    childrenRoot: row.children_root,
    custodian: row.custodian,
    pendingReceiver: row.pending_receiver,
    link: row.id,
  };
  return {
    id: row.id,
    sequence: row.sequence,
    packingId: row.packing_id,
    primaryType: oneOf(PRIMARY_TYPES, row.primary_type, "container_steps.primary_type"),
    action: oneOf(CONTAINER_STEP_ACTIONS, row.action, "container_steps.action"),
    value: fromJson(jsonObject, row.value_json, "container_steps.value_json"),
    signature: row.signature,
    typedDataVersion: row.typed_data_version,
    payloadCid: row.payload_cid,
    state,
    stateHash: row.state_hash,
    actorOrganisationId: row.actor_organisation_id,
    counterpartyOrganisationId: row.counterparty_organisation_id,
    ledgerState: oneOf(LEDGER_STATES, row.ledger_state, "container_steps.ledger_state"),
    failureReason: row.failure_reason,
    txHash: row.tx_hash,
    blockNumber: row.block_number,
    logIndex: row.log_index,
    occurredAtMs: row.occurred_at_ms,
    createdAtMs: row.created_at_ms,
  };
}

/** A packing is live until an unpacking of it that has not failed. */
function isLive(packing: StoredContainerStep, steps: readonly StoredContainerStep[]): boolean {
  if (packing.ledgerState === "failed") return false;
  return !steps.some(
    (step) => step.packingId === packing.id && step.action === "unpacking" && step.ledgerState !== "failed",
  );
}

async function stepsOf(db: Db, containerKey: string): Promise<StoredContainerStep[]> {
  const rows = await db
    .selectFrom("container_steps")
    .selectAll()
    .where("container_key", "=", containerKey.toLowerCase())
    .orderBy("sequence")
    .execute();
  return rows.map(toStep);
}

function lastAccepted(steps: readonly StoredContainerStep[]): StoredContainerStep | undefined {
  return steps.findLast((step) => step.ledgerState !== "failed");
}

async function toContainer(db: Db, row: Selectable<ContainersTable>): Promise<StoredContainer> {
  const steps = await stepsOf(db, row.container_key);
  const last = lastAccepted(steps);
  const packing = steps.findLast((step) => step.action === "packing" && isLive(step, steps));
  let livePacking: LivePacking | null = null;
  if (packing !== undefined) {
    const tree = await db
      .selectFrom("container_trees")
      .select("child_count")
      .where("packing_id", "=", packing.id)
      .executeTakeFirst();
    livePacking = {
      packingId: packing.id,
      childCount: tree?.child_count ?? 0,
      batchIds: fromJson(stringArray, JSON.stringify(packing.value["batchIds"] ?? []), "container_steps.value_json"),
      childContainers: fromJson(
        stringArray,
        JSON.stringify(packing.value["childContainers"] ?? []),
        "container_steps.value_json",
      ),
    };
  }
  const chain =
    row.chain_state_hash === null
      ? null
      : {
          state: {
            childrenRoot: row.chain_children_root ?? ZERO_BYTES32,
            custodian: row.chain_custodian ?? EMPTY_CONTAINER_STATE.custodian,
            pendingReceiver: row.chain_pending_receiver ?? EMPTY_CONTAINER_STATE.pendingReceiver,
            link: row.chain_link ?? ZERO_BYTES32,
          },
          stateHash: row.chain_state_hash,
          blockNumber: row.chain_block_number,
        };
  return {
    sscc: row.sscc,
    containerKey: row.container_key,
    expectedState: last?.state ?? EMPTY_CONTAINER_STATE,
    expectedStateHash: row.expected_state_hash,
    chain,
    steps,
    livePacking,
    createdAtMs: row.created_at_ms,
    updatedAtMs: row.updated_at_ms,
  };
}

/** Containers by SSCC with their current state (for consoles, orders, audit, exports). */
export async function getContainerBySscc(db: Db, sscc: string): Promise<StoredContainer | undefined> {
  const row = await db.selectFrom("containers").selectAll().where("sscc", "=", sscc).executeTakeFirst();
  return row === undefined ? undefined : toContainer(db, row);
}

export async function getContainerByKey(db: Db, containerKey: string): Promise<StoredContainer | undefined> {
  const row = await db
    .selectFrom("containers")
    .selectAll()
    .where("container_key", "=", containerKey.toLowerCase())
    .executeTakeFirst();
  return row === undefined ? undefined : toContainer(db, row);
}

/** The SSCCs of the given keys (those known). */
export async function ssccsOfKeys(db: Db, keys: readonly string[]): Promise<Map<string, string>> {
  if (keys.length === 0) return new Map();
  const rows = await db
    .selectFrom("containers")
    .select(["container_key", "sscc"])
    .where(
      "container_key",
      "in",
      keys.map((key) => key.toLowerCase()),
    )
    .execute();
  return new Map(rows.map((row) => [row.container_key, row.sscc]));
}

async function treeNodes(db: Db, packingId: string): Promise<string[]> {
  const row = await db
    .selectFrom("container_trees")
    .select("nodes_json")
    .where("packing_id", "=", packingId)
    .executeTakeFirstOrThrow();
  return fromJson(stringArray, row.nodes_json, "container_trees.nodes_json");
}

async function itemContainer(
  db: Db,
  packingId: string,
  treeIndex: number,
  leaf: StoredItemContainer["leaf"],
  containerSteps: Map<string, StoredContainerStep[]>,
  ssccs: Map<string, string>,
): Promise<StoredItemContainer | undefined> {
  const packing = await db
    .selectFrom("container_steps")
    .innerJoin("containers", "containers.container_key", "container_steps.container_key")
    .select(["container_steps.container_key", "containers.sscc"])
    .where("container_steps.id", "=", packingId)
    .executeTakeFirst();
  if (packing === undefined) return undefined;
  let all = containerSteps.get(packing.container_key);
  if (all === undefined) {
    all = await stepsOf(db, packing.container_key);
    containerSteps.set(packing.container_key, all);
  }
  ssccs.set(packing.container_key, packing.sscc);
  const own = all.filter((step) => step.packingId === packingId);
  const first = own[0];
  if (first === undefined) return undefined;
  return {
    sscc: packing.sscc,
    containerKey: packing.container_key,
    leaf,
    proof: getProof(await treeNodes(db, packingId), treeIndex),
    steps: own,
    live: isLive(first, all),
  };
}

/**
 * The item's containers: each case that held it (oldest first), then each pallet holding
 * such a case (packed after the case's packing that holds the item). Failed packings are
 * left out: the chain never held them.
 */
export async function containersOfItem(db: Db, batchId: string, serial: string): Promise<StoredItemContainer[]> {
  const leaves = await db
    .selectFrom("container_leaves")
    .innerJoin("container_steps", "container_steps.id", "container_leaves.packing_id")
    .select(["container_leaves.packing_id", "container_leaves.tree_index", "container_steps.created_at_ms"])
    .where("container_leaves.batch_id", "=", batchId.toLowerCase())
    .where("container_leaves.serial", "=", serial)
    .where("container_steps.ledger_state", "!=", "failed")
    .orderBy("container_steps.created_at_ms")
    .orderBy("container_steps.id")
    .execute();
  const steps = new Map<string, StoredContainerStep[]>();
  const ssccs = new Map<string, string>();
  const cases: StoredItemContainer[] = [];
  for (const leaf of leaves) {
    const found = await itemContainer(db, leaf.packing_id, leaf.tree_index, { type: "item" }, steps, ssccs);
    if (found !== undefined) cases.push(found);
  }
  const pallets: StoredItemContainer[] = [];
  const seen = new Set<string>();
  for (const held of cases) {
    const packedAt = held.steps[0]?.createdAtMs ?? 0;
    const parents = await db
      .selectFrom("container_leaves")
      .innerJoin("container_steps", "container_steps.id", "container_leaves.packing_id")
      .select(["container_leaves.packing_id", "container_leaves.tree_index"])
      .where("container_leaves.child_container_key", "=", held.containerKey)
      .where("container_steps.ledger_state", "!=", "failed")
      .where("container_steps.created_at_ms", ">=", packedAt)
      .orderBy("container_steps.created_at_ms")
      .orderBy("container_steps.id")
      .execute();
    for (const parent of parents) {
      if (seen.has(parent.packing_id)) continue;
      seen.add(parent.packing_id);
      const leaf = { type: "container" as const, containerKey: held.containerKey, sscc: held.sscc };
      const found = await itemContainer(db, parent.packing_id, parent.tree_index, leaf, steps, ssccs);
      if (found !== undefined) pallets.push(found);
    }
  }
  return [...cases, ...pallets];
}

/**
 * Stores a step of a container (creating the container at its first), after every step
 * accepted for it, and moves the expected state hash to the state after it. A packing comes
 * with its tree. Throws a unique violation if another request took the same place first.
 */
export async function insertContainerStep(
  db: Db,
  step: NewContainerStep,
  tree: NewContainerTree | null,
  nowMs = Date.now(),
): Promise<StoredContainerStep> {
  return inTransaction(db, async (trx) => {
    const key = step.containerKey.toLowerCase();
    const stateHash = containerStateHash(step.state);
    const existing = await trx
      .selectFrom("containers")
      .select("container_key")
      .where("container_key", "=", key)
      .executeTakeFirst();
    if (existing === undefined) {
      await trx
        .insertInto("containers")
        .values({
          container_key: key,
          sscc: step.sscc,
          expected_state_hash: stateHash,
          chain_state_hash: null,
          chain_children_root: null,
          chain_custodian: null,
          chain_pending_receiver: null,
          chain_link: null,
          chain_block_number: null,
          created_at_ms: nowMs,
          updated_at_ms: nowMs,
        })
        .execute();
    } else {
      await trx
        .updateTable("containers")
        .set({ expected_state_hash: stateHash, updated_at_ms: nowMs })
        .where("container_key", "=", key)
        .execute();
    }
    const last = await trx
      .selectFrom("container_steps")
      .select((eb) => eb.fn.max<number | null>("sequence").as("sequence"))
      .where("container_key", "=", key)
      .executeTakeFirst();
    const row = await trx
      .insertInto("container_steps")
      .values({
        id: step.id.toLowerCase(),
        container_key: key,
        sequence: (last?.sequence ?? 0) + 1,
        packing_id: step.packingId.toLowerCase(),
        primary_type: step.primaryType,
        action: step.action,
        value_json: toJson(step.value),
        signature: step.signature,
        typed_data_version: step.typedDataVersion,
        payload_cid: step.payloadCid,
        children_root: step.state.childrenRoot.toLowerCase(),
        custodian: step.state.custodian.toLowerCase(),
        pending_receiver: step.state.pendingReceiver.toLowerCase(),
        state_hash: stateHash,
        actor_organisation_id: step.actorOrganisationId,
        counterparty_organisation_id: step.counterpartyOrganisationId,
        occurred_at_ms: step.occurredAtMs,
        ledger_state: "pending",
        failure_reason: null,
        tx_hash: null,
        block_number: null,
        log_index: null,
        created_by: step.createdBy,
        created_at_ms: nowMs,
        updated_at_ms: nowMs,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    if (tree !== null) {
      await trx
        .insertInto("container_trees")
        .values({ packing_id: row.id, nodes_json: toJson(tree.nodes), child_count: tree.leaves.length })
        .execute();
      // SQLite takes at most 32,766 bound values a statement: 6 columns, so 5,000 rows.
      for (let start = 0; start < tree.leaves.length; start += 5_000) {
        await trx
          .insertInto("container_leaves")
          .values(
            tree.leaves.slice(start, start + 5_000).map((leaf) => ({
              packing_id: row.id,
              tree_index: leaf.treeIndex,
              container_key: key,
              batch_id: leaf.type === "item" ? leaf.batchId.toLowerCase() : null,
              serial: leaf.type === "item" ? leaf.serial : null,
              child_container_key: leaf.type === "container" ? leaf.containerKey.toLowerCase() : null,
            })),
          )
          .execute();
      }
    }
    return toStep(row);
  });
}

/**
 * The items among `serials` of `batchId` that a live packing holds (an item may be in one live
 * container at a time), with the SSCC holding each.
 */
export async function itemsInLiveContainers(
  db: Db,
  batchId: string,
  serials: readonly string[],
): Promise<{ serial: string; sscc: string }[]> {
  const found: { serial: string; sscc: string }[] = [];
  for (let start = 0; start < serials.length; start += 1_000) {
    const rows = await db
      .selectFrom("container_leaves")
      .innerJoin("container_steps as packing", "packing.id", "container_leaves.packing_id")
      .innerJoin("containers", "containers.container_key", "container_leaves.container_key")
      .select(["container_leaves.serial", "containers.sscc"])
      .where("container_leaves.batch_id", "=", batchId.toLowerCase())
      .where("container_leaves.serial", "in", serials.slice(start, start + 1_000))
      .where("packing.ledger_state", "!=", "failed")
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom("container_steps as unpacking")
              .select("unpacking.id")
              .whereRef("unpacking.packing_id", "=", "packing.id")
              .where("unpacking.action", "=", "unpacking")
              .where("unpacking.ledger_state", "!=", "failed"),
          ),
        ),
      )
      .execute();
    for (const row of rows) if (row.serial !== null) found.push({ serial: row.serial, sscc: row.sscc });
  }
  return found;
}

/** The SSCCs of live packings (other than `exceptKey`'s) that hold the container `childKey`. */
export async function liveParentsOf(db: Db, childKey: string, exceptKey?: string): Promise<string[]> {
  let query = db
    .selectFrom("container_leaves")
    .innerJoin("container_steps as packing", "packing.id", "container_leaves.packing_id")
    .innerJoin("containers", "containers.container_key", "container_leaves.container_key")
    .select("containers.sscc")
    .where("container_leaves.child_container_key", "=", childKey.toLowerCase())
    .where("packing.ledger_state", "!=", "failed")
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom("container_steps as unpacking")
            .select("unpacking.id")
            .whereRef("unpacking.packing_id", "=", "packing.id")
            .where("unpacking.action", "=", "unpacking")
            .where("unpacking.ledger_state", "!=", "failed"),
        ),
      ),
    );
  if (exceptKey !== undefined) query = query.where("container_leaves.container_key", "!=", exceptKey.toLowerCase());
  const rows = await query.execute();
  return rows.map((row) => row.sscc);
}

export async function getContainerStep(db: Db, id: string): Promise<StoredContainerStep | undefined> {
  const row = await db.selectFrom("container_steps").selectAll().where("id", "=", id.toLowerCase()).executeTakeFirst();
  return row === undefined ? undefined : toStep(row);
}

/** The writer sent the step. */
export async function markContainerStepSubmitted(db: Db, id: string, nowMs = Date.now()): Promise<void> {
  await db
    .updateTable("container_steps")
    .set({ ledger_state: "submitted", updated_at_ms: nowMs })
    .where("id", "=", id.toLowerCase())
    .where("ledger_state", "=", "pending")
    .execute();
}

/** The indexer's record of a container log: anchors the step at its chain position. */
export async function anchorContainerStep(
  db: Db,
  id: string,
  position: { txHash: string; blockNumber: number; logIndex: number },
  nowMs = Date.now(),
): Promise<boolean> {
  const result = await db
    .updateTable("container_steps")
    .set({
      ledger_state: "anchored",
      failure_reason: null,
      tx_hash: position.txHash,
      block_number: position.blockNumber,
      log_index: position.logIndex,
      updated_at_ms: nowMs,
    })
    .where("id", "=", id.toLowerCase())
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** The container's state as the chain reported it (from its latest log). */
export async function recordContainerChainState(
  db: Db,
  containerKey: string,
  state: ContainerStateFields,
  stateHash: string,
  blockNumber: number,
  nowMs = Date.now(),
): Promise<void> {
  await db
    .updateTable("containers")
    .set({
      chain_state_hash: stateHash.toLowerCase(),
      chain_children_root: state.childrenRoot.toLowerCase(),
      chain_custodian: state.custodian.toLowerCase(),
      chain_pending_receiver: state.pendingReceiver.toLowerCase(),
      chain_link: state.link.toLowerCase(),
      chain_block_number: blockNumber,
      updated_at_ms: nowMs,
    })
    .where("container_key", "=", containerKey.toLowerCase())
    .execute();
}

/**
 * A step failed on chain: it and every later step of the container not yet anchored fail
 * with the reason (they were signed for states that now never come), and the expected state
 * is rebuilt from what is left: the last step still standing, else the chain's state.
 * Returns the ids of the steps marked failed.
 */
export async function failContainerStepAndLater(
  db: Db,
  id: string,
  reason: string,
  nowMs = Date.now(),
): Promise<string[]> {
  return inTransaction(db, async (trx) => {
    const step = await trx
      .selectFrom("container_steps")
      .select(["container_key", "sequence"])
      .where("id", "=", id.toLowerCase())
      .executeTakeFirst();
    if (step === undefined) return [];
    const failing = await trx
      .selectFrom("container_steps")
      .select(["id", "sequence"])
      .where("container_key", "=", step.container_key)
      .where("sequence", ">=", step.sequence)
      .where("ledger_state", "in", ["pending", "submitted"])
      .execute();
    const ids = failing.map((row) => row.id);
    if (ids.length > 0) {
      await trx
        .updateTable("container_steps")
        .set((eb) => ({
          ledger_state: "failed",
          failure_reason: eb.case().when("id", "=", id.toLowerCase()).then(reason).else(`after ${id}: ${reason}`).end(),
          updated_at_ms: nowMs,
        }))
        .where("id", "in", ids)
        .execute();
    }
    await rebuildExpectedState(trx, step.container_key, nowMs);
    return ids;
  });
}

/** Sets the expected state hash from the container's steps still standing, else the chain's. */
export async function rebuildExpectedState(db: Db, containerKey: string, nowMs = Date.now()): Promise<string> {
  const key = containerKey.toLowerCase();
  const standing = await db
    .selectFrom("container_steps")
    .select("state_hash")
    .where("container_key", "=", key)
    .where("ledger_state", "!=", "failed")
    .orderBy("sequence", "desc")
    .limit(1)
    .executeTakeFirst();
  const chain = await db
    .selectFrom("containers")
    .select("chain_state_hash")
    .where("container_key", "=", key)
    .executeTakeFirst();
  const expected = standing?.state_hash ?? chain?.chain_state_hash ?? ZERO_BYTES32;
  await db
    .updateTable("containers")
    .set({ expected_state_hash: expected, updated_at_ms: nowMs })
    .where("container_key", "=", key)
    .execute();
  return expected;
}

/** The outbox kinds whose entries are container steps (their reference is the step id). */
export const CONTAINER_OUTBOX_KINDS = ["container_packing", "container_event"] as const;

/**
 * Carries an outbox entry's ledger change onto its container steps (called by the outbox in
 * the transaction that moves the entries). A step the chain refused fails every later step of
 * its container (they were signed for states that now never come) and their entries, and the
 * container's expected state is rebuilt from what still stands, else from the chain's state.
 */
export async function mirrorContainerLedger(
  trx: Trx,
  stepIds: readonly string[],
  change: { state: LedgerState; txHash: string | null; blockNumber: number | null; failureReason: string | null },
  nowMs: number,
): Promise<void> {
  if (stepIds.length === 0) return;
  if (change.state !== "failed") {
    await trx
      .updateTable("container_steps")
      .set({
        ledger_state: change.state,
        tx_hash: change.txHash,
        block_number: change.blockNumber,
        failure_reason: null,
        updated_at_ms: nowMs,
      })
      .where("id", "in", [...stepIds])
      // The indexer may have anchored it already; a step failed after its predecessor stays failed.
      .where("ledger_state", "not in", ["failed", "anchored"])
      .execute();
    return;
  }
  const reason = change.failureReason ?? "failed";
  for (const id of stepIds) {
    const failed = await failContainerStepAndLater(trx, id, reason, nowMs);
    const later = failed.filter((other) => other !== id);
    if (later.length === 0) continue;
    await trx
      .updateTable("outbox")
      .set({
        state: "failed",
        last_error: `after ${id}: ${reason}`,
        claimed_by: null,
        claimed_until_ms: null,
        updated_at_ms: nowMs,
      })
      .where("kind", "in", [...CONTAINER_OUTBOX_KINDS])
      .where("reference_id", "in", later)
      .where("state", "=", "pending")
      .execute();
  }
}

/** Which of `serials` the batch has. */
export async function existingSerials(db: Db, batchId: string, serials: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let start = 0; start < serials.length; start += 1_000) {
    const rows = await db
      .selectFrom("items")
      .select("serial")
      .where("batch_id", "=", batchId.toLowerCase())
      .where("serial", "in", serials.slice(start, start + 1_000))
      .execute();
    for (const row of rows) found.add(row.serial);
  }
  return found;
}

/** The batch's serials from `from` to `to` (both included, in text order), at most `limit` + 1 of them. */
export async function serialsBetween(
  db: Db,
  batchId: string,
  from: string,
  to: string,
  limit: number,
): Promise<string[]> {
  const rows = await db
    .selectFrom("items")
    .select("serial")
    .where("batch_id", "=", batchId.toLowerCase())
    .where("serial", ">=", from)
    .where("serial", "<=", to)
    .orderBy("serial")
    .limit(limit + 1)
    .execute();
  return rows.map((row) => row.serial);
}

/** The batches (of `gtin`) that have an item with `serial`: a Digital Link without its lot. */
export async function batchesWithSerial(db: Db, gtin: string, serial: string): Promise<string[]> {
  const rows = await db
    .selectFrom("items")
    .innerJoin("batches", "batches.batch_id", "items.batch_id")
    .select("items.batch_id")
    .where("batches.gtin", "=", gtin)
    .where("items.serial", "=", serial)
    .execute();
  return rows.map((row) => row.batch_id);
}

/**
 * Takes the next `count` serial references under an SSCC prefix (extension digit and company
 * prefix), so two allocations never hand out the same SSCC. Returns the first one.
 */
export async function takeSsccReferences(
  db: Db,
  prefix: string,
  organisationId: string,
  count: number,
  nowMs = Date.now(),
): Promise<bigint> {
  // Compare and set: two allocations racing on PostgreSQL (READ COMMITTED) never get the same
  // references; the loser reads the new value and tries again.
  for (let attempt = 0; attempt < 20; attempt++) {
    const taken = await inTransaction(db, async (trx) => {
      const row = await trx
        .selectFrom("sscc_allocations")
        .select("next_reference")
        .where("prefix", "=", prefix)
        .executeTakeFirst();
      const first = row === undefined ? 1n : BigInt(row.next_reference);
      const next = (first + BigInt(count)).toString();
      if (row === undefined) {
        const inserted = await trx
          .insertInto("sscc_allocations")
          .values({ prefix, organisation_id: organisationId, next_reference: next, updated_at_ms: nowMs })
          .onConflict((oc) => oc.column("prefix").doNothing())
          .executeTakeFirst();
        return (inserted.numInsertedOrUpdatedRows ?? 0n) > 0n ? first : null;
      }
      const updated = await trx
        .updateTable("sscc_allocations")
        .set({ next_reference: next, updated_at_ms: nowMs })
        .where("prefix", "=", prefix)
        .where("next_reference", "=", row.next_reference)
        .executeTakeFirst();
      return updated.numUpdatedRows > 0n ? first : null;
    });
    if (taken !== null) return taken;
  }
  throw new Error(`could not allocate SSCC references under ${prefix}`);
}

/** A packing's leaves, by node index. */
export async function packingLeaves(
  db: Db,
  packingId: string,
): Promise<{ treeIndex: number; batchId: string | null; serial: string | null; childContainerKey: string | null }[]> {
  const rows = await db
    .selectFrom("container_leaves")
    .select(["tree_index", "batch_id", "serial", "child_container_key"])
    .where("packing_id", "=", packingId.toLowerCase())
    .orderBy("tree_index")
    .execute();
  return rows.map((row) => ({
    treeIndex: row.tree_index,
    batchId: row.batch_id,
    serial: row.serial,
    childContainerKey: row.child_container_key,
  }));
}

/** Undoes the anchoring of container steps a reorg removed: they are submitted again, not anchored. */
export async function unrecordContainerStepsAfter(db: Db, blockNumber: number, nowMs = Date.now()): Promise<void> {
  await db
    .updateTable("container_steps")
    .set({ ledger_state: "submitted", block_number: null, log_index: null, updated_at_ms: nowMs })
    .where("block_number", ">", blockNumber)
    .where("log_index", "is not", null)
    .execute();
  await db
    .updateTable("containers")
    .set({
      chain_state_hash: null,
      chain_children_root: null,
      chain_custodian: null,
      chain_pending_receiver: null,
      chain_link: null,
      chain_block_number: null,
      updated_at_ms: nowMs,
    })
    .where("chain_block_number", ">", blockNumber)
    .execute();
}
