/**
 * Gas of our own ledger, TraceRegistry, as the platform uses it: a relayer submits what
 * a registered cooperative (batches) or a processor (events) signed with EIP-712.
 * Events are legitimate under the registry's custody rules: each batch is first handed to the
 * processor (the cooperative's shipping naming it, its receiving), outside what is measured,
 * and the processor's ten events are steps a processor records, the last shipping the batch on
 * to a retailer. One run also measures a batch's first ten events with the handover in them.
 *
 * Every figure is a receipt's `gasUsed` (intrinsic 21,000 and calldata included) divided
 * by what the transaction carried. Each signer has already used a nonce before anything
 * is measured, so its nonce word is in use, as in steady operation (a fresh word costs
 * about 17,100 gas more, once per 256 signatures).
 */
import { Wallet, ZeroAddress, hexlify, type BaseWallet, type Contract, type Provider, type Signer } from "ethers";

import { bizStepIndex, type BizStep } from "../../../server/src/domain/typed-data.ts";
import { deployTraceRegistry, traceRegistryAt } from "../../../server/src/ledger/deploy.ts";
import { signTyped, type SigningDomain } from "../../../server/src/ledger/signing.ts";
import { batchIdOf } from "../../../server/src/verify/batch-id.ts";
import { BENCH_COMPANY_PREFIX, batchFields, ITEMS_PER_BATCH } from "./batches.ts";
import { documentCid, gasUsedBy, perUnit, sum } from "./support.ts";

const ORG_KIND_COOPERATIVE = 1;
const ORG_KIND_PROCESSOR = 2;
const ORG_KIND_RETAILER = 4;
const DAY_SECONDS = 86_400n;
const EVENTS_PER_BATCH = 10;

/** The processor's ten events once it holds a batch: its own steps, then shipping it on. */
const LIFECYCLE: readonly BizStep[] = [
  "cooling",
  "transforming",
  "packing",
  "cooling",
  "transforming",
  "packing",
  "cooling",
  "transforming",
  "packing",
  "shipping",
];

export interface RegistryGas {
  /** gas per batch with 1, 10 and 50 attestations per transaction */
  perBatchOnePerTx: number;
  perBatchTenPerTx: number;
  perBatchFiftyPerTx: number;
  /** gas per item, 1,000-item batches sent 10 per transaction */
  perItemTenBatchesPerTx: number;
  /** one batch receiving ten events in ten transactions: its first, the nine after, all ten */
  firstEventAlone: number;
  laterEventsAlone: number;
  tenEventsSeparateTxs: number;
  /** one batch receiving ten events in one transaction */
  tenEventsOneTxSameBatch: number;
  /** a fresh batch's first ten events in one transaction, the handover to the processor included */
  tenEventsOneTxWithHandover: number;
  /** ten batches' first events in one transaction */
  tenEventsAcrossBatchesFirst: number;
  /** ten batches receiving ten events each, in ten transactions of one event per batch */
  tenEventsAcrossBatchesLifetime: number;
}

export interface RegistryParties {
  provider: Provider;
  admin: Signer;
  relayer: Signer;
}

export interface Signing {
  wallet: BaseWallet;
  nextNonce: bigint;
}

export interface Bench {
  asRelayer: Contract;
  domain: SigningDomain;
  cooperative: Signing;
  actor: Signing;
  /** where the processor ships batches on to */
  retailer: string;
  provider: Provider;
  batchSequence: number;
}

function takeNonce(signing: Signing): bigint {
  const nonce = signing.nextNonce;
  signing.nextNonce += 1n;
  return nonce;
}

export async function chainNow(provider: Provider): Promise<bigint> {
  const block = await provider.getBlock("latest");
  if (block === null) throw new Error("the chain has no latest block");
  return BigInt(block.timestamp);
}

/** `count` signed attestations of fresh 1,000-item batches, ready for `attestBatches`. */
async function signedAttestations(bench: Bench, count: number): Promise<{ requests: object[]; batchIds: string[] }> {
  const now = await chainNow(bench.provider);
  const requests: object[] = [];
  const batchIds: string[] = [];
  for (let i = 0; i < count; i++) {
    const fields = await batchFields("LJ26-", bench.batchSequence++, now - DAY_SECONDS);
    const value = {
      attester: bench.cooperative.wallet.address,
      ...fields,
      nonce: takeNonce(bench.cooperative),
      deadline: now + DAY_SECONDS,
    };
    const signature = await signTyped(bench.cooperative.wallet, bench.domain, "BatchAttestation", value);
    requests.push({ ...value, signature });
    batchIds.push(batchIdOf(fields.gtin, fields.lot));
  }
  return { requests, batchIds };
}

export async function attest(bench: Bench, count: number): Promise<{ gas: bigint; batchIds: string[] }> {
  const { requests, batchIds } = await signedAttestations(bench, count);
  const gas = await gasUsedBy(bench.asRelayer.getFunction("attestBatches").send(requests));
  return { gas, batchIds };
}

/** `signing`'s signed `bizStep` on `batchId`; a shipping names `receiver`. */
async function signedEvent(
  bench: Bench,
  signing: Signing,
  batchId: string,
  bizStep: BizStep,
  receiver: string,
): Promise<object> {
  const now = await chainNow(bench.provider);
  const payloadCid = await documentCid({ batchId, bizStep, nonce: signing.nextNonce.toString() });
  const value = {
    actor: signing.wallet.address,
    batchId,
    bizStep: BigInt(bizStepIndex(bizStep)),
    occurredAt: now - 60n,
    payloadCid: hexlify(payloadCid),
    counterparty: bizStep === "shipping" ? receiver : ZeroAddress,
    nonce: takeNonce(signing),
    deadline: now + DAY_SECONDS,
  };
  const signature = await signTyped(signing.wallet, bench.domain, "TraceEvent", value);
  return { ...value, signature };
}

/** One signed event of the processor per listed batch, `step` being how many it recorded before. */
async function signedEvents(bench: Bench, batchIds: readonly string[], step: number): Promise<object[]> {
  const bizStep = LIFECYCLE[step % LIFECYCLE.length] ?? "packing";
  const requests: object[] = [];
  for (const batchId of batchIds) {
    requests.push(await signedEvent(bench, bench.actor, batchId, bizStep, bench.retailer));
  }
  return requests;
}

/** The handover of each batch to the processor: the cooperative's shipping naming it, its receiving. */
async function handoverEvents(bench: Bench, batchIds: readonly string[]): Promise<object[]> {
  const requests: object[] = [];
  for (const batchId of batchIds) {
    requests.push(await signedEvent(bench, bench.cooperative, batchId, "shipping", bench.actor.wallet.address));
    requests.push(await signedEvent(bench, bench.actor, batchId, "receiving", ZeroAddress));
  }
  return requests;
}

/** Hands the batches to the processor, outside what is measured. */
export async function handOver(bench: Bench, batchIds: readonly string[]): Promise<void> {
  await recordEvents(bench, await handoverEvents(bench, batchIds));
}

async function recordEvents(bench: Bench, requests: readonly object[]): Promise<bigint> {
  return gasUsedBy(bench.asRelayer.getFunction("recordEvents").send(requests));
}

export async function setUp(parties: RegistryParties): Promise<Bench> {
  const adminAddress = await parties.admin.getAddress();
  const deployment = await deployTraceRegistry(parties.admin, {
    admin: adminAddress,
    regulators: [],
    relayers: [await parties.relayer.getAddress()],
  });
  const asAdmin = traceRegistryAt(deployment.address, parties.admin);
  const cooperative: Signing = { wallet: Wallet.createRandom(), nextNonce: 0n };
  const actor: Signing = { wallet: Wallet.createRandom(), nextNonce: 0n };
  const retailer = Wallet.createRandom().address;
  const register = asAdmin.getFunction("registerOrganisation");
  await gasUsedBy(
    register.send(cooperative.wallet.address, ORG_KIND_COOPERATIVE, 330106, await documentCid({ name: "cooperative" })),
  );
  await gasUsedBy(
    register.send(actor.wallet.address, ORG_KIND_PROCESSOR, 330110, await documentCid({ name: "processor" })),
  );
  await gasUsedBy(register.send(retailer, ORG_KIND_RETAILER, 330102, await documentCid({ name: "retailer" })));
  // The bench's GTIN is under the cooperative's company prefix, so its batches are its to attest.
  await gasUsedBy(
    asAdmin
      .getFunction("bindCompanyPrefix")
      .send(BENCH_COMPANY_PREFIX.value, BENCH_COMPANY_PREFIX.digits, cooperative.wallet.address),
  );
  return {
    asRelayer: traceRegistryAt(deployment.address, parties.relayer),
    domain: { chainId: deployment.chainId, verifyingContract: deployment.address },
    cooperative,
    actor,
    retailer,
    provider: parties.provider,
    batchSequence: 0,
  };
}

export async function measureRegistry(parties: RegistryParties): Promise<RegistryGas> {
  const bench = await setUp(parties);

  // Warm-up, not measured: each signer's nonce word comes into use.
  const warmUp = await attest(bench, 1);
  await handOver(bench, warmUp.batchIds);
  await recordEvents(bench, await signedEvents(bench, warmUp.batchIds, 0));

  const repeats = 3;
  const alone: bigint[] = [];
  const aloneBatchIds: string[] = [];
  for (let i = 0; i < repeats; i++) {
    const sent = await attest(bench, 1);
    alone.push(sent.gas);
    aloneBatchIds.push(...sent.batchIds);
  }
  const tenPerTx: bigint[] = [];
  const tenPerTxBatchIds: string[] = [];
  for (let i = 0; i < repeats; i++) {
    const sent = await attest(bench, 10);
    tenPerTx.push(sent.gas);
    tenPerTxBatchIds.push(...sent.batchIds);
  }
  const fiftyPerTx = await attest(bench, 50);

  // One batch receiving ten events, each in its own transaction.
  const [separateBatch, oneTxBatch, withHandoverBatch] = aloneBatchIds;
  if (separateBatch === undefined || oneTxBatch === undefined || withHandoverBatch === undefined) {
    throw new Error("too few batches for the event runs");
  }
  const acrossBatches = tenPerTxBatchIds.slice(0, 10);
  await handOver(bench, [separateBatch, oneTxBatch, ...acrossBatches]);
  const separate: bigint[] = [];
  for (let step = 0; step < EVENTS_PER_BATCH; step++) {
    separate.push(await recordEvents(bench, await signedEvents(bench, [separateBatch], step)));
  }
  const [firstAlone, ...laterAlone] = separate;
  if (firstAlone === undefined) throw new Error("no event was measured");

  // Another batch receiving the same ten events in one transaction.
  const oneTxRequests: object[] = [];
  for (let step = 0; step < EVENTS_PER_BATCH; step++) {
    oneTxRequests.push(...(await signedEvents(bench, [oneTxBatch], step)));
  }
  const oneTxSameBatch = await recordEvents(bench, oneTxRequests);

  // A fresh batch's first ten events in one transaction: the handover, then eight of the processor's.
  const withHandoverRequests = await handoverEvents(bench, [withHandoverBatch]);
  for (let step = 0; step < EVENTS_PER_BATCH - 2; step++) {
    withHandoverRequests.push(...(await signedEvents(bench, [withHandoverBatch], step)));
  }
  const oneTxWithHandover = await recordEvents(bench, withHandoverRequests);

  // Ten batches receiving ten events each, every transaction carrying one event per batch.
  const rounds: bigint[] = [];
  for (let step = 0; step < EVENTS_PER_BATCH; step++) {
    rounds.push(await recordEvents(bench, await signedEvents(bench, acrossBatches, step)));
  }
  const [firstRound] = rounds;
  if (firstRound === undefined) throw new Error("no event round was measured");

  const tenPerTxBatches = repeats * 10;
  return {
    perBatchOnePerTx: perUnit(sum(alone), repeats),
    perBatchTenPerTx: perUnit(sum(tenPerTx), tenPerTxBatches),
    perBatchFiftyPerTx: perUnit(fiftyPerTx.gas, 50),
    perItemTenBatchesPerTx: perUnit(sum(tenPerTx), tenPerTxBatches * ITEMS_PER_BATCH),
    firstEventAlone: perUnit(firstAlone, 1),
    laterEventsAlone: perUnit(sum(laterAlone), laterAlone.length),
    tenEventsSeparateTxs: perUnit(sum(separate), separate.length),
    tenEventsOneTxSameBatch: perUnit(oneTxSameBatch, EVENTS_PER_BATCH),
    tenEventsOneTxWithHandover: perUnit(oneTxWithHandover, withHandoverRequests.length),
    tenEventsAcrossBatchesFirst: perUnit(firstRound, acrossBatches.length),
    tenEventsAcrossBatchesLifetime: perUnit(sum(rounds), acrossBatches.length * EVENTS_PER_BATCH),
  };
}
