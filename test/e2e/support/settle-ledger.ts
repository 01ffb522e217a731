/**
 * For tests that run the server with WORKERS=off: drives the ledger writer and indexer by
 * hand until nothing waits to be sent or indexed, so a test sees "pending" before
 * "anchored" every time. Entries the contract refused stay failed; that is settled too.
 */
import type { RunningServer } from "../../../server/src/server.ts";

export async function settleLedger(server: RunningServer, rounds = 100): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    await server.workOnce();
    const open = await server.ctx.db
      .selectFrom("outbox")
      .select("id")
      .where("state", "in", ["pending", "submitted"])
      .execute();
    const unindexed = await server.ctx.db.selectFrom("events").select("id").where("log_index", "is", null).execute();
    if (open.length === 0 && unindexed.length === 0) return;
    // Retries wait out a back-off; a test has no time to wait.
    await server.ctx.db.updateTable("outbox").set({ next_attempt_at_ms: 0 }).where("state", "=", "pending").execute();
  }
  throw new Error("the ledger did not settle");
}
