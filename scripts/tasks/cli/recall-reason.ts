/** A recalled batch's BatchRecalled log and its reason document, for verify-batch. */
import type { Contract } from "ethers";
import { z } from "zod";

import { cidMatchesBytes, cidTextFromHex } from "../../../server/src/verify/cid.ts";

export interface RecallFromLog {
  recalledBy: string;
  block: number;
  reasonCid: string;
}

/** The batch's BatchRecalled log: who recalled it and the CID of the reason document. */
export async function readRecall(
  registry: Contract,
  batchId: string,
  fromBlock: number,
): Promise<RecallFromLog | null> {
  const logs = await registry.queryFilter(registry.filters.BatchRecalled?.(batchId) ?? "BatchRecalled", fromBlock);
  const last = logs.at(-1);
  if (last === undefined || !("args" in last)) return null;
  const args = last.args as unknown as { recalledBy: string; reasonCid: string };
  return { recalledBy: args.recalledBy, block: last.blockNumber, reasonCid: cidTextFromHex(args.reasonCid) };
}

const reasonDocumentShape = z.object({ reason: z.object({ zh: z.string(), en: z.string().nullable() }) });

/** The reason document from an IPFS path gateway, kept only if its bytes hash to the CID. */
export async function fetchReason(
  gateway: string,
  cidText: string,
): Promise<{ zh: string; en: string | null } | string> {
  let bytes: Uint8Array;
  try {
    const response = await fetch(`${gateway.replace(/\/$/, "")}/ipfs/${cidText}`, {
      signal: AbortSignal.timeout(15_000),
    });
    if (!response.ok) return `the gateway answered ${String(response.status)}`;
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    return `the gateway could not be reached (${error instanceof Error ? error.message : String(error)})`;
  }
  // Only a raw sha2-256 CID (as every document of ours has) can match: its bytes hash to it.
  if (!(await cidMatchesBytes(cidText, bytes))) return "the gateway's bytes do not match the CID";
  const parsed = reasonDocumentShape.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
  return parsed.success ? parsed.data.reason : "the document is not a recall reason";
}
