/** labels: the batch's A4 label sheet from the server, streamed to a file. */
import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream } from "node:stream/web";

import { UsageError, required, requiredBatchId, type Options } from "./usage.ts";

/** The command's layout flags and the query parameters they become. */
const LAYOUT_FLAGS = [
  ["columns", "columns"],
  ["rows", "rows"],
  ["margin-mm", "marginMm"],
  ["gap-mm", "gapMm"],
] as const;

export async function labelsCommand(values: Options): Promise<boolean> {
  const token = process.env.COOPERATIVE_TOKEN;
  if (token === undefined || token === "")
    throw new UsageError("COOPERATIVE_TOKEN must hold the cooperative's API token");
  const batchId = requiredBatchId(values);
  const out = required(values, "out");
  const query = new URLSearchParams();
  for (const [flag, name] of LAYOUT_FLAGS) {
    const value = values[flag];
    if (value !== undefined) query.set(name, value);
  }
  const url = `${required(values, "server").replace(/\/$/, "")}/api/v1/batches/${batchId}/labels.pdf?${query.toString()}`;
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok || response.body === null) {
    const problem = (await response.json().catch(() => null)) as { message?: { zh?: string; en?: string } } | null;
    console.error(`error ${String(response.status)}: ${problem?.message?.en ?? ""} ${problem?.message?.zh ?? ""}`);
    return false;
  }
  // fetch's stream type and node:stream/web's differ in the DOM typings; they are the same object at run time.
  await pipeline(Readable.fromWeb(response.body as ReadableStream<Uint8Array>), createWriteStream(out));
  console.log(`wrote ${out}`);
  return true;
}
