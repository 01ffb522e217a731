/**
 * The indexer: follows the registry's logs into the query store.
 *
 * It reads only blocks at least `confirmations` deep, so the reorgs a chain routinely has
 * never reach the store; and it remembers the hash of every block it applied, so a deeper
 * reorg is noticed (the stored hash no longer matches the chain) and undone: the store rolls
 * back to the last common block and reads forward again. Everything it writes is derived
 * from logs, so deleting the store and indexing from the deployment block rebuilds it.
 */
import type { Interface, JsonRpcProvider, Log } from "ethers";
import type { Logger } from "pino";

export interface DecodedLog {
  blockNumber: number;
  blockHash: string;
  logIndex: number;
  txHash: string;
  name: string;
  /** Event arguments by name; bigints as decimal strings, bytes as 0x-hex, arrays as JSON text of those. */
  args: Record<string, string>;
}

export interface IndexedBlock {
  number: number;
  hash: string;
}

/** What the indexer needs from storage; the storage layer implements it. */
export interface IndexerPort {
  /** The last applied block and the hashes of the recent ones (newest last), or null before the first run. */
  cursor: () => Promise<{ lastBlock: number; recent: IndexedBlock[] } | null>;
  /** Applies the logs of blocks `from..to` (all of them, in order) and advances the cursor, atomically. */
  apply: (range: { from: number; to: number; blocks: IndexedBlock[] }, logs: DecodedLog[]) => Promise<void>;
  /** Removes everything derived from blocks after `blockNumber`, atomically. */
  rollbackAfter: (blockNumber: number) => Promise<void>;
}

export interface IndexerOptions {
  provider: JsonRpcProvider;
  contractInterface: Interface;
  registryAddress: string;
  deployedAtBlock: number;
  confirmations: number;
  store: IndexerPort;
  logger: Logger;
  /** Blocks per eth_getLogs call; public endpoints cap the range. */
  maxBlockRange?: number;
  /** How many recent block hashes to keep for reorg detection. */
  reorgWindow?: number;
}

export interface Indexer {
  /** Indexes up to the confirmed head; returns the last block applied. */
  sync: () => Promise<number>;
}

function toArg(value: unknown): string {
  // Arrays (a container packing's `batchIds`, `childContainers`) as JSON text of their elements.
  if (Array.isArray(value)) return JSON.stringify(value.map(toArg));
  if (typeof value === "bigint" || typeof value === "number" || typeof value === "boolean") return value.toString();
  if (typeof value === "string") return value;
  throw new Error(`unexpected log argument ${String(value)}`);
}

export function decodeRegistryLog(contractInterface: Interface, log: Log): DecodedLog | null {
  const parsed = contractInterface.parseLog({ topics: [...log.topics], data: log.data });
  if (parsed === null) return null;
  const args: Record<string, string> = {};
  parsed.fragment.inputs.forEach((input, i) => {
    args[input.name] = toArg(parsed.args[i]);
  });
  return {
    blockNumber: log.blockNumber,
    blockHash: log.blockHash,
    logIndex: log.index,
    txHash: log.transactionHash,
    name: parsed.name,
    args,
  };
}

export function createIndexer(options: IndexerOptions): Indexer {
  const { provider, store, logger } = options;
  const maxRange = options.maxBlockRange ?? 2_000;
  const window = options.reorgWindow ?? 128;

  async function blockHash(number: number): Promise<string | null> {
    const block = await provider.getBlock(number);
    return block?.hash ?? null;
  }

  /** Finds the newest remembered block still on the canonical chain; rolls back past anything newer. */
  async function undoReorg(recent: IndexedBlock[]): Promise<boolean> {
    const newest = recent.at(-1);
    if (newest === undefined || (await blockHash(newest.number)) === newest.hash) return false;
    let common = options.deployedAtBlock - 1;
    for (let i = recent.length - 2; i >= 0; i--) {
      const block = recent[i];
      if (block !== undefined && (await blockHash(block.number)) === block.hash) {
        common = block.number;
        break;
      }
    }
    logger.warn({ from: newest.number, backTo: common }, "chain reorganised below the indexed head; rolling back");
    await store.rollbackAfter(common);
    return true;
  }

  async function blocksOf(from: number, to: number, logs: Log[]): Promise<IndexedBlock[]> {
    // Hashes come from the logs where a block has one; only the window's tail needs lookups.
    const known = new Map<number, string>();
    for (const log of logs) known.set(log.blockNumber, log.blockHash);
    const blocks: IndexedBlock[] = [];
    for (let n = Math.max(from, to - window + 1); n <= to; n++) {
      const hash = known.get(n) ?? (await blockHash(n));
      if (hash === null) throw new Error(`block ${n} disappeared while indexing`);
      blocks.push({ number: n, hash });
    }
    return blocks;
  }

  return {
    async sync() {
      for (;;) {
        const cursor = await store.cursor();
        if (cursor !== null && (await undoReorg(cursor.recent))) continue;
        const head = await provider.getBlockNumber();
        const confirmed = head - Math.max(options.confirmations - 1, 0);
        const from = cursor === null ? options.deployedAtBlock : cursor.lastBlock + 1;
        if (from > confirmed) return cursor?.lastBlock ?? options.deployedAtBlock - 1;
        const to = Math.min(confirmed, from + maxRange - 1);
        const logs = await provider.getLogs({ address: options.registryAddress, fromBlock: from, toBlock: to });
        const decoded = logs
          .map((log) => decodeRegistryLog(options.contractInterface, log))
          .filter((log): log is DecodedLog => log !== null)
          .sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
        await store.apply({ from, to, blocks: await blocksOf(from, to, logs) }, decoded);
        if (decoded.length > 0) logger.info({ from, to, logs: decoded.length }, "indexed");
        if (to === confirmed) return to;
      }
    },
  };
}
