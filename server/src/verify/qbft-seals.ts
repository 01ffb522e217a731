/**
 * QBFT committed seals: whether the validators a verifier pinned vouched for a block, so that on
 * a consortium chain one honest endpoint suffices (a lying endpoint cannot forge the seals).
 *
 * Exact to Hyperledger Besu, whose code is the reference (consensus/common `BftBlockHashing`,
 * `BftHelpers`; consensus/qbft `QbftExtraDataCodec`, `QbftRound.createCommitSeal`):
 * - extraData is RLP [vanity, [validator, ...], vote ([] or [recipient, 0xff (add) | "" (drop)]),
 *   round (a scalar), [seal, ...]], each seal 65 bytes r ‖ s ‖ recovery id (0 or 1);
 * - a validator seals keccak256 of the header's RLP with extraData re-encoded with its round
 *   kept and an empty seal list (the seals cannot sign themselves);
 * - the block's own hash (`hash` in `eth_getBlockByNumber`) is the same with the round set to 0
 *   too, so that a block re-proposed in a later round keeps its hash;
 * - the quorum of n validators is ceil(2n/3) (`BftHelpers.calculateRequiredValidatorQuorum`).
 * Besu re-encodes the decoded extraData rather than editing the bytes it received, so this does
 * too: a non-canonical vote byte (0x00 for drop) or trailing list items hash as Besu hashes them.
 * The genesis block (number 0) is hashed with its extraData as it is.
 *
 * Browser-safe: RLP from `@ethereumjs/rlp`, keccak and secp256k1 through `bytes.ts`/`eip712.ts`.
 */
import { RLP } from "@ethereumjs/rlp";

import { AppError } from "../errors/app-error.ts";
import { bytesToHex, checksumAddress, hexToBytes, keccak256Hex, addressBytes } from "./bytes.ts";
import { recoverSigner } from "./eip712.ts";

/** The decoded QBFT extraData of a block. */
export interface QbftExtraData {
  vanity: Uint8Array;
  /** The validator list the block's producers wrote (empty on chains whose validators live in a contract). */
  validators: string[];
  vote: { recipient: string; add: boolean } | null;
  round: number;
  /** Each 65 bytes: r ‖ s ‖ recovery id. */
  seals: Uint8Array[];
}

/** A block header as the seals cover it: every RLP field in order, and what a verifier reads from it. */
export interface QbftHeader {
  /** The header's RLP items in order (15 up to 21 with the London..Prague fields); extraData is item 12. */
  readonly fields: readonly Uint8Array[];
  readonly number: bigint;
  readonly timestamp: bigint;
  /** The block's hash by Besu's rule (seals left out, round 0); equals the `hash` an endpoint answered. */
  readonly hash: string;
  readonly parentHash: string;
  readonly stateRoot: string;
  readonly extraData: QbftExtraData;
}

export interface QbftSealCheck {
  /** True only when the seals of at least ceil(2n/3) distinct pinned validators verify on the commit-seal hash. */
  ok: boolean;
  /** The block's hash (Besu's on-chain rule). */
  hash: string;
  /** What the validators signed. */
  commitHash: string;
  /** Pinned validators whose seals verified, once each, in seal order (checksummed). */
  sealedBy: string[];
  /** The validator list written in the block's extraData (checksummed): reported, not trusted. */
  validatorsInHeader: string[];
  /** Why not, in plain English, when `ok` is false. */
  reason?: string;
}

type FieldShape = number | "quantity" | "bytes";

/** The header's fields in RLP order with their shape: a fixed length, a scalar, or any bytes. */
const REQUIRED_FIELDS: ReadonlyArray<readonly [string, FieldShape]> = [
  ["parentHash", 32],
  ["sha3Uncles", 32],
  ["miner", 20],
  ["stateRoot", 32],
  ["transactionsRoot", 32],
  ["receiptsRoot", 32],
  ["logsBloom", 256],
  ["difficulty", "quantity"],
  ["number", "quantity"],
  ["gasLimit", "quantity"],
  ["gasUsed", "quantity"],
  ["timestamp", "quantity"],
  ["extraData", "bytes"],
  ["mixHash", 32],
  ["nonce", 8],
];

/** London, Shanghai, Cancun and Prague append these in this order; a later one never comes without the earlier. */
const OPTIONAL_FIELDS: ReadonlyArray<readonly [string, FieldShape]> = [
  ["baseFeePerGas", "quantity"],
  ["withdrawalsRoot", 32],
  ["blobGasUsed", "quantity"],
  ["excessBlobGas", "quantity"],
  ["parentBeaconBlockRoot", 32],
  ["requestsHash", 32],
];

const ALL_FIELDS = [...REQUIRED_FIELDS, ...OPTIONAL_FIELDS];
const EXTRA_DATA_INDEX = 12;
const NUMBER_INDEX = 8;
const TIMESTAMP_INDEX = 11;
const QUANTITY = /^0x(?:0|[1-9a-fA-F][0-9a-fA-F]{0,63})$/;
const SEAL_LENGTH = 65;
const ADD_VOTE = 0xff;
const DROP_VOTE = 0x00;

/** Besu's quorum of n validators: ceil(2n/3). */
export function qbftQuorum(validatorCount: number): number {
  return Math.ceil((2 * validatorCount) / 3);
}

/**
 * A header from an `eth_getBlockByNumber` answer, checked field by field and against the
 * answer's own `hash`, so the seals checked later cover exactly the block the endpoint named.
 */
export function qbftHeaderFromRpcBlock(block: unknown): QbftHeader {
  if (typeof block !== "object" || block === null || Array.isArray(block)) {
    throw headerError("the answer is not a block object");
  }
  const record = block as Record<string, unknown>;
  const fields: Uint8Array[] = REQUIRED_FIELDS.map(([name, shape]) => rpcField(record, name, shape));
  let missing: string | null = null;
  for (const [name, shape] of OPTIONAL_FIELDS) {
    const value = record[name];
    if (value === undefined || value === null) {
      missing ??= name;
      continue;
    }
    if (missing !== null) throw headerError(`${name} is present without ${missing}`);
    fields.push(rpcField(record, name, shape));
  }
  const header = headerFromFields(fields);
  const claimed = record["hash"];
  if (typeof claimed !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(claimed)) {
    throw headerError("hash is not 32 bytes of hex");
  }
  if (claimed.toLowerCase() !== header.hash) {
    throw new AppError(
      "verify.qbft_header",
      { number: header.number.toString(), claimed, computed: header.hash },
      { detail: "the block's fields do not hash to the hash the endpoint gave" },
    );
  }
  return header;
}

/** A header from its RLP (as Besu's `debug_getRawHeader` or a recorded block gives it). */
export function qbftHeaderFromRlp(rlp: Uint8Array): QbftHeader {
  let decoded: Uint8Array | unknown[];
  try {
    decoded = RLP.decode(rlp);
  } catch (error) {
    throw new AppError("verify.qbft_header", { reason: "not RLP" }, { cause: error, detail: "the header is not RLP" });
  }
  if (!Array.isArray(decoded) || decoded.length < REQUIRED_FIELDS.length || decoded.length > ALL_FIELDS.length) {
    throw headerError(`a header is a list of ${REQUIRED_FIELDS.length} to ${ALL_FIELDS.length} fields`);
  }
  const fields = decoded.map((item, index) => {
    const [name, shape] = ALL_FIELDS[index] ?? ["field", "bytes"];
    if (!(item instanceof Uint8Array)) throw headerError(`${name} is a list, not bytes`);
    checkShape(item, name, shape);
    return item;
  });
  return headerFromFields(fields);
}

/** Decodes QBFT extraData as Besu's `QbftExtraDataCodec.decodeRaw` does, with clear errors instead of exceptions. */
export function decodeQbftExtraData(bytes: Uint8Array): QbftExtraData {
  let decoded: Uint8Array | unknown[];
  try {
    decoded = RLP.decode(bytes);
  } catch (error) {
    throw new AppError(
      "verify.qbft_extra_data",
      { reason: "not RLP" },
      { cause: error, detail: "extraData is not RLP" },
    );
  }
  // Besu leaves the list leniently: items after the seals are ignored, and left out when it re-encodes.
  if (!Array.isArray(decoded) || decoded.length < 5) {
    throw extraError("extraData is not a list of vanity, validators, vote, round and seals");
  }
  const [vanity, validators, vote, round, seals] = decoded;
  if (!(vanity instanceof Uint8Array)) throw extraError("the vanity is not bytes");
  return {
    vanity,
    validators: listOf(validators, "validators", 20).map(bytesToHex),
    vote: decodeVote(vote),
    round: decodeRound(round),
    seals: listOf(seals, "committed seals", SEAL_LENGTH),
  };
}

/** Besu's encoding of extraData (`QbftExtraDataCodec.encode`): all of it, or for hashing with no seals and a given round. */
export function encodeQbftExtraData(extra: QbftExtraData, options: { withSeals: boolean; round?: number }): Uint8Array {
  const vote =
    extra.vote === null
      ? []
      : [hexToBytes(extra.vote.recipient), extra.vote.add ? Uint8Array.of(ADD_VOTE) : new Uint8Array(0)];
  return RLP.encode([
    extra.vanity,
    extra.validators.map(hexToBytes),
    vote,
    scalarBytes(BigInt(options.round ?? extra.round)),
    options.withSeals ? extra.seals : [],
  ]);
}

/** What each validator signed for this block: the header with its seals left out, its round kept. */
export function qbftCommitSealHash(header: QbftHeader): string {
  return hashWithExtra(header, { withSeals: false });
}

/**
 * Checks a block's committed seals against the validators the verifier pinned. Only the pinned
 * set counts: the block's own validator list is written by its producers, so it is reported
 * (`validatorsInHeader`) but neither trusted nor required to match. A block sealed by
 * ceil(2n/3) pinned validators is one they vouched for whatever list it carries; a block whose
 * list differs and which lacks those seals fails, and the reason says the set may have changed
 * since the verifier was built. A seal by an address not pinned, a duplicate, or one that does
 * not recover does not count.
 */
export function verifyQbftSeals(header: QbftHeader | Uint8Array, validators: readonly string[]): QbftSealCheck {
  // Re-derived from the fields, so a header object whose parts disagree cannot pass.
  const parsed = qbftHeaderFromRlp(header instanceof Uint8Array ? header : RLP.encode([...header.fields]));
  const pinned = new Set(validators.map((address) => bytesToHex(addressBytes(address))));
  const commitHash = qbftCommitSealHash(parsed);
  const validatorsInHeader = parsed.extraData.validators.map(checksumAddress);

  const sealedBy: string[] = [];
  const counted = new Set<string>();
  let outsiders = 0;
  let unreadable = 0;
  for (const seal of parsed.extraData.seals) {
    const signer = sealSigner(commitHash, seal);
    if (signer === null) {
      unreadable++;
      continue;
    }
    const key = signer.toLowerCase();
    if (!pinned.has(key)) {
      outsiders++;
      continue;
    }
    if (counted.has(key)) continue;
    counted.add(key);
    sealedBy.push(signer);
  }

  const required = qbftQuorum(pinned.size);
  const ok = pinned.size > 0 && sealedBy.length >= required;
  const result: QbftSealCheck = { ok, hash: parsed.hash, commitHash, sealedBy, validatorsInHeader };
  if (!ok) result.reason = failureReason(pinned, required, sealedBy.length, outsiders, unreadable, parsed);
  return result;
}

function failureReason(
  pinned: ReadonlySet<string>,
  required: number,
  sealed: number,
  outsiders: number,
  unreadable: number,
  header: QbftHeader,
): string {
  if (pinned.size === 0) return "no validators are pinned, so no block can be trusted by its seals";
  const parts = [`${required} of ${pinned.size} pinned validators needed, ${sealed} sealed`];
  if (outsiders > 0) parts.push(`${outsiders} seal${outsiders === 1 ? "" : "s"} by addresses not pinned did not count`);
  if (unreadable > 0) parts.push(`${unreadable} seal${unreadable === 1 ? "" : "s"} could not be read`);
  const inHeader = new Set(header.extraData.validators);
  const differs = inHeader.size !== pinned.size || [...pinned].some((address) => !inHeader.has(address));
  if (differs && header.extraData.validators.length > 0) {
    parts.push(
      "the block's validator list differs from the pinned set (the validators may have changed since this verifier was built)",
    );
  }
  return parts.join("; ");
}

/** The seal's signer, or null when Besu would not have accepted it (recovery id not 0 or 1, not recoverable, high s). */
function sealSigner(commitHash: string, seal: Uint8Array): string | null {
  const recovery = seal[SEAL_LENGTH - 1];
  if (recovery !== 0 && recovery !== 1) return null;
  try {
    return recoverSigner(commitHash, bytesToHex(seal));
  } catch (error) {
    if (error instanceof AppError) return null;
    throw error;
  }
}

function headerFromFields(fields: Uint8Array[]): QbftHeader {
  const extraBytes = fields[EXTRA_DATA_INDEX] ?? new Uint8Array(0);
  const header = {
    fields,
    number: bytesToBigint(fields[NUMBER_INDEX] ?? new Uint8Array(0)),
    timestamp: bytesToBigint(fields[TIMESTAMP_INDEX] ?? new Uint8Array(0)),
    hash: "",
    parentHash: bytesToHex(fields[0] ?? new Uint8Array(0)),
    stateRoot: bytesToHex(fields[3] ?? new Uint8Array(0)),
    extraData: decodeQbftExtraData(extraBytes),
  };
  header.hash = hashWithExtra(header, { withSeals: false, round: 0 });
  return header;
}

function hashWithExtra(header: Omit<QbftHeader, "hash">, options: { withSeals: boolean; round?: number }): string {
  const fields = [...header.fields];
  if (header.number !== 0n) fields[EXTRA_DATA_INDEX] = encodeQbftExtraData(header.extraData, options);
  return keccak256Hex(RLP.encode(fields));
}

function rpcField(record: Record<string, unknown>, name: string, shape: FieldShape): Uint8Array {
  const value = record[name];
  if (typeof value !== "string") throw headerError(`${name} is missing or not text`);
  if (shape === "quantity") {
    if (!QUANTITY.test(value)) throw headerError(`${name} is not a hex quantity`);
    return scalarBytes(BigInt(value));
  }
  let bytes: Uint8Array;
  try {
    bytes = hexToBytes(value);
  } catch (error) {
    throw new AppError("verify.qbft_header", { field: name }, { cause: error, detail: `${name} is not hex bytes` });
  }
  checkShape(bytes, name, shape);
  return bytes;
}

function checkShape(bytes: Uint8Array, name: string, shape: FieldShape): void {
  if (typeof shape === "number") {
    if (bytes.length !== shape) throw headerError(`${name} is ${bytes.length} bytes, not ${shape}`);
  } else if (shape === "quantity" && (bytes.length > 32 || bytes[0] === 0)) {
    throw headerError(`${name} is not a canonical scalar`);
  }
}

function decodeVote(vote: unknown): QbftExtraData["vote"] {
  if (!Array.isArray(vote)) throw extraError("the vote is not a list");
  if (vote.length === 0) return null;
  const [recipient, kind] = vote as unknown[];
  if (vote.length !== 2 || !(recipient instanceof Uint8Array) || !(kind instanceof Uint8Array)) {
    throw extraError("the vote is not [recipient, kind]");
  }
  if (recipient.length !== 20) throw extraError("the vote's recipient is not a 20-byte address");
  // Besu reads an empty kind, or a single 0x00, as a drop and a single 0xff as an add.
  if (kind.length === 0 || (kind.length === 1 && kind[0] === DROP_VOTE))
    return { recipient: bytesToHex(recipient), add: false };
  if (kind.length === 1 && kind[0] === ADD_VOTE) return { recipient: bytesToHex(recipient), add: true };
  throw extraError("the vote's kind is neither add (0xff) nor drop");
}

function decodeRound(round: unknown): number {
  if (!(round instanceof Uint8Array)) throw extraError("the round is not bytes");
  // A Java int written as a scalar: at most 4 bytes, no leading zero, not negative.
  if (round.length > 4 || round[0] === 0) throw extraError("the round is not a canonical scalar of at most 4 bytes");
  const value = Number(bytesToBigint(round));
  if (value > 0x7fffffff) throw extraError("the round is out of range");
  return value;
}

function listOf(value: unknown, what: string, length: number): Uint8Array[] {
  if (!Array.isArray(value)) throw extraError(`the ${what} are not a list`);
  return value.map((item: unknown) => {
    if (!(item instanceof Uint8Array) || item.length !== length) {
      throw extraError(`the ${what} are not each ${length} bytes`);
    }
    return item;
  });
}

function scalarBytes(value: bigint): Uint8Array {
  if (value === 0n) return new Uint8Array(0);
  const hex = value.toString(16);
  return hexToBytes(`0x${hex.length % 2 === 0 ? hex : `0${hex}`}`);
}

function bytesToBigint(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(bytesToHex(bytes));
}

function headerError(detail: string): AppError {
  return new AppError("verify.qbft_header", { reason: detail }, { detail });
}

function extraError(detail: string): AppError {
  return new AppError("verify.qbft_extra_data", { reason: detail }, { detail });
}
