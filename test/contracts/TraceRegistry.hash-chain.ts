/**
 * Property: whatever events are recorded, in whatever batches and transactions, anyone
 * holding only the `EventRecorded` logs recomputes each batch's event head exactly as
 * the registry stores it, and recovers every actor from the logged signature.
 */
import { expect } from "chai";
import { AbiCoder, keccak256, TypedDataEncoder, verifyTypedData } from "ethers";
import fc from "fast-check";
import type { NetworkConnection } from "hardhat/types/network";
import { network } from "hardhat";

import { typesFor, type TraceEventValue } from "../../server/src/domain/typed-data.ts";
import {
  attestBatch,
  cidOf,
  deployRegistry,
  latestTime,
  ONE_DAY_S,
  ONE_HOUR_S,
  ZERO_BYTES32,
  type RegistryContext,
} from "./helpers/fixtures.ts";
import { signedEvent, type EventRequest } from "./helpers/signing.ts";

const { networkHelpers } = await network.create();

const BATCH_COUNT = 3;
const BIZ_STEP_COUNT = 12;
const UINT256_MAX = 2n ** 256n - 1n;

async function registryWithBatches(connection: NetworkConnection) {
  const ctx = await deployRegistry(connection);
  const batchIds: string[] = [];
  // Two batches of one cooperative and one of another: BATCH_COUNT in all.
  for (const cooperative of [ctx.cooperative, ctx.otherCooperative, ctx.cooperative]) {
    batchIds.push((await attestBatch(ctx, cooperative)).batchId);
  }
  return { ...ctx, batchIds };
}

function actorsOf(ctx: RegistryContext) {
  return [ctx.cooperative, ctx.otherCooperative, ctx.processor, ctx.retailer];
}

const plannedEvent = fc.record({
  batch: fc.nat({ max: BATCH_COUNT - 1 }),
  actor: fc.nat({ max: 3 }),
  bizStep: fc.nat({ max: BIZ_STEP_COUNT - 1 }),
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
    selector: (e) => `${e.actor}:${e.nonce}`,
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
        const actors = actorsOf(ctx);
        const now = await latestTime(ctx);
        const requests: EventRequest[] = [];
        for (const e of events) {
          const actor = actors[e.actor];
          const batchId = ctx.batchIds[e.batch];
          if (actor === undefined || batchId === undefined) throw new Error("plan out of range");
          requests.push(
            await signedEvent(actor, ctx.domain, {
              actor: actor.address,
              batchId,
              bizStep: BigInt(e.bizStep),
              occurredAt: now - BigInt(e.secondsAgo),
              payloadCid: cidOf(`payload ${e.payload}`),
              nonce: e.nonce,
              deadline: now + ONE_HOUR_S,
            }),
          );
        }
        for (const chunk of inChunks(requests, chunkSizes)) {
          await (await ctx.registry.connect(ctx.relayer).recordEvents(chunk)).wait();
        }

        const logs = await ctx.registry.queryFilter(ctx.registry.filters.EventRecorded());
        expect(logs).to.have.length(requests.length);
        const headFromLogs = new Map<string, string>();
        for (const log of logs) {
          const { batchId, actor, bizStep, occurredAt, payloadCid, nonce, deadline, signature, newHead } = log.args;
          const signed: TraceEventValue = { actor, batchId, bizStep, occurredAt, payloadCid, nonce, deadline };
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
