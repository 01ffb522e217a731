/**
 * A signature request is completed once, whatever its client does: the same signature posted
 * twice at once (a double tap, a retry without an Idempotency-Key) stores one write and answers
 * the other 409 `idempotency.conflict`, for a batch, an event and a recall alike; the request is
 * marked completed in the same transaction as the write it completes, so there is no moment at
 * which the write is stored and the request still open. Against a Hardhat node in its own process.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";

import { Wallet } from "ethers";

import { expectStatus, type ApiResponse } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { apiClient } from "../../scripts/lib/api-client.ts";
import { waitUntilAnchored } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry } from "../../scripts/lib/local-stack.ts";
import type { RunningServer } from "../../server/src/server.ts";
import type { SignatureRequest } from "../../server/src/services/signature-requests.ts";
import { createDemoTea, onboard, type Party } from "../support/onboard.ts";
import { TEST_DATABASE_URL } from "../support/test-database.ts";
import { startApiTestServer } from "../support/test-server.ts";

type Prepared = { signatureRequest: SignatureRequest };

describe(`a signature request completed once (${TEST_DATABASE_URL === undefined ? "SQLite" : "PostgreSQL"})`, () => {
  let node: ChainNode;
  let server: RunningServer;
  let dataDir: string;
  let cooperative: Party;
  const wallet = Wallet.createRandom();

  const sign = (request: SignatureRequest): Promise<string> =>
    wallet.signTypedData(request.typedData.domain, request.typedData.types, request.typedData.message);

  /** The same signature posted twice at once: the two answers' statuses, sorted, and the codes of refusals. */
  async function submitTwiceAtOnce(request: SignatureRequest): Promise<ApiResponse[]> {
    const signature = await sign(request);
    const answers = await Promise.all([
      cooperative.api.post(request.submitUrl, { signature }),
      cooperative.api.post(request.submitUrl, { signature }),
    ]);
    return answers.sort((a, b) => a.status - b.status);
  }

  function assertOneAccepted(answers: readonly ApiResponse[], what: string): void {
    assert.deepEqual(
      answers.map((answer) => answer.status),
      [202, 409],
      `${what}: ${JSON.stringify(answers.map((answer) => answer.body))}`,
    );
    assert.equal((answers[1]?.body as { code: string }).code, "idempotency.conflict", what);
  }

  async function count(table: "batches" | "events" | "outbox" | "audit_log", batchId: string): Promise<number> {
    const db = server.ctx.db;
    switch (table) {
      case "batches":
        return (await db.selectFrom("batches").select("batch_id").where("batch_id", "=", batchId).execute()).length;
      case "events":
        return (await db.selectFrom("events").select("id").where("batch_id", "=", batchId).execute()).length;
      case "outbox":
        return (await db.selectFrom("outbox").select("id").execute()).length;
      case "audit_log":
        return (await db.selectFrom("audit_log").select("id").execute()).length;
    }
  }

  before(async () => {
    node = await startChainNode();
    const deployment = await deployLocalRegistry(node.rpcUrl);
    ({ server, dataDir } = await startApiTestServer(deployment.env, "signature_submission"));
    const admin = apiClient(server.url, deployment.env.ADMIN_TOKEN ?? "");
    cooperative = await onboard(server.url, admin, {
      kind: "cooperative",
      regionCode: "330106",
      serial: 9_610,
      companyPrefixes: ["6901234"],
      signerAddress: wallet.address,
    });
    await createDemoTea(cooperative.api);
  });

  after(async () => {
    await server.close();
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("stores one batch, one event and one recall when each signature is posted twice at once", async () => {
    const batchRequest = expectStatus(
      await cooperative.api.post<Prepared>("/api/v1/batches", {
        gtin: "06901234567892",
        lot: "TWICE-1",
        harvestedAt: "2026-04-20T07:00:00+08:00",
        quantity: { value: "10", unit: "kg" },
        itemCount: 4,
      }),
      201,
      "prepare the batch",
    ).signatureRequest;
    const outboxBefore = await count("outbox", "");
    const batchAnswers = await submitTwiceAtOnce(batchRequest);
    assertOneAccepted(batchAnswers, "the batch");
    const { batchId } = (batchAnswers[0]?.body as { batch: { batchId: string } }).batch;
    assert.equal(await count("batches", batchId), 1);
    assert.equal(await count("outbox", ""), outboxBefore + 1, "one attestation queued");
    await waitUntilAnchored(server.url, batchId, 0);

    const eventRequest = expectStatus(
      await cooperative.api.post<Prepared>(`/api/v1/batches/${batchId}/events`, {
        bizStep: "cooling",
        occurredAt: "2026-04-21T09:00:00+08:00",
      }),
      201,
      "prepare the event",
    ).signatureRequest;
    const writesBefore = await count("audit_log", "");
    assertOneAccepted(await submitTwiceAtOnce(eventRequest), "the event");
    assert.equal(await count("events", batchId), 1, "one event stored");
    assert.equal(await count("audit_log", ""), writesBefore + 1, "one write logged");
    await waitUntilAnchored(server.url, batchId, 1);

    const recallRequest = expectStatus(
      await cooperative.api.post<Prepared>(`/api/v1/batches/${batchId}/recall`, {
        reason: { zh: "检出农残超标", en: "Residue above the limit" },
      }),
      201,
      "prepare the recall",
    ).signatureRequest;
    assertOneAccepted(await submitTwiceAtOnce(recallRequest), "the recall");

    // Posted again later, with the request completed: refused, nothing stored.
    const again = await cooperative.api.post<{ code: string }>(eventRequest.submitUrl, {
      signature: await sign(eventRequest),
    });
    assert.equal(again.status, 409);
    assert.equal(again.body.code, "idempotency.conflict");
    assert.equal(await count("events", batchId), 1);
  });
});
