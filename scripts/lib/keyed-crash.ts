/**
 * Keyed writes across server crashes: the server (its own process) is SIGKILLed at a
 * random moment of every cycle while keyed writes are in flight (registrations, events,
 * uploads, recalls); after each restart every unanswered key is sent again until it is
 * answered. Then: every key has its answer (202 for what is anchored, 201 for an upload),
 * none is left held, a replay names the same record, each CID holds the bytes sent, and
 * each write is on chain exactly once (as many attestations, events and recalls in the
 * registry's logs as keys were answered) and in the query store once. Any breach throws.
 * Used by the fault test (test/faults/idempotency-crash.test.ts) and the bench.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { JsonRpcProvider, type Contract } from "ethers";

import { traceRegistryAt } from "../../server/src/ledger/deploy.ts";
import { openDatabase, type DatabaseConfig, type OpenedDatabase } from "../../server/src/storage/database.ts";
import { apiClient } from "./api-client.ts";
import { freePort } from "./chain-node.ts";
import { DEMO_GTIN, seedDemoSystem, type DemoSystemSummary } from "./demo-system.ts";
import { freshPostgresDatabase } from "./fresh-database.ts";
import { deployLocalRegistry } from "./local-stack.ts";
import type { ServerProcess } from "./server-process.ts";

const HARVESTED_AT = "2026-05-01T08:00:00+08:00";

type Kind = "registration" | "event" | "upload" | "recall";

interface KeyedWrite {
  kind: Kind;
  key: string;
  path: string;
  token: string;
  json?: unknown;
  upload?: { bytes: Uint8Array; contentType: string };
  expected: 201 | 202;
  /** The batch a registration, event or recall concerns (known upfront for events and recalls). */
  batchId?: string;
  answer?: Record<string, unknown>;
  /** How often the server said the key was still held by someone (always with Retry-After). */
  inProgress: number;
  sent: number;
  doneBeforeKill?: boolean;
  /** Sent twice at once in its first cycle (not a retry). */
  sentTwiceAtOnce?: boolean;
}

type Sent = { kind: "answered"; ms: number } | { kind: "held"; retryAfterMs: number } | { kind: "lost" };

/** Whether a fetch failed because the server died under it (reset, refused), not because of the test. */
function isConnectionFailure(error: unknown): boolean {
  return error instanceof TypeError || (error instanceof DOMException && error.name === "TimeoutError");
}

async function send(baseUrl: string, write: KeyedWrite): Promise<Sent> {
  write.sent++;
  const startedAt = Date.now();
  let response: Response;
  let text: string;
  try {
    response = await fetch(new URL(write.path, baseUrl), {
      method: "POST",
      headers: {
        authorization: `Bearer ${write.token}`,
        "idempotency-key": write.key,
        "content-type": write.upload?.contentType ?? "application/json",
      },
      body: write.upload === undefined ? JSON.stringify(write.json) : new Blob([new Uint8Array(write.upload.bytes)]),
      signal: AbortSignal.timeout(30_000),
    });
    text = await response.text();
  } catch (error) {
    if (isConnectionFailure(error)) return { kind: "lost" };
    throw error;
  }
  const body = JSON.parse(text) as Record<string, unknown>;
  if (response.status === write.expected) {
    if (write.answer === undefined) {
      write.answer = body;
      // Answered from a killed server's work: its stored answer, or one rebuilt from its committed write.
      write.doneBeforeKill = response.headers.get("idempotent-replayed") === "true";
    } else
      assert.deepEqual(identity(write, body), identity(write, write.answer), `${write.key}: the same record again`);
    return { kind: "answered", ms: Date.now() - startedAt };
  }
  if (response.status === 409 && body.code === "idempotency.in_progress") {
    const retryAfter = Number(response.headers.get("retry-after"));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `${write.key}: 409 in progress says when to retry`);
    write.inProgress++;
    return { kind: "held", retryAfterMs: retryAfter * 1_000 };
  }
  throw new Error(`${write.kind} ${write.key}: unexpected ${response.status} ${text}`);
}

/** What names the record a write made: the same on a replay or a recovered answer. */
function identity(write: KeyedWrite, body: Record<string, unknown>): unknown {
  switch (write.kind) {
    case "registration":
      return (body.batch as { batchId: string }).batchId;
    case "event":
      return (body.event as { id: string }).id;
    case "upload":
      return (body.media as { cid: string }).cid;
    case "recall":
      return [body.batchId, body.reasonCid];
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Standbys loading at once. A cycle is often shorter than loading the code takes on a busy
 * machine: with one standby, the restart waited for the rest of its loading (7 to 14 s under
 * a load of 13). The second one has two cycles to load; neither opens anything before `go`.
 */
const STANDBYS = 2;

/**
 * The next server process, started ahead: it has loaded the code but opens nothing until
 * told to go, the moment the previous one is killed. A restart then costs what a real
 * one costs after the code is read (opening the store, listening), which keeps 100 kill
 * cycles within minutes; everything the restarted server knows still comes from disk.
 */

interface Standby {
  go: () => Promise<ServerProcess>;
  kill: () => Promise<void>;
}

function startStandby(env: Record<string, string>): Standby {
  const child = spawn(process.execPath, [path.join(import.meta.dirname, "standby-server.ts")], {
    cwd: process.cwd(),
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let output = "";
  const ready = new Promise<void>((resolve, reject) => {
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-100_000);
      if (output.includes("standby-ready")) resolve();
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.once("exit", (code) => {
      reject(new Error(`standby server exited (${String(code)}):\n${output}`));
    });
  });
  ready.catch(() => undefined);
  const exited = once(child, "exit");
  const kill = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGKILL");
    await exited;
  };
  return {
    kill,
    async go() {
      await ready;
      child.stdin.write("go\n");
      const url = `http://127.0.0.1:${env.PORT ?? ""}`;
      const deadline = Date.now() + 60_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}):\n${output}`);
        try {
          if ((await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) })).ok) break;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error(`server did not answer on ${url} in time:\n${output}`);
        await sleep(20);
      }
      return { url, process: child, output: () => output, kill: async () => kill() };
    },
  };
}

/** Polls the store until some key has its write committed and no answer stored; false at the deadline. */
async function waitForWrittenUnanswered(store: OpenedDatabase, deadlineMs: number): Promise<boolean> {
  while (Date.now() < deadlineMs) {
    const found = await store.db
      .selectFrom("idempotency_keys")
      .select("key")
      .where("written_ref", "is not", null)
      .where("completed_at_ms", "is", null)
      .executeTakeFirst();
    if (found !== undefined) return true;
    await sleep(2);
  }
  return false;
}

export interface KeyedCrashOptions {
  engine: "sqlite" | "postgres";
  cycles: number;
  /** A chain node's JSON-RPC URL (a fresh registry is deployed on it). */
  rpcUrl: string;
  /** For PostgreSQL: a server URL whose role may create databases (a fresh one is made). */
  postgresUrl?: string;
  /**
   * The kill comes at a random moment below this after the writes go out; by default the
   * times the median time the server took to answer a write lately, so that on a fast or
   * a slow machine alike some kills come before a write is read, some mid-way, some after.
   */
  killWindowMs?: number;
}

export interface KeyedCrashReport {
  engine: "sqlite" | "postgres";
  cycles: number;
  killedWithWritesInFlight: number;
  keys: number;
  registrations: number;
  events: number;
  uploads: number;
  recalls: number;
  /** Kills that came while a write had committed under its key and its answer was not stored yet. */
  killsAfterWriteBeforeAnswer: number;
  /** Keys sent more than once (their first answer lost to a kill). */
  retriedKeys: number;
  /** Keys whose first answer came from a killed server's work (stored, or rebuilt from its committed write). */
  answeredFromKilledServersWork: number;
  /** 409 idempotency.in_progress answers seen (each with Retry-After). */
  answeredInProgress: number;
  cyclesMs: number;
  restartMsMedian: number;
}

export async function runKeyedCrashCycles(options: KeyedCrashOptions): Promise<KeyedCrashReport> {
  const { engine, cycles } = options;
  const answerMs: number[] = [];
  const killWindowMs = (): number => {
    if (options.killWindowMs !== undefined) return options.killWindowMs;
    const recent = answerMs.slice(-30).sort((a, b) => a - b);
    const median = recent[Math.floor(recent.length / 2)] ?? 300;
    return Math.min(5_000, Math.max(100, median));
  };
  const dataDir = mkdtempSync(path.join(tmpdir(), `keyed-crash-${engine}-`));
  const provider = new JsonRpcProvider(options.rpcUrl, undefined, { staticNetwork: true });
  let deployment: Awaited<ReturnType<typeof deployLocalRegistry>>;
  let env: Record<string, string>;
  let server: ServerProcess | undefined;
  const standbys: Standby[] = [];
  let demo: DemoSystemSummary;
  let registry: Contract;
  const writes: KeyedWrite[] = [];
  /** Batches answered 202, free for events, and apart those set aside to be recalled (a recalled batch refuses events). */
  const eventTargets: string[] = [];
  const recallTargets: string[] = [];
  const restartMs: number[] = [];
  let killedWithWritesInFlight = 0;
  let watcher: OpenedDatabase | undefined;
  let killsAfterWriteBeforeAnswer = 0;
  const storeConfig = (): DatabaseConfig =>
    engine === "postgres"
      ? { kind: "postgres", url: env.DATABASE_URL ?? "", poolSize: 1 }
      : { kind: "sqlite", path: path.join(dataDir, "trace.db") };
  const current = (): ServerProcess => {
    if (server === undefined) throw new Error("no server");
    return server;
  };

  function newWrites(cycle: number): KeyedWrite[] {
    const coop = demo.organisations.cooperative.token;
    const carrier = demo.organisations.logistics.id;
    const made: KeyedWrite[] = [];
    const keyed = (kind: Kind, rest: Omit<KeyedWrite, "kind" | "key" | "inProgress" | "sent">): KeyedWrite => ({
      kind,
      key: `${engine}-${kind}-${cycle}-${made.length}-${randomBytes(4).toString("hex")}`,
      inProgress: 0,
      sent: 0,
      ...rest,
    });
    made.push(
      keyed("registration", {
        path: "/api/v1/batches",
        token: coop,
        expected: 202,
        json: {
          gtin: DEMO_GTIN,
          lot: `K${cycle}`,
          harvestedAt: HARVESTED_AT,
          quantity: { value: "3", unit: "kg" },
          itemCount: 3,
        },
      }),
    );
    // An event to a batch answered in an earlier cycle: a harvest, or a shipping to the carrier
    // in turn (the cooperative's: the carrier has a say only once it received the batch).
    if (eventTargets.length > 0) {
      const batchId = eventTargets[cycle % eventTargets.length] ?? "";
      const shipping = cycle % 2 === 1;
      made.push(
        keyed("event", {
          path: `/api/v1/batches/${batchId}/events`,
          token: coop,
          expected: 202,
          batchId,
          json: shipping
            ? {
                bizStep: "shipping",
                occurredAt: "2026-05-02T07:00:00+08:00",
                receiver: carrier,
                data: {
                  temperatures: [
                    { at: "2026-05-02T07:00:00+08:00", celsius: 6 + (cycle % 5) },
                    { at: "2026-05-02T08:00:00+08:00", celsius: 7 },
                  ],
                },
              }
            : { bizStep: "harvesting", occurredAt: HARVESTED_AT, data: { quantity: { value: "3", unit: "kg" } } },
        }),
      );
    }
    // An upload every other cycle.
    if (cycle % 2 === 0) {
      made.push(
        keyed("upload", {
          path: "/api/v1/media",
          token: coop,
          expected: 201,
          upload: { bytes: randomBytes(1_000 + ((cycle * 7_919) % 300_000)), contentType: "image/jpeg" },
        }),
      );
    }
    // A recall every fourth cycle, of a batch set aside for it.
    const target = cycle % 4 === 3 ? recallTargets.shift() : undefined;
    if (target !== undefined) {
      made.push(
        keyed("recall", {
          path: `/api/v1/batches/${target}/recall`,
          token: coop,
          expected: 202,
          batchId: target,
          json: { reason: { zh: `抽检不合格 ${cycle}`, en: `failed a spot check ${cycle}` } },
        }),
      );
    }
    return made;
  }

  function settle(write: KeyedWrite): void {
    if (write.kind !== "registration" || write.answer === undefined || write.batchId !== undefined) return;
    write.batchId = (write.answer.batch as { batchId: string }).batchId;
    // One batch in four is set aside to be recalled; the rest receive events.
    if (writes.filter((w) => w.kind === "registration" && w.batchId !== undefined).length % 4 === 0) {
      recallTargets.push(write.batchId);
    } else {
      eventTargets.push(write.batchId);
    }
  }

  async function sendAll(batch: readonly KeyedWrite[]): Promise<Sent[]> {
    const results = await Promise.all(batch.map((write) => send(current().url, write)));
    for (const write of batch) settle(write);
    return results;
  }

  /** Sends every unanswered key again until each is answered, waiting as long as Retry-After says. */
  async function drain(deadlineMs: number): Promise<void> {
    for (;;) {
      const pending = writes.filter((w) => w.answer === undefined);
      if (pending.length === 0) return;
      const results = await sendAll(pending);
      for (const result of results) if (result.kind === "answered") answerMs.push(result.ms);
      const lost = results.find((r) => r.kind === "lost");
      assert.equal(lost, undefined, "the server stays up between kills");
      const waits = results.flatMap((r) => (r.kind === "held" ? [r.retryAfterMs] : []));
      if (waits.length === 0) continue;
      if (Date.now() > deadlineMs) {
        throw new Error(
          `keys still held: ${pending
            .filter((w) => w.answer === undefined)
            .map((w) => w.key)
            .join(", ")}`,
        );
      }
      await sleep(Math.min(...waits));
    }
  }

  try {
    deployment = await deployLocalRegistry(options.rpcUrl);
    env = {
      ...deployment.env,
      PORT: String(await freePort()),
      DATA_DIR: dataDir,
      LOG_LEVEL: "error",
      RATE_LIMIT_PER_MINUTE: "1000000",
      LEDGER_POLL_MS: "100",
      LEDGER_MAX_WAIT_MS: "100",
      // Short, so that a dead holder's keys are free by the time the server is back.
      IDEMPOTENCY_LEASE_SECONDS: "0.3",
      ...(engine === "postgres"
        ? { DATABASE_URL: await freshPostgresDatabase(options.postgresUrl ?? "", "crash") }
        : {}),
    };
    server = await startStandby(env).go();
    for (let i = 0; i < STANDBYS; i++) standbys.push(startStandby(env));
    demo = await seedDemoSystem(current().url, env.ADMIN_TOKEN ?? "", { itemCount: 3 });
    registry = traceRegistryAt(deployment.registry, provider);
    watcher = await openDatabase(storeConfig(), { onIdleError: () => undefined });
    const started = Date.now();
    for (let cycle = 0; cycle < cycles; cycle++) {
      writes.push(...newWrites(cycle));
      const fresh = writes.filter((w) => w.answer === undefined);
      // The cycle's registration goes out twice at once, as an impatient client would send it:
      // the second meets the key held by the first (409 with Retry-After) or its stored answer.
      const impatient = fresh.find((w) => w.kind === "registration" && w.sent === 0);
      if (impatient !== undefined) impatient.sentTwiceAtOnce = true;
      const inFlight = sendAll(impatient === undefined ? fresh : [...fresh, impatient]);
      if (cycle % 3 === 1) {
        // Every third kill aims at the narrowest moment: a write committed, its answer not yet stored.
        if (await waitForWrittenUnanswered(watcher, Date.now() + 3 * killWindowMs())) killsAfterWriteBeforeAnswer++;
      } else {
        await sleep(Math.floor(Math.random() * killWindowMs()));
      }
      if (writes.some((w) => w.answer === undefined)) killedWithWritesInFlight++;
      await current().kill("SIGKILL");
      const killedAt = Date.now();
      const next = standbys.shift();
      if (next === undefined) throw new Error("no standby server");
      standbys.push(startStandby(env));
      server = await next.go();
      restartMs.push(Date.now() - killedAt);
      await inFlight;
      // Every key left unanswered by the kill is sent again now, until it is answered.
      await drain(Date.now() + 30_000);
    }
    const cyclesMs = Date.now() - started;

    const retriedKeys = writes.filter((w) => w.sent - (w.sentTwiceAtOnce === true ? 1 : 0) > 1).length;
    // Every key answered; a replay names the same record, and no key is left held.
    assert.ok(writes.every((w) => w.answer !== undefined));
    for (const write of writes) assert.equal((await send(current().url, write)).kind, "answered");
    const store = await openDatabase(storeConfig());
    try {
      const held = await store.db
        .selectFrom("idempotency_keys")
        .select(["key"])
        .where("completed_at_ms", "is", null)
        .execute();
      assert.deepEqual(held, [], "no key is left held");
      const answered = await store.db
        .selectFrom("idempotency_keys")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("key", "like", `${engine}-%`)
        .executeTakeFirstOrThrow();
      assert.equal(answered.n, writes.length, "one stored answer per key");
    } finally {
      await store.close();
    }

    const byKind = (kind: Kind) => writes.filter((w) => w.kind === kind);
    const registrations = byKind("registration");
    const events = byKind("event");
    const recalls = byKind("recall");
    const uploads = byKind("upload");

    // The uploads: each CID holds exactly the bytes sent under its key.
    for (const write of uploads) {
      const cid = identity(write, write.answer ?? {}) as string;
      const served = Buffer.from(await (await fetch(`${current().url}/ipfs/${cid}`)).arrayBuffer());
      assert.equal(
        createHash("sha256").update(served).digest("hex"),
        createHash("sha256")
          .update(write.upload?.bytes ?? new Uint8Array())
          .digest("hex"),
        `${write.key}: the CID answered holds the bytes sent`,
      );
    }

    // On chain, exactly once each: wait until the writer has anchored all of it, then count.
    const batchIds = new Set(registrations.map((w) => w.batchId ?? ""));
    const eventsPerBatch = new Map<string, number>();
    for (const write of events)
      eventsPerBatch.set(write.batchId ?? "", (eventsPerBatch.get(write.batchId ?? "") ?? 0) + 1);
    const recalled = new Set(recalls.map((w) => w.batchId ?? ""));
    const count = async (name: string, ours: Set<string>): Promise<Map<string, number>> => {
      const logs = await registry.queryFilter(name, deployment.deployedAtBlock);
      const perBatch = new Map<string, number>();
      for (const log of logs) {
        const id = (log.topics[1] ?? "").toLowerCase();
        if (ours.has(id)) perBatch.set(id, (perBatch.get(id) ?? 0) + 1);
      }
      return perBatch;
    };
    const lower = (ids: Iterable<string>) => new Set([...ids].map((id) => id.toLowerCase()));
    const total = (map: Map<string, number>) => [...map.values()].reduce((a, b) => a + b, 0);
    const deadline = Date.now() + 180_000;
    let attested = new Map<string, number>();
    let recorded = new Map<string, number>();
    let recalledOnChain = new Map<string, number>();
    for (;;) {
      attested = await count("BatchAttested", lower(batchIds));
      recorded = await count("EventRecorded", lower(batchIds));
      recalledOnChain = await count("BatchRecalled", lower(batchIds));
      const done =
        total(attested) >= batchIds.size && total(recorded) >= events.length && total(recalledOnChain) >= recalled.size;
      if (done || Date.now() > deadline) break;
      await sleep(500);
    }
    for (const batchId of batchIds) assert.equal(attested.get(batchId.toLowerCase()), 1, `${batchId} attested once`);
    for (const [batchId, n] of eventsPerBatch) {
      assert.equal(recorded.get(batchId.toLowerCase()) ?? 0, n, `${batchId}: ${n} events on chain`);
    }
    assert.equal(total(recorded), events.length, "no event on chain that no key asked for");
    for (const batchId of recalled)
      assert.equal(recalledOnChain.get(batchId.toLowerCase()), 1, `${batchId} recalled once`);
    assert.equal(total(recalledOnChain), recalled.size);

    // The query store holds one record per key, no more.
    const coop = apiClient(current().url, demo.organisations.cooperative.token);
    for (const [batchId, n] of eventsPerBatch) {
      const listed = await coop.get<{ events: { id: string }[] }>(`/api/v1/batches/${batchId}/events`);
      assert.equal(listed.body.events.length, n, `${batchId}: ${n} events stored`);
    }
    const ours = await coop.get<{ batches: { lot: string }[] }>(`/api/v1/batches?gtin=${DEMO_GTIN}&limit=500`);
    assert.equal(ours.body.batches.filter((b) => b.lot.startsWith("K")).length, registrations.length);

    return {
      engine,
      cycles,
      killedWithWritesInFlight,
      keys: writes.length,
      registrations: registrations.length,
      events: events.length,
      uploads: uploads.length,
      recalls: recalls.length,
      retriedKeys,
      killsAfterWriteBeforeAnswer,
      answeredFromKilledServersWork: writes.filter((w) => w.doneBeforeKill === true).length,
      answeredInProgress: writes.reduce((n, w) => n + w.inProgress, 0),
      cyclesMs,
      restartMsMedian: restartMs.sort((a, b) => a - b)[Math.floor(restartMs.length / 2)] ?? 0,
    };
  } finally {
    await server?.kill("SIGKILL");
    for (const standby of standbys) await standby.kill();
    await watcher?.close();
    provider.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
