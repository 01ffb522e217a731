/**
 * Where TraceRegistry keeps what its three views the verifier reads return (`batch(bytes32)`,
 * `organisation(address)`, `originOf(address)`), and those views' answers rebuilt from the
 * raw storage words, ABI-encoded as the view itself would return them. With the words proven
 * against a block's state root (`storage-proof.ts`), an endpoint's say-so is no longer needed
 * for them, and the verification core reads the same bytes it would from `eth_call`.
 *
 * The positions are solc's storage layout of `contracts/TraceRegistry.sol`, written out here
 * (the verifier carries no compiler); `registry-storage.test.ts` compiles the contract and
 * fails when one moved.
 */
import { AppError } from "../errors/app-error.ts";
import {
  addressWord,
  bytesToHex,
  checksumAddress,
  concatBytes,
  fixedBytes,
  keccak256,
  uintWord,
  wordToBigInt,
} from "./bytes.ts";
import { encodeBatchCall, encodeOrganisationCall, encodeOriginOfCall } from "./rpc.ts";

/** A member's place in a struct: its slot from the struct's first, and its byte offset from the word's low end. */
export interface MemberPlace {
  slot: number;
  offset: number;
}

/** TraceRegistry's storage layout, as far as the verifier reads it (solc 0.8.28; checked by test). */
export const REGISTRY_LAYOUT = {
  /** Slots of the state variables (mappings: the base of their keys' hashes). */
  variables: { _organisations: 7, _batches: 8, _successors: 9, _origins: 10, _containers: 12 },
  batchRecord: {
    itemsRoot: { slot: 0, offset: 0 },
    attester: { slot: 1, offset: 0 },
    itemCount: { slot: 1, offset: 20 },
    status: { slot: 1, offset: 24 },
    eventHead: { slot: 2, offset: 0 },
    custodian: { slot: 3, offset: 0 },
    pendingReceiver: { slot: 4, offset: 0 },
  },
  organisation: {
    signer: { slot: 0, offset: 0 },
    kind: { slot: 0, offset: 20 },
    status: { slot: 0, offset: 21 },
    regionCode: { slot: 0, offset: 22 },
    metadataCid: { slot: 1, offset: 0 },
  },
} as const satisfies {
  variables: Record<string, number>;
  batchRecord: Record<string, MemberPlace>;
  organisation: Record<string, MemberPlace>;
};

/** A CID is tens of bytes; a longer `metadataCid` would be a forged length asking for endless reads. */
const METADATA_MAX_BYTES = 256;
const TWO_256 = 1n << 256n;

/** One of the views answered from storage, with the key it was called with. */
export type RegistryView =
  | { kind: "batch"; batchId: string }
  | { kind: "organisation"; signer: string }
  | { kind: "originOf"; signer: string }
  // A case's or pallet's stored state hash (docs/aggregation.md): one slot.
  | { kind: "containerState"; containerKey: string };

const SELECTOR_HEX_LENGTH = 10;
const ZERO_WORD = `0x${"00".repeat(32)}`;
const ZERO_ADDRESS = `0x${"00".repeat(20)}`;
const SELECTORS = {
  batch: encodeBatchCall(ZERO_WORD).slice(0, SELECTOR_HEX_LENGTH),
  organisation: encodeOrganisationCall(ZERO_ADDRESS).slice(0, SELECTOR_HEX_LENGTH),
  originOf: encodeOriginOfCall(ZERO_ADDRESS).slice(0, SELECTOR_HEX_LENGTH),
  containerState: bytesToHex(keccak256(new TextEncoder().encode("containerState(bytes32)")).subarray(0, 4)),
};

/** The view `data` calls, when it is one answered from storage (else null: read it by quorum). */
export function registryViewOf(data: string): RegistryView | null {
  const lower = data.toLowerCase();
  // Exactly one argument word: anything else is not a call these views would accept.
  if (lower.length !== SELECTOR_HEX_LENGTH + 64 || !/^0x[0-9a-f]*$/.test(lower)) return null;
  const selector = lower.slice(0, SELECTOR_HEX_LENGTH);
  const word = `0x${lower.slice(SELECTOR_HEX_LENGTH)}`;
  if (selector === SELECTORS.batch) return { kind: "batch", batchId: word };
  if (selector === SELECTORS.containerState) return { kind: "containerState", containerKey: word };
  const addressOf = (): string | null => (/^0x0{24}/.test(word) ? checksumAddress(`0x${word.slice(2 + 24)}`) : null); // a dirty word is not an address
  if (selector === SELECTORS.organisation) {
    const signer = addressOf();
    return signer === null ? null : { kind: "organisation", signer };
  }
  if (selector === SELECTORS.originOf) {
    const signer = addressOf();
    return signer === null ? null : { kind: "originOf", signer };
  }
  return null;
}

/** How a view is named in an endpoint's outcome ("batch(0x12ab…)"). */
export function describeView(view: RegistryView): string {
  if (view.kind === "batch") return `batch(${view.batchId})`;
  if (view.kind === "containerState") return `containerState(${view.containerKey})`;
  return `${view.kind}(${view.signer})`;
}

/** A 32-byte storage key as 0x-hex (the form `eth_getProof` takes). */
export function slotKey(slot: bigint): string {
  return bytesToHex(uintWord(((slot % TWO_256) + TWO_256) % TWO_256));
}

/** The slot of `mapping[key]` (key already a 32-byte word) for a mapping at `mappingSlot`. */
function mappingEntry(key: Uint8Array, mappingSlot: number): bigint {
  return wordToBigInt(keccak256(concatBytes(key, uintWord(BigInt(mappingSlot)))));
}

function batchBase(batchId: string): bigint {
  return mappingEntry(fixedBytes(batchId, 32), REGISTRY_LAYOUT.variables._batches);
}

function containerSlot(containerKey: string): bigint {
  return mappingEntry(fixedBytes(containerKey, 32), REGISTRY_LAYOUT.variables._containers);
}

function organisationBase(signer: string): bigint {
  return mappingEntry(addressWord(signer), REGISTRY_LAYOUT.variables._organisations);
}

/** Where the words of a long `bytes` value at `slot` start. */
function bytesDataStart(slot: bigint): bigint {
  return wordToBigInt(keccak256(uintWord(slot % TWO_256)));
}

function placeOf(base: bigint, place: MemberPlace): bigint {
  return (base + BigInt(place.slot)) % TWO_256;
}

/**
 * The slots to prove first for `view`. For `organisation`, the first two words of a long
 * `metadataCid` are asked for at once (a CID fits in them), so a phone usually needs one round.
 */
export function initialSlots(view: RegistryView): bigint[] {
  if (view.kind === "batch") {
    const base = batchBase(view.batchId);
    return [0, 1, 2, 3, 4].map((n) => (base + BigInt(n)) % TWO_256);
  }
  if (view.kind === "containerState") return [containerSlot(view.containerKey)];
  const org = organisationBase(view.signer);
  const word0 = placeOf(org, REGISTRY_LAYOUT.organisation.signer);
  if (view.kind === "originOf") {
    const key = addressWord(view.signer);
    return [
      word0,
      mappingEntry(key, REGISTRY_LAYOUT.variables._successors),
      mappingEntry(key, REGISTRY_LAYOUT.variables._origins),
    ];
  }
  const cidSlot = placeOf(org, REGISTRY_LAYOUT.organisation.metadataCid);
  const data = bytesDataStart(cidSlot);
  return [word0, cidSlot, data, (data + 1n) % TWO_256];
}

/** Bits of a packed word: `bytes` bytes at byte `offset` from the low end. */
function field(word: bigint, place: MemberPlace, bytes: number): bigint {
  return (word >> BigInt(8 * place.offset)) & ((1n << BigInt(8 * bytes)) - 1n);
}

const word = (value: bigint): Uint8Array => uintWord(value);

/** What is still missing to answer, or the answer: the view's ABI-encoded return data. */
export type StorageAnswer = { data: string } | { need: bigint[] };

/**
 * Rebuilds `view`'s return data from proven storage words (`values`: slot → word; a slot
 * not in the trie is zero, and the caller puts it in as such). When a long `metadataCid`
 * needs words not yet read, says which.
 */
export function answerFromStorage(view: RegistryView, values: ReadonlyMap<bigint, bigint>): StorageAnswer {
  const missing: bigint[] = [];
  const read = (slot: bigint): bigint => {
    const value = values.get(slot);
    if (value === undefined) {
      missing.push(slot);
      return 0n;
    }
    return value;
  };
  const L = REGISTRY_LAYOUT;
  if (view.kind === "containerState") {
    const state = read(containerSlot(view.containerKey));
    return missing.length > 0 ? { need: missing } : { data: bytesToHex(word(state)) };
  }
  if (view.kind === "batch") {
    const base = batchBase(view.batchId);
    const packed = read(placeOf(base, L.batchRecord.attester));
    const tuple = [
      read(placeOf(base, L.batchRecord.itemsRoot)),
      field(packed, L.batchRecord.attester, 20),
      field(packed, L.batchRecord.itemCount, 4),
      field(packed, L.batchRecord.status, 1),
      read(placeOf(base, L.batchRecord.eventHead)),
      field(read(placeOf(base, L.batchRecord.custodian)), L.batchRecord.custodian, 20),
      field(read(placeOf(base, L.batchRecord.pendingReceiver)), L.batchRecord.pendingReceiver, 20),
    ];
    if (missing.length > 0) return { need: missing };
    return { data: bytesToHex(concatBytes(...tuple.map(word))) };
  }
  const org = organisationBase(view.signer);
  const word0 = read(placeOf(org, L.organisation.signer));
  const orgStatus = field(word0, L.organisation.status, 1);
  if (view.kind === "originOf") {
    const key = addressWord(view.signer);
    const successor = read(mappingEntry(key, L.variables._successors));
    const origin = read(mappingEntry(key, L.variables._origins));
    if (missing.length > 0) return { need: missing };
    // As the view decides: a key never registered and never retired has no origin; else its
    // recorded origin, or itself when none is recorded.
    const answer =
      orgStatus === 0n && successor === 0n ? 0n : origin !== 0n ? origin : wordToBigInt(addressWord(view.signer));
    return { data: bytesToHex(word(answer)) };
  }
  const cidSlot = placeOf(org, L.organisation.metadataCid);
  const cid = readBytes(cidSlot, read);
  if (missing.length > 0) return { need: missing };
  const padded = new Uint8Array(Math.ceil(cid.length / 32) * 32);
  padded.set(cid);
  return {
    data: bytesToHex(
      concatBytes(
        word(0x20n),
        word(field(word0, L.organisation.signer, 20)),
        word(field(word0, L.organisation.kind, 1)),
        word(orgStatus),
        word(field(word0, L.organisation.regionCode, 4)),
        word(0xa0n), // the bytes' offset inside the tuple: after its five head words
        word(BigInt(cid.length)),
        padded,
      ),
    ),
  };
}

/**
 * A `bytes` value in storage: short (under 32 bytes) in its slot's high bytes with twice its
 * length in the low byte; long as 2·length+1 in the slot and its words from keccak(slot) on.
 * Words not read yet count as zero here; `read` has noted them, and the caller asks for them.
 */
function readBytes(slot: bigint, read: (slot: bigint) => bigint): Uint8Array {
  const head = read(slot);
  if ((head & 1n) === 0n) {
    const length = Number((head & 0xffn) / 2n);
    if (length > 31) throw new AppError("verify.abi_decode", { reason: "short bytes longer than 31" });
    return uintWord(head).subarray(0, length);
  }
  const length = (head - 1n) / 2n;
  if (length < 32n) throw new AppError("verify.abi_decode", { reason: "long bytes shorter than 32" });
  if (length > BigInt(METADATA_MAX_BYTES)) throw new AppError("verify.abi_decode", { reason: "bytes too long" });
  const start = bytesDataStart(slot);
  const words: Uint8Array[] = [];
  for (let i = 0n; i * 32n < length; i++) words.push(uintWord(read((start + i) % TWO_256)));
  return concatBytes(...words).subarray(0, Number(length));
}

/** The 0x-hex of a proven word, for messages. */
export function wordHex(value: bigint): string {
  return bytesToHex(uintWord(value));
}
