/**
 * The default content store: UnixFS blocks in files under a data directory, no networking.
 *
 * Why these packages: blocks are written by blockstore-fs (atomic temp-file-and-rename
 * writes; the layout any Helia node given an FsBlockstore reads: `blocks/<2 chars>/<base32
 * multihash>.data`) and files are built by ipfs-unixfs-importer directly. @helia/unixfs
 * would add @helia/interface and libp2p's logger and utils for nothing we use, and its `cat`
 * is the exporter, whose unbounded read-ahead we avoid (see unixfs-file.ts). Blocks are
 * read back with plain file reads through blockstore-fs's own sharding strategy, because
 * blockstore-fs reports every read failure (a full disk, a permission error) as "not
 * found", and we must answer 503, not 404, for those.
 *
 * CIDs equal Kubo's for the same bytes with
 *   ipfs add --cid-version=1 --raw-leaves=true --chunker=size-262144 --max-file-links=174 \
 *     --trickle=false --hash=sha2-256 <file>
 * (see IMPORT_PARAMETERS in content-store.ts).
 *
 * Pins are recorded as one small file per pinned CID under `pins/`, so the audit can ask
 * whether everything a batch references is pinned, with the same answer the Kubo adapter
 * gives. As in Kubo, unpinned blocks do not stay: what a failed or abandoned upload wrote is
 * collected when the store next opens, once older than a grace period (embedded-gc.ts,
 * which also says why that is safe while replicas share the directory).
 */
import { mkdir, open, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import path from "node:path";

import { FsBlockstore } from "blockstore-fs";
import { NextToLast } from "blockstore-fs/sharding";
import { base32upper } from "multiformats/bases/base32";
import type { CID } from "multiformats/cid";

import { collectGarbage, DEFAULT_GARBAGE_GRACE_MS, errnoOf, fsyncPath, type GarbageCollection } from "./embedded-gc.ts";
import {
  ContentError,
  isContentError,
  meterSource,
  resolveRange,
  type AbortOptions,
  type AddOptions,
  type AddResult,
  type CatOptions,
  type ContentStat,
  type ContentStore,
} from "./content-store.ts";
import { assertComplete, importFile, MAX_BLOCK_BYTES, openFile, verifyBlock, type BlockSink } from "./unixfs-file.ts";

export interface EmbeddedStoreOptions {
  /** Holds `blocks/` and `pins/`; created when missing. */
  dataDir: string;
  /**
   * fsync every block and pin before `add`/`pin` resolve (default true), so content we
   * have acknowledged survives a power cut. Tests of throwaway data may turn it off.
   */
  durable?: boolean;
  /**
   * Unpinned blocks and temporary files younger than this are never collected (default a
   * day: far longer than any upload can last). See embedded-gc.ts.
   */
  garbageGraceMs?: number;
  /** Told what the collection at opening did (the server logs it). */
  onGarbageCollected?: (report: GarbageCollection) => void;
}

const SHA2_256 = 0x12;

export async function openEmbeddedContentStore(options: EmbeddedStoreOptions): Promise<ContentStore> {
  const durable = options.durable ?? true;
  const blocksDir = path.resolve(options.dataDir, "blocks");
  const pinsDir = path.resolve(options.dataDir, "pins");
  const layout = new NextToLast();
  const blockstore = new FsBlockstore(blocksDir, { shardingStrategy: layout });
  try {
    await blockstore.open();
    await mkdir(pinsDir, { recursive: true });
  } catch (cause) {
    throw new ContentError("unavailable", `cannot open the content store in ${options.dataDir}`, { cause });
  }
  // Before any add can start in this process; other processes sharing the directory are
  // provided for by the collector's rules.
  const collected = await collectGarbage(
    { blocksDir, pinsDir, layout, durable },
    { graceMs: options.garbageGraceMs ?? DEFAULT_GARBAGE_GRACE_MS, nowMs: Date.now() },
  );
  options.onGarbageCollected?.(collected);
  let closed = false;

  function ensureOpen(): void {
    if (closed) throw new ContentError("unavailable", "the content store is closed");
  }

  function blockFile(cid: CID): string {
    const { dir, file } = layout.encode(cid);
    return path.join(blocksDir, dir, file);
  }

  function pinFile(cid: CID): string {
    // Keyed by multihash like the blocks, so the CIDv0 and CIDv1 of one DAG share a pin.
    return path.join(pinsDir, base32upper.encode(cid.multihash.bytes));
  }

  /**
   * A missing file means "not stored" only while the store itself is there: if the whole
   * blocks directory is gone (a disk not mounted), every lookup would otherwise say 404.
   */
  async function missing(cid: CID, cause: unknown): Promise<ContentError> {
    try {
      await stat(blocksDir);
    } catch (statError) {
      return new ContentError("unavailable", "the block directory is missing", { cid, cause: statError });
    }
    return new ContentError("not_found", "no block with this CID is stored here", { cid, cause });
  }

  async function getBlock(cid: CID, signal?: AbortSignal): Promise<Uint8Array> {
    ensureOpen();
    signal?.throwIfAborted();
    if (cid.multihash.code !== SHA2_256) {
      throw new ContentError("not_found", "only sha2-256 content is stored here", { cid });
    }
    let bytes: Uint8Array;
    try {
      const handle = await open(blockFile(cid), "r");
      try {
        // Never read something absurd into memory because a file in the store is damaged.
        const { size } = await handle.stat();
        if (size > MAX_BLOCK_BYTES) throw new ContentError("corrupt", `a stored block is ${size} bytes`, { cid });
        bytes = await handle.readFile({ signal });
      } finally {
        await handle.close();
      }
    } catch (error) {
      if (isContentError(error) || isAbort(error)) throw error;
      if (errnoOf(error) === "ENOENT") throw await missing(cid, error);
      throw new ContentError("unavailable", "a block could not be read", { cid, cause: error });
    }
    verifyBlock(cid, bytes);
    return bytes;
  }

  async function hasBlock(cid: CID): Promise<boolean> {
    ensureOpen();
    if (cid.multihash.code !== SHA2_256) return false;
    try {
      await stat(blockFile(cid));
      return true;
    } catch (error) {
      if (errnoOf(error) !== "ENOENT")
        throw new ContentError("unavailable", "a block could not be checked", { cid, cause: error });
      const reason = await missing(cid, error);
      if (reason.kind === "unavailable") throw reason;
      return false;
    }
  }

  /**
   * Marks a block as in use by setting its modification time to now, so that a garbage
   * collection (in another process sharing the directory) keeps it; false when it is not
   * there. Must come before relying on the block: see rule 3 in embedded-gc.ts.
   */
  async function claim(cid: CID): Promise<boolean> {
    const now = new Date();
    try {
      await utimes(blockFile(cid), now, now);
      return true;
    } catch (error) {
      if (errnoOf(error) === "ENOENT") return false;
      throw error;
    }
  }

  async function claimChecked(cid: CID): Promise<void> {
    if (cid.multihash.code !== SHA2_256) return;
    try {
      await claim(cid);
    } catch (cause) {
      throw new ContentError("unavailable", "a block could not be marked in use", { cid, cause });
    }
  }

  /** A sink for one `add`: skips blocks already whole on disk, remembers what to fsync. */
  function createSink(signal: AbortSignal | undefined): BlockSink & { flush(): Promise<void> } {
    const touchedDirs = new Set<string>();
    return {
      async put(cid, bytes) {
        ensureOpen();
        signal?.throwIfAborted();
        const file = blockFile(cid);
        try {
          // Retried uploads are common on weak networks: a block already stored intact need
          // not be written again (reading it back costs less than a write and an fsync), and
          // a damaged one is repaired by the retry.
          if ((await claim(cid)) && (await sizeOrNull(file)) === bytes.length && (await holdsIntact(file, cid))) return;
          try {
            await blockstore.put(cid, bytes);
          } catch (error) {
            // blockstore-fs writes through steno's temporary file beside the block; a failed
            // write (a full disk) leaves it there. Best effort: a collection removes the rest.
            await rm(path.join(path.dirname(file), `.${path.basename(file)}.tmp`), { force: true }).catch(
              () => undefined,
            );
            throw error;
          }
          if (durable) await fsyncPath(file);
        } catch (cause) {
          throw new ContentError("unavailable", "a block could not be written", { cid, cause });
        }
        touchedDirs.add(path.dirname(file));
      },
      async flush() {
        if (!durable) return;
        try {
          // New files are durable only once the directory entries that name them are.
          for (const dir of touchedDirs) await fsyncPath(dir);
          if (touchedDirs.size > 0) await fsyncPath(blocksDir);
        } catch (cause) {
          throw new ContentError("unavailable", "stored blocks could not be flushed to disk", { cause });
        }
      },
    };
  }

  async function recordPin(cid: CID): Promise<void> {
    const file = pinFile(cid);
    try {
      if ((await sizeOrNull(file)) !== null) return;
      const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
      try {
        await writeFile(temporary, `${cid.toString()}\n`);
        if (durable) await fsyncPath(temporary);
        await rename(temporary, file);
      } catch (error) {
        await rm(temporary, { force: true }).catch(() => undefined);
        throw error;
      }
      if (durable) await fsyncPath(pinsDir);
    } catch (cause) {
      throw new ContentError("unavailable", "the pin could not be recorded", { cid, cause });
    }
  }

  return {
    async add(
      source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
      addOptions: AddOptions = {},
    ): Promise<AddResult> {
      ensureOpen();
      const { signal } = addOptions;
      const counted = meterSource(source, addOptions.maxBytes, signal);
      const sink = createSink(signal);
      const cid = await importFile(counted, sink);
      await sink.flush();
      if (addOptions.pin ?? true) await recordPin(cid);
      return { cid, sizeBytes: counted.bytesSoFar() };
    },

    async stat(cid: CID, statOptions: AbortOptions = {}): Promise<ContentStat | null> {
      try {
        const file = await openFile(getBlock, cid, statOptions.signal);
        return { sizeBytes: file.sizeBytes };
      } catch (error) {
        if (isContentError(error, "not_found")) return null;
        throw error;
      }
    },

    async *cat(cid: CID, catOptions: CatOptions = {}): AsyncGenerator<Uint8Array, void, undefined> {
      const file = await openFile(getBlock, cid, catOptions.signal);
      const { start, end } = resolveRange(file.sizeBytes, catOptions, cid);
      yield* file.read(start, end, catOptions.signal);
    },

    async has(cid: CID): Promise<boolean> {
      return hasBlock(cid);
    },

    async pin(cid: CID, pinOptions: AbortOptions = {}): Promise<void> {
      ensureOpen();
      // Claim each block before checking it, as an add does, so a collection keeps them all.
      const claimThenGet = async (block: CID, signal?: AbortSignal): Promise<Uint8Array> => {
        await claimChecked(block);
        return getBlock(block, signal);
      };
      const claimThenHas = async (block: CID): Promise<boolean> => {
        await claimChecked(block);
        return hasBlock(block);
      };
      await assertComplete(claimThenGet, claimThenHas, cid, pinOptions.signal);
      await recordPin(cid);
    },

    async isPinned(cid: CID): Promise<boolean> {
      ensureOpen();
      try {
        return (await sizeOrNull(pinFile(cid))) !== null;
      } catch (cause) {
        throw new ContentError("unavailable", "the pin set could not be read", { cid, cause });
      }
    },

    async close(): Promise<void> {
      closed = true;
      await blockstore.close();
    },
  };
}

async function holdsIntact(file: string, cid: CID): Promise<boolean> {
  try {
    verifyBlock(cid, await readFile(file));
    return true;
  } catch (error) {
    if (isContentError(error, "corrupt") || errnoOf(error) === "ENOENT") return false;
    throw error;
  }
}

async function sizeOrNull(file: string): Promise<number | null> {
  try {
    return (await stat(file)).size;
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return null;
    throw error;
  }
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === "AbortError";
}
