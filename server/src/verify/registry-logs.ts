/**
 * The registry's logs that say who was entitled to speak about a batch, decoded from their
 * raw form (`eth_getLogs` JSON in the browser, ethers' `Log` in the server and the CLI) by
 * one decoder, so every verifier reads the same facts. Topics are computed from the event
 * signatures at load (a typo cannot hide behind a constant); a test compares them with the
 * contract's ABI. Browser-safe, no ABI library: each event's data is a few words.
 */
import { AppError } from "../errors/app-error.ts";
import { bytesToHex, checksumAddress, hexToBytes, keccak256Hex, wordToBigInt } from "./bytes.ts";

/** A log as a node or ethers gives it: positions as hex strings, numbers or bigints. */
export interface RawLog {
  topics: readonly string[];
  data: string;
  blockNumber: string | number | bigint | null;
  logIndex?: string | number | bigint | null;
  /** ethers names the log index `index`. */
  index?: number;
  removed?: boolean;
}

/** Where a log sits in the chain: logs are ordered by block, then by index in the block. */
export interface LogPosition {
  blockNumber: number;
  logIndex: number;
}

/** `ITraceRegistry.OrgKind` by index. */
export const ORG_KINDS = ["none", "cooperative", "processor", "logistics", "retailer", "inspector"] as const;
export type OrgKindName = (typeof ORG_KINDS)[number];

export type RegistryLog = { at: LogPosition } & (
  | { type: "OrganisationRegistered"; signer: string; kind: OrgKindName }
  | { type: "SignerRotated"; previousSigner: string; newSigner: string }
  | { type: "CompanyPrefixBound" | "CompanyPrefixReleased"; prefix: bigint; digits: number; owner: string }
  | { type: "GtinBound" | "GtinReleased"; gtin: bigint; owner: string }
  | {
      type: "GtinGrantChanged";
      gtin: bigint;
      owner: string;
      grantee: string;
      granted: boolean;
      nonce: bigint;
      deadline: bigint;
      signature: string;
    }
  | { type: "BatchAttested"; batchId: string; attester: string; gtin: bigint }
  | {
      type: "EventRecorded";
      batchId: string;
      actor: string;
      bizStep: number;
      occurredAt: bigint;
      counterparty: string;
      newHead: string;
    }
  | { type: "CustodyTransferred"; batchId: string; from: string; to: string }
  | {
      type: "InspectionRequested";
      batchId: string;
      inspector: string;
      requestedBy: string;
      nonce: bigint;
      deadline: bigint;
      signature: string;
    }
  /** OpenZeppelin AccessControl's: who held a role from when (`sender` granted or revoked it). */
  | { type: "RoleGranted" | "RoleRevoked"; role: string; account: string; sender: string }
);

export type RegistryLogType = RegistryLog["type"];

const SIGNATURES: Readonly<Record<RegistryLogType, string>> = {
  OrganisationRegistered: "OrganisationRegistered(address,uint8,uint32,bytes)",
  SignerRotated: "SignerRotated(address,address)",
  CompanyPrefixBound: "CompanyPrefixBound(uint64,uint8,address)",
  CompanyPrefixReleased: "CompanyPrefixReleased(uint64,uint8,address)",
  GtinBound: "GtinBound(uint64,address)",
  GtinReleased: "GtinReleased(uint64,address)",
  GtinGrantChanged: "GtinGrantChanged(uint64,address,address,bool,uint256,uint64,bytes)",
  BatchAttested:
    "BatchAttested(bytes32,address,uint64,string,bytes32,uint32,uint64,string,uint64,bytes,uint256,uint64,bytes)",
  EventRecorded: "EventRecorded(bytes32,address,uint8,uint64,bytes,address,uint256,uint64,bytes,bytes32)",
  CustodyTransferred: "CustodyTransferred(bytes32,address,address)",
  InspectionRequested: "InspectionRequested(bytes32,address,address,uint256,uint64,bytes)",
  RoleGranted: "RoleGranted(bytes32,address,address)",
  RoleRevoked: "RoleRevoked(bytes32,address,address)",
};

const utf8 = new TextEncoder();

/** The registry's regulator role (`keccak256("REGULATOR_ROLE")`): only its holders may ask an inspection unsigned. */
export const REGULATOR_ROLE = keccak256Hex(utf8.encode("REGULATOR_ROLE"));

/** topic0 of each log type. */
export const LOG_TOPICS: Readonly<Record<RegistryLogType, string>> = Object.fromEntries(
  Object.entries(SIGNATURES).map(([type, signature]) => [type, keccak256Hex(utf8.encode(signature))]),
) as Record<RegistryLogType, string>;

const TYPE_BY_TOPIC = new Map<string, RegistryLogType>(
  Object.entries(LOG_TOPICS).map(([type, topic]) => [topic, type as RegistryLogType]),
);

function fail(reason: string): never {
  throw new AppError("verify.abi_decode", { reason });
}

function toNumber(value: string | number | bigint | null | undefined, what: string): number {
  if (value === null || value === undefined) fail(`no ${what}`);
  const n = typeof value === "string" ? Number.parseInt(value, value.startsWith("0x") ? 16 : 10) : Number(value);
  if (!Number.isSafeInteger(n) || n < 0) fail(`bad ${what}`);
  return n;
}

/** A 32-byte topic or data word read as an address (refusing dirty high bytes). */
function addressOf(word: Uint8Array): string {
  if (word.length !== 32 || word.subarray(0, 12).some((byte) => byte !== 0)) fail("dirty address");
  return checksumAddress(bytesToHex(word.subarray(12)));
}

function uintOf(word: Uint8Array, bits: number): bigint {
  const value = wordToBigInt(word);
  if (value >= 1n << BigInt(bits)) fail("uint range");
  return value;
}

class Words {
  readonly bytes: Uint8Array;
  constructor(data: string) {
    this.bytes = hexToBytes(data);
    if (this.bytes.length % 32 !== 0) fail("not whole words");
  }
  word(index: number): Uint8Array {
    if ((index + 1) * 32 > this.bytes.length) fail("short data");
    return this.bytes.subarray(index * 32, (index + 1) * 32);
  }
  /** The `bytes` whose offset is in word `index`, as 0x-hex. */
  dynamic(index: number): string {
    const offset = Number(uintOf(this.word(index), 32));
    if (offset % 32 !== 0 || offset + 32 > this.bytes.length) fail("bad offset");
    const length = Number(uintOf(this.bytes.subarray(offset, offset + 32), 32));
    if (offset + 32 + length > this.bytes.length) fail("short bytes");
    return bytesToHex(this.bytes.subarray(offset + 32, offset + 32 + length));
  }
}

function topicWord(topics: readonly string[], index: number): Uint8Array {
  const topic = topics[index];
  if (topic === undefined) fail("missing topic");
  const bytes = hexToBytes(topic);
  if (bytes.length !== 32) fail("topic is not a word");
  return bytes;
}

/** Orders logs as the chain did. */
export function comparePositions(a: LogPosition, b: LogPosition): number {
  return a.blockNumber - b.blockNumber || a.logIndex - b.logIndex;
}

/**
 * The registry log `raw` decoded, or null for a log of another kind or one a reorg removed.
 * Throws `verify.abi_decode` for a log of a known kind that is malformed.
 */
export function decodeRegistryLog(raw: RawLog): RegistryLog | null {
  if (raw.removed === true) return null;
  const topic0 = raw.topics[0];
  const type = topic0 === undefined ? undefined : TYPE_BY_TOPIC.get(topic0.toLowerCase());
  if (type === undefined) return null;
  const at: LogPosition = {
    blockNumber: toNumber(raw.blockNumber, "block number"),
    logIndex: toNumber(raw.logIndex ?? raw.index, "log index"),
  };
  const t = (index: number): Uint8Array => topicWord(raw.topics, index);
  const data = new Words(raw.data);
  switch (type) {
    case "OrganisationRegistered": {
      const kind = ORG_KINDS[Number(uintOf(data.word(0), 8))];
      if (kind === undefined) fail("kind out of range");
      return { at, type, signer: addressOf(t(1)), kind };
    }
    case "SignerRotated":
      return { at, type, previousSigner: addressOf(t(1)), newSigner: addressOf(t(2)) };
    case "CompanyPrefixBound":
    case "CompanyPrefixReleased":
      return { at, type, prefix: uintOf(t(1), 64), digits: Number(uintOf(data.word(0), 8)), owner: addressOf(t(2)) };
    case "GtinBound":
    case "GtinReleased":
      return { at, type, gtin: uintOf(t(1), 64), owner: addressOf(t(2)) };
    case "GtinGrantChanged":
      return {
        at,
        type,
        gtin: uintOf(t(1), 64),
        owner: addressOf(t(2)),
        grantee: addressOf(t(3)),
        granted: uintOf(data.word(0), 1) === 1n,
        nonce: uintOf(data.word(1), 256),
        deadline: uintOf(data.word(2), 64),
        signature: data.dynamic(3),
      };
    case "BatchAttested":
      return { at, type, batchId: bytesToHex(t(1)), attester: addressOf(t(2)), gtin: uintOf(data.word(0), 64) };
    case "EventRecorded":
      return {
        at,
        type,
        batchId: bytesToHex(t(1)),
        actor: addressOf(t(2)),
        bizStep: Number(uintOf(data.word(0), 8)),
        occurredAt: uintOf(data.word(1), 64),
        counterparty: addressOf(data.word(3)),
        newHead: bytesToHex(data.word(7)),
      };
    case "CustodyTransferred":
      return { at, type, batchId: bytesToHex(t(1)), from: addressOf(t(2)), to: addressOf(t(3)) };
    case "InspectionRequested":
      return {
        at,
        type,
        batchId: bytesToHex(t(1)),
        inspector: addressOf(t(2)),
        requestedBy: addressOf(t(3)),
        nonce: uintOf(data.word(0), 256),
        deadline: uintOf(data.word(1), 64),
        signature: data.dynamic(2),
      };
    case "RoleGranted":
    case "RoleRevoked":
      return { at, type, role: bytesToHex(t(1)), account: addressOf(t(2)), sender: addressOf(t(3)) };
  }
}

/** The registry logs among `raws`, decoded and in chain order; other logs are left out. */
export function decodeRegistryLogs(raws: Iterable<RawLog>): RegistryLog[] {
  const logs: RegistryLog[] = [];
  for (const raw of raws) {
    const log = decodeRegistryLog(raw);
    if (log !== null) logs.push(log);
  }
  return logs.sort((a, b) => comparePositions(a.at, b.at));
}
