/**
 * The UnixFS import and read path, engine-free (blocks in memory).
 *
 * Expected CIDs come from Kubo, not from our code:
 * - Kubo test/cli/add_test.go (TestAdd) and cid_profiles_test.go publish the CIDs `ipfs add`
 *   gives "hello world" and its deterministic ChaCha20 test data at the DAG-width limits
 *   (see test/support/kubo-reference.ts for the generator);
 * - boxo's gateway example (examples/gateway/car/main_test.go) serves "hello world\n" at
 *   bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4.
 * Where no published vector has exactly our parameters, an independent rebuild of Kubo's
 * layout algorithm (checked against the published vectors first) gives the expected CID.
 */
import assert from "node:assert/strict";
import { createCipheriv, createHash } from "node:crypto";
import { describe, it } from "node:test";

import * as dagPb from "@ipld/dag-pb";
import { UnixFS } from "ipfs-unixfs";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import * as Digest from "multiformats/hashes/digest";

import { ContentError, IMPORT_PARAMETERS, type ImportParameters } from "./content-store.ts";
import { kuboDeterministicBytes, referenceBalancedCid } from "../../../test/support/kubo-reference.ts";
import { assertComplete, importFile, openFile, verifyBlock, type BlockGetter } from "./unixfs-file.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

/** Kubo's `unixfs-v0-2015` / `legacy-cid-v0` profile: CIDv0, dag-pb leaves, 256 KiB, 174 links. */
const KUBO_V0_2015: ImportParameters = {
  cidVersion: 0,
  rawLeaves: false,
  chunkSizeBytes: 256 * KiB,
  maxLinksPerNode: 174,
};
/** Kubo's former `test-cid-v1` / `legacy-cid-v1` profile: CIDv1, raw leaves, 1 MiB, 174 links. */
const KUBO_LEGACY_V1: ImportParameters = { cidVersion: 1, rawLeaves: true, chunkSizeBytes: MiB, maxLinksPerNode: 174 };

/** Counts bytes written; keeps nothing (the big vectors need only their CIDs). */
function nullSink(): { put(cid: CID, bytes: Uint8Array): Promise<void>; blocks: number } {
  const sink = {
    blocks: 0,
    put: async () => {
      sink.blocks++;
      await Promise.resolve();
    },
  };
  return sink;
}

/** Blocks in memory, read back the way the embedded store does (hash-checked). */
function memoryBlocks(): {
  put: (cid: CID, bytes: Uint8Array) => Promise<void>;
  get: BlockGetter;
  has: (cid: CID) => Promise<boolean>;
  map: Map<string, Uint8Array>;
  reads: string[];
} {
  const map = new Map<string, Uint8Array>();
  const reads: string[] = [];
  return {
    map,
    reads,
    put: async (cid, bytes) => {
      map.set(cid.toV1().toString(), bytes);
      await Promise.resolve();
    },
    get: async (cid) => {
      await Promise.resolve();
      reads.push(cid.toV1().toString());
      const bytes = map.get(cid.toV1().toString());
      if (bytes === undefined) throw new ContentError("not_found", "missing", { cid });
      verifyBlock(cid, bytes);
      return bytes;
    },
    has: async (cid) => {
      await Promise.resolve();
      return map.has(cid.toV1().toString());
    },
  };
}

function text(value: string): Uint8Array[] {
  return [new TextEncoder().encode(value)];
}

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

async function readAll(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return concat(parts);
}

/** Deterministic, non-repeating bytes (so equal chunks cannot hide a layout error). */
function patternBytes(length: number, seed = 1): Uint8Array {
  const cipher = createCipheriv("chacha20", Buffer.alloc(32, seed), Buffer.alloc(16));
  return new Uint8Array(cipher.update(Buffer.alloc(length)));
}

function sha256Cid(code: number, bytes: Uint8Array): CID {
  return CID.createV1(code, Digest.create(0x12, new Uint8Array(createHash("sha256").update(bytes).digest())));
}

async function expectContentError(promise: Promise<unknown>, kind: ContentError["kind"]): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ContentError, `expected a ContentError, got ${String(error)}`);
    assert.equal(error.kind, kind);
    return true;
  });
}

void describe("Kubo's deterministic test data generator", () => {
  void it("is the RFC 8439 ChaCha20 key stream (A.1 test vector #1 under an all-zero key)", () => {
    // RFC 8439 appendix A.1, test vector #1: key 0, nonce 0, block counter 0.
    const expected = "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7";
    const cipher = createCipheriv("chacha20", Buffer.alloc(32), Buffer.alloc(16));
    assert.equal(cipher.update(Buffer.alloc(32)).toString("hex"), expected);
  });
});

void describe("importFile gives Kubo's CIDs", () => {
  void it("for small files with our parameters (CIDv1, raw leaves): one raw block", async () => {
    // Kubo add_test.go shortStringCidV1 (`ipfs add --cid-version=1` of "hello world").
    assert.equal(
      (await importFile(text("hello world"), nullSink())).toString(),
      "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",
    );
    // boxo examples/gateway: "hello world\n" as a raw-leaf CIDv1.
    assert.equal(
      (await importFile(text("hello world\n"), nullSink())).toString(),
      "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4",
    );
  });

  void it("for the empty file: the raw block of zero bytes", async () => {
    // The SHA-256 of the empty string (FIPS 180-4 examples), as a raw CIDv1.
    const digest = Buffer.from("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "hex");
    const expected = CID.createV1(raw.code, Digest.create(0x12, new Uint8Array(digest)));
    assert.equal(expected.toString(), "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
    assert.equal((await importFile([], nullSink())).toString(), expected.toString());
    assert.equal((await importFile([new Uint8Array(0)], nullSink())).toString(), expected.toString());
  });

  void it("for small files with Kubo's other leaf encodings", async () => {
    // add_test.go: shortStringCidV0 and shortStringCidV1NoRawLeaves.
    const v0 = await importFile(text("hello world"), nullSink(), KUBO_V0_2015);
    assert.equal(v0.toString(), "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD");
    const v1Wrapped = await importFile(text("hello world"), nullSink(), { ...IMPORT_PARAMETERS, rawLeaves: false });
    assert.equal(v1Wrapped.toString(), "bafybeihykld7uyxzogax6vgyvag42y7464eywpf55gxi5qpoisibh3c5wa");
  });

  void it("at 256 KiB × 174 links: exactly full (one level) and one chunk over (two levels)", async () => {
    // add_test.go / cid_profiles_test.go, profile legacy-cid-v0 = unixfs-v0-2015, seed "v0-seed".
    const atLimit = await importFile(kuboDeterministicBytes(44544 * KiB, "v0-seed"), nullSink(), KUBO_V0_2015);
    assert.equal(atLimit.toString(), "QmUbBALi174SnogsUzLpYbD4xPiBSFANF4iztWCsHbMKh2");
    const overLimit = await importFile(kuboDeterministicBytes(44800 * KiB, "v0-seed"), nullSink(), KUBO_V0_2015);
    assert.equal(overLimit.toString(), "QmepeWtdmS1hHXx1oZXsPUv6bMrfRRKfZcoPPU4eEfjnbf");
  });

  void it("with CIDv1 raw leaves × 174 links: exactly full and one chunk over (two levels)", async () => {
    // add_test.go, profile legacy-cid-v1 (1 MiB chunks, 174 links, raw leaves), seed "v1-seed".
    const atLimit = await importFile(kuboDeterministicBytes(174 * MiB, "v1-seed"), nullSink(), KUBO_LEGACY_V1);
    assert.equal(atLimit.toString(), "bafybeigwduxcf2aawppv3isnfeshnimkyplvw3hthxjhr2bdeje4tdaicu");
    const overLimit = await importFile(kuboDeterministicBytes(175 * MiB, "v1-seed"), nullSink(), KUBO_LEGACY_V1);
    assert.equal(overLimit.toString(), "bafybeidhd7lo2n2v7lta5yamob3xwhbxcczmmtmhquwhjesi35jntf7mpu");
  });
});

void describe("the independent rebuild of Kubo's balanced layout", () => {
  void it("reproduces Kubo's published CIDv1 raw-leaf vectors", () => {
    const atLimit = referenceBalancedCid(kuboDeterministicBytes(174 * MiB, "v1-seed"), MiB, 174);
    assert.equal(atLimit.toString(), "bafybeigwduxcf2aawppv3isnfeshnimkyplvw3hthxjhr2bdeje4tdaicu");
    const overLimit = referenceBalancedCid(kuboDeterministicBytes(175 * MiB, "v1-seed"), MiB, 174);
    assert.equal(overLimit.toString(), "bafybeidhd7lo2n2v7lta5yamob3xwhbxcczmmtmhquwhjesi35jntf7mpu");
  });

  void it("agrees with importFile for our exact parameters past one level (176 chunks, short last)", async () => {
    const size = 175 * 256 * KiB + 1000;
    const expected = referenceBalancedCid(kuboDeterministicBytes(size, "one-item-one-code"), 256 * KiB, 174);
    const actual = await importFile(kuboDeterministicBytes(size, "one-item-one-code"), nullSink());
    assert.equal(actual.toString(), expected.toString());
    assert.ok(actual.toString().startsWith("bafybei"));
  });

  void it("agrees with importFile on deep trees (tiny chunks, 3 links: up to 5 levels)", async () => {
    const params: ImportParameters = { cidVersion: 1, rawLeaves: true, chunkSizeBytes: 16, maxLinksPerNode: 3 };
    for (let chunks = 1; chunks <= 90; chunks++) {
      for (const extra of [0, 7]) {
        const bytes = patternBytes(chunks * 16 + extra, chunks);
        const expected = referenceBalancedCid([bytes], 16, 3);
        const actual = await importFile([bytes.subarray(0, 5), bytes.subarray(5)], nullSink(), params);
        assert.equal(actual.toString(), expected.toString(), `${chunks} chunks + ${extra} bytes`);
      }
    }
  });
});

void describe("openFile / read", () => {
  const deep: ImportParameters = { cidVersion: 1, rawLeaves: true, chunkSizeBytes: 16, maxLinksPerNode: 3 };

  void it("returns every byte range exactly, across leaf and subtree boundaries", async () => {
    const blocks = memoryBlocks();
    const bytes = patternBytes(16 * 30 + 5);
    const cid = await importFile([bytes], blocks, deep);
    const file = await openFile(blocks.get, cid);
    assert.equal(file.sizeBytes, bytes.length);
    // Every start, with ends on both sides of the next leaf and subtree boundaries.
    for (let start = 0; start <= bytes.length; start++) {
      const ends = [0, 1, 15, 16, 17, 47, 48, 49, 145, bytes.length].map((delta) =>
        Math.min(bytes.length, start + delta),
      );
      for (const end of ends) {
        const got = await readAll(file.read(start, end));
        assert.deepEqual(got, bytes.subarray(start, end), `range ${start}-${end}`);
      }
    }
  });

  void it("reads CIDv0 files with dag-pb leaves as Kubo writes them", async () => {
    const blocks = memoryBlocks();
    const bytes = patternBytes(200);
    const cid = await importFile([bytes], blocks, { ...deep, cidVersion: 0, rawLeaves: false });
    assert.equal(cid.version, 0);
    const file = await openFile(blocks.get, cid);
    assert.deepEqual(await readAll(file.read(0, 200)), bytes);
    assert.deepEqual(await readAll(file.read(15, 33)), bytes.subarray(15, 33));
  });

  void it("reads only the blocks that hold the range", async () => {
    const blocks = memoryBlocks();
    const bytes = patternBytes(16 * 27); // 27 leaves under 3 links: root, 3 + 9 inner nodes
    const cid = await importFile([bytes], blocks, deep);
    const file = await openFile(blocks.get, cid);
    blocks.reads.length = 0;
    assert.deepEqual(await readAll(file.read(200, 201)), bytes.subarray(200, 201));
    // Two inner nodes and one leaf below the root, which openFile already read.
    assert.equal(blocks.reads.length, 3);
  });

  void it("keeps only a few blocks ahead of a consumer that stops pulling", async () => {
    const blocks = memoryBlocks();
    const cid = await importFile([patternBytes(16 * 200)], blocks, { ...deep, maxLinksPerNode: 200 });
    const file = await openFile(blocks.get, cid);
    blocks.reads.length = 0;
    const reader = file.read(0, 16 * 200);
    await reader.next();
    // Give any unbounded read-ahead time to run away.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(blocks.reads.length <= 4, `read ${blocks.reads.length} of 200 leaves ahead of the consumer`);
    await reader.return();
  });

  void it("says corrupt when a stored block does not match its CID", async () => {
    const blocks = memoryBlocks();
    const bytes = patternBytes(100);
    const cid = await importFile([bytes], blocks, deep);
    const [leafKey, leaf] = [...blocks.map.entries()].find(([key]) => key.startsWith("bafk")) ?? [];
    assert.ok(leafKey !== undefined && leaf !== undefined);
    blocks.map.set(
      leafKey,
      Uint8Array.from(leaf, (byte, index) => (index === 0 ? byte ^ 1 : byte)),
    );
    const file = await openFile(blocks.get, cid);
    await expectContentError(readAll(file.read(0, 100)), "corrupt");
  });

  void it("says not_found when a block of the file is missing", async () => {
    const blocks = memoryBlocks();
    const cid = await importFile([patternBytes(100)], blocks, deep);
    const leafKey = [...blocks.map.keys()].find((key) => key.startsWith("bafk"));
    assert.ok(leafKey !== undefined);
    blocks.map.delete(leafKey);
    const file = await openFile(blocks.get, cid);
    await expectContentError(readAll(file.read(0, 100)), "not_found");
    await expectContentError(assertComplete(blocks.get, blocks.has, cid), "not_found");
  });

  void it("says not_a_file for a directory, another codec, or sizes that do not add up", async () => {
    const blocks = memoryBlocks();
    const directory = dagPb.encode({ Data: new UnixFS({ type: "directory" }).marshal(), Links: [] });
    const directoryCid = sha256Cid(dagPb.code, directory);
    // The UnixFS spec's empty directory (appendix: test vectors).
    assert.equal(directoryCid.toString(), "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354");
    await blocks.put(directoryCid, directory);
    await expectContentError(openFile(blocks.get, directoryCid), "not_a_file");

    const cbor = new Uint8Array([0xa0]);
    const cborCid = sha256Cid(0x71, cbor);
    await blocks.put(cborCid, cbor);
    await expectContentError(openFile(blocks.get, cborCid), "not_a_file");

    const leaf = patternBytes(10);
    const leafCid = sha256Cid(raw.code, leaf);
    await blocks.put(leafCid, leaf);
    const lying = dagPb.encode({
      Data: new UnixFS({ type: "file", blockSizes: [20n] }).marshal(),
      Links: [{ Hash: leafCid, Name: "", Tsize: 10 }],
    });
    const lyingCid = sha256Cid(dagPb.code, lying);
    await blocks.put(lyingCid, lying);
    const file = await openFile(blocks.get, lyingCid);
    assert.equal(file.sizeBytes, 20);
    await expectContentError(readAll(file.read(0, 20)), "not_a_file");
  });

  void it("says not_found for content hashed with anything but sha2-256", () => {
    const cid = CID.createV1(raw.code, Digest.create(0x13, new Uint8Array(64)));
    assert.throws(
      () => {
        verifyBlock(cid, new Uint8Array(0));
      },
      (error: unknown) => error instanceof ContentError && error.kind === "not_found",
    );
  });
});
