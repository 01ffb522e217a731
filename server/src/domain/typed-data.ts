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

export type TypedDataVersion = "1" | "2";
/**
 * Version "2" (a new registry deployment) added the event's counterparty (the receiver a
 * shipping event hands the batch to), GTIN grants and inspection requests.
 */
export const CURRENT_TYPED_DATA_VERSION: TypedDataVersion = "2";

type TypeTable = Record<string, readonly TypedDataField[]>;

const BATCH_ATTESTATION = [
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
] as const;

const RECALL = [
  { name: "attester", type: "address" },
  { name: "batchId", type: "bytes32" },
  { name: "reasonCid", type: "bytes" },
  { name: "nonce", type: "uint256" },
  { name: "deadline", type: "uint64" },
] as const;

const VERSION_2 = {
  BatchAttestation: BATCH_ATTESTATION,
  TraceEvent: [
    { name: "actor", type: "address" },
    { name: "batchId", type: "bytes32" },
    { name: "bizStep", type: "uint8" },
    { name: "occurredAt", type: "uint64" },
    { name: "payloadCid", type: "bytes" },
    { name: "counterparty", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint64" },
  ],
  Recall: RECALL,
  GtinGrant: [
    { name: "owner", type: "address" },
    { name: "gtin", type: "uint64" },
    { name: "grantee", type: "address" },
    { name: "granted", type: "bool" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint64" },
  ],
  InspectionRequest: [
    { name: "requester", type: "address" },
    { name: "batchId", type: "bytes32" },
    { name: "inspector", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint64" },
  ],
  // Cases and pallets (docs/aggregation.md), in the same domain: the registry's domain did not
  // change when they were added, so the version stays "2".
  ContainerPacking: [
    { name: "actor", type: "address" },
    { name: "containerKey", type: "bytes32" },
    { name: "childrenRoot", type: "bytes32" },
    { name: "childCount", type: "uint32" },
    { name: "batchIds", type: "bytes32[]" },
    { name: "childContainers", type: "bytes32[]" },
    { name: "occurredAt", type: "uint64" },
    { name: "payloadCid", type: "bytes" },
    { name: "counterparty", type: "address" },
    { name: "previous", type: "bytes32" },
    { name: "deadline", type: "uint64" },
  ],
  ContainerEvent: [
    { name: "actor", type: "address" },
    { name: "containerKey", type: "bytes32" },
    { name: "action", type: "uint8" },
    { name: "occurredAt", type: "uint64" },
    { name: "payloadCid", type: "bytes" },
    { name: "counterparty", type: "address" },
    { name: "previous", type: "bytes32" },
    { name: "deadline", type: "uint64" },
  ],
} as const satisfies TypeTable;

/** Version "1": what the first registry deployment verifies; kept to check its signatures. */
const VERSION_1 = {
  BatchAttestation: BATCH_ATTESTATION,
  TraceEvent: VERSION_2.TraceEvent.filter((field) => field.name !== "counterparty"),
  Recall: RECALL,
} satisfies Partial<Record<keyof typeof VERSION_2, readonly TypedDataField[]>>;

export type PrimaryType = keyof typeof VERSION_2;

/**
 * Typed data signed in the registry's domain but never submitted to it: the 合格证
 * (`domain/certificate.ts`). The contract has no typehash for it and needs none, so it stays
 * out of the versioned tables above (and out of the test that compares them with the
 * contract's constants). The document it covers is bound by its Keccak-256 hash.
 */
export const OFF_CHAIN_TYPES = {
  QualityCertificate: [
    { name: "issuer", type: "address" },
    { name: "gtin", type: "uint64" },
    { name: "quantityMilli", type: "uint64" },
    { name: "unit", type: "string" },
    { name: "issuedOn", type: "uint32" },
    { name: "documentHash", type: "bytes32" },
  ],
} as const satisfies TypeTable;

export type OffChainType = keyof typeof OFF_CHAIN_TYPES;

/**
 * Every struct an organisation signs: the registry's primary types and the off-chain ones.
 * An organisation holding its own key is asked for each through a signature request; the
 * off-chain ones have the same fields in every version of the domain.
 */
export type SignedType = PrimaryType | OffChainType;

function isOffChain(type: SignedType): type is OffChainType {
  return Object.hasOwn(OFF_CHAIN_TYPES, type);
}

/**
 * Cases and pallets (`docs/aggregation.md`): the typed data of the registry's `packContainers`
 * and `recordContainerEvents`. Part of version "2" above (signed, stored and sent like every
 * other primary type); named here too for the verifiers and the audit, which handle only these.
 * `previous` is the container's stored state hash the request applies to: it replaces a
 * nonce (the state changes with every request, so a signature is usable once).
 */
export const CONTAINER_TYPES = {
  ContainerPacking: VERSION_2.ContainerPacking,
  ContainerEvent: VERSION_2.ContainerEvent,
} as const satisfies TypeTable;

export type ContainerType = keyof typeof CONTAINER_TYPES;

/** The contract's `ContainerAction` in order: the index is signed, so the list only grows at the end. */
export const CONTAINER_ACTIONS = ["unpacking", "shipping", "receiving"] as const;

export type ContainerAction = (typeof CONTAINER_ACTIONS)[number];

/** Types for one container primary type, in the shape ethers' `signTypedData` takes. */
export function containerTypesFor(primaryType: ContainerType): Record<string, TypedDataField[]> {
  return { [primaryType]: [...CONTAINER_TYPES[primaryType]] };
}

/** Each version's definitions; a version lacks the primary types it did not have. */
export const TYPED_DATA: Record<TypedDataVersion, Partial<Record<PrimaryType, readonly TypedDataField[]>>> = {
  "1": VERSION_1,
  "2": VERSION_2,
};

/** The fields of `primaryType` in `version`; throws for a type the version did not have. */
export function fieldsOf(
  primaryType: PrimaryType,
  version: TypedDataVersion = CURRENT_TYPED_DATA_VERSION,
): readonly TypedDataField[] {
  const fields = TYPED_DATA[version][primaryType];
  if (fields === undefined) throw new TypeError(`typed data version ${version} has no ${primaryType}`);
  return fields;
}

/**
 * The fields of any struct an organisation signs, off-chain ones included. Apart from
 * `fieldsOf` because the scan page bundles that one (through eip712.ts) and has a byte budget
 * the off-chain table would take from.
 */
export function signedFieldsOf(
  type: SignedType,
  version: TypedDataVersion = CURRENT_TYPED_DATA_VERSION,
): readonly TypedDataField[] {
  return isOffChain(type) ? OFF_CHAIN_TYPES[type] : fieldsOf(type, version);
}

/** Types for one primary type, in the shape ethers' `signTypedData` / `verifyTypedData` take. */
export function typesFor(
  primaryType: SignedType,
  version: TypedDataVersion = CURRENT_TYPED_DATA_VERSION,
): Record<string, TypedDataField[]> {
  return { [primaryType]: [...signedFieldsOf(primaryType, version)] };
}

export function domainFor(
  chainId: bigint,
  verifyingContract: string,
  version: TypedDataVersion = CURRENT_TYPED_DATA_VERSION,
): TypedDataDomain {
  return { name: DOMAIN_NAME, version, chainId, verifyingContract };
}

type SignedTypes = typeof VERSION_2 & typeof OFF_CHAIN_TYPES;
type Fields<P extends SignedType> = SignedTypes[P][number];

/**
 * The value of a primary type as code holds it, field for field from the type table:
 * integers (uint*) are bigint, booleans boolean, arrays (`bytes32[]`) arrays of 0x-hex
 * strings, everything else (addresses, 0x-hex bytes, text) a string.
 */
export type TypedValue<P extends SignedType> = {
  [F in Fields<P> as F["name"]]: F["type"] extends `${string}[]`
    ? readonly string[]
    : F["type"] extends `uint${string}`
      ? bigint
      : F["type"] extends "bool"
        ? boolean
        : string;
};

/** The same value as JSON: every field a string (an array one of strings), integers in decimal (wider than a JSON number). */
export type TypedJson<P extends SignedType> = {
  [F in Fields<P> as F["name"]]: F["type"] extends `${string}[]` ? string[] : string;
};

export type BatchAttestationValue = TypedValue<"BatchAttestation">;
export type TraceEventValue = TypedValue<"TraceEvent">;
export type RecallValue = TypedValue<"Recall">;
export type GtinGrantValue = TypedValue<"GtinGrant">;
export type InspectionRequestValue = TypedValue<"InspectionRequest">;
export type ContainerPackingValue = TypedValue<"ContainerPacking">;
export type ContainerEventValue = TypedValue<"ContainerEvent">;

/**
 * The one conversion of a typed value to and from JSON, for every place that stores or sends
 * one: the outbox, signature requests and the item resolution. `decode` takes data read back
 * from storage or the network and checks every field against its EIP-712 type.
 */
export interface TypedCodec<P extends SignedType> {
  encode: (value: TypedValue<P>) => TypedJson<P>;
  decode: (json: unknown) => TypedValue<P>;
}

const DECIMAL = /^\d{1,78}$/;
const TEXT_PATTERNS: Record<string, RegExp> = {
  address: /^0x[0-9a-fA-F]{40}$/,
  bytes32: /^0x[0-9a-fA-F]{64}$/,
  bytes: /^0x(?:[0-9a-fA-F]{2})*$/,
};

/**
 * One field. An integer may also arrive as a JSON number or a bigint: outbox entries hold
 * the business step as a number, and signature requests keep their integers as bigints.
 */
function decodeField(type: string, path: string, raw: unknown): bigint | string | boolean | string[] {
  if (type.endsWith("[]")) {
    if (!Array.isArray(raw)) throw new TypeError(`${path} is not a ${type}`);
    const element = type.slice(0, -2);
    return raw.map((item: unknown, index) => {
      const decoded = decodeField(element, `${path}[${String(index)}]`, item);
      if (typeof decoded !== "string") throw new TypeError(`${path} is not a ${type}`);
      return decoded;
    });
  }
  if (type === "bool") {
    if (raw === true || raw === "true") return true;
    if (raw === false || raw === "false") return false;
    throw new TypeError(`${path} is not a bool`);
  }
  if (type.startsWith("uint")) {
    const value =
      typeof raw === "bigint"
        ? raw
        : typeof raw === "number" && Number.isSafeInteger(raw)
          ? BigInt(raw)
          : typeof raw === "string" && DECIMAL.test(raw)
            ? BigInt(raw)
            : null;
    if (value === null || value < 0n || value >= 2n ** BigInt(type.slice("uint".length)))
      throw new TypeError(`${path} is not a ${type}`);
    return value;
  }
  const pattern = TEXT_PATTERNS[type];
  if (typeof raw !== "string" || (pattern !== undefined && !pattern.test(raw)))
    throw new TypeError(`${path} is not a ${type}`);
  return raw;
}

function encodeFields(primaryType: SignedType, value: Record<string, unknown>): Record<string, string | string[]> {
  const fields = signedFieldsOf(primaryType);
  // Field order follows the type table, so equal values give equal JSON text.
  return Object.fromEntries(
    fields.map(({ name }) => {
      const field = value[name];
      return [name, Array.isArray(field) ? field.map(String) : String(field)];
    }),
  );
}

function decodeFields(primaryType: SignedType, json: unknown): Record<string, bigint | string | boolean | string[]> {
  if (typeof json !== "object" || json === null) throw new TypeError(`${primaryType} is not a JSON object`);
  const record = json as Record<string, unknown>;
  const fields = signedFieldsOf(primaryType);
  return Object.fromEntries(
    fields.map(({ name, type }) => [name, decodeField(type, `${primaryType}.${name}`, record[name])]),
  );
}

function typedCodec<P extends SignedType>(primaryType: P): TypedCodec<P> {
  return {
    encode: (value) => encodeFields(primaryType, value) as TypedJson<P>,
    decode: (json) => decodeFields(primaryType, json) as TypedValue<P>,
  };
}

// Marked pure so that the scan page, which imports this module for the type table, bundles none of it.
export const TYPED_CODECS: { readonly [P in SignedType]: TypedCodec<P> } = {
  BatchAttestation: /* @__PURE__ */ typedCodec("BatchAttestation"),
  TraceEvent: /* @__PURE__ */ typedCodec("TraceEvent"),
  Recall: /* @__PURE__ */ typedCodec("Recall"),
  GtinGrant: /* @__PURE__ */ typedCodec("GtinGrant"),
  InspectionRequest: /* @__PURE__ */ typedCodec("InspectionRequest"),
  ContainerPacking: /* @__PURE__ */ typedCodec("ContainerPacking"),
  ContainerEvent: /* @__PURE__ */ typedCodec("ContainerEvent"),
  QualityCertificate: /* @__PURE__ */ typedCodec("QualityCertificate"),
};

/** A value of whichever primary type, tagged with it, for code that handles them all. */
export type AnyTypedValue = { [P in SignedType]: { primaryType: P; value: TypedValue<P> } }[SignedType];

export function decodeTyped(primaryType: SignedType, json: unknown): AnyTypedValue {
  return { primaryType, value: decodeFields(primaryType, json) } as AnyTypedValue;
}

export function encodeTyped(typed: AnyTypedValue): Record<string, string | string[]> {
  return encodeFields(typed.primaryType, typed.value);
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
