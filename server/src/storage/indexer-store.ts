/**
 * What the indexer keeps: a cursor per (chain, contract) with the hashes of the newest
 * applied blocks, and a mirror of the registry's logs keyed by (block hash, log index).
 * Logs are stored per block, so a reorg is undone by deleting the blocks after the last
 * common one; everything else derived from logs is rebuilt from this mirror or the chain.
 */
import type { Kysely } from "kysely";
import { z } from "zod";

import type { DecodedLog, IndexedBlock, IndexerPort } from "../ledger/indexer.ts";
import { fromJson, toJson } from "./codec.ts";
import type { Db } from "./database.ts";
import type { Database } from "./schema.ts";
import { inTransaction, type Trx } from "./transaction.ts";

export interface ChainRef {
  /** Decimal chain id. */
  chainId: string;
  contractAddress: string;
}

export interface IndexerCursor {
  lastBlock: number;
  /** Newest last. */
  recent: IndexedBlock[];
}

/** 9 parameters a row: well inside both engines' limits on bound parameters. */
const LOG_INSERT_CHUNK = 500;

const recentBlocks = z.array(z.object({ number: z.number().int().nonnegative(), hash: z.string() }));
const logArgs = z.record(z.string(), z.string());

function refOf(ref: ChainRef): { chain_id: string; contract_address: string } {
  return { chain_id: ref.chainId, contract_address: ref.contractAddress.toLowerCase() };
}

export async function getIndexerCursor(db: Db, ref: ChainRef): Promise<IndexerCursor | null> {
  const { chain_id, contract_address } = refOf(ref);
  const row = await db
    .selectFrom("indexer_cursors")
    .select(["last_block", "recent_blocks_json"])
    .where("chain_id", "=", chain_id)
    .where("contract_address", "=", contract_address)
    .executeTakeFirst();
  if (row === undefined) return null;
  return {
    lastBlock: row.last_block,
    recent: fromJson(recentBlocks, row.recent_blocks_json, "indexer_cursors.recent_blocks_json"),
  };
}

async function saveCursor(db: Db, ref: ChainRef, cursor: IndexerCursor, nowMs: number): Promise<void> {
  const values = {
    ...refOf(ref),
    last_block: cursor.lastBlock,
    recent_blocks_json: toJson(cursor.recent),
    updated_at_ms: nowMs,
  };
  await db
    .insertInto("indexer_cursors")
    .values(values)
    .onConflict((oc) =>
      oc.columns(["chain_id", "contract_address"]).doUpdateSet({
        last_block: values.last_block,
        recent_blocks_json: values.recent_blocks_json,
        updated_at_ms: values.updated_at_ms,
      }),
    )
    .execute();
}

export interface ApplyRange {
  from: number;
  to: number;
  blocks: IndexedBlock[];
}

/**
 * Stores the logs of blocks `from..to` and advances the cursor, in one transaction.
 * Storing a log twice is harmless (same block hash and index), so a crash between
 * applying and acknowledging only repeats work.
 */
export async function applyLogs(
  db: Db,
  ref: ChainRef,
  range: ApplyRange,
  logs: readonly DecodedLog[],
  options: { reorgWindow: number; nowMs?: number },
): Promise<void> {
  const nowMs = options.nowMs ?? Date.now();
  await inTransaction(db, async (trx) => {
    const cursor = await getIndexerCursor(trx, ref);
    if (cursor !== null && range.from !== cursor.lastBlock + 1) {
      throw new Error(`indexer range starts at ${range.from} but the cursor is at ${cursor.lastBlock}`);
    }
    for (let start = 0; start < logs.length; start += LOG_INSERT_CHUNK) {
      const rows = logs.slice(start, start + LOG_INSERT_CHUNK).map((log) => ({
        ...refOf(ref),
        block_number: log.blockNumber,
        block_hash: log.blockHash,
        log_index: log.logIndex,
        tx_hash: log.txHash,
        event_name: log.name,
        batch_id: log.args.batchId?.toLowerCase() ?? null,
        args_json: toJson(log.args),
      }));
      await trx
        .insertInto("chain_logs")
        .values(rows)
        .onConflict((oc) => oc.columns(["block_hash", "log_index"]).doNothing())
        .execute();
    }
    const merged = [...(cursor?.recent ?? []).filter((block) => block.number < range.from), ...range.blocks];
    await saveCursor(trx, ref, { lastBlock: range.to, recent: merged.slice(-options.reorgWindow) }, nowMs);
  });
}

/** Forgets everything after `blockNumber`: its logs and its remembered hashes. */
export async function rollbackLogsAfter(db: Db, ref: ChainRef, blockNumber: number, nowMs = Date.now()): Promise<void> {
  await inTransaction(db, async (trx) => {
    const { chain_id, contract_address } = refOf(ref);
    await trx
      .deleteFrom("chain_logs")
      .where("chain_id", "=", chain_id)
      .where("contract_address", "=", contract_address)
      .where("block_number", ">", blockNumber)
      .execute();
    const cursor = await getIndexerCursor(trx, ref);
    const recent = (cursor?.recent ?? []).filter((block) => block.number <= blockNumber);
    await saveCursor(trx, ref, { lastBlock: blockNumber, recent }, nowMs);
  });
}

export interface StoredLog extends DecodedLog {
  chainId: string;
  contractAddress: string;
}

/** A batch's logs in chain order: what the scan page and the audit recompute the event chain from. */
export async function listBatchLogs(db: Db, batchId: string): Promise<StoredLog[]> {
  const rows = await db
    .selectFrom("chain_logs")
    .selectAll()
    .where("batch_id", "=", batchId.toLowerCase())
    .orderBy("block_number")
    .orderBy("log_index")
    .execute();
  return rows.map((row) => ({
    chainId: row.chain_id,
    contractAddress: row.contract_address,
    blockNumber: row.block_number,
    blockHash: row.block_hash,
    logIndex: row.log_index,
    txHash: row.tx_hash,
    name: row.event_name,
    args: fromJson(logArgs, row.args_json, "chain_logs.args_json"),
  }));
}

/** The writes a projection makes, in the transaction that stores the logs. */
export type ProjectionWrites = (trx: Trx) => Promise<void>;

export interface IndexerStoreOptions extends ChainRef {
  reorgWindow?: number;
  /**
   * Projects applied logs onto other tables (events anchored, batches recalled). It reads
   * what it needs (IPFS documents, the store) before the transaction opens, so no slow
   * fetch holds the writer, and returns the writes to make inside it.
   */
  project?: (db: Db, logs: readonly DecodedLog[]) => Promise<ProjectionWrites>;
  /** Undoes the projection of blocks after `blockNumber`, in the same transaction. */
  onRollback?: (trx: Trx, blockNumber: number) => Promise<void>;
}

/** The indexer's view of the store. */
export function createIndexerStore(db: Kysely<Database>, options: IndexerStoreOptions): IndexerPort {
  const reorgWindow = options.reorgWindow ?? 128;
  return {
    cursor: () => getIndexerCursor(db, options),
    apply: async (range, logs) => {
      const writes = await options.project?.(db, logs);
      await inTransaction(db, async (trx) => {
        await applyLogs(trx, options, range, logs, { reorgWindow });
        await writes?.(trx);
      });
    },
    rollbackAfter: (blockNumber) =>
      inTransaction(db, async (trx) => {
        await rollbackLogsAfter(trx, options, blockNumber);
        await options.onRollback?.(trx, blockNumber);
      }),
  };
}
