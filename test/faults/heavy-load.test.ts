/**
 * A large registration while the server keeps answering, against the server in its own
 * process: 200,000 items registered through the API (the bench, `npm run bench -- --only
 * heavy-load`, does 1,000,000; 200,000 keeps this step's share of the test command under
 * a minute on the 2-core machine) while /healthz and an item of another batch are asked
 * for throughout. The bounds are generous (an order of magnitude above what is measured)
 * and catch the old behaviour, where serials, HMACs and the tree ran on the event loop and
 * held every request for the whole registration (/healthz 8-19 s for 200,000 items).
 *
 * On the same server afterwards: the per-request item cap and the media size cap refuse
 * with a clear problem and store nothing.
 */
import assert from "node:assert/strict";
import { request as httpRequest, type IncomingMessage } from "node:http";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, it } from "node:test";

import { percentile, runHeavyLoad, type HeavyLoadResult } from "../../scripts/lib/heavy-load.ts";

const ITEMS = 200_000;
const ITEM_CAP = 250_000;
const MEDIA_CAP = 1024 * 1024;
const MiB = 1024 * 1024;

function count(dataDir: string, table: "batches" | "items" | "media"): number {
  const db = new DatabaseSync(path.join(dataDir, "trace.db"), { readOnly: true });
  try {
    return (db.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** POSTs `bytes` of video to /api/v1/media, with or without a declared length, and returns the answer. */
async function upload(
  baseUrl: string,
  token: string,
  bytes: number,
  declareLength: boolean,
): Promise<{ status: number; body: { code?: string } }> {
  const request = httpRequest(new URL("/api/v1/media", baseUrl), {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "video/mp4",
      ...(declareLength ? { "content-length": String(bytes) } : {}),
    },
  });
  const answer = new Promise<IncomingMessage>((resolve, reject) => {
    request.once("response", resolve);
    // A server that answers early and closes makes our writes fail (EPIPE): its answer still counts.
    request.once("error", (error) => {
      setTimeout(() => {
        reject(error);
      }, 5_000).unref();
    });
  });
  request.on("error", () => undefined);
  const state = { answered: false };
  void answer.then(
    () => {
      state.answered = true;
    },
    () => {
      state.answered = true;
    },
  );
  if (declareLength) {
    // The refusal comes from the headers alone: give it the chance to arrive before any body.
    request.flushHeaders();
    await Promise.race([answer.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 2_000))]);
  }
  const chunk = Buffer.alloc(64 * 1024, 7);
  for (let sent = 0; sent < bytes && !request.destroyed && !state.answered; sent += chunk.length) {
    // The server may answer (and close) before the body is sent: stop writing then.
    const more = request.write(chunk.subarray(0, Math.min(chunk.length, bytes - sent)));
    if (!more) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          request.off("drain", done);
          request.off("close", done);
          resolve();
        };
        request.on("drain", done);
        request.on("close", done);
      });
    }
  }
  if (!state.answered) request.end();
  const response = await answer;
  const parts: Buffer[] = [];
  for await (const part of response) parts.push(part as Buffer);
  request.destroy();
  return {
    status: response.statusCode ?? 0,
    body: JSON.parse(Buffer.concat(parts).toString("utf8")) as { code?: string },
  };
}

void describe("a 200,000-item registration, with the server in its own process", () => {
  let result: HeavyLoadResult;
  type Refusal = { status: number; body: { code?: string } };
  const refusals: { items: Refusal | null; declared: Refusal | null; streamed: Refusal | null } = {
    items: null,
    declared: null,
    streamed: null,
  };
  let counts: { before: Record<string, number>; after: Record<string, number> } | undefined;

  it("registers every item while /healthz and another batch's item keep answering", async (t) => {
    result = await runHeavyLoad({
      itemCount: ITEMS,
      // A short idle timeout: the registration's own minutes of work must not count as a silent client.
      env: { BATCH_MAX_ITEMS: String(ITEM_CAP), MEDIA_MAX_BYTES: String(MEDIA_CAP), IDLE_TIMEOUT_SECONDS: "10" },
      afterwards: async (server) => {
        const before = {
          batches: count(server.dataDir, "batches"),
          items: count(server.dataDir, "items"),
          media: count(server.dataDir, "media"),
        };
        refusals.items = await server.cooperative.post<{ code?: string }>("/api/v1/batches", {
          gtin: "06901234567892",
          lot: "TOO-MANY",
          harvestedAt: "2026-04-15T06:30:00+08:00",
          quantity: { value: "1", unit: "kg" },
          itemCount: ITEM_CAP + 1,
        });
        refusals.declared = await upload(server.baseUrl, server.cooperativeToken, MEDIA_CAP + 1, true);
        refusals.streamed = await upload(server.baseUrl, server.cooperativeToken, 3 * MEDIA_CAP, false);
        const after = {
          batches: count(server.dataDir, "batches"),
          items: count(server.dataDir, "items"),
          media: count(server.dataDir, "media"),
        };
        counts = { before, after };
      },
    });
    const healthP99 = percentile(result.healthzMs, 0.99);
    const resolveP99 = percentile(result.resolveMs, 0.99);
    t.diagnostic(
      `registration ${result.registration.ms.toFixed(0)} ms; /healthz ${String(result.healthzMs.length)} answers, ` +
        `p50 ${percentile(result.healthzMs, 0.5).toFixed(0)} ms, p99 ${healthP99.toFixed(0)} ms, ` +
        `max ${Math.max(...result.healthzMs).toFixed(0)} ms; resolve p99 ${resolveP99.toFixed(0)} ms; ` +
        `RSS ${(result.rssBaselineBytes / MiB).toFixed(0)} -> ${(result.rssPeakBytes / MiB).toFixed(0)} MiB`,
    );
    assert.equal(result.registration.status, 202, JSON.stringify(result.registration.body));
    assert.equal(result.storedItemCount, ITEMS);
    assert.equal(result.healthzFailures, 0);
    assert.equal(result.resolveFailures, 0);
    // Answers kept coming all along: at least one every 20 ms probe interval plus a generous second.
    assert.ok(result.healthzMs.length >= result.registration.ms / 1_000, "too few /healthz answers");
    assert.ok(healthP99 < 1_500, `/healthz p99 ${healthP99.toFixed(0)} ms`);
    assert.ok(Math.max(...result.healthzMs) < 4_000, "/healthz stalled");
    assert.ok(Math.max(...result.resolveMs) < 4_000, "resolve stalled");
    assert.ok(result.rssPeakBytes - result.rssBaselineBytes < 1_024 * MiB, "the server grew by over 1 GiB");
  });

  it("refuses a batch over BATCH_MAX_ITEMS with 413 batch.too_many_items, storing nothing", () => {
    assert.deepEqual([refusals.items?.status, refusals.items?.body.code], [413, "batch.too_many_items"]);
    assert.deepEqual(counts?.after, counts?.before);
  });

  it("refuses media over MEDIA_MAX_BYTES from its declared length, and a stream as soon as it passes", () => {
    assert.deepEqual([refusals.declared?.status, refusals.declared?.body.code], [413, "media.too_large"]);
    assert.deepEqual([refusals.streamed?.status, refusals.streamed?.body.code], [413, "media.too_large"]);
    assert.equal(counts?.after.media, counts?.before.media);
  });
});
