/**
 * The idempotency lease raced, step by step: a key's holder stalls (its renewals starved,
 * as under a loaded machine), its lease lapses, a retry takes the key over, and then the
 * two writes meet. Each interleaving is forced with gates the test opens, never with sleeps:
 * the holder's clock and the taker's are apart by more than a lease, so the takeover is
 * certain, and the test waits for a state (a settled promise, a session waiting on a row
 * lock) before it takes the next step.
 *
 * The write is shaped as a registration is (services/batch-registration.ts `commitBatch`): the
 * batch row, unique by GTIN and lot, then the key's mark, in one transaction. SQLite always;
 * PostgreSQL when TEST_DATABASE_URL names a server whose role may create databases.
 */
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { sql, type Kysely } from "kysely";

import { freshPostgresDatabase } from "../../scripts/lib/fresh-database.ts";
import { AppError } from "../../server/src/errors/app-error.ts";
import { writeOnce, type KeyedOutcome, type WriteAnswer } from "../../server/src/services/idempotent-writes.ts";
import { insertBatch, listBatches, type NewBatch } from "../../server/src/storage/batches.ts";
import { insertProduct } from "../../server/src/storage/catalogue.ts";
import {
  isUniqueViolation,
  openDatabase,
  type Engine,
  type OpenedDatabase,
} from "../../server/src/storage/database.ts";
import { markIdempotencyKeyWritten, type KeyClaim, type WrittenRef } from "../../server/src/storage/idempotency.ts";
import { migrateToLatest } from "../../server/src/storage/migrate.ts";
import { insertOrganisation } from "../../server/src/storage/organisations.ts";
import type { Database } from "../../server/src/storage/schema.ts";
import { inTransaction } from "../../server/src/storage/transaction.ts";

const LEASE_MS = 30_000;
const T0 = Date.UTC(2026, 4, 1);
/** The holder's replica's clock, and the retry's: a lease and more later, so the holder looks dead. */
const holderClock = { now: () => T0 };
const takerClock = { now: () => T0 + 2 * LEASE_MS };

const hex = (bytes: number) => `0x${randomBytes(bytes).toString("hex")}`;

/** A promise the test resolves when it decides the next step may happen. */
function gate(): { open: () => void; passed: Promise<void> } {
  let open: () => void = () => undefined;
  const passed = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, passed };
}

interface Fixture {
  organisationId: string;
  signer: string;
  gtin: string;
}

async function seed(db: Kysely<Database>): Promise<Fixture> {
  const organisationId = `org-${randomBytes(6).toString("hex")}`;
  const signer = hex(20);
  await insertOrganisation(db, {
    id: organisationId,
    kind: "cooperative",
    nameZh: "青山茶叶专业合作社",
    nameEn: "Qingshan Tea Cooperative",
    uscc: `93330106${randomBytes(5).toString("hex").toUpperCase()}`,
    regionCode: "330106",
    signerAddress: signer,
    custody: { kind: "server", keystoreJson: '{"version":3}' },
    metadataCid: null,
    ledgerState: "pending",
  });
  const gtin = `0${String(Math.floor(Math.random() * 1e13)).padStart(13, "0")}`;
  await insertProduct(db, {
    gtin,
    nameZh: "龙井茶",
    nameEn: "Longjing tea",
    category: "tea",
    unit: "KGM",
    coldChain: null,
    maxYieldPerHa: 1_500,
    netContent: null,
    createdBy: organisationId,
  });
  return { organisationId, signer, gtin };
}

function newBatch(fixture: Fixture, lot: string): NewBatch {
  return {
    batchId: hex(32),
    gtin: fixture.gtin,
    lot,
    organisationId: fixture.organisationId,
    plotId: null,
    harvestedAtMs: Date.UTC(2026, 3, 1),
    quantityMilli: 3_000n,
    unit: "KGM",
    itemCount: 3,
    itemsRoot: hex(32),
    metadataCid: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
    videoCid: null,
    photoCids: [],
    certificateNumber: null,
    certificationIds: [],
    description: { zh: null, en: null },
    attestation: {
      signerAddress: fixture.signer,
      signature: hex(65),
      nonce: 1n,
      deadline: 1_900_000_000n,
      typedDataVersion: "1",
    },
    createdBy: "credential-1",
  };
}

function raceSuite(engine: Engine, open: () => Promise<{ opened: OpenedDatabase; dispose: () => Promise<void> }>) {
  let opened: OpenedDatabase;
  let dispose: () => Promise<void>;
  let db: Kysely<Database>;
  let fixture: Fixture;

  before(async () => {
    ({ opened, dispose } = await open());
    db = opened.db;
    await migrateToLatest(db);
    fixture = await seed(db);
  });
  after(async () => {
    await opened.close();
    await dispose();
  });

  const keyed = (lot: string) => ({
    organisationId: fixture.organisationId,
    key: `race-${lot}`,
    method: "POST",
    path: "/api/v1/batches",
    requestHash: hex(32),
  });

  const answerOf = (batchId: string): WriteAnswer => ({ status: 202, body: { batch: { batchId } } });

  /**
   * A registration as `commitBatch` writes it: the batch (a second one with its GTIN and lot is
   * `batch.exists`), then the key's mark, in one transaction; `inside` runs between the mark and the commit.
   */
  async function register(claim: KeyClaim, lot: string, inside?: () => Promise<void>): Promise<WriteAnswer> {
    const batch = newBatch(fixture, lot);
    try {
      await inTransaction(db, async (trx) => {
        await insertBatch(trx, batch, T0);
        await markIdempotencyKeyWritten(trx, claim, { action: "batch.register", target: batch.batchId, details: {} });
        await inside?.();
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError("batch.exists", {}, { cause: error });
      throw error;
    }
    return answerOf(batch.batchId);
  }

  // The holder may have stored its answer by the time the taker reads the key (a replay), or
  // not (an answer rebuilt from the write): either way it names the write's batch.
  const hooks = {
    recover: (written: WrittenRef) => Promise.resolve(answerOf(written.target)),
    onRenewalError: (error: unknown) => {
      throw error;
    },
  };
  const holderCtx = () => ({ db, idempotencyLeaseMs: LEASE_MS, ...holderClock });
  const takerCtx = () => ({ db, idempotencyLeaseMs: LEASE_MS, ...takerClock });

  async function batchesOfLot(lot: string): Promise<string[]> {
    const batches = await listBatches(db, { gtin: fixture.gtin });
    return batches.filter((b) => b.lot === lot).map((b) => b.batchId);
  }

  test(`${engine}: a stalled holder whose key was taken over and whose taker registered first answers "in progress", not batch.exists`, async () => {
    const lot = `R1-${randomUUID().slice(0, 8)}`;
    const request = keyed(lot);
    const holderMayWrite = gate();
    const holderReserved = gate();
    // The holder reserves the key, then stalls before its transaction (streaming, signing,
    // a starved event loop): its lease lapses by the taker's clock.
    const holder = writeOnce(
      holderCtx(),
      request,
      async (claim) => {
        holderReserved.open();
        await holderMayWrite.passed;
        return register(claim, lot);
      },
      hooks,
    );
    await holderReserved.passed;
    let takerRan = 0;
    const taker = await writeOnce(
      takerCtx(),
      request,
      (claim) => {
        takerRan++;
        return register(claim, lot);
      },
      hooks,
    );
    assert.equal(taker.outcome, "answered", "the taker registers the lot");
    assert.equal(takerRan, 1);
    const [registered] = await batchesOfLot(lot);
    assert.ok(registered !== undefined);
    // Now the holder's write meets the taker's batch: its failure is the taker's doing.
    holderMayWrite.open();
    const held: KeyedOutcome = await holder;
    assert.deepEqual(held, { outcome: "in_progress", retryAfterMs: 1_000 }, "the holder is told to ask again");
    const retry = await writeOnce(takerCtx(), request, () => Promise.reject(new Error("must not run again")), hooks);
    assert.deepEqual(retry, { outcome: "answered", answer: answerOf(registered), replayed: true });
    assert.deepEqual(await batchesOfLot(lot), [registered], "one batch for one key");
  });

  test(`${engine}: a holder taken over before its transaction commits nothing, and the taker's write stands`, async () => {
    const lot = `R2-${randomUUID().slice(0, 8)}`;
    const request = keyed(lot);
    const holderMayWrite = gate();
    const holderReserved = gate();
    const holder = writeOnce(
      holderCtx(),
      request,
      async (claim) => {
        holderReserved.open();
        await holderMayWrite.passed;
        // Another lot: no natural key to collide on, only the key's fence stops this write.
        return register(claim, `${lot}-holder`);
      },
      hooks,
    );
    await holderReserved.passed;
    const takerMayCommit = gate();
    const takerWriting = gate();
    const taker = writeOnce(
      takerCtx(),
      request,
      async (claim) => {
        takerWriting.open();
        await takerMayCommit.passed;
        return register(claim, lot);
      },
      hooks,
    );
    await takerWriting.passed;
    holderMayWrite.open();
    assert.deepEqual(await holder, { outcome: "in_progress", retryAfterMs: 1_000 });
    assert.deepEqual(await batchesOfLot(`${lot}-holder`), [], "the taken-over holder committed nothing");
    takerMayCommit.open();
    const answered = await taker;
    assert.equal(answered.outcome, "answered");
    assert.equal((await batchesOfLot(lot)).length, 1);
  });

  test(`${engine}: a takeover racing the commit of a handler's second write waits for it, then answers from the first`, async () => {
    const lot = `R3-${randomUUID().slice(0, 8)}`;
    const request = keyed(lot);
    const inSecondTransaction = gate();
    const holderMayCommit = gate();
    let firstBatch = "";
    let secondCommitted = false;
    const holder = writeOnce(
      holderCtx(),
      request,
      async (claim) => {
        const first = await register(claim, lot);
        firstBatch = (first.body as { batch: { batchId: string } }).batch.batchId;
        // The handler writes again under the key (a second record of the same request); it
        // stalls after marking, before its commit, and the lease lapses meanwhile.
        await register(claim, `${lot}-second`, async () => {
          inSecondTransaction.open();
          await holderMayCommit.passed;
        });
        secondCommitted = true;
        return first;
      },
      hooks,
    );
    await inSecondTransaction.passed;
    let takerSettled = false;
    const taker = writeOnce(takerCtx(), request, () => Promise.reject(new Error("must not run again")), hooks).finally(
      () => {
        takerSettled = true;
      },
    );
    try {
      if (engine === "postgres") {
        // The takeover must wait on the key's row, held by the holder's open transaction. Without
        // that lock it would take the key, answer and leave the holder to commit after it.
        for (;;) {
          assert.equal(takerSettled, false, "the takeover did not wait for the holder's open transaction");
          const { rows } = await sql<{ waiting: number }>`
            select count(*)::int as waiting from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock'`.execute(db);
          if ((rows[0]?.waiting ?? 0) > 0) break;
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    } finally {
      // On SQLite the takeover's statements queue behind the one writer, which the transaction
      // holds. Opened on a failure too, or the open transaction would keep the pool from closing.
      holderMayCommit.open();
    }
    const [held, took] = await Promise.all([holder, taker]);
    assert.equal(secondCommitted, true);
    assert.equal(held.outcome, "answered");
    // Once the holder's transaction ends, its answer may be stored before the takeover reads the
    // row again (PostgreSQL re-reads the newest version): then the takeover finds the key answered
    // under it and says "ask again", and the retry is the replay. Either way, the first write's answer.
    const final =
      took.outcome === "in_progress"
        ? await writeOnce(takerCtx(), request, () => Promise.reject(new Error("must not run again")), hooks)
        : took;
    assert.deepEqual(final, { outcome: "answered", answer: answerOf(firstBatch), replayed: true });
  });
}

describe("idempotency lease races on SQLite", () => {
  raceSuite("sqlite", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "oioc-race-"));
    return {
      opened: await openDatabase({ kind: "sqlite", path: path.join(dir, "trace.db") }),
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  });
});

const postgresUrl = process.env.TEST_DATABASE_URL;
describe(
  "idempotency lease races on PostgreSQL",
  { skip: postgresUrl === undefined || postgresUrl === "" ? "TEST_DATABASE_URL is not set" : false },
  () => {
    raceSuite("postgres", async () => {
      const url = await freshPostgresDatabase(postgresUrl ?? "", "race");
      const admin = await openDatabase({ kind: "postgres", url: postgresUrl ?? "", poolSize: 1 });
      const name = new URL(url).pathname.slice(1);
      return {
        opened: await openDatabase({ kind: "postgres", url, poolSize: 4 }),
        dispose: async () => {
          // The pool's end does not wait for the server to see its sessions go: dropping with
          // FORCE before then would terminate sessions whose clients still listen.
          for (let attempt = 0; attempt < 100; attempt++) {
            const { rows } = await sql<{ sessions: number }>`
              select count(*)::int as sessions from pg_stat_activity where datname = ${name}`.execute(admin.db);
            if (rows[0]?.sessions === 0) break;
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
          await sql`drop database if exists ${sql.id(name)} with (force)`.execute(admin.db);
          await admin.close();
        },
      };
    });
  },
);
