/**
 * For tests of cases and pallets against a server run with WORKERS=off: settling the ledger
 * until every container step is anchored (or failed) and indexed, and what a refused
 * container write must leave unchanged.
 */
import type { JsonRpcProvider } from "ethers";

import type { RunningServer } from "../../server/src/server.ts";
import { settleLedger } from "../e2e/support/settle-ledger.ts";

/** Until every container step accepted is anchored (or failed) and indexed. */
export async function settleContainerSteps(server: RunningServer): Promise<void> {
  for (let round = 0; round < 50; round++) {
    await settleLedger(server);
    const open = await server.ctx.db
      .selectFrom("container_steps")
      .select("id")
      .where("ledger_state", "!=", "failed")
      .where("log_index", "is", null)
      .execute();
    if (open.length === 0) return;
  }
  throw new Error("container steps did not settle");
}

/** The containers, their steps and leaves, the outbox, the signature requests and the chain's height. */
export async function containerSnapshot(server: RunningServer, provider: JsonRpcProvider): Promise<unknown> {
  const db = server.ctx.db;
  return {
    containers: await db
      .selectFrom("containers")
      .select(["container_key", "expected_state_hash"])
      .orderBy("container_key")
      .execute(),
    steps: await db.selectFrom("container_steps").select(["id", "ledger_state"]).orderBy("id").execute(),
    leaves: (await db.selectFrom("container_leaves").select("packing_id").execute()).length,
    outbox: (await db.selectFrom("outbox").select("id").execute()).length,
    // Neither prepared nor completed: a refusal comes before any signature request.
    signatureRequests: await db
      .selectFrom("signature_requests")
      .select(["id", "completed_at_ms"])
      .orderBy("id")
      .execute(),
    block: await provider.getBlockNumber(),
  };
}
