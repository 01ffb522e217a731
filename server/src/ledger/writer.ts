/**
 * The ledger writer: drains the durable outbox onto the chain.
 *
 * Each outbox entry moves pending → submitted → anchored (after N confirmations) or
 * failed (with the contract's error). Exactly-once rests on two facts: the signed raw
 * transaction is recorded *before* it is broadcast, so after a crash the same bytes (same
 * nonce, same hash) are sent again rather than new ones; and the contract itself refuses
 * a second registration of a batch or a second use of a signer's nonce.
 */
import { Transaction, type BaseWallet, type Interface, type JsonRpcProvider } from "ethers";
import type { Logger } from "pino";

import type { RegistryErrorName } from "../domain/ledger-failures.ts";
import { decodeRevert, isContractRevert } from "./contract-errors.ts";

export type SenderRole = "relayer" | "admin" | "regulator";

export interface OutboxEntry {
  id: string;
  kind: string;
  payload: unknown;
  attempts: number;
  createdAtMs: number;
}

export interface SubmittedTransaction {
  txHash: string;
  rawTx: string;
  entryIds: string[];
  /** The kinds of its entries (for the order across kinds); absent means none that others wait for. */
  kinds?: string[];
}

/** Which pending entries of a kind may go now, by the kinds that must go before them. */
export interface ClaimOrder {
  /** Not while an entry of one of these kinds enqueued earlier is still pending. */
  after: readonly string[];
  /** Only entries enqueued before this id: an earlier prerequisite is sent but not yet mined. */
  beforeId?: number;
}

/** What the writer needs from storage; the storage layer implements it. */
export interface OutboxPort {
  /** Pending entries of `kind` whose next attempt is due, oldest first, in the given order across kinds. */
  duePending: (kind: string, limit: number, nowMs: number, order?: ClaimOrder) => Promise<OutboxEntry[]>;
  /** Records the signed transaction for these entries, before it is broadcast. */
  markSubmitted: (
    entryIds: string[],
    tx: { txHash: string; rawTx: string; sender: string; nonce: number },
  ) => Promise<void>;
  listSubmitted: () => Promise<SubmittedTransaction[]>;
  markAnchored: (entryIds: string[], at: { txHash: string; blockNumber: number }) => Promise<void>;
  markFailed: (entryId: string, reason: string) => Promise<void>;
  /** Back to pending with one more attempt counted, due again after `delayMs`. */
  reschedule: (entryIds: string[], reason: string, delayMs: number) => Promise<void>;
}

/** How the entries of one outbox kind become one contract call. */
export interface KindSpec {
  kind: string;
  sender: SenderRole;
  /** Whether several entries go into one call (an array argument). */
  packable: boolean;
  encode: (payloads: unknown[]) => { functionName: string; args: unknown[] };
  /**
   * Contract errors that mean "a prerequisite is not on chain yet" (an event whose batch is
   * still being anchored): the entry waits and tries again instead of failing. The
   * signature's deadline bounds the wait.
   */
  waitsFor?: readonly RegistryErrorName[];
  /**
   * Kinds whose entries enqueued before an entry of this kind must be on chain first (an
   * organisation before its prefix binding, a binding before an attestation it entitles):
   * the entry is not sent while such an entry is pending, or sent in a transaction not yet
   * mined. Kinds this writer has no sender for are not waited for (someone else sends them).
   */
  after?: readonly string[];
}

export interface WriterOptions {
  provider: JsonRpcProvider;
  contractInterface: Interface;
  registryAddress: string;
  senders: Partial<Record<SenderRole, BaseWallet>>;
  outbox: OutboxPort;
  specs: KindSpec[];
  confirmations: number;
  batchSize: number;
  maxWaitMs: number;
  logger: Logger;
  now?: () => number;
}

const MAX_BACKOFF_MS = 60_000;

export function backoffMs(attempts: number): number {
  const base = Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** Math.min(attempts, 16));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

export interface LedgerWriter {
  /** One pass: reconcile what was submitted, then submit what is due. */
  tick: () => Promise<void>;
}

export function createLedgerWriter(options: WriterOptions): LedgerWriter {
  const { provider, contractInterface, registryAddress, outbox, logger } = options;
  const now = options.now ?? Date.now;
  const nextNonce = new Map<string, number>();
  const sendable = new Set(
    options.specs.filter((spec) => options.senders[spec.sender] !== undefined).map((spec) => spec.kind),
  );
  /** The lowest entry id per kind in a transaction sent but not yet mined, as of this pass. */
  const unmined = new Map<string, number>();

  function noteUnmined(kinds: readonly string[] | undefined, entryIds: readonly string[]): void {
    const lowest = Math.min(...entryIds.map(Number));
    for (const kind of kinds ?? []) unmined.set(kind, Math.min(unmined.get(kind) ?? Infinity, lowest));
  }

  function claimOrder(spec: KindSpec): ClaimOrder | undefined {
    const after = (spec.after ?? []).filter((kind) => sendable.has(kind));
    if (after.length === 0) return undefined;
    const beforeId = Math.min(...after.map((kind) => unmined.get(kind) ?? Infinity));
    return Number.isFinite(beforeId) ? { after, beforeId } : { after };
  }

  async function allocateNonce(wallet: BaseWallet): Promise<number> {
    const address = wallet.address;
    const onChain = await provider.getTransactionCount(address, "pending");
    const local = nextNonce.get(address) ?? 0;
    const nonce = Math.max(onChain, local);
    nextNonce.set(address, nonce + 1);
    return nonce;
  }

  async function reconcileSubmitted(): Promise<void> {
    unmined.clear();
    const submitted = await outbox.listSubmitted();
    if (submitted.length === 0) return;
    const head = await provider.getBlockNumber();
    for (const tx of submitted) {
      const receipt = await provider.getTransactionReceipt(tx.txHash);
      if (receipt !== null) {
        if (receipt.status !== 1) {
          await outbox.reschedule(tx.entryIds, `transaction ${tx.txHash} reverted on chain`, 0);
          continue;
        }
        const confirmations = head - receipt.blockNumber + 1;
        if (confirmations >= Math.max(options.confirmations, 1)) {
          await outbox.markAnchored(tx.entryIds, { txHash: tx.txHash, blockNumber: receipt.blockNumber });
          logger.info({ txHash: tx.txHash, entries: tx.entryIds.length, block: receipt.blockNumber }, "anchored");
        }
        continue;
      }
      noteUnmined(tx.kinds, tx.entryIds);
      if ((await provider.getTransaction(tx.txHash)) !== null) continue; // still in the mempool
      await broadcast(tx.rawTx, tx.entryIds);
    }
  }

  /** Sends signed bytes; a refusal that means "these bytes can never be mined" puts the entries back. */
  async function broadcast(rawTx: string, entryIds: string[]): Promise<void> {
    try {
      await provider.broadcastTransaction(rawTx);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const message = String((error as { message?: unknown }).message ?? error);
      if (code === "NONCE_EXPIRED" || /nonce too low|already been used/i.test(message)) {
        const from = Transaction.from(rawTx).from;
        if (from !== null) nextNonce.delete(from);
        await outbox.reschedule(entryIds, "the transaction's nonce was taken; resubmitting", 0);
      } else if (/already known/i.test(message)) {
        // The node has it; nothing to do.
      } else {
        // Node down or unreachable: the entries stay submitted and are sent again next pass.
        logger.warn({ err: message }, "broadcast failed; will retry");
      }
    }
  }

  async function simulate(spec: KindSpec, wallet: BaseWallet, entries: OutboxEntry[]): Promise<string> {
    const { functionName, args } = spec.encode(entries.map((e) => e.payload));
    const data = contractInterface.encodeFunctionData(functionName, args);
    await provider.call({ from: wallet.address, to: registryAddress, data });
    return data;
  }

  /** Drops entries the contract refuses (each marked failed with the reason); returns the call data of the rest. */
  async function partition(
    spec: KindSpec,
    wallet: BaseWallet,
    entries: OutboxEntry[],
  ): Promise<{ data: string; entries: OutboxEntry[] } | null> {
    try {
      return { data: await simulate(spec, wallet, entries), entries };
    } catch (error) {
      if (!isContractRevert(error)) throw error;
    }
    // Each entry is judged after the ones accepted before it, in order, as the chain will run
    // them: a receiving after the shipping that named its receiver passes in the same call.
    const accepted: OutboxEntry[] = [];
    for (const entry of entries) {
      try {
        await simulate(spec, wallet, [...accepted, entry]);
        accepted.push(entry);
      } catch (error) {
        if (!isContractRevert(error)) throw error;
        const decoded = decodeRevert(contractInterface, error);
        const reason = decoded?.text ?? "reverted without a known error";
        if (decoded !== null && spec.waitsFor?.some((name) => name === decoded.name) === true) {
          await outbox.reschedule([entry.id], `waiting: ${reason}`, backoffMs(entry.attempts));
          continue;
        }
        await outbox.markFailed(entry.id, reason);
        logger.warn({ entry: entry.id, kind: spec.kind, reason }, "refused by the contract");
      }
    }
    if (accepted.length === 0) return null;
    return { data: await simulate(spec, wallet, accepted), entries: accepted };
  }

  async function submitKind(spec: KindSpec): Promise<void> {
    const wallet = options.senders[spec.sender];
    if (wallet === undefined) return;
    const limit = spec.packable ? options.batchSize : 1;
    const entries = await outbox.duePending(spec.kind, limit, now(), claimOrder(spec));
    if (entries.length === 0) return;
    const oldest = Math.min(...entries.map((e) => e.createdAtMs));
    if (spec.packable && entries.length < limit && now() - oldest < options.maxWaitMs) return;

    let call: { data: string; entries: OutboxEntry[] } | null;
    try {
      call = await partition(spec, wallet, entries);
    } catch (error) {
      const reason = `could not reach the chain: ${String((error as { message?: unknown }).message ?? error)}`;
      await outbox.reschedule(
        entries.map((e) => e.id),
        reason,
        backoffMs(Math.min(...entries.map((e) => e.attempts))),
      );
      logger.warn({ kind: spec.kind, reason }, "submission postponed");
      return;
    }
    if (call === null) return;

    const ids = call.entries.map((e) => e.id);
    let rawTx: string;
    let nonce: number;
    try {
      const [network, feeData, gasEstimate] = await Promise.all([
        provider.getNetwork(),
        provider.getFeeData(),
        provider.estimateGas({ from: wallet.address, to: registryAddress, data: call.data }),
      ]);
      nonce = await allocateNonce(wallet);
      rawTx = await wallet.signTransaction({
        type: 2,
        chainId: network.chainId,
        to: registryAddress,
        data: call.data,
        nonce,
        // Headroom: state can move between estimate and inclusion (another batch's event head).
        gasLimit: (gasEstimate * 5n) / 4n,
        maxFeePerGas: feeData.maxFeePerGas ?? feeData.gasPrice ?? 1_000_000_000n,
        maxPriorityFeePerGas: feeData.maxPriorityFeePerGas ?? 0n,
      });
    } catch (error) {
      const reason = `could not prepare the transaction: ${String((error as { message?: unknown }).message ?? error)}`;
      await outbox.reschedule(ids, reason, backoffMs(Math.min(...call.entries.map((e) => e.attempts))));
      return;
    }
    const txHash = Transaction.from(rawTx).hash;
    if (txHash === null) throw new Error("a signed transaction has no hash");
    await outbox.markSubmitted(ids, { txHash, rawTx, sender: wallet.address, nonce });
    // Kinds after this one wait for its transaction to be mined, in this pass and the next ones.
    noteUnmined([spec.kind], ids);
    logger.info({ kind: spec.kind, entries: ids.length, txHash, nonce }, "submitted");
    await broadcast(rawTx, ids);
  }

  return {
    async tick() {
      await reconcileSubmitted();
      for (const spec of options.specs) await submitKind(spec);
      await reconcileSubmitted();
    },
  };
}
