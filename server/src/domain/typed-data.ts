/**
 * EIP-712 typed data signed by organisations, versioned like the EAS SDK does it: a
 * signature made under version "1" keeps verifying after a later version changes the
 * types, because the verifier looks the definitions up by the version it was made with.
 *
 * Mirrors `contracts/signatures/TypedSignatures.sol`; a contract test recomputes each
 * typehash from these definitions and compares it with the deployed constants.
 */
import type { TypedDataDomain, TypedDataField } from "ethers";

export const DOMAIN_NAME = "OneItemOneCode";

export type TypedDataVersion = "1";
export const CURRENT_TYPED_DATA_VERSION: TypedDataVersion = "1";

type TypeTable = Record<string, TypedDataField[]>;

const VERSION_1 = {
  BatchAttestation: [
    { name: "attester", type: "address" },
    { name: "gtin", type: "uint64" },
    { name: "lot", type: "string" },
    { name: "itemsRoot", type: "bytes32" },
    { name: "itemCount", type: "uint32" },
    { name: "quantityMilli", type: "uint64" },
    { name: "unit", type: "string" },
    { name: "harvestedAt", type: "uint64" },
    { name: "metadataCid", type: "bytes" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint64" },
  ],
  TraceEvent: [
    { name: "actor", type: "address" },
    { name: "batchId", type: "bytes32" },
    { name: "bizStep", type: "uint8" },
    { name: "occurredAt", type: "uint64" },
    { name: "payloadCid", type: "bytes" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint64" },
  ],
  Recall: [
    { name: "attester", type: "address" },
    { name: "batchId", type: "bytes32" },
    { name: "reasonCid", type: "bytes" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint64" },
  ],
} as const satisfies TypeTable;

export const TYPED_DATA: Record<TypedDataVersion, typeof VERSION_1> = { "1": VERSION_1 };

export type PrimaryType = keyof typeof VERSION_1;

/** Types for one primary type, in the shape ethers' `signTypedData` / `verifyTypedData` take. */
export function typesFor(primaryType: PrimaryType, version: TypedDataVersion = CURRENT_TYPED_DATA_VERSION): TypeTable {
  return { [primaryType]: [...TYPED_DATA[version][primaryType]] };
}

export function domainFor(
  chainId: bigint,
  verifyingContract: string,
  version: TypedDataVersion = CURRENT_TYPED_DATA_VERSION,
): TypedDataDomain {
  return { name: DOMAIN_NAME, version, chainId, verifyingContract };
}

/** Values of a `BatchAttestation`. Integers are bigint; byte strings are 0x-hex. */
export interface BatchAttestationValue {
  attester: string;
  gtin: bigint;
  lot: string;
  itemsRoot: string;
  itemCount: bigint;
  quantityMilli: bigint;
  unit: string;
  harvestedAt: bigint;
  metadataCid: string;
  nonce: bigint;
  deadline: bigint;
}

export interface TraceEventValue {
  actor: string;
  batchId: string;
  bizStep: bigint;
  occurredAt: bigint;
  payloadCid: string;
  nonce: bigint;
  deadline: bigint;
}

export interface RecallValue {
  attester: string;
  batchId: string;
  reasonCid: string;
  nonce: bigint;
  deadline: bigint;
}

/**
 * CBV business steps in the order of the contract's `BizStep` enum. The index is what
 * is signed, so this list only ever grows at the end.
 */
export const BIZ_STEPS = [
  "planting",
  "input_application",
  "harvesting",
  "cooling",
  "transforming",
  "packing",
  "shipping",
  "receiving",
  "inspecting",
  "certifying",
  "retail_selling",
  "recalling",
] as const;

export type BizStep = (typeof BIZ_STEPS)[number];

export function bizStepIndex(step: BizStep): number {
  return BIZ_STEPS.indexOf(step);
}
