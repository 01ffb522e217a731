/**
 * The operator's view of the platform (issue 15 part 6, `/console/operator`): organisations
 * with their prefixes and people, the server's keys and the roles the registry gives them,
 * the relayer's balance against what it spends, and the outbox's health beside the indexer's
 * lag. Read-only: the operator acts through the endpoints that already exist (applications,
 * suspension). Addresses and balances only: no private material is read here, and error
 * texts are stripped of URLs (an RPC URL may carry an API key) before they leave.
 */
import { Contract, ZeroHash, id as keccakText, type Provider, type TransactionReceipt } from "ethers";

import { explainLedgerFailure } from "../domain/ledger-failures.ts";
import { LEDGER_STATES, type LedgerState } from "../domain/enumerations.ts";
import { AppError } from "../errors/app-error.ts";
import { traceRegistryInterface } from "../ledger/registry-artifact.ts";
import { getIndexerCursor } from "../storage/indexer-store.ts";
import {
  latestOutboxErrors,
  memberCountsByOrganisation,
  oldestPendingOutboxAtMs,
  outboxCountsByKindAndState,
  prefixesInForceByOrganisation,
  recentAttestationTransactions,
  transactionsSentSince,
  type OutboxCount,
  type PrefixInForce,
} from "../storage/operator.ts";
import { listOrganisations, type Organisation } from "../storage/organisations.ts";
import type { ServiceContext } from "./context.ts";

/** What the operator's reads need of the chain, built by the composition root: addresses, never keys. */
export interface OperatorChain {
  provider: Provider;
  /** The server's own keys by what they send (ledger/writer.ts `SenderRole`); null when not configured. */
  keys: { relayer: string; admin: string | null; regulator: string | null };
  relayerBalanceWarnWei: bigint;
  confirmations: number;
}

/** The registry's roles (contracts/TraceRegistry.sol), by the names the contract gives them. */
const ROLES = {
  DEFAULT_ADMIN_ROLE: ZeroHash,
  REGULATOR_ROLE: keccakText("REGULATOR_ROLE"),
  RELAYER_ROLE: keccakText("RELAYER_ROLE"),
} as const;
export type RegistryRole = keyof typeof ROLES;

const DAY_MS = 86_400_000;
/** Receipts read for one answer at most: a busy day's transactions are counted up to this many. */
const MAX_RECEIPTS = 500;
const RECEIPTS_AT_ONCE = 10;
/** Transactions carrying attestations whose cost the per-registration estimate averages. */
const COST_SAMPLE = 20;
const LAST_ERRORS = 10;

export interface OrganisationOverview {
  organisation: Organisation;
  prefixes: PrefixInForce[];
  members: number;
}

export async function organisationsOverview(ctx: ServiceContext): Promise<OrganisationOverview[]> {
  const [organisations, prefixes, members] = await Promise.all([
    listOrganisations(ctx.db),
    prefixesInForceByOrganisation(ctx.db),
    memberCountsByOrganisation(ctx.db),
  ]);
  return organisations.map((organisation) => ({
    organisation,
    prefixes: prefixes.get(organisation.id) ?? [],
    members: members.get(organisation.id) ?? 0,
  }));
}

/**
 * An error text as the operator may read it: URLs (an RPC endpoint's may carry an API key)
 * and long hex runs (raw transactions, call data) replaced, and cut to 300 characters.
 */
export function publicErrorText(text: string): string {
  const cleaned = text
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"',)]+/gi, "[url]")
    .replace(/0x[0-9a-fA-F]{80,}/g, (hex) => `${hex.slice(0, 10)}…(${String((hex.length - 2) / 2)} bytes)`);
  return cleaned.length > 300 ? `${cleaned.slice(0, 299)}…` : cleaned;
}

/** A stable code for an outbox error: the registry's refusal when it is one, else what the writer was doing. */
export function outboxErrorCode(text: string): string {
  const explained = explainLedgerFailure(text);
  if (explained !== null && explained.code !== "unknown") return explained.code;
  if (text.startsWith("could not reach the chain")) return "chain_unreachable";
  if (text.startsWith("could not prepare the transaction")) return "transaction_not_prepared";
  if (/^transaction 0x[0-9a-f]+ reverted/i.test(text)) return "transaction_reverted";
  if (text.includes("nonce was taken")) return "nonce_taken";
  return "unknown";
}

async function chainHead(provider: Provider): Promise<number | null> {
  try {
    return await provider.getBlockNumber();
  } catch {
    return null;
  }
}

export interface ServerKey {
  use: "relayer" | "admin" | "regulator";
  address: string;
  /** The registry's roles this address holds; null when the chain could not be read. */
  roles: RegistryRole[] | null;
  balanceWei: string | null;
}

export interface OrganisationKey {
  organisationId: string;
  name: { zh: string; en: string | null };
  kind: string;
  address: string;
  custody: "server" | "own";
  status: string;
  ledgerState: LedgerState | null;
  createdAtMs: number;
}

async function serverKey(registry: Contract, provider: Provider, use: ServerKey["use"], address: string) {
  try {
    const [held, balance] = await Promise.all([
      Promise.all(
        (Object.keys(ROLES) as RegistryRole[]).map(async (role) =>
          ((await registry.getFunction("hasRole")(ROLES[role], address)) as boolean) ? role : null,
        ),
      ),
      provider.getBalance(address),
    ]);
    return {
      use,
      address,
      roles: held.filter((role): role is RegistryRole => role !== null),
      balanceWei: balance.toString(),
    };
  } catch {
    return { use, address, roles: null, balanceWei: null };
  }
}

/** The registry's binding per provider, made once: its ABI is parsed from the artifact. */
const registries = new WeakMap<Provider, Contract>();

function registryOf(address: string, provider: Provider): Contract {
  let registry = registries.get(provider);
  if (registry === undefined) {
    registry = new Contract(address, traceRegistryInterface(), provider);
    registries.set(provider, registry);
  }
  return registry;
}

export async function keysOverview(
  ctx: ServiceContext,
  chain: OperatorChain,
): Promise<{ chainReachable: boolean; server: ServerKey[]; organisations: OrganisationKey[] }> {
  const registry = registryOf(ctx.domain.verifyingContract, chain.provider);
  const configured = (["relayer", "admin", "regulator"] as const).flatMap((use) => {
    const address = chain.keys[use];
    return address === null ? [] : [{ use, address }];
  });
  const [server, organisations] = await Promise.all([
    Promise.all(configured.map(({ use, address }) => serverKey(registry, chain.provider, use, address))),
    listOrganisations(ctx.db),
  ]);
  return {
    chainReachable: server.every((key) => key.roles !== null),
    server,
    organisations: organisations
      .map((org) => ({
        organisationId: org.id,
        name: { zh: org.nameZh, en: org.nameEn },
        kind: org.kind,
        address: org.signerAddress,
        custody: org.custody.kind,
        status: org.status,
        ledgerState: org.ledgerState,
        createdAtMs: org.createdAtMs,
      }))
      .sort((a, b) => a.createdAtMs - b.createdAtMs || a.organisationId.localeCompare(b.organisationId)),
  };
}

/** Receipts of `hashes`, a few at a time; null for one not mined (or no longer known to the node). */
async function receiptsOf(provider: Provider, hashes: readonly string[]): Promise<(TransactionReceipt | null)[]> {
  const receipts: (TransactionReceipt | null)[] = [];
  for (let at = 0; at < hashes.length; at += RECEIPTS_AT_ONCE) {
    receipts.push(
      ...(await Promise.all(
        hashes.slice(at, at + RECEIPTS_AT_ONCE).map((hash) => provider.getTransactionReceipt(hash)),
      )),
    );
  }
  return receipts;
}

export interface RelayerReport {
  address: string;
  balanceWei: string;
  warnBelowWei: string;
  low: boolean;
  last24h: {
    transactions: number;
    /** Of those, mined with a receipt (the gas below is theirs). */
    mined: number;
    gasUsed: string;
    feesWei: string;
    /** More were sent than one answer reads receipts for; the figures cover the newest. */
    truncated: boolean;
  };
  perRegistration: {
    /** Average fee of one batch registration over the newest transactions carrying them; null before the first. */
    feeWei: string | null;
    sampleTransactions: number;
    /** How many more registrations the balance pays for at that fee; null without a fee. */
    registrationsCovered: string | null;
  };
}

export async function relayerReport(ctx: ServiceContext, chain: OperatorChain): Promise<RelayerReport> {
  const address = chain.keys.relayer;
  const nowMs = ctx.now();
  const [sent, sample] = await Promise.all([
    transactionsSentSince(ctx.db, address, nowMs - DAY_MS, MAX_RECEIPTS + 1),
    recentAttestationTransactions(ctx.db, COST_SAMPLE),
  ]);
  const counted = sent.slice(0, MAX_RECEIPTS);
  let balance: bigint;
  let dayReceipts: (TransactionReceipt | null)[];
  let sampleReceipts: (TransactionReceipt | null)[];
  try {
    [balance, dayReceipts, sampleReceipts] = await Promise.all([
      chain.provider.getBalance(address),
      receiptsOf(
        chain.provider,
        counted.map((tx) => tx.txHash),
      ),
      receiptsOf(
        chain.provider,
        sample.map((tx) => tx.txHash),
      ),
    ]);
  } catch (cause) {
    throw new AppError("chain.unavailable", {}, { cause });
  }
  const mined = dayReceipts.filter((receipt): receipt is TransactionReceipt => receipt !== null);
  let sampleFees = 0n;
  let sampleAttestations = 0;
  let sampleTransactions = 0;
  sample.forEach((tx, index) => {
    const receipt = sampleReceipts[index];
    if (receipt == null) return;
    sampleFees += receipt.fee;
    sampleAttestations += tx.attestations;
    sampleTransactions += 1;
  });
  const feeWei = sampleAttestations === 0 ? null : sampleFees / BigInt(sampleAttestations);
  return {
    address,
    balanceWei: balance.toString(),
    warnBelowWei: chain.relayerBalanceWarnWei.toString(),
    low: balance < chain.relayerBalanceWarnWei,
    last24h: {
      transactions: counted.length,
      mined: mined.length,
      gasUsed: mined.reduce((sum, receipt) => sum + receipt.gasUsed, 0n).toString(),
      feesWei: mined.reduce((sum, receipt) => sum + receipt.fee, 0n).toString(),
      truncated: sent.length > MAX_RECEIPTS,
    },
    perRegistration: {
      feeWei: feeWei?.toString() ?? null,
      sampleTransactions,
      registrationsCovered: feeWei === null || feeWei === 0n ? null : (balance / feeWei).toString(),
    },
  };
}

export interface OutboxHealth {
  counts: OutboxCount[];
  totals: Record<LedgerState, number>;
  oldestPending: { acceptedAtMs: number; ageSeconds: number } | null;
  lastErrors: {
    id: number;
    kind: string;
    referenceId: string;
    state: LedgerState;
    attempts: number;
    code: string;
    message: string;
    /** In plain words when the registry refused it; null for the writer's own troubles. */
    explanation: { zh: string; en: string } | null;
    at: number;
  }[];
  indexer: {
    /** The newest block the indexer applied; null before its first pass. */
    indexedBlock: number | null;
    chainHead: number | null;
    /** Blocks the indexer is behind the chain's head; it stays `confirmations` behind on purpose. */
    lagBlocks: number | null;
    confirmations: number;
  };
}

export async function outboxHealth(ctx: ServiceContext, chain: OperatorChain): Promise<OutboxHealth> {
  const nowMs = ctx.now();
  const [counts, oldest, errors, cursor, head] = await Promise.all([
    outboxCountsByKindAndState(ctx.db),
    oldestPendingOutboxAtMs(ctx.db),
    latestOutboxErrors(ctx.db, LAST_ERRORS),
    getIndexerCursor(ctx.db, {
      chainId: ctx.domain.chainId.toString(),
      contractAddress: ctx.domain.verifyingContract,
    }),
    chainHead(chain.provider),
  ]);
  const totals = Object.fromEntries(LEDGER_STATES.map((state) => [state, 0])) as Record<LedgerState, number>;
  for (const count of counts) totals[count.state] += count.count;
  const indexedBlock = cursor?.lastBlock ?? null;
  return {
    counts,
    totals,
    oldestPending:
      oldest === null ? null : { acceptedAtMs: oldest, ageSeconds: Math.max(0, Math.floor((nowMs - oldest) / 1000)) },
    lastErrors: errors.map((error) => {
      const code = outboxErrorCode(error.lastError);
      const explained = explainLedgerFailure(error.lastError);
      return {
        id: error.id,
        kind: error.kind,
        referenceId: error.referenceId,
        state: error.state,
        attempts: error.attempts,
        code,
        message: publicErrorText(error.lastError),
        explanation: explained === null || explained.code === "unknown" ? null : { zh: explained.zh, en: explained.en },
        at: error.updatedAtMs,
      };
    }),
    indexer: {
      indexedBlock,
      chainHead: head,
      lagBlocks: head === null ? null : Math.max(0, head - (indexedBlock ?? ctx.registryDeployedAtBlock ?? 0)),
      confirmations: chain.confirmations,
    },
  };
}
