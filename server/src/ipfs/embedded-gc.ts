/**
 * Garbage collection of the embedded store, run once when a store opens (before the server
 * takes requests): what an upload that failed or was cut off left behind.
 *
 * - Temporary files of interrupted writes: blockstore-fs's `.<block>.data.tmp` and our
 *   `<pin>.<pid>.<ms>.tmp`. A failed write removes its own at once (embedded.ts); these are
 *   what a crash left.
 * - Blocks no pin reaches: the leaves and nodes of a file whose import failed (a full disk,
 *   a dropped connection, `too_large`). An import pins only at its end, so until then its
 *   blocks are unpinned; the age rule below keeps them.
 *
 * Replicas may share the data directory (README: "replicas may share the directory"), so a
 * collection can run while another process imports. Three rules make that safe:
 *
 * 1. Only what is older than `graceMs` (default a day) is removed, by modification time. An
 *    import writes its blocks as it goes and cannot last that long (the server ends a request
 *    after `REQUEST_TIMEOUT_SECONDS`, at most 12 hours), and no write keeps a temporary
 *    file for more than one write call.
 * 2. An import that reuses a block already on disk (a retried upload) first sets the
 *    block's modification time to now (`claim` in embedded.ts), and so does `pin` for
 *    every block it checks. A claimed block is young again.
 * 3. A block is removed by renaming it aside, then reading the modification time of what
 *    was renamed, and deleting it only if it is still old; otherwise it is linked back.
 *    A claim either happened before the rename (the renamed block is young: it goes back)
 *    or after it (the claim finds no file, and the import writes the block anew). Either way
 *    the importer never relies on a block that is then deleted.
 *
 * Nothing reachable from a pin is removed whatever its age, and when any pinned DAG cannot
 * be walked (a missing or damaged inner node) no block is removed at all. Every step
 * errs towards keeping data: an interrupted collection leaves only renamed blocks, which
 * the next collection puts back before it starts.
 */
import { randomUUID } from "node:crypto";
import type { Stats } from "node:fs";
import { link, lstat, open, readdir, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";

import * as dagPb from "@ipld/dag-pb";
import type { NextToLast } from "blockstore-fs/sharding";
import type { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";

import { parseCid } from "./content-store.ts";
import { MAX_BLOCK_BYTES, verifyBlock } from "./unixfs-file.ts";

export const DEFAULT_GARBAGE_GRACE_MS = 24 * 60 * 60 * 1000;

/** What one collection did. */
export interface GarbageCollection {
  /** Unpinned blocks removed, and the bytes they held. */
  blocksRemoved: number;
  bytesFreed: number;
  /** Unpinned blocks kept because they are younger than the grace period. */
  youngBlocksKept: number;
  /** Temporary files of interrupted writes removed. */
  temporaryFilesRemoved: number;
  /** Why the collection stopped before removing unpinned blocks, or null when it did not. */
  skipped: string | null;
}

export interface CollectionTarget {
  blocksDir: string;
  pinsDir: string;
  layout: NextToLast;
  /** fsync a directory after putting a block back into it. */
  durable: boolean;
}

const BLOCK_EXTENSION = ".data";
const TEMPORARY_EXTENSION = ".tmp";
/** A block renamed aside while a collection judges it: `<block>.data.<pid>.<uuid>.gc`. */
const ASIDE_EXTENSION = ".gc";

export async function collectGarbage(
  target: CollectionTarget,
  options: { graceMs: number; nowMs: number },
): Promise<GarbageCollection> {
  const cutoffMs = options.nowMs - options.graceMs;
  const report: GarbageCollection = {
    blocksRemoved: 0,
    bytesFreed: 0,
    youngBlocksKept: 0,
    temporaryFilesRemoved: 0,
    skipped: null,
  };
  try {
    const shards = await shardDirectories(target.blocksDir);
    for (const dir of [target.pinsDir, ...shards]) {
      for (const name of await namesIn(dir)) {
        const file = path.join(dir, name);
        const blockName = name.indexOf(BLOCK_EXTENSION);
        if (name.endsWith(ASIDE_EXTENSION) && blockName > 0) {
          // A collection stopped mid-judgement (or one running now elsewhere): keep the block.
          await putBack(file, path.join(dir, name.slice(0, blockName + BLOCK_EXTENSION.length)));
          if (target.durable) await fsyncPath(dir);
        } else if (name.endsWith(TEMPORARY_EXTENSION)) {
          const stats = await lstatOrNull(file);
          if (stats?.isFile() === true && stats.mtimeMs < cutoffMs) {
            await rm(file, { force: true });
            report.temporaryFilesRemoved += 1;
          }
        }
      }
    }

    let reachable: Set<string>;
    try {
      reachable = await markPinned(target);
    } catch (error) {
      report.skipped = `a pinned DAG could not be walked, so no block is removed: ${messageOf(error)}`;
      return report;
    }

    for (const dir of shards) {
      const shard = path.basename(dir);
      for (const name of await namesIn(dir)) {
        if (!name.endsWith(BLOCK_EXTENSION) || reachable.has(`${shard}/${name}`)) continue;
        const file = path.join(dir, name);
        const stats = await lstatOrNull(file);
        if (stats?.isFile() !== true) continue;
        const freed = stats.mtimeMs < cutoffMs ? await removeIfOld(file, cutoffMs, target.durable) : null;
        if (freed === null) {
          report.youngBlocksKept += 1;
        } else {
          report.blocksRemoved += 1;
          report.bytesFreed += freed;
        }
      }
    }
  } catch (error) {
    report.skipped = `the collection stopped: ${messageOf(error)}`;
  }
  return report;
}

/**
 * Every block file (`<shard>/<name>.data`) reachable from a pin. Raw leaves are named by
 * their parent's links and never read; inner nodes are read and checked against their CID.
 * Throws when any pinned DAG cannot be walked whole.
 */
async function markPinned(target: CollectionTarget): Promise<Set<string>> {
  const reachable = new Set<string>();
  const pending: CID[] = [];
  for (const name of await namesIn(target.pinsDir)) {
    if (name.endsWith(TEMPORARY_EXTENSION)) continue;
    pending.push(parseCid((await readFile(path.join(target.pinsDir, name), "utf8")).trim()));
  }
  for (let cid = pending.pop(); cid !== undefined; cid = pending.pop()) {
    const { dir, file } = target.layout.encode(cid);
    const key = `${dir}/${file}`;
    if (reachable.has(key)) continue;
    reachable.add(key);
    if (cid.code === raw.code) continue;
    if (cid.code !== dagPb.code) throw new Error(`a pinned DAG holds a block of codec 0x${cid.code.toString(16)}`);
    const bytes = await readBlock(path.join(target.blocksDir, dir, file));
    verifyBlock(cid, bytes);
    for (const child of dagPb.decode(bytes).Links) pending.push(child.Hash);
  }
  return reachable;
}

/**
 * Removes `file` unless it was claimed (made young) meanwhile; returns the bytes freed, or
 * null when the block stays (claimed, or already gone). See rule 3 above.
 */
export async function removeIfOld(file: string, cutoffMs: number, durable: boolean): Promise<number | null> {
  const aside = `${file}.${process.pid}.${randomUUID()}${ASIDE_EXTENSION}`;
  try {
    await rename(file, aside);
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return null;
    throw error;
  }
  const stats = await lstatOrNull(aside);
  if (stats === null) return null;
  if (stats.mtimeMs < cutoffMs) {
    await rm(aside, { force: true });
    return stats.size;
  }
  await putBack(aside, file);
  if (durable) await fsyncPath(path.dirname(file));
  return null;
}

/**
 * Puts a block renamed aside back under its name. A link never replaces a block written
 * there meanwhile (same CID, so the same bytes, and freshly checked); where the file system
 * has no hard links, a rename does.
 */
async function putBack(aside: string, file: string): Promise<void> {
  try {
    await link(aside, file);
  } catch (error) {
    const code = errnoOf(error);
    if (code === "ENOENT") return;
    if (code !== "EEXIST") {
      await rename(aside, file);
      return;
    }
  }
  await rm(aside, { force: true });
}

async function readBlock(file: string): Promise<Uint8Array> {
  const handle = await open(file, "r");
  try {
    const { size } = await handle.stat();
    if (size > MAX_BLOCK_BYTES) throw new Error(`${file} is ${size} bytes`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

async function shardDirectories(blocksDir: string): Promise<string[]> {
  const entries = await readdir(blocksDir, { withFileTypes: true });
  return entries.filter((entry) => entry.isDirectory()).map((entry) => path.join(blocksDir, entry.name));
}

async function namesIn(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return [];
    throw error;
  }
}

async function lstatOrNull(file: string): Promise<Stats | null> {
  try {
    return await lstat(file);
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return null;
    throw error;
  }
}

export async function fsyncPath(file: string): Promise<void> {
  const handle = await open(file, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function errnoOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null || !("code" in error)) return undefined;
  return typeof error.code === "string" ? error.code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
