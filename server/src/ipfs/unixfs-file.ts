/**
 * UnixFS files over any block source: import (with the Kubo-equal parameters) and a
 * streaming, range-capable reader. Engine-agnostic: the embedded store passes its disk
 * blocks in; tests pass blocks in memory.
 *
 * Why our own reader rather than ipfs-unixfs-exporter: the exporter walks the DAG into an
 * unbounded queue ahead of the consumer, so serving a 300 MiB video to a slow phone held
 * the whole file in memory (measured: +381 MB RSS). This reader pulls a block only when the
 * consumer wants the bytes, with a small fixed read-ahead, and checks every size on the way.
 */
import { createHash } from "node:crypto";

import * as dagPb from "@ipld/dag-pb";
import { UnixFS } from "ipfs-unixfs";
import { importByteStream, type ImporterOptions } from "ipfs-unixfs-importer";
import { fixedSize } from "ipfs-unixfs-importer/chunker";
import { balanced } from "ipfs-unixfs-importer/layout";
import type { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";

import { ContentError, IMPORT_PARAMETERS, type ImportParameters } from "./content-store.ts";

/** Where imported blocks go. The importer calls `put` for every block, leaves first. */
export interface BlockSink {
  put(cid: CID, bytes: Uint8Array): Promise<void>;
}

/** Reads one block; throws `ContentError` (`not_found`, `unavailable`, `corrupt`) otherwise. */
export type BlockGetter = (cid: CID, signal?: AbortSignal) => Promise<Uint8Array>;

const SHA2_256 = 0x12;

/** Kubo refuses blocks over 2 MiB on the network, and we never write one over ~256 KiB. */
export const MAX_BLOCK_BYTES = 2 * 1024 * 1024;

/**
 * Blocks fetched ahead of the consumer per DAG level. 4 leaves of 256 KiB keep the disk
 * busy while the network drains, and bound what a slow reader pins in memory to ~1 MiB.
 */
const READ_AHEAD_BLOCKS = 4;

/** 174-wide trees this deep address 256 KiB × 174^8 bytes; anything deeper is hostile. */
const MAX_DAG_DEPTH = 8;

/**
 * Imports one file. `source` is consumed lazily: the importer holds a few chunks at a time.
 * `params` exists so tests can reproduce Kubo's published vectors for other profiles;
 * production always uses `IMPORT_PARAMETERS`.
 */
export async function importFile(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  sink: BlockSink,
  params: ImportParameters = IMPORT_PARAMETERS,
): Promise<CID> {
  const options: ImporterOptions = {
    cidVersion: params.cidVersion,
    rawLeaves: params.rawLeaves,
    // Kubo without raw leaves wraps each chunk in a UnixFS `file` node (not `raw`).
    leafType: "file",
    reduceSingleLeafToSelf: true,
    chunker: fixedSize({ chunkSize: params.chunkSizeBytes }),
    layout: balanced({ maxChildrenPerNode: params.maxLinksPerNode }),
  };
  const blockstore = {
    put: async (cid: CID, bytes: unknown) => {
      await sink.put(cid, toBytes(bytes));
      return cid;
    },
  };
  const result = await importByteStream(source, blockstore, options);
  return result.cid;
}

/** The importer types `put`'s value as bytes or byte streams; for UnixFS it is always bytes. */
function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw new TypeError("the importer passed a block that is not a Uint8Array");
}

/** Throws `corrupt` unless `bytes` hash to `cid`'s multihash. */
export function verifyBlock(cid: CID, bytes: Uint8Array): void {
  if (cid.multihash.code !== SHA2_256) {
    // We only ever write sha2-256 blocks, so a store cannot hold any other kind.
    throw new ContentError("not_found", "only sha2-256 content is stored here", { cid });
  }
  const digest = createHash("sha256").update(bytes).digest();
  if (!equalBytes(digest, cid.multihash.digest)) {
    throw new ContentError("corrupt", "a stored block does not match its hash", { cid });
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}

/** One decoded node of a UnixFS file DAG. */
type FileNode =
  | { kind: "raw"; sizeBytes: number; bytes: Uint8Array }
  | { kind: "dag-pb"; sizeBytes: number; data: Uint8Array | undefined; children: ChildLink[] };

interface ChildLink {
  cid: CID;
  sizeBytes: number;
}

/**
 * Decodes a block as a UnixFS file node. Anything else (a directory, another codec, a node
 * whose sizes do not add up) is `not_a_file`: the hash already matched, so these are the
 * bytes the CID names, and they are not a file we can serve.
 */
function decodeFileNode(cid: CID, block: Uint8Array): FileNode {
  if (cid.code === raw.code) return { kind: "raw", sizeBytes: block.length, bytes: block };
  if (cid.code !== dagPb.code) throw new ContentError("not_a_file", "this CID's codec is not raw or dag-pb", { cid });
  let node: dagPb.PBNode;
  let unixfs: UnixFS;
  try {
    node = dagPb.decode(block);
    if (node.Data === undefined) throw new Error("dag-pb node without UnixFS data");
    unixfs = UnixFS.unmarshal(node.Data);
  } catch (cause) {
    throw new ContentError("not_a_file", "this CID does not name a UnixFS node", { cid, cause });
  }
  if (unixfs.type !== "file" && unixfs.type !== "raw") {
    throw new ContentError("not_a_file", `this CID names a UnixFS ${unixfs.type}, not a file`, { cid });
  }
  if (node.Links.length !== unixfs.blockSizes.length) {
    throw new ContentError("not_a_file", "UnixFS block sizes do not match the node's links", { cid });
  }
  const children = node.Links.map((link, index) => ({
    cid: link.Hash,
    sizeBytes: toSafeSize(unixfs.blockSizes[index] ?? 0n, cid),
  }));
  const data = unixfs.data;
  const sizeBytes = children.reduce((sum, child) => sum + child.sizeBytes, data?.length ?? 0);
  if (!Number.isSafeInteger(sizeBytes)) throw new ContentError("not_a_file", "file size out of range", { cid });
  return { kind: "dag-pb", sizeBytes, data, children };
}

function toSafeSize(size: bigint, cid: CID): number {
  if (size < 0n || size > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ContentError("not_a_file", "a UnixFS block size is out of range", { cid });
  }
  return Number(size);
}

async function loadNode(getBlock: BlockGetter, cid: CID, signal: AbortSignal | undefined): Promise<FileNode> {
  return decodeFileNode(cid, await getBlock(cid, signal));
}

/** A file opened by its root block: the size is known, bytes are read on demand. */
export interface OpenedFile {
  sizeBytes: number;
  /** Yields bytes [start, end) of the file, reading only the blocks that hold them. */
  read(start: number, end: number, signal?: AbortSignal): AsyncGenerator<Uint8Array, void, undefined>;
}

/** Reads and decodes the root block; throws as `getBlock` does, or `not_a_file`. */
export async function openFile(getBlock: BlockGetter, cid: CID, signal?: AbortSignal): Promise<OpenedFile> {
  const root = await loadNode(getBlock, cid, signal);
  return {
    sizeBytes: root.sizeBytes,
    read: (start, end, readSignal) => readRange(getBlock, cid, root, start, end, readSignal),
  };
}

async function* readRange(
  getBlock: BlockGetter,
  rootCid: CID,
  root: FileNode,
  start: number,
  end: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<Uint8Array, void, undefined> {
  if (start >= end) return;
  let delivered = 0;
  for await (const bytes of readNode(getBlock, rootCid, root, 0, start, end, 0, signal)) {
    delivered += bytes.length;
    yield bytes;
  }
  // The sizes were checked node by node, so a shortfall means a bug here, not bad data.
  if (delivered !== end - start) {
    throw new ContentError("corrupt", `read ${delivered} bytes where ${end - start} were due`, { cid: rootCid });
  }
}

/**
 * Yields the part of [from, to) that lies in `node`, which starts at file offset
 * `nodeStart`. Children are fetched in order with a small read-ahead; children wholly
 * outside the range are never read.
 */
async function* readNode(
  getBlock: BlockGetter,
  cid: CID,
  node: FileNode,
  nodeStart: number,
  from: number,
  to: number,
  depth: number,
  signal: AbortSignal | undefined,
): AsyncGenerator<Uint8Array, void, undefined> {
  if (node.kind === "raw") {
    yield node.bytes.subarray(from - nodeStart, to - nodeStart);
    return;
  }
  let position = nodeStart;
  if (node.data !== undefined && node.data.length > 0) {
    const dataEnd = position + node.data.length;
    if (dataEnd > from && position < to) {
      yield node.data.subarray(Math.max(from, position) - position, Math.min(to, dataEnd) - position);
    }
    position = dataEnd;
  }
  if (depth >= MAX_DAG_DEPTH && node.children.length > 0) {
    throw new ContentError("not_a_file", "the file's DAG is deeper than any we would build", { cid });
  }
  const wanted: { link: ChildLink; start: number }[] = [];
  for (const link of node.children) {
    const childEnd = position + link.sizeBytes;
    if (childEnd > from && position < to) wanted.push({ link, start: position });
    position = childEnd;
    if (position >= to) break;
  }
  const pending: Promise<FileNode>[] = [];
  let nextToFetch = 0;
  for (const { link, start } of wanted) {
    while (pending.length < READ_AHEAD_BLOCKS && nextToFetch < wanted.length) {
      const ahead = wanted[nextToFetch++];
      if (ahead === undefined) break;
      const load = loadNode(getBlock, ahead.link.cid, signal);
      // If the consumer stops early, loads already started may fail unobserved.
      load.catch(() => undefined);
      pending.push(load);
    }
    const child = await pending.shift();
    if (child === undefined) throw new Error("read-ahead queue ran dry");
    if (child.sizeBytes !== link.sizeBytes) {
      throw new ContentError("not_a_file", "a child's size differs from what its parent records", { cid: link.cid });
    }
    yield* readNode(
      getBlock,
      link.cid,
      child,
      start,
      Math.max(from, start),
      Math.min(to, start + link.sizeBytes),
      depth + 1,
      signal,
    );
  }
}

/**
 * Checks that every block of the file is present, without reading leaf data: raw leaves
 * only need `hasBlock`, inner nodes are read to learn their children.
 */
export async function assertComplete(
  getBlock: BlockGetter,
  hasBlock: (cid: CID) => Promise<boolean>,
  cid: CID,
  signal?: AbortSignal,
  depth = 0,
): Promise<void> {
  signal?.throwIfAborted();
  if (cid.code === raw.code) {
    if (!(await hasBlock(cid))) throw new ContentError("not_found", "a block of this file is missing", { cid });
    return;
  }
  const node = await loadNode(getBlock, cid, signal);
  if (node.kind === "raw") return;
  if (depth >= MAX_DAG_DEPTH && node.children.length > 0) {
    throw new ContentError("not_a_file", "the file's DAG is deeper than any we would build", { cid });
  }
  for (const child of node.children) await assertComplete(getBlock, hasBlock, child.cid, signal, depth + 1);
}
