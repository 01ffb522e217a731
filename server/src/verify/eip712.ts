/**
 * EIP-712 digests of what organisations sign, and the signer a signature recovers to.
 * Only the encoding is written here (type strings, `encodeData` of our flat types, which
 * have no nested structs or arrays); Keccak-256 and secp256k1 recovery come from
 * `@noble/hashes` and `@noble/secp256k1` (the same author's single-curve build: the scan page
 * ships a fifth of the bytes `@noble/curves` would bring). Tests compare every digest with
 * ethers' `TypedDataEncoder.hash` and every recovery with `verifyTypedData`.
 */
import { Signature, recoverPublicKey } from "@noble/secp256k1";

import {
  CURRENT_TYPED_DATA_VERSION,
  DOMAIN_NAME,
  fieldsOf,
  type PrimaryType,
  type TypedDataVersion,
} from "../domain/typed-data.ts";
import type { AttestationValueJson, EventValueJson } from "../domain/resolution.ts";
import {
  addressWord,
  bytesToHex,
  checksumAddress,
  concatBytes,
  fixedBytes,
  hexToBytes,
  keccak256,
  parseUint,
  uintWord,
} from "./bytes.ts";
import { AppError } from "../errors/app-error.ts";

export interface Eip712Domain {
  /** Decimal string (as in the resolution) or bigint. */
  chainId: string | bigint;
  /** The TraceRegistry's address. */
  verifyingContract: string;
  version?: TypedDataVersion;
}

/** A typed value as the resolution carries it: integers as decimal strings (bigints accepted), bytes as 0x-hex. */
export type TypedValue = Readonly<Record<string, string | bigint | boolean>>;

interface Field {
  readonly name: string;
  readonly type: string;
}

const utf8 = new TextEncoder();
const UINT = /^uint(\d{1,3})$/;

const DOMAIN_FIELDS: readonly Field[] = [
  { name: "name", type: "string" },
  { name: "version", type: "string" },
  { name: "chainId", type: "uint256" },
  { name: "verifyingContract", type: "address" },
];

function encodeType(name: string, fields: readonly Field[]): string {
  return `${name}(${fields.map((field) => `${field.type} ${field.name}`).join(",")})`;
}

/** One field's 32-byte slot in `encodeData`: atomic types in place, dynamic ones hashed. */
function encodeField(field: Field, value: string | bigint | boolean | undefined): Uint8Array {
  if (value === undefined) throw new AppError("verify.hex", { field: field.name, value: "missing" });
  if (field.type === "bool") {
    if (typeof value !== "boolean") throw new AppError("verify.hex", { field: field.name, type: field.type });
    return uintWord(value ? 1n : 0n);
  }
  if (typeof value === "boolean") throw new AppError("verify.hex", { field: field.name, type: field.type });
  const uint = UINT.exec(field.type);
  if (uint !== null) return uintWord(parseUint(value, Number(uint[1])));
  if (typeof value === "bigint") throw new AppError("verify.hex", { field: field.name, type: field.type });
  switch (field.type) {
    case "address":
      return addressWord(value);
    case "bytes32":
      return fixedBytes(value, 32);
    case "string":
      return keccak256(utf8.encode(value));
    case "bytes":
      return keccak256(hexToBytes(value));
    default:
      throw new AppError("verify.unknown_type", { field: field.name, type: field.type });
  }
}

/**
 * Type hashes and domain separators already computed, by their text: a page checks a dozen
 * signatures in the same one or two types and one domain, and each is a hash or three (on a
 * slow phone, tens of milliseconds in all). Never handed out: callers get copies.
 */
const typeHashes = new Map<string, Uint8Array>();
const separators = new Map<string, Uint8Array>();
/** Domains are the registries a verifier meets: a few; bounded all the same. */
const SEPARATORS_MAX = 64;

function typeHashOf(name: string, fields: readonly Field[]): Uint8Array {
  const text = encodeType(name, fields);
  let hash = typeHashes.get(text);
  if (hash === undefined) typeHashes.set(text, (hash = keccak256(utf8.encode(text))));
  return hash;
}

function hashStruct(name: string, fields: readonly Field[], value: TypedValue): Uint8Array {
  return keccak256(
    concatBytes(typeHashOf(name, fields), ...fields.map((field) => encodeField(field, value[field.name]))),
  );
}

function separatorOf(domain: Eip712Domain): Uint8Array {
  const version = domain.version ?? CURRENT_TYPED_DATA_VERSION;
  const key = `${version}/${String(domain.chainId)}/${domain.verifyingContract.toLowerCase()}`;
  let separator = separators.get(key);
  if (separator === undefined) {
    separator = hashStruct("EIP712Domain", DOMAIN_FIELDS, {
      name: DOMAIN_NAME,
      version,
      chainId: domain.chainId,
      verifyingContract: domain.verifyingContract,
    });
    if (separators.size >= SEPARATORS_MAX) separators.clear();
    separators.set(key, separator);
  }
  return separator;
}

export function domainSeparator(domain: Eip712Domain): Uint8Array {
  return separatorOf(domain).slice();
}

/** `keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(value))` of one of our primary types, as 0x-hex. */
export function typedDataDigest(domain: Eip712Domain, primaryType: PrimaryType, value: TypedValue): string {
  const fields: readonly Field[] = fieldsOf(primaryType, domain.version ?? CURRENT_TYPED_DATA_VERSION);
  return bytesToHex(
    keccak256(concatBytes(Uint8Array.of(0x19, 0x01), separatorOf(domain), hashStruct(primaryType, fields, value))),
  );
}

/**
 * The digest of a struct given its own field list, in the registry's domain: for typed data
 * no versioned table lists (`OFF_CHAIN_TYPES`, e.g. the 合格证).
 */
export function structDigest(domain: Eip712Domain, name: string, fields: readonly Field[], value: TypedValue): string {
  return bytesToHex(
    keccak256(concatBytes(Uint8Array.of(0x19, 0x01), separatorOf(domain), hashStruct(name, fields, value))),
  );
}

/** The digest a cooperative signs for a `BatchAttestation`. */
export function attestationDigest(domain: Eip712Domain, value: AttestationValueJson): string {
  return typedDataDigest(domain, "BatchAttestation", { ...value });
}

/** The digest an organisation signs for a `TraceEvent`: also the link in the batch's event hash chain. */
export function eventDigest(domain: Eip712Domain, value: EventValueJson): string {
  return typedDataDigest(domain, "TraceEvent", { ...value });
}

/**
 * The address whose key made `signature` (65 bytes r ‖ s ‖ v, v 27/28 or 0/1) over
 * `digest`, EIP-55 checksummed. Refuses high-s signatures as OpenZeppelin's ECDSA does, so
 * a signature the registry would refuse never verifies here. Throws
 * `verify.signature_format` when there is no signer to recover.
 */
export function recoverSigner(digest: string, signature: string): string {
  const hash = fixedBytes(digest, 32);
  const bytes = hexToBytes(signature);
  if (bytes.length !== 65) throw new AppError("verify.signature_format", { length: bytes.length });
  const v = bytes[64] ?? 0;
  const recovery = v >= 27 ? v - 27 : v;
  if (recovery !== 0 && recovery !== 1) throw new AppError("verify.signature_format", { v });
  try {
    const rs = bytes.subarray(0, 64);
    if (Signature.fromBytes(rs, "compact").hasHighS()) {
      throw new AppError("verify.signature_format", { reason: "high s" });
    }
    // The library's "recovered" layout puts the recovery bit first; the digest is already a hash.
    const publicKey = recoverPublicKey(concatBytes(Uint8Array.of(recovery), rs), hash, {
      prehash: false,
      isCompressed: false,
    });
    return checksumAddress(bytesToHex(keccak256(publicKey.subarray(1)).subarray(12)));
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError("verify.signature_format", { reason: "not recoverable" }, { cause: error });
  }
}
