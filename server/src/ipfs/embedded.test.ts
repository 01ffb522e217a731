/**
 * The embedded store on a real disk (a temporary directory). Expected CIDs: see
 * unixfs-file.test.ts for where each comes from.
 */
import assert from "node:assert/strict";
import { createCipheriv } from "node:crypto";
import { mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import * as dagPb from "@ipld/dag-pb";
import { base32upper } from "multiformats/bases/base32";
import type { CID } from "multiformats/cid";

import { ContentError, parseCid, type ContentStore } from "./content-store.ts";
import { openEmbeddedContentStore } from "./embedded.ts";
import { kuboDeterministicBytes, referenceBalancedCid } from "../../../test/support/kubo-reference.ts";

const CHUNK = 256 * 1024;
const HELLO_CID = "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4";
const EMPTY_CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";

async function readAll(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

function patternBytes(length: number, seed = 3): Buffer {
  return createCipheriv("chacha20", Buffer.alloc(32, seed), Buffer.alloc(16)).update(Buffer.alloc(length));
}

function blockFile(dataDir: string, cid: CID): string {
  // blockstore-fs's NextToLast layout: base32upper multihash, sharded by its last 2 chars.
  const name = base32upper.encode(cid.multihash.bytes);
  return path.join(dataDir, "blocks", name.slice(-2), `${name}.data`);
}

async function kindOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "no error";
  } catch (error) {
    return error instanceof ContentError ? error.kind : `not a ContentError: ${String(error)}`;
  }
}

void describe("embedded content store", () => {
  let dataDir: string;
  let store: ContentStore;

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "ipfs-embedded-"));
    store = await openEmbeddedContentStore({ dataDir });
  });

  after(async () => {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  void it("adds small files under Kubo's CIDs and reads them back", async () => {
    const hello = await store.add([Buffer.from("hello "), Buffer.from("world\n")]);
    assert.equal(hello.cid.toString(), HELLO_CID);
    assert.equal(hello.sizeBytes, 12);
    assert.equal((await readAll(store.cat(hello.cid))).toString(), "hello world\n");
    assert.deepEqual(await store.stat(hello.cid), { sizeBytes: 12 });

    const empty = await store.add([]);
    assert.equal(empty.cid.toString(), EMPTY_CID);
    assert.equal(empty.sizeBytes, 0);
    assert.equal((await readAll(store.cat(empty.cid))).length, 0);
    assert.deepEqual(await store.stat(empty.cid), { sizeBytes: 0 });
  });

  void it("stores a two-level file (176 chunks) under the CID Kubo's layout gives it", async () => {
    const size = 175 * CHUNK + 1000;
    const expected = referenceBalancedCid(kuboDeterministicBytes(size, "embedded"), CHUNK, 174);
    const added = await store.add(kuboDeterministicBytes(size, "embedded", 65536));
    assert.equal(added.cid.toString(), expected.toString());
    assert.equal(added.sizeBytes, size);
    assert.deepEqual(await store.stat(added.cid), { sizeBytes: size });

    const whole = Buffer.concat([...kuboDeterministicBytes(size, "embedded")]);
    assert.ok((await readAll(store.cat(added.cid))).equals(whole));
    // The seam between the first full subtree (174 leaves) and the second, and the tail.
    const seam = 174 * CHUNK;
    for (const [offset, length] of [
      [seam - 5, 10],
      [CHUNK - 1, 2],
      [0, 1],
      [size - 1, 1],
      [size - 1000, 5000],
      [seam, 0],
    ] as const) {
      const got = await readAll(store.cat(added.cid, { offset, length }));
      assert.ok(got.equals(whole.subarray(offset, offset + length)), `offset ${offset} length ${length}`);
    }
    // The CIDv0 of a dag-pb root names the same block.
    assert.deepEqual(await store.stat(added.cid.toV0()), { sizeBytes: size });
  });

  void it("answers null / false / not_found for content it does not hold", async () => {
    const absent = parseCid("bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy");
    assert.equal(await store.stat(absent), null);
    assert.equal(await store.has(absent), false);
    assert.equal(await store.isPinned(absent), false);
    assert.equal(await kindOf(readAll(store.cat(absent))), "not_found");
    assert.equal(await kindOf(store.pin(absent)), "not_found");
  });

  void it("refuses ranges outside the file", async () => {
    const { cid } = await store.add([Buffer.from("0123456789")]);
    assert.equal(await kindOf(readAll(store.cat(cid, { offset: 11 }))), "invalid_argument");
    assert.equal((await readAll(store.cat(cid, { offset: 10 }))).length, 0);
    assert.equal((await readAll(store.cat(cid, { offset: 8, length: 100 }))).toString(), "89");
  });

  void it("pins on add, records explicit pins, and refuses to pin an incomplete DAG", async () => {
    const pinned = await store.add([patternBytes(3 * CHUNK, 4)]);
    assert.equal(await store.isPinned(pinned.cid), true);
    assert.equal(await store.isPinned(pinned.cid.toV0()), true);

    const unpinned = await store.add([patternBytes(3 * CHUNK, 5)], { pin: false });
    assert.equal(await store.has(unpinned.cid), true);
    assert.equal(await store.isPinned(unpinned.cid), false);
    await store.pin(unpinned.cid);
    assert.equal(await store.isPinned(unpinned.cid), true);

    const partial = await store.add([patternBytes(3 * CHUNK, 6)], { pin: false });
    // Remove the last leaf block: the root is there, the file is not whole.
    const leafCid = (await leavesOf(partial.cid)).at(-1);
    assert.ok(leafCid !== undefined);
    await rm(blockFile(dataDir, leafCid));
    assert.equal(await store.has(partial.cid), true);
    assert.equal(await kindOf(store.pin(partial.cid)), "not_found");
    assert.equal(await store.isPinned(partial.cid), false);
    assert.equal(await kindOf(readAll(store.cat(partial.cid, { offset: 2 * CHUNK }))), "not_found");
    // Blocks before the missing one are still served.
    assert.equal((await readAll(store.cat(partial.cid, { offset: 0, length: 10 }))).length, 10);
  });

  void it("says corrupt when a block on disk no longer matches its CID", async () => {
    const bytes = patternBytes(2 * CHUNK, 7);
    const { cid } = await store.add([bytes]);
    const firstLeaf = (await leavesOf(cid))[0];
    assert.ok(firstLeaf !== undefined);
    const damaged = Buffer.from(bytes.subarray(0, CHUNK));
    damaged[100] = (damaged[100] ?? 0) ^ 0xff;
    await writeFile(blockFile(dataDir, firstLeaf), damaged);
    assert.equal(await kindOf(readAll(store.cat(cid, { offset: 0, length: 1 }))), "corrupt");
    // The second leaf is intact and still served.
    assert.ok((await readAll(store.cat(cid, { offset: CHUNK }))).equals(bytes.subarray(CHUNK)));
    // Uploading the same bytes again (a retry) repairs the damaged block.
    await store.add([bytes]);
    assert.ok((await readAll(store.cat(cid))).equals(bytes));
  });

  void it("does not rewrite blocks it already holds whole (idempotent re-adds), but marks them in use", async () => {
    const bytes = patternBytes(2 * CHUNK + 10, 8);
    const first = await store.add([bytes]);
    const leaf = (await leavesOf(first.cid))[0];
    assert.ok(leaf !== undefined);
    const before = await stat(blockFile(dataDir, leaf));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = await store.add([bytes]);
    assert.equal(second.cid.toString(), first.cid.toString());
    const after = await stat(blockFile(dataDir, leaf));
    // A rewrite goes through a temporary file and a rename, which gives a new inode.
    assert.equal(after.ino, before.ino, "the block was not written again");
    // Its modification time is now, so a garbage collection sharing the directory keeps it.
    assert.ok(after.mtimeMs > before.mtimeMs, "the reused block was claimed");
  });

  void it("stops an add at maxBytes, on abort, and on chunks that are not bytes", async () => {
    assert.equal(await kindOf(store.add([patternBytes(1000)], { maxBytes: 999 })), "too_large");
    const controller = new AbortController();
    const slow = (function* () {
      yield patternBytes(10);
      controller.abort();
      yield patternBytes(10);
    })();
    await assert.rejects(store.add(slow, { signal: controller.signal }), { name: "AbortError" });
    await assert.rejects(store.add(["text" as unknown as Uint8Array]), TypeError);
  });

  void it("writes nothing but blocks and pins into the data directory", async () => {
    assert.deepEqual((await readdir(dataDir)).sort(), ["blocks", "pins"]);
    const leftovers = (await readdir(path.join(dataDir, "pins"))).filter((name) => name.endsWith(".tmp"));
    assert.deepEqual(leftovers, []);
  });

  /** The raw leaves below a dag-pb root, in file order (one level is enough here). */
  async function leavesOf(root: CID): Promise<CID[]> {
    const node = dagPb.decode(await readFile(blockFile(dataDir, root)));
    return node.Links.map((link) => link.Hash);
  }
});

void describe("embedded content store when the disk fails", () => {
  void it("says unavailable (not not_found) when the block directory is gone or unreadable", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "ipfs-embedded-"));
    const store = await openEmbeddedContentStore({ dataDir, durable: false });
    try {
      const { cid } = await store.add([Buffer.from("hello world\n")]);
      const blocks = path.join(dataDir, "blocks");
      await rename(blocks, `${blocks}.away`);
      assert.equal(await kindOf(store.stat(cid)), "unavailable");
      assert.equal(await kindOf(store.has(cid)), "unavailable");
      assert.equal(await kindOf(readAll(store.cat(cid))), "unavailable");

      // A file where the directory should be: ENOTDIR, which even root cannot read past.
      await writeFile(blocks, "not a directory");
      assert.equal(await kindOf(store.stat(cid)), "unavailable");
      assert.equal(await kindOf(store.add([Buffer.from("more")])), "unavailable");
      await rm(blocks);
      await rename(`${blocks}.away`, blocks);
      assert.deepEqual(await store.stat(cid), { sizeBytes: 12 });
    } finally {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  void it("says unavailable once closed", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "ipfs-embedded-"));
    const store = await openEmbeddedContentStore({ dataDir, durable: false });
    const { cid } = await store.add([Buffer.from("x")]);
    await store.close();
    try {
      for (const operation of [store.stat(cid), store.has(cid), store.pin(cid), store.isPinned(cid), store.add([])]) {
        assert.equal(await kindOf(operation), "unavailable");
      }
      assert.equal(await kindOf(readAll(store.cat(cid))), "unavailable");
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  void it("says unavailable when the data directory cannot be created", async () => {
    const parent = await mkdtemp(path.join(tmpdir(), "ipfs-embedded-"));
    try {
      await writeFile(path.join(parent, "file"), "x");
      assert.equal(
        await kindOf(openEmbeddedContentStore({ dataDir: path.join(parent, "file", "data") })),
        "unavailable",
      );
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });
});
