/**
 * Test support, never used by the server: Kubo's test-data generator and an independent
 * rebuild of Kubo's balanced DAG layout, to check our importer against.
 *
 * `kuboDeterministicBytes` reproduces Kubo's `DeterministicRandomReader`
 * (kubo test/cli/testutils/random_deterministic.go): the ChaCha20 key stream (RFC 8439,
 * zero nonce, counter 0) under the key sha256(seed). Kubo's test/cli/add_test.go and
 * cid_profiles_test.go publish the CIDs `ipfs add` gives such data; our tests use them.
 *
 * `referenceBalancedCid` follows the algorithm of Kubo's balanced builder
 * (boxo ipld/unixfs/importer/balanced/builder.go), which grows the tree from the top: the
 * first leaf is the root; while data remains, the root becomes the first child of a new
 * root one level deeper, which is filled depth-first with full subtrees. The importer we
 * ship (ipfs-unixfs-importer) instead packs leaves level by level, bottom up; the two agree
 * only if both are right, which is the point of building it again here.
 */
import { createCipheriv, createHash } from "node:crypto";

import * as dagPb from "@ipld/dag-pb";
import { UnixFS } from "ipfs-unixfs";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import * as Digest from "multiformats/hashes/digest";

const SHA2_256 = 0x12;

/** Kubo's deterministic test bytes: `sizeBytes` of ChaCha20 key stream under sha256(seed). */
export function* kuboDeterministicBytes(sizeBytes: number, seed: string, pieceBytes = 1 << 20): Generator<Uint8Array> {
  const key = createHash("sha256").update(seed).digest();
  // OpenSSL's chacha20 IV is the 32-bit block counter (little-endian) then the 96-bit nonce.
  const cipher = createCipheriv("chacha20", key, Buffer.alloc(16));
  const zeros = Buffer.alloc(pieceBytes);
  for (let left = sizeBytes; left > 0; left -= pieceBytes) {
    yield new Uint8Array(cipher.update(zeros.subarray(0, Math.min(left, pieceBytes))));
  }
}

interface DagEntry {
  cid: CID;
  fileBytes: number;
  /** Bytes of the whole sub-DAG (block plus descendants): a dag-pb link's Tsize. */
  dagBytes: number;
}

function sha256Cid(code: number, bytes: Uint8Array): CID {
  const digest = createHash("sha256").update(bytes).digest();
  return CID.createV1(code, Digest.create(SHA2_256, new Uint8Array(digest)));
}

/** Cuts `source` into `chunkBytes` pieces (the last may be short; an empty input gives one empty chunk). */
function* fixedChunks(source: Iterable<Uint8Array>, chunkBytes: number): Generator<Uint8Array> {
  let pending = new Uint8Array(chunkBytes);
  let filled = 0;
  let emitted = false;
  for (const piece of source) {
    let offset = 0;
    while (offset < piece.length) {
      const take = Math.min(chunkBytes - filled, piece.length - offset);
      pending.set(piece.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === chunkBytes) {
        yield pending;
        emitted = true;
        pending = new Uint8Array(chunkBytes);
        filled = 0;
      }
    }
  }
  if (filled > 0 || !emitted) yield pending.subarray(0, filled);
}

/**
 * The CID Kubo gives `source` with CIDv1, raw leaves, fixed-size chunks and the balanced
 * layout (`ipfs add --cid-version=1 --chunker=size-<chunkBytes> --max-file-links=<maxLinks>`).
 */
export function referenceBalancedCid(source: Iterable<Uint8Array>, chunkBytes: number, maxLinks: number): CID {
  const chunks = fixedChunks(source, chunkBytes);
  let lookahead = chunks.next();
  const nextLeaf = (): DagEntry | undefined => {
    if (lookahead.done === true) return undefined;
    const bytes = lookahead.value;
    lookahead = chunks.next();
    return { cid: sha256Cid(raw.code, bytes), fileBytes: bytes.length, dagBytes: bytes.length };
  };
  const moreLeaves = (): boolean => lookahead.done !== true;

  const fill = (children: DagEntry[], depth: number): DagEntry => {
    while (children.length < maxLinks && moreLeaves()) {
      const child = depth === 1 ? nextLeaf() : fill([], depth - 1);
      if (child !== undefined) children.push(child);
    }
    return fileNode(children);
  };

  let root = nextLeaf();
  if (root === undefined) throw new Error("the chunker yields at least one chunk");
  for (let depth = 1; moreLeaves(); depth++) root = fill([root], depth);
  return root.cid;
}

function fileNode(children: DagEntry[]): DagEntry {
  const unixfs = new UnixFS({ type: "file", blockSizes: children.map((child) => BigInt(child.fileBytes)) });
  const block = dagPb.encode({
    Data: unixfs.marshal(),
    Links: children.map((child) => ({ Hash: child.cid, Name: "", Tsize: child.dagBytes })),
  });
  return {
    cid: sha256Cid(dagPb.code, block),
    fileBytes: children.reduce((sum, child) => sum + child.fileBytes, 0),
    dagBytes: children.reduce((sum, child) => sum + child.dagBytes, block.length),
  };
}
