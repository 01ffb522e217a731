/**
 * QBFT test blocks as `eth_getBlockByNumber` answers them: a header's RLP fields named and
 * written as JSON-RPC writes them (quantities without leading zeros, the rest as hex), for
 * the seal check's and the quorum client's tests.
 */
import { bytesToHex } from "../../server/src/verify/bytes.ts";

/** A header's fields in RLP order, as JSON-RPC names them (London and later forks' last). */
export const HEADER_FIELD_NAMES = [
  "parentHash",
  "sha3Uncles",
  "miner",
  "stateRoot",
  "transactionsRoot",
  "receiptsRoot",
  "logsBloom",
  "difficulty",
  "number",
  "gasLimit",
  "gasUsed",
  "timestamp",
  "extraData",
  "mixHash",
  "nonce",
  "baseFeePerGas",
  "withdrawalsRoot",
  "blobGasUsed",
  "excessBlobGas",
  "parentBeaconBlockRoot",
  "requestsHash",
] as const;

const QUANTITIES: ReadonlySet<string> = new Set([
  "difficulty",
  "number",
  "gasLimit",
  "gasUsed",
  "timestamp",
  "baseFeePerGas",
  "blobGasUsed",
  "excessBlobGas",
]);

/** The JSON answer for a header of `fields` (RLP items) claiming `hash`. */
export function rpcBlockOf(fields: readonly Uint8Array[], hash: string): Record<string, string> {
  const block: Record<string, string> = { hash };
  fields.forEach((field, index) => {
    const name = HEADER_FIELD_NAMES[index] ?? "";
    block[name] = QUANTITIES.has(name)
      ? `0x${field.length === 0 ? "0" : BigInt(bytesToHex(field)).toString(16)}`
      : bytesToHex(field);
  });
  return block;
}
