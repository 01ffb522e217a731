/**
 * Gas of our own ledger, TraceRegistry, as the platform uses it: a relayer submits what
 * a registered cooperative (batches) or logistics company (events) signed with EIP-712.
 *
 * Every figure is a receipt's `gasUsed` (intrinsic 21,000 and calldata included) divided
 * by what the transaction carried. Each signer has already used a nonce before anything
 * is measured, so its nonce word is in use, as in steady operation (a fresh word costs
 * about 17,100 gas more, once per 256 signatures).
 */
import { Wallet, hexlify, type BaseWallet, type Contract, type Provider, type Signer } from "ethers";

import { bizStepIndex, type BizStep } from "../../../server/src/domain/typed-data.ts";
import { deployTraceRegistry, traceRegistryAt } from "../../../server/src/ledger/deploy.ts";
import { signTyped, type SigningDomain } from "../../../server/src/ledger/signing.ts";
import { batchIdOf } from "../../../server/src/verify/batch-id.ts";
import { batchFields, ITEMS_PER_BATCH } from "./batches.ts";
import { documentCid, gasUsedBy, perUnit, sum } from "./support.ts";

const ORG_KIND_COOPERATIVE = 1;
const ORG_KIND_LOGISTICS = 3;
const DAY_SECONDS = 86_400n;
const EVENTS_PER_BATCH = 10;

/** The business steps of a batch's first ten events after harvest. */
const LIFECYCLE: readonly BizStep[] = [
  "cooling",
  "packing",
  "inspecting",
  "shipping",
  "receiving",
  "transforming",
  "packing",
  "shipping",
  "receiving",
  "retail_selling",
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

interface Signing {
  wallet: BaseWallet;
  nextNonce: bigint;
}

interface Bench {
  asRelayer: Contract;
  domain: SigningDomain;
  cooperative: Signing;
  actor: Signing;
  provider: Provider;
  batchSequence: number;
}

function takeNonce(signing: Signing): bigint {
  const nonce = signing.nextNonce;
  signing.nextNonce += 1n;
  return nonce;
}

async function chainNow(provider: Provider): Promise<bigint> {
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

async function attest(bench: Bench, count: number): Promise<{ gas: bigint; batchIds: string[] }> {
  const { requests, batchIds } = await signedAttestations(bench, count);
  const gas = await gasUsedBy(bench.asRelayer.getFunction("attestBatches").send(requests));
  return { gas, batchIds };
}

/** One signed event per listed batch, `step` being how many events each batch had before. */
async function signedEvents(bench: Bench, batchIds: readonly string[], step: number): Promise<object[]> {
  const now = await chainNow(bench.provider);
  const bizStep = LIFECYCLE[step % LIFECYCLE.length] ?? "shipping";
  const requests: object[] = [];
  for (const batchId of batchIds) {
    const payloadCid = await documentCid({ batchId, bizStep, step, readPoint: "urn:epc:id:sgln:0690123.00001.0" });
    const value = {
      actor: bench.actor.wallet.address,
      batchId,
      bizStep: BigInt(bizStepIndex(bizStep)),
      occurredAt: now - 60n,
      payloadCid: hexlify(payloadCid),
      nonce: takeNonce(bench.actor),
      deadline: now + DAY_SECONDS,
    };
    const signature = await signTyped(bench.actor.wallet, bench.domain, "TraceEvent", value);
    requests.push({ ...value, signature });
  }
  return requests;
}

async function recordEvents(bench: Bench, requests: readonly object[]): Promise<bigint> {
  return gasUsedBy(bench.asRelayer.getFunction("recordEvents").send(requests));
}

async function setUp(parties: RegistryParties): Promise<Bench> {
  const adminAddress = await parties.admin.getAddress();
  const deployment = await deployTraceRegistry(parties.admin, {
    admin: adminAddress,
    regulators: [],
    relayers: [await parties.relayer.getAddress()],
  });
  const asAdmin = traceRegistryAt(deployment.address, parties.admin);
  const cooperative: Signing = { wallet: Wallet.createRandom(), nextNonce: 0n };
  const actor: Signing = { wallet: Wallet.createRandom(), nextNonce: 0n };
  const register = asAdmin.getFunction("registerOrganisation");
  await gasUsedBy(
    register.send(cooperative.wallet.address, ORG_KIND_COOPERATIVE, 330106, await documentCid({ name: "cooperative" })),
  );
  await gasUsedBy(
    register.send(actor.wallet.address, ORG_KIND_LOGISTICS, 330110, await documentCid({ name: "logistics" })),
  );
  return {
    asRelayer: traceRegistryAt(deployment.address, parties.relayer),
    domain: { chainId: deployment.chainId, verifyingContract: deployment.address },
    cooperative,
    actor,
    provider: parties.provider,
    batchSequence: 0,
  };
}

export async function measureRegistry(parties: RegistryParties): Promise<RegistryGas> {
  const bench = await setUp(parties);

  // Warm-up, not measured: each signer's nonce word comes into use.
  const warmUp = await attest(bench, 1);
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
  const [separateBatch, oneTxBatch] = aloneBatchIds;
  if (separateBatch === undefined || oneTxBatch === undefined) throw new Error("too few batches for the event runs");
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

  // Ten batches receiving ten events each, every transaction carrying one event per batch.
  const acrossBatches = tenPerTxBatchIds.slice(0, 10);
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
    tenEventsAcrossBatchesFirst: perUnit(firstRound, acrossBatches.length),
    tenEventsAcrossBatchesLifetime: perUnit(sum(rounds), acrossBatches.length * EVENTS_PER_BATCH),
  };
}
