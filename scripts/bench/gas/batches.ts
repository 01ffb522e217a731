/**
 * Realistic content of one harvest batch, as a cooperative would attest it: a GTIN-14
 * with its check digit, a lot of the usual length, the root of a real
 * StandardMerkleTree over the batch's random item serials, and a metadata CID. The same
 * fields feed our registry and the EAS peer, so both carry the same data.
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { hexlify } from "ethers";

import { gtinCheckDigit, gtinToUint64 } from "../../../server/src/domain/gs1.ts";
import { generateSerials } from "../../../server/src/domain/serials.ts";
import type { BatchAttestationValue } from "../../../server/src/domain/typed-data.ts";
import { documentCid } from "./support.ts";

export const ITEMS_PER_BATCH = 1_000;

const GTIN_BODY = "0690123456789";
export const BENCH_GTIN = gtinToUint64(`${GTIN_BODY}${gtinCheckDigit(GTIN_BODY)}`);
/** The GS1 company prefix "6901234" the bench's GTIN lies under, bound to the bench's cooperative. */
export const BENCH_COMPANY_PREFIX = { value: 6_901_234n, digits: 7 } as const;

/** The signed fields of one attestation other than who signs it and when it expires. */
export type BatchFields = Omit<BatchAttestationValue, "attester" | "nonce" | "deadline">;

/** Batch `sequence` of a run; `lotPrefix` keeps the lots of different ledgers apart. */
export async function batchFields(lotPrefix: string, sequence: number, harvestedAt: bigint): Promise<BatchFields> {
  const lot = `${lotPrefix}${String(sequence).padStart(5, "0")}`;
  const serials = generateSerials(ITEMS_PER_BATCH);
  const tree = StandardMerkleTree.of(
    serials.map((serial) => [serial]),
    ["string"],
  );
  const metadataCid = await documentCid({ gtin: BENCH_GTIN.toString(), lot, product: "西湖龙井 Longjing tea, 250 g" });
  return {
    gtin: BENCH_GTIN,
    lot,
    itemsRoot: tree.root,
    itemCount: BigInt(ITEMS_PER_BATCH),
    quantityMilli: 250_000n,
    unit: "KGM",
    harvestedAt,
    metadataCid: hexlify(metadataCid),
  };
}
