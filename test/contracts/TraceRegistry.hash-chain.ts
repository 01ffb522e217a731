/**
 * Property: whatever events are recorded, in whatever batches and transactions, anyone
 * holding only the `EventRecorded` logs recomputes each batch's event head exactly as
 * the registry stores it, and recovers every actor from the logged signature.
 * The events are ones the registry accepts: each batch's cooperative records its own steps
 * (a shipping names a processor or a retailer), and the processor, handed the first batch
 * by the fixture, records its steps there.
 */
import { expect } from "chai";
import { AbiCoder, keccak256, TypedDataEncoder, verifyTypedData, ZeroAddress } from "ethers";
import fc from "fast-check";
import type { NetworkConnection } from "hardhat/types/network";
import { network } from "hardhat";

import { typesFor, type TraceEventValue } from "../../server/src/domain/typed-data.ts";
import {
  attestBatch,
  BizStep,
  cidOf,
  deployRegistry,
  handOver,
  latestTime,
  ONE_DAY_S,
  ONE_HOUR_S,
  ZERO_BYTES32,
  type RegistryContext,
} from "./helpers/fixtures.ts";
import { signedEvent, type EventRequest } from "./helpers/signing.ts";

const { networkHelpers } = await network.create();

const BATCH_COUNT = 3;
const UINT256_MAX = 2n ** 256n - 1n;
/** Steps a cooperative records on its own batch, and a processor on a batch in its custody. */
const COOPERATIVE_STEPS = [
  BizStep.Planting,
  BizStep.InputApplication,
  BizStep.Harvesting,
  BizStep.Cooling,
  BizStep.Transforming,
  BizStep.Packing,
  BizStep.Shipping,
];
const PROCESSOR_STEPS = [BizStep.Cooling, BizStep.Transforming, BizStep.Packing, BizStep.Shipping, BizStep.Receiving];

async function registryWithBatches(connection: NetworkConnection) {
  const ctx = await deployRegistry(connection);
  const batchIds: string[] = [];
  // Two batches of one cooperative and one of another: BATCH_COUNT in all.
  for (const cooperative of [ctx.cooperative, ctx.otherCooperative, ctx.cooperative]) {
    batchIds.push((await attestBatch(ctx, cooperative)).batchId);
  }
  const [first] = batchIds as [string];
  await handOver(ctx, first, ctx.processor);
  return { ...ctx, batchIds };
}

/** The batches' cooperatives, in the order `registryWithBatches` attests them. */
function cooperativesOf(ctx: RegistryContext) {
  return [ctx.cooperative, ctx.otherCooperative, ctx.cooperative];
}

const plannedEvent = fc.record({
  batch: fc.nat({ max: BATCH_COUNT - 1 }),
  // On the first batch, the processor (its custodian) rather than the cooperative.
  byCustodian: fc.boolean(),
  step: fc.nat({ max: COOPERATIVE_STEPS.length - 1 }),
  receiverIsRetailer: fc.boolean(),
  secondsAgo: fc.nat({ max: Number(30n * ONE_DAY_S) }),
  payload: fc.string({ maxLength: 12 }),
  // Above every nonce the fixture itself spends (freshNonce counts up from small numbers),
  // or a plan could reuse one of the fixture's and fail for that reason alone.
  nonce: fc.bigInt({ min: 2n ** 128n, max: UINT256_MAX }),
});

const plan = fc.record({
  events: fc.uniqueArray(plannedEvent, {
    minLength: 1,
    maxLength: 12,
    selector: (e) => e.nonce,
  }),
  // Sizes of the transactions the events are split into, in order; the last one takes the rest.
  chunkSizes: fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 6 }),
});

function inChunks<T>(items: readonly T[], sizes: readonly number[]): T[][] {
  const chunks: T[][] = [];
  let start = 0;
  for (const size of sizes) {
    if (start >= items.length) break;
    chunks.push(items.slice(start, start + size));
    start += size;
  }
  if (start < items.length) chunks.push(items.slice(start));
  return chunks;
}

describe("TraceRegistry event hash chain", function () {
  it("is recomputable from the EventRecorded logs alone, for any sequence of events", async function () {
    await fc.assert(
      fc.asyncProperty(plan, async ({ events, chunkSizes }) => {
        const ctx = await networkHelpers.loadFixture(registryWithBatches);
        const now = await latestTime(ctx);
        const requests: EventRequest[] = [];
        for (const e of events) {
          const byProcessor = e.batch === 0 && e.byCustodian;
          const actor = byProcessor ? ctx.processor : cooperativesOf(ctx)[e.batch];
          const steps = byProcessor ? PROCESSOR_STEPS : COOPERATIVE_STEPS;
          const bizStep = steps[e.step % steps.length];
          const batchId = ctx.batchIds[e.batch];
          if (actor === undefined || batchId === undefined || bizStep === undefined) {
            throw new Error("plan out of range");
          }
          const receiver = e.receiverIsRetailer || byProcessor ? ctx.retailer : ctx.processor;
          requests.push(
            await signedEvent(actor, ctx.domain, {
              actor: actor.address,
              batchId,
              bizStep,
              occurredAt: now - BigInt(e.secondsAgo),
              payloadCid: cidOf(`payload ${e.payload}`),
              counterparty: bizStep === BizStep.Shipping ? receiver.address : ZeroAddress,
              nonce: e.nonce,
              deadline: now + ONE_HOUR_S,
            }),
          );
        }
        for (const chunk of inChunks(requests, chunkSizes)) {
          await (await ctx.registry.connect(ctx.relayer).recordEvents(chunk)).wait();
        }

        // The fixture's handover (two events) is part of the first batch's chain too.
        const logs = await ctx.registry.queryFilter(ctx.registry.filters.EventRecorded());
        expect(logs).to.have.length(requests.length + 2);
        const headFromLogs = new Map<string, string>();
        for (const log of logs) {
          const { batchId, actor, bizStep, occurredAt, payloadCid, counterparty, nonce, deadline, signature, newHead } =
            log.args;
          const signed: TraceEventValue = {
            actor,
            batchId,
            bizStep,
            occurredAt,
            payloadCid,
            counterparty,
            nonce,
            deadline,
          };
          const digest = TypedDataEncoder.hash(ctx.domain, typesFor("TraceEvent"), signed);
          const previous = headFromLogs.get(batchId) ?? ZERO_BYTES32;
          const head = keccak256(AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32"], [previous, digest]));
          expect(newHead).to.equal(head);
          expect(verifyTypedData(ctx.domain, typesFor("TraceEvent"), signed, signature)).to.equal(actor);
          headFromLogs.set(batchId, head);
        }
        for (const batchId of ctx.batchIds) {
          expect((await ctx.registry.batch(batchId)).eventHead).to.equal(headFromLogs.get(batchId) ?? ZERO_BYTES32);
        }
      }),
      { numRuns: 30 },
    );
  });
});
