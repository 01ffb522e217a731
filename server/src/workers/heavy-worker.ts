/**
 * The worker thread's side of heavy.ts: per-item work of a whole batch, run away from
 * the server's event loop. Results go back as flat buffers, transferred, not copied.
 */
import { parentPort } from "node:worker_threads";

import { isAppError } from "../errors/app-error.ts";
import { hashItemTree } from "../domain/merkle.ts";
import { blockRandom, verificationCodeHasher } from "../domain/serials-fast.ts";
import { generateSerials, SERIAL_LENGTH } from "../domain/serials.ts";
import { openItemsArchive, sealItemsArchive } from "./items-archive.ts";
import type { TaskReply, TaskRequest } from "./pool.ts";
import {
  HMAC_HEX_LENGTH,
  type IssueInput,
  type IssueOutput,
  type OpenArchiveInput,
  type OpenArchiveOutput,
  type TreeInput,
  type TreeOutput,
} from "./tasks.ts";

const ascii = new TextEncoder();

async function issueItems(input: IssueInput): Promise<IssueOutput> {
  const serials = generateSerials(input.count, blockRandom());
  const hasher = input.hiddenCodes ? await verificationCodeHasher(input.pepper) : null;
  const hmacs = serials.map((serial) =>
    hasher === null ? null : hasher.digest(serial, hasher.derive(input.batchId, serial)),
  );
  const tree = hashItemTree(serials);
  const archive = sealItemsArchive(input.archiveSecret, {
    batchId: input.batchId,
    serials,
    hiddenCodeHmacs: hmacs,
  });
  const serialBytes = new Uint8Array(input.count * SERIAL_LENGTH);
  for (let i = 0; i < serials.length; i++) ascii.encodeInto(serials[i] ?? "", serialBytes.subarray(i * SERIAL_LENGTH));
  let hmacBytes: Uint8Array | null = null;
  if (input.hiddenCodes) {
    hmacBytes = new Uint8Array(input.count * HMAC_HEX_LENGTH);
    for (let i = 0; i < hmacs.length; i++) ascii.encodeInto(hmacs[i] ?? "", hmacBytes.subarray(i * HMAC_HEX_LENGTH));
  }
  return {
    serials: serialBytes,
    hmacs: hmacBytes,
    root: `0x${Buffer.from(tree.nodes.subarray(0, 32)).toString("hex")}`,
    // Small buffers live in Node's shared pool, which cannot be transferred: give the archive its own.
    archive: new Uint8Array(archive),
  };
}

function hashTree(input: TreeInput): TreeOutput {
  return hashItemTree(input.serials.split("\n"));
}

async function run(request: TaskRequest): Promise<{ output: unknown; transfer: ArrayBuffer[] }> {
  switch (request.task) {
    case "issueItems": {
      const output = await issueItems(request.input as IssueInput);
      const transfer = [output.serials.buffer, output.archive.buffer];
      if (output.hmacs !== null) transfer.push(output.hmacs.buffer);
      return { output, transfer: transfer.filter((b): b is ArrayBuffer => b instanceof ArrayBuffer) };
    }
    case "openArchive": {
      const input = request.input as OpenArchiveInput;
      const archive = openItemsArchive(input.archiveSecret, input.batchId, input.sealed);
      const output: OpenArchiveOutput = {
        batchId: archive.batchId,
        count: archive.serials.length,
        serials: archive.serials.join("\n"),
        hmacs: archive.hiddenCodeHmacs.map((hmac) => hmac ?? "").join("\n"),
      };
      return { output, transfer: [] };
    }
    case "hashTree": {
      const output = hashTree(request.input as TreeInput);
      return { output, transfer: [output.nodes.buffer, output.nodeOfInput.buffer] as ArrayBuffer[] };
    }
    default:
      throw new Error(`unknown worker task ${request.task}`);
  }
}

function describe(error: unknown): Record<string, unknown> {
  if (isAppError(error)) return { kind: "domain", code: error.code, details: { ...error.details } };
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { message: String(error) };
}

parentPort?.on("message", (request: TaskRequest) => {
  void answer(request);
});

async function answer(request: TaskRequest): Promise<void> {
  let reply: TaskReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const result = await run(request);
    reply = { id: request.id, ok: true, output: result.output };
    transfer = result.transfer;
  } catch (error) {
    reply = { id: request.id, ok: false, error: describe(error) };
  }
  parentPort?.postMessage(reply, transfer);
}
