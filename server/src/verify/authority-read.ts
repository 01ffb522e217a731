/**
 * Reading, over JSON-RPC, the registry logs `judgeAuthority` needs for one batch, with as
 * few round trips as a phone can afford: the batch's own logs, its GTIN's bindings and grants,
 * the grants and revocations of the regulator role, and the origins and registrations (kinds) of the keys the resolution names, in one batch of
 * calls beside the page's other reads; a second round only when the logs name keys the
 * resolution did not, an organisation was rotated, or the GTIN was granted.
 * Every log filter is on an indexed value, so the node answers only what concerns the batch.
 */
import { companyPrefixOf, COMPANY_PREFIX_MAX_DIGITS, COMPANY_PREFIX_MIN_DIGITS } from "../domain/gtin-entitlement.ts";
import { addressWord, bytesToHex, fixedBytes, uintWord } from "./bytes.ts";
import {
  comparePositions,
  decodeRegistryLogs,
  LOG_TOPICS,
  REGULATOR_ROLE,
  type LogPosition,
  type RawLog,
  type RegistryLog,
} from "./registry-logs.ts";
import { readBatchRecord, readOriginOf, type BatchRecordOnChain, type LogFilter, type RpcClient } from "./rpc.ts";
import { sameHex } from "./bytes.ts";
import { AppError } from "../errors/app-error.ts";
import { judgeAuthority, type AuthorityInput, type AuthorityReport } from "./authority.ts";
import { signedBy } from "./batch.ts";
import { judgeAsking, type ContractSignature, type ContractVerdict, type WalletCheck } from "./contract-signatures.ts";

/** Topic alternatives the read-only proxy accepts in one position. */
const TOPIC_ALTERNATIVES_MAX = 8;
const ZERO = "0x0000000000000000000000000000000000000000";

export interface AuthorityReadRequest {
  registry: string;
  batchId: string;
  gtin: bigint;
  /** Keys named by the resolution (attester, actors, receivers): their origins are read at once. */
  keys: readonly string[];
  /** The first block to search (the registry's deployment), as a block number. */
  fromBlock: number;
  /**
   * The batch's events in hash-chain order, each with the head after it, as the caller holds
   * them (the scan page: the resolution's signed events), asked for once the first answers are
   * in (so computing them does not hold up the reads). When given, the chain's own event logs
   * (the bulk of the bytes) are not read: those of the events the registry's head covers stand
   * in for them, and only the logs of `inspectors` (the actors of inspecting and certifying
   * events) are read, for where they sit beside the inspection requests.
   */
  events?: () => readonly ChainEvent[];
  inspectors?: readonly string[];
  /** The batch's record, when the caller reads it anyway (with `events`: its head says which of them are anchored). */
  record?: Promise<BatchRecordOnChain>;
}

/** An event's signed fields that custody reads, and the hash chain's head after it. */
export interface ChainEvent {
  actor: string;
  bizStep: number;
  occurredAt: bigint;
  counterparty: string;
  newHead: string;
}

export interface AuthorityLogs {
  logs: RegistryLog[];
  /** Key → origin, from the registry's `originOf`. */
  origins: Map<string, string>;
}

const topicOfAddress = (address: string): string => bytesToHex(addressWord(address));
const topicOfUint = (value: bigint): string => bytesToHex(uintWord(value));

function chunks<T>(values: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < values.length; i += size) out.push(values.slice(i, i + size));
  return out;
}

function distinct(addresses: Iterable<string>): string[] {
  const seen = new Map<string, string>();
  for (const a of addresses) if (a.toLowerCase() !== ZERO) seen.set(a.toLowerCase(), a);
  return [...seen.values()];
}

/** Reads the logs and origins for `request`; see the module comment. */
export async function readAuthorityLogs(rpc: RpcClient, request: AuthorityReadRequest): Promise<AuthorityLogs> {
  const { getLogs } = rpc;
  if (getLogs === undefined) throw new AppError("verify.rpc", { method: "eth_getLogs", reason: "not offered" });
  const { registry } = request;
  const range = { address: registry, fromBlock: `0x${request.fromBlock.toString(16)}`, toBlock: "latest" };
  const logsOf = (topics: LogFilter["topics"]): Promise<RawLog[]> => getLogs({ ...range, topics });
  const origins = new Map<string, string>();
  const originsOf = (keys: readonly string[]): Promise<void>[] =>
    keys.map(async (key) => {
      const origin = await readOriginOf(rpc, registry, key);
      if (origin.toLowerCase() !== ZERO) origins.set(key.toLowerCase(), origin);
    });

  const batchTopic = bytesToHex(fixedBytes(request.batchId, 32));
  const prefixTopics: string[] = [];
  for (let digits = COMPANY_PREFIX_MIN_DIGITS; digits <= COMPANY_PREFIX_MAX_DIGITS; digits++) {
    prefixTopics.push(topicOfUint(companyPrefixOf(request.gtin, digits).value));
  }
  const firstKeys = distinct(request.keys);
  const registrationsOf = (addresses: readonly string[]): Promise<RawLog[]>[] =>
    chunks(addresses.map(topicOfAddress), TOPIC_ALTERNATIVES_MAX).map((alternatives) =>
      logsOf([LOG_TOPICS.OrganisationRegistered, alternatives]),
    );
  // One turn: these calls leave as one JSON-RPC batch. A key never rotated is its own origin,
  // so the registrations under the resolution's keys are usually all the kinds needed.
  const given = request.events;
  const inspectors = distinct(request.inspectors ?? []);
  const batchTopics = [LOG_TOPICS.BatchAttested, LOG_TOPICS.CustodyTransferred, LOG_TOPICS.InspectionRequested];
  const recordRead = given === undefined ? null : (request.record ?? readBatchRecord(rpc, registry, request.batchId));
  const first = [
    logsOf([given === undefined ? [...batchTopics, LOG_TOPICS.EventRecorded] : batchTopics, batchTopic]),
    ...chunks(inspectors.map(topicOfAddress), TOPIC_ALTERNATIVES_MAX).map((alternatives) =>
      logsOf([LOG_TOPICS.EventRecorded, batchTopic, alternatives]),
    ),
    logsOf([[LOG_TOPICS.GtinBound, LOG_TOPICS.GtinReleased, LOG_TOPICS.GtinGrantChanged], topicOfUint(request.gtin)]),
    // Who held the regulator role when: an unsigned inspection request counts only from one of them.
    logsOf([[LOG_TOPICS.RoleGranted, LOG_TOPICS.RoleRevoked], REGULATOR_ROLE]),
    ...chunks([...new Set(prefixTopics)], TOPIC_ALTERNATIVES_MAX).map((alternatives) =>
      logsOf([[LOG_TOPICS.CompanyPrefixBound, LOG_TOPICS.CompanyPrefixReleased], alternatives]),
    ),
    ...registrationsOf(firstKeys),
  ];
  // Awaited together, so a failed read leaves no other rejection unobserved.
  const [firstLogs, , record] = await Promise.all([Promise.all(first), Promise.all(originsOf(firstKeys)), recordRead]);
  const raws = firstLogs.flat();
  const logs = decodeRegistryLogs(raws);
  if (given !== undefined && record !== null) logs.push(...standIns(request.batchId, given(), record.eventHead, logs));

  // A second round only for what the first could not know: keys only the logs name, the
  // registrations of rotated organisations (under their origins), and a grant's parties' rotations.
  const named: string[] = [];
  for (const log of logs) {
    if (log.type === "EventRecorded") named.push(log.actor, log.counterparty);
    else if (log.type === "BatchAttested") named.push(log.attester);
    else if (log.type === "InspectionRequested") named.push(log.inspector, log.requestedBy);
  }
  const known = new Set(firstKeys.map((k) => k.toLowerCase()));
  const laterKeys = distinct(named).filter((k) => !known.has(k.toLowerCase()));
  const unregistered = distinct(origins.values()).filter((o) => !known.has(o.toLowerCase()));
  const grantParties = distinct(
    logs.flatMap((log) => (log.type === "GtinGrantChanged" ? [log.owner, log.grantee] : [])),
  ).map(topicOfAddress);
  const second = [
    ...registrationsOf(distinct([...laterKeys, ...unregistered])),
    // A grant names origins; the owner may have signed with the key it was rotated to.
    ...chunks(grantParties, TOPIC_ALTERNATIVES_MAX).map((alternatives) =>
      logsOf([LOG_TOPICS.SignerRotated, alternatives]),
    ),
  ];
  if (second.length === 0 && laterKeys.length === 0) return { logs, origins };
  const [more] = await Promise.all([Promise.all(second), Promise.all(originsOf(laterKeys))]);
  return { logs: [...logs, ...decodeRegistryLogs(more.flat())].sort((a, b) => comparePositions(a.at, b.at)), origins };
}

/**
 * `EventRecorded` stand-ins for the given events the chain's head covers (the longest prefix
 * whose head is the registry's), in hash-chain order. An event whose log was read keeps it;
 * the others sit just after the read log (or the start) before them: only inspectors' events
 * are judged against inspection requests, and those have their own positions.
 */
function standIns(
  batchId: string,
  events: readonly ChainEvent[],
  headOnChain: string,
  logs: readonly RegistryLog[],
): RegistryLog[] {
  let covered = 0;
  events.forEach((event, index) => {
    if (sameHex(event.newHead, headOnChain)) covered = index + 1;
  });
  const read = new Map<string, LogPosition>();
  for (const log of logs) if (log.type === "EventRecorded") read.set(log.newHead.toLowerCase(), log.at);
  const out: RegistryLog[] = [];
  let last: LogPosition = { blockNumber: 0, logIndex: 0 };
  let step = 0;
  for (const event of events.slice(0, covered)) {
    const at = read.get(event.newHead.toLowerCase());
    if (at !== undefined) {
      last = at;
      step = 0;
      continue;
    }
    step++;
    out.push({
      type: "EventRecorded",
      at: { blockNumber: last.blockNumber, logIndex: last.logIndex + step / 1024 },
      batchId,
      ...event,
    });
  }
  return out;
}

/**
 * `judgeAuthority`, with the grant and inspection request signatures that recover to no key
 * of their signer asked of its contract wallet (ERC-1271) at their logs' blocks, by `ask`
 * (`askContractSigners` over the caller's client). The CLI's and the audit's.
 */
export async function judgeAuthorityAsking(
  ask: (queries: ContractSignature[]) => Promise<ContractVerdict[]>,
  input: AuthorityInput,
): Promise<AuthorityReport> {
  const judge = ({ wallet, ...rest }: AuthorityInput & { wallet?: WalletCheck }): AuthorityReport =>
    judgeAuthority({
      ...rest,
      signed: (digest, signature, signer, block) =>
        signedBy(digest, signature, signer) || wallet?.(digest, signature, signer, block) === true,
    });
  return judgeAsking(ask, judge, input, (first) => first.findings.some((f) => f.code.endsWith("_signature")));
}
