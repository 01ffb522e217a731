/**
 * Idempotency keys survive a crash, on SQLite and on PostgreSQL: 100 cycles each of the
 * server (its own process) SIGKILLed at a random moment while keyed registrations,
 * events, uploads and recalls are in flight, every unanswered key sent again after each
 * restart until it is answered. `runKeyedCrashCycles` (scripts/lib/keyed-crash.ts) throws
 * on any breach: a key unanswered or left held, a replay naming another record, a CID not
 * holding the bytes sent, a write missing from the chain or on it twice, a record stored
 * twice. Here we also check that the kills really came mid-work.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { runKeyedCrashCycles } from "../../scripts/lib/keyed-crash.ts";
import { startPostgres, type PostgresInstance } from "../../scripts/lib/postgres.ts";

/** Kill cycles per engine; FAULT_CYCLES may set another count for a quick local run. */
const CYCLES = Number(process.env.FAULT_CYCLES ?? 100);

// PostgreSQL: the test command's cluster when it gives one, else a throwaway cluster of our own.
const givenDatabaseUrl = process.env.TEST_DATABASE_URL;
const ownCluster: PostgresInstance | null = givenDatabaseUrl === undefined ? await startPostgres() : null;
const postgresUrl = givenDatabaseUrl ?? ownCluster?.url;

describe("idempotency keys across SIGKILLs", () => {
  let node: ChainNode;
  before(async () => {
    node = await startChainNode();
  });
  after(async () => {
    await node.stop();
    await ownCluster?.stop();
  });

  for (const engine of ["sqlite", "postgres"] as const) {
    // Outside CI, a machine without PostgreSQL (and without root to install it) skips, after startPostgres's warning.
    const skip = engine === "postgres" && postgresUrl === undefined ? "no PostgreSQL on this machine" : false;
    it(
      `on ${engine}: every key answered once and every write anchored once across ${String(CYCLES)} SIGKILLs`,
      { skip },
      async () => {
        const report = await runKeyedCrashCycles({ engine, cycles: CYCLES, rpcUrl: node.rpcUrl, postgresUrl });
        console.log(JSON.stringify(report));
        assert.equal(report.cycles, CYCLES);
        assert.ok(report.killedWithWritesInFlight >= CYCLES / 3, "kills came with writes in flight");
        assert.ok(report.retriedKeys > 0, "some keys needed a retry after a kill");
        assert.ok(report.killsAfterWriteBeforeAnswer > 0, "some kills came between a write and its stored answer");
        assert.ok(report.answeredFromKilledServersWork > 0, "some keys were answered from a killed server's write");
        assert.ok(report.answeredInProgress > 0, "a key held by a request in flight was answered 409 with Retry-After");
        assert.equal(report.keys, report.registrations + report.events + report.uploads + report.recalls);
        assert.ok(
          report.registrations > 0 && report.events > 0 && report.uploads > 0 && report.recalls > 0,
          "every kind of write was under the kills",
        );
      },
    );
  }
});
