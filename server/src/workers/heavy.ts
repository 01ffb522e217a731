/**
 * Per-item work of a whole batch, off the event loop: issuing serials with their
 * hidden-code HMACs, the item tree and the sealed archive at registration, and the tree
 * a scan or an audit needs. A million items take seconds of CPU; done here on one of a
 * small pool of worker threads, the loop only ever does slices of a few milliseconds
 * (decoding results, joining inputs), yielding between them.
 */
import { setImmediate as yieldToLoop } from "node:timers/promises";

import { AppError } from "../errors/app-error.ts";
import type { ErrorCode } from "../errors/registry.ts";
import { buildItemTree, itemTreeFromNodes, type ItemTree } from "../domain/merkle.ts";
import { SERIAL_LENGTH } from "../domain/serials.ts";
import { createWorkerPool, type WorkerPool } from "./pool.ts";
import type { ItemsArchive } from "./items-archive.ts";
import {
  HMAC_HEX_LENGTH,
  type IssueInput,
  type IssueOutput,
  type OpenArchiveInput,
  type OpenArchiveOutput,
  type TreeInput,
  type TreeOutput,
} from "./tasks.ts";

/** Items handled per slice of loop time between yields: a few milliseconds' worth. */
const SLICE_ITEMS = 10_000;

let pool: WorkerPool | undefined;

function workers(): WorkerPool {
  pool ??= createWorkerPool(new URL("./heavy-worker.ts", import.meta.url));
  return pool;
}

/** Stops the worker threads (they are unref'd when idle, so this is only for tidy shutdowns). */
export async function closeHeavyWorkers(): Promise<void> {
  const closing = pool;
  pool = undefined;
  await closing?.close();
}

async function run<T>(task: string, input: unknown): Promise<T> {
  try {
    return await workers().run<T>(task, input);
  } catch (error) {
    const fields = error as { kind?: unknown; code?: unknown; details?: unknown };
    if (fields.kind === "domain" && typeof fields.code === "string") {
      throw new AppError(fields.code as ErrorCode, (fields.details ?? {}) as Record<string, unknown>);
    }
    throw error;
  }
}

export interface IssuedItems {
  /** Serials in leaf order. */
  serials: string[];
  /** Each serial's hidden-code HMAC (hex), or null when the batch prints no hidden codes. */
  hiddenCodeHmacs: (string | null)[];
  /** The item tree's root, 0x-hex. */
  root: string;
  /** The sealed items archive (items-archive.ts). */
  archive: Uint8Array;
}

const ascii = new TextDecoder("latin1");

/** `count` new serials, their hidden-code HMACs, the tree root and the sealed archive, as registration needs them. */
export async function issueItems(input: IssueInput): Promise<IssuedItems> {
  const output = await run<IssueOutput>("issueItems", input);
  const serials: string[] = new Array<string>(input.count);
  const hiddenCodeHmacs: (string | null)[] = new Array<string | null>(input.count);
  for (let start = 0; start < input.count; start += SLICE_ITEMS) {
    const end = Math.min(input.count, start + SLICE_ITEMS);
    for (let i = start; i < end; i++) {
      serials[i] = ascii.decode(output.serials.subarray(i * SERIAL_LENGTH, (i + 1) * SERIAL_LENGTH));
      hiddenCodeHmacs[i] =
        output.hmacs === null
          ? null
          : ascii.decode(output.hmacs.subarray(i * HMAC_HEX_LENGTH, (i + 1) * HMAC_HEX_LENGTH));
    }
    if (end < input.count) await yieldToLoop();
  }
  return { serials, hiddenCodeHmacs, root: output.root, archive: output.archive };
}

/** The same tree as `buildItemTree(serials)`, hashed on a worker thread. Throws the same domain errors. */
export async function buildItemTreeOffLoop(serials: readonly string[]): Promise<ItemTree> {
  if (serials.length === 0) throw new AppError("merkle.empty", {});
  const parts: string[] = [];
  for (let start = 0; start < serials.length; start += SLICE_ITEMS) {
    const slice = serials.slice(start, start + SLICE_ITEMS);
    // Not a serial anyone issued (AI 21 has no control characters): hash it here rather than mis-split it.
    if (slice.some((serial) => serial.includes("\n"))) return buildItemTree(serials);
    parts.push(slice.join("\n"));
    if (start + SLICE_ITEMS < serials.length) await yieldToLoop();
  }
  const input: TreeInput = { serials: parts.join("\n") };
  return itemTreeFromNodes(serials, await run<TreeOutput>("hashTree", input));
}

/**
 * `openItemsArchive` (items-archive.ts) on a worker thread: a million items are
 * 83 MB to decrypt and parse. Throws the same errors (as plain errors with their message).
 */
export async function openItemsArchiveOffLoop(
  archiveSecret: string,
  batchId: string,
  sealed: Uint8Array,
): Promise<ItemsArchive> {
  const input: OpenArchiveInput = { archiveSecret, batchId, sealed };
  const output = await run<OpenArchiveOutput>("openArchive", input);
  if (output.count === 0) return { batchId: output.batchId, serials: [], hiddenCodeHmacs: [] };
  const serials = output.serials.split("\n");
  const hiddenCodeHmacs = output.hmacs.split("\n").map((hmac) => (hmac === "" ? null : hmac));
  return { batchId: output.batchId, serials, hiddenCodeHmacs };
}
