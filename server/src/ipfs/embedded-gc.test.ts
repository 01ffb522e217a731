/**
 * The embedded store's garbage collection at opening (embedded-gc.ts): what a failed upload
 * left goes once it is old, what any pin reaches stays whatever its age, and an add running
 * in another store on the same directory (a replica) never loses a block to it.
 */
import assert from "node:assert/strict";
import { createCipheriv } from "node:crypto";
import { mkdtemp, readdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";

import * as dagPb from "@ipld/dag-pb";
import { base32upper } from "multiformats/bases/base32";
import type { CID } from "multiformats/cid";

import type { ContentStore } from "./content-store.ts";
import { removeIfOld, type GarbageCollection } from "./embedded-gc.ts";
import { openEmbeddedContentStore, type EmbeddedStoreOptions } from "./embedded.ts";
import { importFile } from "./unixfs-file.ts";

const CHUNK = 256 * 1024;
const DAY_MS = 24 * 3600 * 1000;

function patternBytes(length: number, seed: number): Buffer {
  return createCipheriv("chacha20", Buffer.alloc(32, seed), Buffer.alloc(16)).update(Buffer.alloc(length));
}

async function readAll(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

function blockName(cid: CID): string {
  const name = base32upper.encode(cid.multihash.bytes);
  return `${name.slice(-2)}/${name}.data`;
}

/** Every block an import of `bytes` writes, as `<shard>/<name>.data`, computed without a store. */
async function blocksOf(bytes: Uint8Array): Promise<Set<string>> {
  const names = new Set<string>();
  await importFile([bytes], {
    put: (cid) => {
      names.add(blockName(cid));
      return Promise.resolve();
    },
  });
  return names;
}

/** Every file under `dir`, relative to it. */
async function filesIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

async function age(dir: string, files: Iterable<string>, ms: number): Promise<void> {
  const then = new Date(Date.now() - ms);
  for (const file of files) await utimes(path.join(dir, file), then, then);
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** An upload that breaks off: `bytes` arrive chunk by chunk, then the connection is lost. */
async function failedAdd(store: ContentStore, bytes: Uint8Array): Promise<void> {
  const source = (async function* () {
    for (let offset = 0; offset < bytes.length; offset += CHUNK) {
      yield bytes.subarray(offset, offset + CHUNK);
      await pause(5);
    }
    // Time for the importer to store the last whole chunk before the source fails.
    await pause(50);
    throw new Error("connection lost");
  })();
  await assert.rejects(store.add(source), /connection lost/);
}

async function reopen(
  dataDir: string,
  options: Partial<EmbeddedStoreOptions> = {},
): Promise<{ store: ContentStore; report: GarbageCollection }> {
  let report: GarbageCollection | undefined;
  const store = await openEmbeddedContentStore({
    dataDir,
    durable: false,
    ...options,
    onGarbageCollected: (collected) => {
      report = collected;
    },
  });
  if (report === undefined) throw new Error("no collection report");
  return { store, report };
}

void describe("embedded store garbage collection", () => {
  let dataDir: string;
  let blocksDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "ipfs-gc-"));
    blocksDir = path.join(dataDir, "blocks");
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  void it("removes old blocks no pin reaches and keeps every pinned block whatever its age", async () => {
    // A file two levels deep (176 leaves under two inner nodes under the root), a one-block
    // file, and a failed upload that shares its first two chunks with the big file.
    const big = patternBytes(175 * CHUNK + 1000, 1);
    const small = Buffer.from("hello world\n");
    const failed = Buffer.concat([big.subarray(0, 2 * CHUNK), patternBytes(18 * CHUNK, 2)]);
    const writer = (await reopen(dataDir)).store;
    const bigCid = (await writer.add([big])).cid;
    const smallCid = (await writer.add([small])).cid;
    await failedAdd(writer, failed);
    await writer.close();

    const pinned = new Set([...(await blocksOf(big)), ...(await blocksOf(small))]);
    const stored = await filesIn(blocksDir);
    // The importer writes leaves in batches of ten: those of the first 20 chunks are on disk.
    const orphans = stored.filter((file) => !pinned.has(file));
    assert.equal(orphans.length, 18, "the failed upload's own leaves are on disk, unpinned");

    // Young: nothing is removed.
    const young = await reopen(dataDir);
    await young.store.close();
    assert.equal(young.report.skipped, null);
    assert.equal(young.report.blocksRemoved, 0);
    assert.equal(young.report.youngBlocksKept, 18);
    assert.deepEqual(await filesIn(blocksDir), stored);

    // Everything two days old, pinned or not: only reachability decides.
    await age(blocksDir, stored, 2 * DAY_MS);
    const { store, report } = await reopen(dataDir);
    assert.equal(report.skipped, null);
    assert.equal(report.blocksRemoved, 18);
    assert.equal(report.bytesFreed, 18 * CHUNK);
    assert.deepEqual(await filesIn(blocksDir), [...pinned].sort());
    assert.ok((await readAll(store.cat(bigCid))).equals(big));
    assert.ok((await readAll(store.cat(smallCid))).equals(small));
    // The same failed upload retried to the end writes its blocks again.
    const retried = await store.add([failed]);
    assert.ok((await readAll(store.cat(retried.cid))).equals(failed));
    await store.close();
  });

  void it("removes old temporary files, keeps young ones, and puts back blocks a stopped collection set aside", async () => {
    const writer = (await reopen(dataDir)).store;
    const kept = await writer.add([patternBytes(3 * CHUNK, 3)]);
    await writer.close();
    const root = blockName(kept.cid);
    const [shard = ""] = root.split("/");
    const oldTemporary = [`${shard}/.${path.basename(root, ".data")}X.data.tmp`, `../pins/PIN.1234.5678.tmp`];
    const youngTemporary = `${shard}/.${path.basename(root, ".data")}Y.data.tmp`;
    for (const file of [...oldTemporary, youngTemporary]) await writeFile(path.join(blocksDir, file), "partial");
    await age(blocksDir, oldTemporary, 2 * DAY_MS);
    // A collection stopped between setting the root aside and judging it.
    await rename(path.join(blocksDir, root), path.join(blocksDir, `${root}.4321.abcd.gc`));

    const { store, report } = await reopen(dataDir);
    assert.equal(report.temporaryFilesRemoved, 2);
    const files = await filesIn(dataDir);
    assert.deepEqual(
      files.filter((file) => file.endsWith(".tmp") || file.endsWith(".gc")),
      [`blocks/${youngTemporary}`],
    );
    assert.ok(files.includes(`blocks/${root}`), "the block set aside is back");
    assert.ok((await readAll(store.cat(kept.cid))).equals(patternBytes(3 * CHUNK, 3)));
    await store.close();
  });

  void it("removes no block when a pinned DAG cannot be walked", async () => {
    const writer = (await reopen(dataDir)).store;
    const big = patternBytes(175 * CHUNK + 1000, 4);
    const { cid } = await writer.add([big]);
    await failedAdd(writer, patternBytes(10 * CHUNK, 5));
    await writer.close();
    // One of the two inner nodes under the root is lost: its 174 leaves could be anyone's.
    const [inner] = dagPb.decode(await readFile(path.join(blocksDir, blockName(cid)))).Links;
    assert.ok(inner !== undefined);
    await rm(path.join(blocksDir, blockName(inner.Hash)));
    const stored = await filesIn(blocksDir);
    await age(blocksDir, stored, 2 * DAY_MS);

    const { store, report } = await reopen(dataDir);
    await store.close();
    assert.match(report.skipped ?? "", /pinned DAG could not be walked/);
    assert.equal(report.blocksRemoved, 0);
    assert.deepEqual(await filesIn(blocksDir), stored);
  });

  void it("puts a block back when it was claimed after it was judged old", async () => {
    const file = path.join(dataDir, "claimed.data");
    await writeFile(file, "block");
    const cutoffMs = Date.now() - DAY_MS;
    // Claimed: young by the time it is set aside.
    assert.equal(await removeIfOld(file, cutoffMs, true), null);
    assert.equal(await readFile(file, "utf8"), "block");
    assert.deepEqual(
      (await readdir(dataDir)).filter((name) => name.endsWith(".gc")),
      [],
    );
    // Not claimed: removed.
    await age(dataDir, ["claimed.data"], 2 * DAY_MS);
    assert.equal(await removeIfOld(file, cutoffMs, true), 5);
    await assert.rejects(stat(file), { code: "ENOENT" });
  });

  void it("pin claims every block it checks", async () => {
    const { store } = await reopen(dataDir);
    const bytes = patternBytes(4 * CHUNK, 6);
    const { cid } = await store.add([bytes], { pin: false });
    const files = [...(await blocksOf(bytes))];
    await age(blocksDir, files, 2 * DAY_MS);
    await store.pin(cid);
    const cutoffMs = Date.now() - DAY_MS;
    for (const file of files) assert.ok((await stat(path.join(blocksDir, file))).mtimeMs > cutoffMs, file);
    await store.close();
  });

  void it("never loses a block an add in another store on the same directory reuses meanwhile", async () => {
    // Replica A retries an upload whose blocks an earlier, failed attempt left (two days old,
    // unpinned); replica B starts, and collects, while A is halfway through.
    const { store: replicaA } = await reopen(dataDir);
    try {
      const bytes = patternBytes(40 * CHUNK, 7);
      await failedAdd(replicaA, bytes);
      const left = await blocksOf(bytes);
      await age(
        blocksDir,
        (await filesIn(blocksDir)).filter((file) => left.has(file)),
        2 * DAY_MS,
      );
      let collected: GarbageCollection | undefined;
      const source = (async function* () {
        yield bytes.subarray(0, 20 * CHUNK);
        // Let A's importer store (or reuse) the first half before B opens and collects.
        await pause(200);
        const { store: replicaB, report } = await reopen(dataDir);
        collected = report;
        await replicaB.close();
        yield bytes.subarray(20 * CHUNK);
      })();
      const { cid } = await replicaA.add(source);
      assert.equal(collected?.skipped, null);
      assert.ok((await readAll(replicaA.cat(cid))).equals(bytes), "every block of the file is there");
    } finally {
      await replicaA.close();
    }
  });
});
