/**
 * The API tests' check of a refusal: the problem it answers (status, stable code, zh/en
 * message) and that the store and the chain are as they were, background work settled.
 */
import assert from "node:assert/strict";

import type { ApiResponse } from "../../scripts/lib/api-client.ts";
import type { Problem } from "./problems.ts";

export interface UnchangedCheck<S> {
  /** Waits for background work (the ledger writer, the indexer) to finish. */
  settle: () => Promise<void>;
  /** What must not change: rows of the store, the chain's height and logs. */
  snapshot: () => Promise<S>;
}

export type RefusedUnchanged = (
  what: string,
  send: () => Promise<ApiResponse>,
  status: number,
  code: string,
) => Promise<Problem>;

export function refusalChecker<S>({ settle, snapshot }: UnchangedCheck<S>): RefusedUnchanged {
  return async (what, send, status, code) => {
    await settle();
    const before = await snapshot();
    const answer = await send();
    assert.equal(answer.status, status, `${what}: ${JSON.stringify(answer.body)}`);
    assert.match(answer.headers.get("content-type") ?? "", /^application\/problem\+json/, what);
    const problem = answer.body as Problem;
    assert.equal(problem.code, code, what);
    assert.ok(problem.message.zh.length > 0 && problem.message.en.length > 0, what);
    await settle();
    assert.deepEqual(await snapshot(), before, `${what}: the store and the chain are unchanged`);
    return problem;
  };
}
