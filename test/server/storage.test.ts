/**
 * The storage layer, one suite run against both engines: SQLite (a temp file) always,
 * PostgreSQL when TEST_DATABASE_URL names a server whose role may create databases (the
 * suite makes its own database there and drops it afterwards). `npm test` provides one
 * through its "server:postgres" step.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { sql, type Kysely } from "kysely";

import { appendAudit, listAudit } from "../../server/src/storage/audit-log.ts";
import {
  claimItem,
  countItems,
  getBatch,
  getItem,
  insertBatch,
  insertItems,
  listBatches,
  listItemSerials,
  recallBatch,
  setBatchLedger,
  type NewBatch,
} from "../../server/src/storage/batches.ts";
import { getProduct, insertCertification, insertPlot, insertProduct } from "../../server/src/storage/catalogue.ts";
import {
  findUsableCredential,
  hashToken,
  insertCredential,
  revokeCredential,
} from "../../server/src/storage/credentials.ts";
import {
  engineOf,
  isUniqueViolation,
  openDatabase,
  type Engine,
  type OpenedDatabase,
} from "../../server/src/storage/database.ts";
import { getEvent, insertEvent, listBatchEvents, recordEventOnChain } from "../../server/src/storage/events.ts";
import {
  completeIdempotencyKey,
  IdempotencyLeaseLost,
  markIdempotencyKeyWritten,
  pruneIdempotencyKeys,
  releaseIdempotencyKey,
  renewIdempotencyKey,
  reserveIdempotencyKey,
} from "../../server/src/storage/idempotency.ts";
import { createIndexerStore, listBatchLogs } from "../../server/src/storage/indexer-store.ts";
import { acquireLease, currentLease, releaseLease } from "../../server/src/storage/lease.ts";
import { MIGRATIONS } from "../../server/src/storage/migrations/index.ts";
import { migrateToLatest } from "../../server/src/storage/migrate.ts";
import { allocateNonces, peekNextNonce } from "../../server/src/storage/nonces.ts";
import { getOrganisation, insertOrganisation, listOrganisations } from "../../server/src/storage/organisations.ts";
import {
  claimDueOutbox,
  createOutboxPort,
  enqueueOutbox,
  getOutboxEntry,
  markOutboxSubmitted,
} from "../../server/src/storage/outbox.ts";
import {
  countClaimAttemptsSince,
  countScansSince,
  recordClaimAttempt,
  recordScan,
} from "../../server/src/storage/scans.ts";
import type { Database } from "../../server/src/storage/schema.ts";

const UINT64_MAX = 2n ** 64n - 1n;
const UINT256_MAX = 2n ** 256n - 1n;
const BULK_ITEMS = 100_000;

interface Harness {
  /** A new handle on the same database: a second process, as far as the database can tell. */
  open: () => Promise<OpenedDatabase>;
  dispose: () => Promise<void>;
}

const hex = (bytes: number) => `0x${randomBytes(bytes).toString("hex")}`;
const address = () => hex(20);

async function sqliteHarness(): Promise<Harness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "oioc-storage-"));
  const file = path.join(dir, "trace.db");
  return {
    open: () => openDatabase({ kind: "sqlite", path: file }),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}

async function postgresHarness(adminUrl: string): Promise<Harness> {
  const name = `storage_test_${randomBytes(6).toString("hex")}`;
  const admin = await openDatabase({ kind: "postgres", url: adminUrl, poolSize: 1 });
  await sql`create database ${sql.id(name)}`.execute(admin.db);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    open: () => openDatabase({ kind: "postgres", url: url.toString(), poolSize: 8 }),
    dispose: async () => {
      // pg's pool.end() does not wait for the server to see each session end; dropping
      // with FORCE before then would terminate sessions whose clients still listen.
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
}

interface Fixture {
  organisationId: string;
  signer: string;
  gtin: string;
}

async function seed(db: Kysely<Database>): Promise<Fixture> {
  const organisationId = `org-${randomBytes(6).toString("hex")}`;
  const signer = address();
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

function newBatch(fixture: Fixture, overrides: Partial<NewBatch> = {}): NewBatch {
  return {
    batchId: hex(32),
    gtin: fixture.gtin,
    lot: `L${randomBytes(4).toString("hex")}`,
    organisationId: fixture.organisationId,
    plotId: null,
    harvestedAtMs: Date.UTC(2026, 3, 1),
    quantityMilli: 1_234_500n,
    unit: "KGM",
    itemCount: 3,
    itemsRoot: hex(32),
    metadataCid: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
    videoCid: null,
    photoCids: ["bafkreia", "bafkreib"],
    certificateNumber: "HG-330106-0001",
    certificationIds: [],
    description: { zh: "明前龙井", en: null },
    attestation: {
      signerAddress: fixture.signer,
      signature: hex(65),
      nonce: 7n,
      deadline: 1_900_000_000n,
      typedDataVersion: "1",
    },
    createdBy: "credential-1",
    ...overrides,
  };
}

async function rejects(promise: Promise<unknown>, predicate: (error: unknown) => boolean, what: string): Promise<void> {
  await assert.rejects(promise, (error) => {
    assert.ok(predicate(error), `${what}: unexpected error ${String(error)}`);
    return true;
  });
}

function storageSuite(engine: Engine, makeHarness: () => Promise<Harness>): void {
  let harness: Harness;
  let main: OpenedDatabase;
  let db: Kysely<Database>;
  let fixture: Fixture;
  const opened: OpenedDatabase[] = [];

  /** A second handle for concurrency tests. SQLite in one process is one writer: its handle is shared. */
  async function peer(): Promise<Kysely<Database>> {
    if (engine === "sqlite") return db;
    const handle = await harness.open();
    opened.push(handle);
    return handle.db;
  }

  before(async () => {
    harness = await makeHarness();
    main = await harness.open();
    db = main.db;
    await migrateToLatest(db);
    fixture = await seed(db);
  });

  after(async () => {
    for (const handle of opened) await handle.close();
    await main.close();
    await harness.dispose();
  });

  test("opens the configured engine and migrates idempotently", async () => {
    assert.equal(main.engine, engine);
    assert.equal(engineOf(db), engine);
    await db.transaction().execute((trx) => {
      assert.equal(engineOf(trx), engine);
      return Promise.resolve();
    });
    assert.deepEqual(await migrateToLatest(db), [], "a second run applies nothing");
    const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
    assert.deepEqual(
      applied.rows.map((row) => row.name),
      Object.keys(MIGRATIONS).sort(),
    );
  });

  if (engine === "sqlite") {
    test("SQLite runs in WAL mode with full sync, foreign keys and a busy timeout", async () => {
      const pragma = async (name: string) => {
        const result = await sql<Record<string, unknown>>`select * from ${sql.raw(`pragma_${name}`)}`.execute(db);
        return Object.values(result.rows[0] ?? {})[0];
      };
      assert.equal(await pragma("journal_mode"), "wal");
      assert.equal(await pragma("synchronous"), 2, "FULL");
      assert.equal(await pragma("foreign_keys"), 1);
      assert.equal(await pragma("busy_timeout"), 5_000);
    });
  }

  test("uint64 and uint256 values round-trip exactly as bigint, times and block numbers as number", async () => {
    const batch = newBatch(fixture, {
      quantityMilli: UINT64_MAX,
      attestation: { ...newBatch(fixture).attestation, nonce: UINT256_MAX, deadline: UINT64_MAX },
    });
    await insertBatch(db, batch);
    await setBatchLedger(db, batch.batchId, {
      state: "anchored",
      failureReason: null,
      txHash: hex(32),
      blockNumber: Number.MAX_SAFE_INTEGER,
    });
    const stored = await getBatch(db, batch.batchId);
    assert.ok(stored);
    assert.equal(stored.quantityMilli, UINT64_MAX);
    assert.equal(stored.attestation.nonce, UINT256_MAX);
    assert.equal(stored.attestation.deadline, UINT64_MAX);
    assert.equal(stored.ledger.blockNumber, Number.MAX_SAFE_INTEGER);
    assert.equal(stored.harvestedAtMs, batch.harvestedAtMs);
    assert.equal(typeof stored.createdAtMs, "number");
    assert.equal(stored.attestation.signerAddress, fixture.signer.toLowerCase());
  });

  test("a product's net content round-trips as exact decimal text, and its absence as null", async () => {
    const gtin = `0${String(Math.floor(Math.random() * 1e13)).padStart(13, "0")}`;
    await insertProduct(db, {
      gtin,
      nameZh: "龙井茶 125 克",
      nameEn: null,
      category: "tea",
      unit: "kg",
      coldChain: null,
      maxYieldPerHa: null,
      netContent: { value: "0.125", unit: "kg" },
      createdBy: fixture.organisationId,
    });
    assert.deepEqual((await getProduct(db, gtin))?.netContent, { value: "0.125", unit: "kg" });
    assert.equal((await getProduct(db, fixture.gtin))?.netContent, null);
  });

  test("JSON columns are parsed on the way out, and a malformed one fails loudly", async () => {
    const certification = await insertCertification(db, {
      id: `cert-${randomBytes(4).toString("hex")}`,
      organisationId: fixture.organisationId,
      kind: "green_food",
      number: `LB-${randomBytes(4).toString("hex")}`,
      issuer: "中国绿色食品发展中心",
      validFromMs: Date.UTC(2025, 0, 1),
      validToMs: Date.UTC(2028, 0, 1),
      scopeGtins: [fixture.gtin],
    });
    assert.deepEqual(certification.scopeGtins, [fixture.gtin]);
    const batch = newBatch(fixture, { certificationIds: [certification.id] });
    await insertBatch(db, batch);
    const stored = await getBatch(db, batch.batchId);
    assert.ok(stored);
    assert.deepEqual(stored.photoCids, ["bafkreia", "bafkreib"]);
    assert.deepEqual(stored.certificationIds, [certification.id]);

    await db
      .updateTable("batches")
      .set({ photo_cids_json: '{"not":"a list"}' })
      .where("batch_id", "=", batch.batchId)
      .execute();
    await rejects(
      getBatch(db, batch.batchId),
      (error) => error instanceof Error && error.message.includes("batches.photo_cids_json"),
      "malformed JSON column",
    );
    await db.updateTable("batches").set({ photo_cids_json: "[" }).where("batch_id", "=", batch.batchId).execute();
    await rejects(
      getBatch(db, batch.batchId),
      (error) => error instanceof Error && error.message.includes("does not hold JSON"),
      "JSON syntax error",
    );
    // Leave no broken row behind for the listing tests.
    await db.deleteFrom("batches").where("batch_id", "=", batch.batchId).execute();
  });

  test("a duplicate batch id, GTIN + lot or item serial is refused", async () => {
    const batch = newBatch(fixture);
    await insertBatch(db, batch);
    await rejects(insertBatch(db, newBatch(fixture, { batchId: batch.batchId })), isUniqueViolation, "same batch id");
    await rejects(insertBatch(db, newBatch(fixture, { lot: batch.lot })), isUniqueViolation, "same GTIN and lot");

    await insertItems(db, batch.batchId, [{ serial: "A1", leafIndex: 0, hiddenCodeHmac: null }]);
    await rejects(
      insertItems(db, batch.batchId, [
        { serial: "B2", leafIndex: 1, hiddenCodeHmac: null },
        { serial: "A1", leafIndex: 2, hiddenCodeHmac: null },
      ]),
      isUniqueViolation,
      "same serial in the batch",
    );
    assert.equal(await countItems(db, batch.batchId), 1, "a refused insert leaves none of its items behind");
    // The same serial in another batch is a different item.
    const other = newBatch(fixture);
    await insertBatch(db, other);
    await insertItems(db, other.batchId, [{ serial: "A1", leafIndex: 0, hiddenCodeHmac: null }]);
    assert.equal(await countItems(db, other.batchId), 1);
  });

  test("foreign keys are enforced", async () => {
    await rejects(
      insertItems(db, hex(32), [{ serial: "X", leafIndex: 0, hiddenCodeHmac: null }]),
      (error) => error instanceof Error && /foreign key/i.test(error.message),
      "item of an unknown batch",
    );
  });

  test("organisations keep their custody and filter by region prefix", async () => {
    const org = await getOrganisation(db, fixture.organisationId);
    assert.deepEqual(org?.custody, { kind: "server", keystoreJson: '{"version":3}' });
    assert.equal(org.status, "active");
    await rejects(
      insertOrganisation(db, {
        id: "own-with-keystore",
        kind: "processor",
        nameZh: "加工厂",
        nameEn: null,
        uscc: "91330106MA2XXXXXX1",
        regionCode: "330106",
        signerAddress: address(),
        custody: { kind: "own" },
        metadataCid: null,
        ledgerState: null,
      }).then(() =>
        db.updateTable("organisations").set({ keystore_json: "{}" }).where("id", "=", "own-with-keystore").execute(),
      ),
      (error) => error instanceof Error && /check constraint|CHECK constraint/i.test(error.message),
      "own custody with a stored keystore",
    );
    assert.ok((await listOrganisations(db, { regionPrefix: "3301" })).some((o) => o.id === fixture.organisationId));
    assert.ok(!(await listOrganisations(db, { regionPrefix: "11" })).some((o) => o.id === fixture.organisationId));
  });

  test("credentials are found by token hash only while neither revoked nor expired", async () => {
    const token = randomBytes(32).toString("base64url");
    const now = Date.now();
    const credential = await insertCredential(db, {
      id: `cred-${randomBytes(4).toString("hex")}`,
      organisationId: fixture.organisationId,
      tokenHash: hashToken(token),
      roles: ["batches:write"],
      label: "office PC",
      expiresAtMs: now + 60_000,
    });
    const stored = await db
      .selectFrom("credentials")
      .selectAll()
      .where("id", "=", credential.id)
      .executeTakeFirstOrThrow();
    assert.ok(!JSON.stringify(stored).includes(token), "the token itself is not stored");
    assert.deepEqual((await findUsableCredential(db, hashToken(token), now))?.roles, ["batches:write"]);
    assert.equal(await findUsableCredential(db, hashToken(token), now + 60_000), null, "expired");
    assert.equal(await revokeCredential(db, credential.id, now), true);
    assert.equal(await findUsableCredential(db, hashToken(token), now), null, "revoked");
  });

  test("events keep their signed fields and come back in chain order", async () => {
    const batch = newBatch(fixture);
    await insertBatch(db, batch);
    const make = (step: "harvesting" | "packing", occurredAtMs: number) => ({
      id: `evt-${randomBytes(4).toString("hex")}`,
      batchId: batch.batchId,
      bizStep: step,
      actorOrganisationId: fixture.organisationId,
      occurredAtMs,
      payloadCid: "bafkreievent",
      data: { temperatureC: [2.5, 3.1], tested: ["chlorpyrifos"] },
      counterparty: null,
      signed: {
        signerAddress: fixture.signer,
        signature: hex(65),
        nonce: UINT256_MAX - 1n,
        deadline: UINT64_MAX,
        typedDataVersion: "1",
      },
      digest: hex(32),
      createdBy: "credential-1",
    });
    const first = make("harvesting", 1_000);
    const second = make("packing", 2_000);
    await insertEvent(db, second);
    await insertEvent(db, first);
    await rejects(insertEvent(db, { ...first, id: "another" }), isUniqueViolation, "same digest");
    // The chain put `second` first; chain order wins over time and acceptance order.
    await recordEventOnChain(db, second.digest, { txHash: hex(32), blockNumber: 10, logIndex: 0, eventHead: hex(32) });
    await recordEventOnChain(db, first.digest, { txHash: hex(32), blockNumber: 10, logIndex: 3, eventHead: hex(32) });
    const events = await listBatchEvents(db, batch.batchId);
    assert.deepEqual(
      events.map((event) => event.id),
      [second.id, first.id],
    );
    const stored = await getEvent(db, first.id);
    assert.deepEqual(stored?.data, first.data);
    assert.equal(stored.signed.nonce, UINT256_MAX - 1n);
    assert.equal(stored.ledger.state, "anchored");
    assert.equal(stored.chain?.logIndex, 3);
  });

  test("the outbox enqueues idempotently and mirrors its states onto the batch", async () => {
    const batch = newBatch(fixture);
    await insertBatch(db, batch);
    const payload = { attester: fixture.signer, quantityMilli: UINT64_MAX.toString() };
    const first = await enqueueOutbox(db, { kind: "attestation", referenceId: batch.batchId, payload }, 1_000);
    const again = await enqueueOutbox(db, { kind: "attestation", referenceId: batch.batchId, payload }, 1_000);
    assert.equal(first.created, true);
    assert.deepEqual(again, { id: first.id, created: false });

    let now = 1_000;
    const port = createOutboxPort(db, { holder: "writer-a", now: () => now });
    const due = await port.duePending("attestation", 10, now);
    const entry = due.find((e) => e.id === String(first.id));
    assert.deepEqual(entry?.payload, payload);

    await port.reschedule([String(first.id)], "waiting: organisation unknown", 5_000);
    assert.equal((await getOutboxEntry(db, first.id))?.attempts, 1);
    assert.ok(!(await port.duePending("attestation", 100, now)).some((e) => e.id === String(first.id)), "not yet due");
    now += 5_000;
    assert.ok(
      (await port.duePending("attestation", 100, now)).some((e) => e.id === String(first.id)),
      "due again",
    );

    const txHash = hex(32);
    await port.markSubmitted([String(first.id)], { txHash, rawTx: "0x02f8", sender: address(), nonce: 4 });
    assert.equal((await getBatch(db, batch.batchId))?.ledger.state, "submitted");
    const submitted = (await port.listSubmitted()).find((tx) => tx.txHash === txHash);
    // With the kinds it carries: the writer holds back what must follow it until it is mined.
    assert.deepEqual(submitted, { txHash, rawTx: "0x02f8", entryIds: [String(first.id)], kinds: ["attestation"] });

    await port.markAnchored([String(first.id)], { txHash, blockNumber: 42 });
    const anchored = await getBatch(db, batch.batchId);
    assert.equal(anchored?.ledger.state, "anchored");
    assert.equal(anchored.ledger.blockNumber, 42);
    assert.equal(anchored.ledger.txHash, txHash);
    assert.equal((await getOutboxEntry(db, first.id))?.state, "anchored");

    const refused = newBatch(fixture);
    await insertBatch(db, refused);
    const refusedEntry = await enqueueOutbox(db, { kind: "attestation", referenceId: refused.batchId, payload }, now);
    await port.markFailed(String(refusedEntry.id), "SignatureExpired");
    const failed = await getBatch(db, refused.batchId);
    assert.equal(failed?.ledger.state, "failed");
    assert.equal(failed.ledger.failureReason, "SignatureExpired");
  });

  test("an outbox claim keeps other holders off until it lapses", async () => {
    const kind = `claim-ttl-${randomBytes(3).toString("hex")}`;
    const { id } = await enqueueOutbox(db, { kind, referenceId: "r", payload: {} }, 0);
    const claim = (holder: string, nowMs: number) =>
      claimDueOutbox(db, { kind, holder, limit: 10, nowMs, claimTtlMs: 1_000 });
    assert.deepEqual(
      (await claim("a", 10)).map((e) => e.id),
      [id],
    );
    assert.deepEqual(await claim("b", 500), [], "held by a");
    assert.equal((await claim("a", 600)).length, 1, "a may pick up its own entry again");
    assert.deepEqual(
      (await claim("b", 1_700)).map((e) => e.id),
      [id],
      "a's claim lapsed",
    );
  });

  test("two concurrent outbox claimers never get the same entry", async () => {
    const kind = `race-${randomBytes(3).toString("hex")}`;
    const total = 120;
    for (let i = 0; i < total; i++) await enqueueOutbox(db, { kind, referenceId: `ref-${i}`, payload: { i } }, 0);
    const other = await peer();
    const claimer = async (handle: Kysely<Database>, holder: string): Promise<number[]> => {
      const got: number[] = [];
      for (;;) {
        const entries = await claimDueOutbox(handle, { kind, holder, limit: 7, nowMs: 1, claimTtlMs: 60_000 });
        if (entries.length === 0) return got;
        got.push(...entries.map((e) => e.id));
        // Processing moves entries out of "pending", as the writer does.
        await markOutboxSubmitted(
          handle,
          entries.map((e) => e.id),
          { txHash: hex(32), rawTx: "0x", sender: address(), nonce: 0 },
          2,
        );
      }
    };
    const [a, b] = await Promise.all([claimer(db, "writer-a"), claimer(other, "writer-b")]);
    const all = [...a, ...b];
    assert.equal(new Set(all).size, all.length, "no entry was claimed twice");
    assert.equal(all.length, total, "every entry was claimed");
    if (engine === "postgres") assert.ok(a.length > 0 && b.length > 0, "both claimers took part");
  });

  test("nonce allocation never hands out the same nonce twice under concurrency", async () => {
    const signer = address();
    const handles = [db, await peer(), await peer()];
    const allocations = await Promise.all(
      Array.from({ length: 60 }, (_, i) => allocateNonces(handles[i % handles.length] ?? db, signer)),
    );
    const sorted = [...allocations].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
    assert.deepEqual(
      sorted,
      Array.from({ length: 60 }, (_, i) => BigInt(i)),
    );
    assert.equal(await allocateNonces(db, signer, 10), 60n, "a range starts after the last single nonce");
    assert.equal(await peekNextNonce(db, signer), 70n);

    // Counters are uint256 text: near the top, arithmetic must still be exact.
    await db
      .updateTable("signer_nonces")
      .set({ next_nonce: (UINT256_MAX - 5n).toString() })
      .where("signer_address", "=", signer.toLowerCase())
      .execute();
    assert.equal(await allocateNonces(db, signer, 2), UINT256_MAX - 5n);
    assert.equal(await peekNextNonce(db, signer), UINT256_MAX - 3n);
  });

  test("an idempotency key replays its response and refuses a different request", async () => {
    const request = {
      organisationId: fixture.organisationId,
      key: `key-${randomBytes(4).toString("hex")}`,
      method: "POST",
      path: "/v1/batches",
      requestHash: hex(32),
    };
    const lease = { token: "holder-a", leaseMs: 30_000, nowMs: 1_000 };
    const claim = { organisationId: request.organisationId, key: request.key, token: lease.token };
    assert.deepEqual(await reserveIdempotencyKey(db, request, lease), { outcome: "reserved", takenOver: false });
    assert.deepEqual(await reserveIdempotencyKey(db, request, { ...lease, token: "b", nowMs: 2_000 }), {
      outcome: "in_progress",
      retryAfterMs: 29_000,
    });
    assert.deepEqual(await reserveIdempotencyKey(db, { ...request, requestHash: hex(32) }, { ...lease, token: "b" }), {
      outcome: "mismatch",
    });
    const body = { batchId: hex(32), items: 3, note: "已受理" };
    assert.equal(await completeIdempotencyKey(db, { ...claim, token: "b" }, { status: 201, body }), false, "not held");
    assert.equal(await completeIdempotencyKey(db, claim, { status: 201, body }), true);
    assert.deepEqual(await reserveIdempotencyKey(db, request, { ...lease, token: "c" }), {
      outcome: "replay",
      status: 201,
      body,
    });
    assert.equal(await completeIdempotencyKey(db, claim, { status: 500, body: {} }), false, "completing twice");
    // Another organisation's key of the same name is its own.
    const other = await seed(db);
    assert.deepEqual(
      await reserveIdempotencyKey(db, { ...request, organisationId: other.organisationId }, { ...lease, token: "d" }),
      { outcome: "reserved", takenOver: false },
    );
    // A released key can be used again.
    const released = { ...request, key: `${request.key}-released` };
    await reserveIdempotencyKey(db, released, lease);
    await releaseIdempotencyKey(db, { ...claim, key: released.key });
    assert.deepEqual(await reserveIdempotencyKey(db, released, lease), { outcome: "reserved", takenOver: false });
  });

  test("a key whose holder died is taken over: rerun if nothing was written, answered from the write otherwise", async () => {
    const request = {
      organisationId: fixture.organisationId,
      key: `key-${randomBytes(4).toString("hex")}`,
      method: "POST",
      path: "/v1/batches/x/events",
      requestHash: hex(32),
    };
    const first = { organisationId: request.organisationId, key: request.key, token: "first" };
    await reserveIdempotencyKey(db, request, { token: "first", leaseMs: 1_000, nowMs: 0 });
    assert.equal(await renewIdempotencyKey(db, first, 1_000, 500), true, "the holder renews until 1,500");
    assert.equal(
      (await reserveIdempotencyKey(db, request, { token: "x", leaseMs: 1_000, nowMs: 1_400 })).outcome,
      "in_progress",
    );
    // The holder died before writing: the next retry after the lease takes the key over and runs the request.
    assert.deepEqual(await reserveIdempotencyKey(db, request, { token: "second", leaseMs: 1_000, nowMs: 1_600 }), {
      outcome: "reserved",
      takenOver: true,
    });
    const second = { ...first, token: "second" };
    // The first holder woke up: its write is refused inside its transaction, which rolls back.
    const written = { action: "event.record", target: "evt_1", details: { batchId: "b" } };
    await rejects(
      db.transaction().execute(async (trx) => {
        await markIdempotencyKeyWritten(trx, first, written);
      }),
      (error) => error instanceof IdempotencyLeaseLost,
      "a write under a key taken over",
    );
    assert.equal(await renewIdempotencyKey(db, first, 1_000, 1_700), false);
    await db.transaction().execute(async (trx) => {
      await markIdempotencyKeyWritten(trx, second, written);
    });
    // Released after a write, the key stays: its retry must be answered from the write.
    await releaseIdempotencyKey(db, second);
    // The second holder died after its write and before its answer: the retry recovers the write.
    assert.deepEqual(await reserveIdempotencyKey(db, request, { token: "third", leaseMs: 1_000, nowMs: 5_000 }), {
      outcome: "recover",
      written,
    });
    assert.equal(await completeIdempotencyKey(db, second, { status: 202, body: {} }), false);
    assert.equal(
      await completeIdempotencyKey(db, { ...first, token: "third" }, { status: 202, body: { ok: 1 } }),
      true,
    );
    // Pruning forgets answered keys and abandoned ones, never a key still held.
    const held = { ...request, key: `${request.key}-held` };
    await reserveIdempotencyKey(db, held, { token: "h", leaseMs: 60_000, nowMs: 10_000 });
    const abandoned = { ...request, key: `${request.key}-gone` };
    await reserveIdempotencyKey(db, abandoned, { token: "g", leaseMs: 1_000, nowMs: 10_000 });
    const pruned = await pruneIdempotencyKeys(db, 20_000, 30_000);
    assert.ok(pruned >= 2, `pruned ${pruned}`);
    const left = await db
      .selectFrom("idempotency_keys")
      .select("key")
      .where("key", "like", `${request.key}%`)
      .execute();
    assert.deepEqual(
      left.map((row) => row.key),
      [held.key],
    );
  });

  test("a lease has one holder, is renewed by it, and is taken over after expiry", async () => {
    const name = `writer-${randomBytes(3).toString("hex")}`;
    assert.equal(await acquireLease(db, { name, holder: "a", ttlMs: 1_000, nowMs: 0 }), true);
    assert.equal(await acquireLease(db, { name, holder: "b", ttlMs: 1_000, nowMs: 500 }), false);
    assert.equal(await acquireLease(db, { name, holder: "a", ttlMs: 1_000, nowMs: 900 }), true, "renewed");
    assert.equal(await acquireLease(db, { name, holder: "b", ttlMs: 1_000, nowMs: 1_500 }), false, "renewal held");
    assert.equal((await currentLease(db, name, 1_500))?.holder, "a");
    assert.equal(await acquireLease(db, { name, holder: "b", ttlMs: 1_000, nowMs: 1_900 }), true, "taken over");
    assert.equal(await acquireLease(db, { name, holder: "a", ttlMs: 1_000, nowMs: 2_000 }), false);
    await releaseLease(db, name, "a");
    assert.equal((await currentLease(db, name, 2_000))?.holder, "b", "only the holder can release");
    await releaseLease(db, name, "b");
    assert.equal(await currentLease(db, name, 2_000), null);

    const raced = `race-${randomBytes(3).toString("hex")}`;
    const handles = [db, await peer()];
    const wins = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        acquireLease(handles[i % 2] ?? db, { name: raced, holder: `replica-${i}`, ttlMs: 10_000, nowMs: 0 }),
      ),
    );
    assert.equal(wins.filter(Boolean).length, 1, "exactly one replica wins the race");
  });

  test("the indexer store applies logs, remembers block hashes, and rolls back by block", async () => {
    const batchId = hex(32);
    const contract = address();
    const store = createIndexerStore(db, { chainId: "31337", contractAddress: contract, reorgWindow: 3 });
    assert.equal(await store.cursor(), null);
    const block = (number: number) => ({ number, hash: hex(32) });
    const log = (blockNumber: number, blockHash: string, logIndex: number) => ({
      blockNumber,
      blockHash,
      logIndex,
      txHash: hex(32),
      name: "EventRecorded",
      args: { batchId, nonce: UINT256_MAX.toString() },
    });
    const first = [block(5), block(6)];
    const firstLogs = [log(5, first[0]?.hash ?? "", 0), log(6, first[1]?.hash ?? "", 1)];
    await store.apply({ from: 5, to: 6, blocks: first }, firstLogs);
    const second = [block(7), block(8)];
    await store.apply({ from: 7, to: 8, blocks: second }, [log(8, second[1]?.hash ?? "", 0)]);
    const cursor = await store.cursor();
    assert.equal(cursor?.lastBlock, 8);
    assert.deepEqual(cursor.recent, [first[1], ...second], "the newest blocks, as many as the window");
    await rejects(
      store.apply({ from: 20, to: 21, blocks: [] }, []),
      (error) => error instanceof Error && error.message.includes("cursor is at 8"),
      "a gap in the range",
    );
    assert.equal((await listBatchLogs(db, batchId)).length, 3);
    assert.equal((await listBatchLogs(db, batchId))[0]?.args.nonce, UINT256_MAX.toString());

    // A projection that fails, reading or writing, takes the logs and the cursor down with it;
    // it reads before the transaction opens (an IPFS fetch must not hold the writer) and
    // writes inside it.
    const steps: string[] = [];
    const projecting = (fail: "read" | "write") =>
      createIndexerStore(db, {
        chainId: "31337",
        contractAddress: contract,
        reorgWindow: 3,
        project: (reader) => {
          steps.push(reader.isTransaction ? "read in a transaction" : "read");
          if (fail === "read") return Promise.reject(new Error("projection failed"));
          return Promise.resolve(() => {
            steps.push("write");
            return Promise.reject(new Error("projection failed"));
          });
        },
      });
    const ninth = block(9);
    for (const fail of ["read", "write"] as const) {
      await rejects(
        projecting(fail).apply({ from: 9, to: 9, blocks: [ninth] }, [log(9, ninth.hash, 0)]),
        (error) => error instanceof Error && error.message === "projection failed",
        `a projection failing to ${fail}`,
      );
      assert.equal((await store.cursor())?.lastBlock, 8);
      assert.equal((await listBatchLogs(db, batchId)).length, 3);
    }
    assert.deepEqual(steps, ["read", "read", "write"]);

    await store.rollbackAfter(6);
    assert.deepEqual(await store.cursor(), { lastBlock: 6, recent: [first[1]] });
    assert.deepEqual(
      (await listBatchLogs(db, batchId)).map((l) => l.blockNumber),
      [5, 6],
    );
  });

  test("scans, claim attempts and the audit log count and read back", async () => {
    const batchId = hex(32);
    for (const at of [1_000, 2_000, 3_000]) {
      await recordScan(db, {
        batchId,
        serial: "S1",
        scannedAtMs: at,
        coarsePlace: "330106",
        clientHash: at === 3_000 ? "c2" : "c1",
        verdict: "verified",
      });
    }
    assert.deepEqual(await countScansSince(db, batchId, "S1", 1_500), { scans: 2, distinctClients: 2 });
    assert.deepEqual(await countScansSince(db, batchId, "S1", 0), { scans: 3, distinctClients: 2 });
    await recordClaimAttempt(db, { batchId, serial: "S1", clientHash: "c1", attemptedAtMs: 10, outcome: "wrong_code" });
    await recordClaimAttempt(db, { batchId, serial: "S1", clientHash: "c1", attemptedAtMs: 20, outcome: "claimed" });
    assert.equal(await countClaimAttemptsSince(db, { batchId, serial: "S1" }, 15), 1);
    assert.equal(await countClaimAttemptsSince(db, { clientHash: "c1" }, 0), 2);

    const target = `batch:${batchId}`;
    await appendAudit(db, {
      organisationId: fixture.organisationId,
      credentialId: null,
      action: "batch.recall",
      target,
      atMs: 5,
      details: { reasonCid: "bafkreireason", items: 3 },
      requestId: "req-1",
    });
    const entries = await listAudit(db, { target });
    assert.equal(entries.length, 1);
    assert.deepEqual(entries[0]?.details, { reasonCid: "bafkreireason", items: 3 });
  });

  test("batches list by region and state, recall once, and items claim once", async () => {
    const plot = await insertPlot(db, {
      id: `plot-${randomBytes(4).toString("hex")}`,
      organisationId: fixture.organisationId,
      name: "狮峰山东坡",
      area: 12.5,
      areaUnit: "mu",
      regionCode: "330106",
      location: { latitude: 30.2359, longitude: 120.1187 },
    });
    const batch = newBatch(fixture, { plotId: plot.id });
    await insertBatch(db, batch);
    assert.ok((await listBatches(db, { regionPrefix: "33", limit: 1_000 })).some((b) => b.batchId === batch.batchId));
    assert.ok(!(await listBatches(db, { regionPrefix: "44" })).some((b) => b.batchId === batch.batchId));
    assert.equal(await recallBatch(db, batch.batchId, "bafkreireason"), true);
    assert.equal(await recallBatch(db, batch.batchId, "bafkreireason"), false, "already recalled");
    assert.equal((await getBatch(db, batch.batchId))?.status, "recalled");

    await insertItems(db, batch.batchId, [{ serial: "C1", leafIndex: 0, hiddenCodeHmac: "hmac" }]);
    assert.equal(await claimItem(db, batch.batchId, "C1", "client", 100), true);
    assert.equal(await claimItem(db, batch.batchId, "C1", "another", 200), false, "claimed once only");
    assert.deepEqual((await getItem(db, batch.batchId, "C1"))?.claim, { atMs: 100, clientHash: "client" });
  });

  test(`bulk insert of ${BULK_ITEMS.toLocaleString("en")} items`, async (t) => {
    const batch = newBatch(fixture, { itemCount: BULK_ITEMS });
    await insertBatch(db, batch);
    const items = Array.from({ length: BULK_ITEMS }, (_, i) => ({
      serial: i.toString(32).toUpperCase().padStart(13, "0"),
      leafIndex: i,
      hiddenCodeHmac: i % 2 === 0 ? randomBytes(32).toString("hex") : null,
    }));
    const started = performance.now();
    await insertItems(db, batch.batchId, items);
    const ms = performance.now() - started;
    t.diagnostic(`${engine}: ${BULK_ITEMS.toLocaleString("en")} items inserted in ${ms.toFixed(0)} ms`);
    console.log(`[bench] ${engine} bulk insert of ${BULK_ITEMS} items: ${ms.toFixed(0)} ms`);
    assert.equal(await countItems(db, batch.batchId), BULK_ITEMS);
    const serials = await listItemSerials(db, batch.batchId);
    assert.equal(serials[BULK_ITEMS - 1], items[BULK_ITEMS - 1]?.serial, "leaf order is kept");
    const odd = await getItem(db, batch.batchId, items[77_777]?.serial ?? "");
    assert.equal(odd?.leafIndex, 77_777);
    assert.equal(odd.hiddenCodeHmac, null, "a missing hidden code stays NULL");
    const even = await getItem(db, batch.batchId, items[77_778]?.serial ?? "");
    assert.equal(even?.hiddenCodeHmac, items[77_778]?.hiddenCodeHmac);
  });
}

describe("storage on SQLite", () => {
  storageSuite("sqlite", sqliteHarness);
});

const postgresUrl = process.env.TEST_DATABASE_URL;
describe(
  "storage on PostgreSQL",
  { skip: postgresUrl === undefined || postgresUrl === "" ? "TEST_DATABASE_URL is not set" : false },
  () => {
    storageSuite("postgres", () => postgresHarness(postgresUrl ?? ""));
  },
);
