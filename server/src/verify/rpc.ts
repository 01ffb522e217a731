/**
 * Reading the registry over JSON-RPC with `fetch`, and the ABI of the two views the page
 * needs: `batch(bytes32)` and `organisation(address)`. Selectors are computed from the
 * signatures at load, so a typo cannot hide behind a hard-coded constant.
 */
import {
  addressWord,
  bytesToHex,
  checksumAddress,
  concatBytes,
  fixedBytes,
  hexToBytes,
  keccak256,
  wordToBigInt,
} from "./bytes.ts";
import { AppError } from "../errors/app-error.ts";
import type { RawLog } from "./registry-logs.ts";

export interface RpcClient {
  /** `eth_chainId`. */
  chainId(): Promise<bigint>;
  /** `eth_call` at `block` (a hex number; the latest when absent); the returned data as 0x-hex. */
  ethCall(to: string, data: string, block?: string): Promise<string>;
  /** `eth_getLogs` of one filter: the logs as the node gives them. */
  getLogs?: (filter: LogFilter) => Promise<RawLog[]>;
}

/** An `eth_getLogs` filter: topic alternatives as arrays, null for any. */
export interface LogFilter {
  address: string;
  topics: (string | readonly string[] | null)[];
  fromBlock: string;
  toBlock: string;
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** A client of one endpoint that also sends any other method (the quorum client's block, proof and pinned-block reads). */
export interface JsonRpcTransport extends RpcClient {
  /** One JSON-RPC call, batched with the others of the same turn; its result as the node gave it. */
  request(method: string, params: unknown[]): Promise<unknown>;
}

/**
 * An abort signal that fires after `ms`. `AbortSignal.timeout` would do, but the WebViews
 * of older Android phones (Chrome < 103) lack it, and the scan page must run there.
 */
export function timeoutSignal(ms: number): AbortSignal {
  const controller = new AbortController();
  const timer: unknown = setTimeout(() => {
    controller.abort();
  }, ms);
  // In Node the timer must not keep a finished CLI or test process alive.
  (timer as { unref?: () => void }).unref?.();
  return controller.signal;
}

export interface RpcClientOptions {
  fetch?: FetchLike;
  timeoutMs?: number;
  /**
   * Send the calls made in the same moment as one JSON-RPC batch (true by default): on a
   * phone's network each request costs a round trip, and the page's reads start together.
   */
  batch?: boolean;
}

/** A batch the read-only `/rpc` proxy accepts at most. */
export const RPC_BATCH_MAX = 20;

interface PendingCall {
  id: number;
  method: string;
  params: unknown[];
  resolve: (result: unknown) => void;
  reject: (error: unknown) => void;
}

type RpcAnswer = { id?: unknown; result?: unknown; error?: { message?: unknown } } | null;

/** The result of one answer, or the AppError saying why there is none. */
function resultOf(method: string, answer: RpcAnswer | undefined): unknown {
  if (answer === undefined || answer === null || typeof answer !== "object") {
    throw new AppError("verify.rpc", { method, error: "no answer" });
  }
  if (answer.error !== undefined || answer.result === undefined) {
    throw new AppError("verify.rpc", { method, error: answer.error?.message ?? "no result" });
  }
  return answer.result;
}

/** A JSON-RPC client over HTTP POST. `rpcUrl` must be absolute (resolve a relative one against the page first). */
export function createRpcClient(rpcUrl: string, options: RpcClientOptions = {}): JsonRpcTransport {
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
  let nextId = 1;
  let queue: PendingCall[] = [];

  const post = async (calls: readonly PendingCall[]): Promise<void> => {
    const single = calls.length === 1 ? calls[0] : undefined;
    const methods = calls.map((c) => c.method).join(",");
    const payload = calls.map(({ id, method, params }) => ({ jsonrpc: "2.0", id, method, params }));
    let body: unknown;
    try {
      let response: Response;
      try {
        response = await fetchImpl(rpcUrl, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(single === undefined ? payload : payload[0]),
          signal: timeoutSignal(options.timeoutMs ?? 15_000),
        });
      } catch (error) {
        throw new AppError("verify.rpc", { method: methods, reason: "unreachable" }, { cause: error });
      }
      if (!response.ok) throw new AppError("verify.rpc", { method: methods, status: response.status });
      try {
        body = await response.json();
      } catch (error) {
        throw new AppError("verify.rpc", { method: methods, reason: "not JSON" }, { cause: error });
      }
    } catch (error) {
      for (const call of calls) call.reject(error);
      return;
    }
    // Answers of a batch come in any order: matched by id.
    const answers = Array.isArray(body) ? (body as RpcAnswer[]) : [body as RpcAnswer];
    for (const call of calls) {
      const answer =
        single !== undefined && !Array.isArray(body)
          ? answers[0]
          : answers.find((a) => a !== null && typeof a === "object" && a.id === call.id);
      try {
        call.resolve(resultOf(call.method, answer));
      } catch (error) {
        call.reject(error);
      }
    }
  };

  const flush = (): void => {
    const calls = queue;
    queue = [];
    for (let i = 0; i < calls.length; i += RPC_BATCH_MAX) void post(calls.slice(i, i + RPC_BATCH_MAX));
  };

  const call = (method: string, params: unknown[]): Promise<unknown> =>
    new Promise((resolve, reject) => {
      queue.push({ id: nextId++, method, params, resolve, reject });
      if (options.batch === false) flush();
      // The calls started in this same turn join one request (a resolved promise, not
      // queueMicrotask: older Android WebViews lack it).
      else if (queue.length === 1) void Promise.resolve().then(flush);
    });

  const hexResult = async (method: string, params: unknown[]): Promise<string> => {
    const result = await call(method, params);
    if (typeof result !== "string" || !/^0x[0-9a-fA-F]*$/.test(result)) {
      throw new AppError("verify.rpc", { method, reason: "result is not hex" });
    }
    return result;
  };
  return {
    request: call,
    chainId: async () => BigInt(await hexResult("eth_chainId", [])),
    ethCall: (to, data, block) => hexResult("eth_call", [{ to, data }, block ?? "latest"]),
    getLogs: async (filter) => {
      const result = await call("eth_getLogs", [filter]);
      if (!Array.isArray(result)) throw new AppError("verify.rpc", { method: "eth_getLogs", reason: "not a list" });
      return result.map((entry: unknown): RawLog => {
        const log = entry as Partial<RawLog> | null;
        if (log === null || !Array.isArray(log.topics) || typeof log.data !== "string") {
          throw new AppError("verify.rpc", { method: "eth_getLogs", reason: "malformed log" });
        }
        return {
          topics: log.topics.map(String),
          data: log.data,
          blockNumber: log.blockNumber ?? null,
          logIndex: log.logIndex ?? null,
          removed: log.removed === true,
        };
      });
    },
  };
}

function selector(signature: string): Uint8Array {
  return keccak256(new TextEncoder().encode(signature)).subarray(0, 4);
}

const BATCH_SELECTOR = selector("batch(bytes32)");
const ORGANISATION_SELECTOR = selector("organisation(address)");
const ORIGIN_OF_SELECTOR = selector("originOf(address)");

/** `ITraceRegistry.BatchStatus`. */
export type BatchStatusOnChain = "none" | "active" | "recalled";
export const BATCH_STATUS: readonly BatchStatusOnChain[] = ["none", "active", "recalled"];

/** `ITraceRegistry.OrgKind`. */
export type OrgKindOnChain = "none" | "cooperative" | "processor" | "logistics" | "retailer" | "inspector";
const ORG_KIND: readonly OrgKindOnChain[] = ["none", "cooperative", "processor", "logistics", "retailer", "inspector"];

/** `ITraceRegistry.OrgStatus`. */
export type OrgStatusOnChain = "none" | "active" | "suspended";
const ORG_STATUS: readonly OrgStatusOnChain[] = ["none", "active", "suspended"];

export interface BatchRecordOnChain {
  itemsRoot: string;
  attester: string;
  itemCount: number;
  status: BatchStatusOnChain;
  eventHead: string;
  /** The custodian's origin, zero while the batch is with its cooperative (registry version 2; absent before). */
  custodian?: string;
  /** The receiver the latest shipping named, until it receives; zero when none. */
  pendingReceiver?: string;
}

export interface OrganisationOnChain {
  signer: string;
  kind: OrgKindOnChain;
  status: OrgStatusOnChain;
  regionCode: number;
  metadataCid: string;
}

export function encodeBatchCall(batchId: string): string {
  return bytesToHex(concatBytes(BATCH_SELECTOR, fixedBytes(batchId, 32)));
}

export function encodeOrganisationCall(signer: string): string {
  return bytesToHex(concatBytes(ORGANISATION_SELECTOR, addressWord(signer)));
}

function words(data: string): Uint8Array {
  const bytes = hexToBytes(data);
  if (bytes.length % 32 !== 0) throw new AppError("verify.abi_decode", { reason: "not whole words" });
  return bytes;
}

function wordAt(bytes: Uint8Array, index: number): Uint8Array {
  if ((index + 1) * 32 > bytes.length) throw new AppError("verify.abi_decode", { reason: "short", index });
  return bytes.subarray(index * 32, (index + 1) * 32);
}

/** An index into `names` from a word, refusing values the enum does not have. */
function enumAt<T>(bytes: Uint8Array, index: number, names: readonly T[]): T {
  const value = wordToBigInt(wordAt(bytes, index));
  const name = value < BigInt(names.length) ? names[Number(value)] : undefined;
  if (name === undefined) throw new AppError("verify.abi_decode", { reason: "enum out of range", index });
  return name;
}

function addressAt(bytes: Uint8Array, index: number): string {
  const word = wordAt(bytes, index);
  if (word.subarray(0, 12).some((byte) => byte !== 0)) {
    throw new AppError("verify.abi_decode", { reason: "dirty address", index });
  }
  return checksumAddress(bytesToHex(word.subarray(12)));
}

function smallUintAt(bytes: Uint8Array, index: number, bits: number): number {
  const value = wordToBigInt(wordAt(bytes, index));
  if (value >= 1n << BigInt(bits)) throw new AppError("verify.abi_decode", { reason: "uint range", index });
  return Number(value);
}

/** Decodes `batch(bytes32)`'s return: a static tuple, seven words in place (five on a version 1 registry). */
export function decodeBatchRecord(data: string): BatchRecordOnChain {
  const bytes = words(data);
  return {
    itemsRoot: bytesToHex(wordAt(bytes, 0)),
    attester: addressAt(bytes, 1),
    itemCount: smallUintAt(bytes, 2, 32),
    status: enumAt(bytes, 3, BATCH_STATUS),
    eventHead: bytesToHex(wordAt(bytes, 4)),
    // Version 2 appended the custody words; version 1 answers five words.
    ...(bytes.length >= 7 * 32 ? { custodian: addressAt(bytes, 5), pendingReceiver: addressAt(bytes, 6) } : {}),
  };
}

export function encodeOriginOfCall(signer: string): string {
  return bytesToHex(concatBytes(ORIGIN_OF_SELECTOR, addressWord(signer)));
}

/** `originOf(address)`: the key an organisation was first registered with (zero for a key no organisation held). */
export async function readOriginOf(rpc: RpcClient, registry: string, signer: string): Promise<string> {
  return addressAt(words(await rpc.ethCall(registry, encodeOriginOfCall(signer))), 0);
}

/**
 * Decodes `organisation(address)`'s return: a dynamic tuple (it holds `bytes`), so the data
 * starts with the tuple's offset, and `metadataCid` is at an offset inside the tuple.
 */
export function decodeOrganisation(data: string): OrganisationOnChain {
  const bytes = words(data);
  const tupleStart = smallUintAt(bytes, 0, 32);
  if (tupleStart % 32 !== 0) throw new AppError("verify.abi_decode", { reason: "misaligned tuple" });
  const tuple = bytes.subarray(tupleStart);
  const cidOffset = smallUintAt(tuple, 4, 32);
  if (cidOffset % 32 !== 0) throw new AppError("verify.abi_decode", { reason: "misaligned bytes" });
  const cid = tuple.subarray(cidOffset);
  const cidLength = smallUintAt(cid, 0, 32);
  if (32 + cidLength > cid.length) throw new AppError("verify.abi_decode", { reason: "short bytes" });
  return {
    signer: addressAt(tuple, 0),
    kind: enumAt(tuple, 1, ORG_KIND),
    status: enumAt(tuple, 2, ORG_STATUS),
    regionCode: smallUintAt(tuple, 3, 32),
    metadataCid: bytesToHex(cid.subarray(32, 32 + cidLength)),
  };
}

export async function readBatchRecord(rpc: RpcClient, registry: string, batchId: string): Promise<BatchRecordOnChain> {
  return decodeBatchRecord(await rpc.ethCall(registry, encodeBatchCall(batchId)));
}

export async function readOrganisation(rpc: RpcClient, registry: string, signer: string): Promise<OrganisationOnChain> {
  return decodeOrganisation(await rpc.ethCall(registry, encodeOrganisationCall(signer)));
}
