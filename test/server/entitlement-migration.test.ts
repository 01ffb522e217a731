/**
 * Migration 0011 on an existing deployment (a database at migration 0010 with products and
 * batches, on SQLite or PostgreSQL): each product is bound as a single GTIN to its first
 * registrant (the organisation that registered it, else the organisation of its earliest
 * batch the ledger did not refuse), products with neither stay unbound and are listed, and
 * the bindings are queued for the ledger once, in order, when the server starts.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { Migrator } from "kysely/migration";
import { pino } from "pino";

import { gtinCheckDigit } from "../../server/src/domain/gs1.ts";
import { queueUnanchoredBindings } from "../../server/src/services/entitlement.ts";
import type { ServiceContext } from "../../server/src/services/context.ts";
import { openDatabase, type OpenedDatabase } from "../../server/src/storage/database.ts";
import { entitlementBindingsFor, unboundProducts } from "../../server/src/storage/entitlements.ts";
import { migrateToLatest } from "../../server/src/storage/migrate.ts";
import { MIGRATIONS } from "../../server/src/storage/migrations/index.ts";
import { freshTestDatabaseUrl, TEST_DATABASE_URL } from "../support/test-database.ts";

function gtinOf(body13: string): string {
  return `${body13}${String(gtinCheckDigit(body13))}`;
}

const T0 = Date.parse("2026-03-01T00:00:00Z");
const ADDRESSES = {
  org_a: `0x${"a1".repeat(20)}`,
  org_b: `0x${"b2".repeat(20)}`,
  org_c: `0x${"c3".repeat(20)}`,
};
/** Registered by org_a itself. */
const BY_ORGANISATION = gtinOf("0690123400001");
/** Registered by the operator; org_c's batch came first but the ledger refused it, org_b's was accepted. */
const BY_BATCHES = gtinOf("0690123400002");
/** Registered by the operator, never batched: nobody to bind it to. */
const ORPHAN = gtinOf("0690123400003");

describe(`migration 0011 on an existing deployment (${TEST_DATABASE_URL === undefined ? "SQLite" : "PostgreSQL"})`, () => {
  let dataDir: string;
  let store: OpenedDatabase;

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), "entitlement-migration-"));
    const url = await freshTestDatabaseUrl("entitlement_migration");
    store = await openDatabase(
      url === undefined ? { kind: "sqlite", path: path.join(dataDir, "trace.db") } : { kind: "postgres", url },
    );
    const migrator = new Migrator({
      db: store.db,
      provider: { getMigrations: () => Promise.resolve({ ...MIGRATIONS }) },
    });
    const { error } = await migrator.migrateTo("0010-items-leaf-order");
    assert.equal(error, undefined);
    const db = store.db;
    for (const [index, [id, signer]] of Object.entries(ADDRESSES).entries()) {
      await db
        .insertInto("organisations")
        .values({
          id,
          kind: "cooperative",
          name_zh: `合作社 ${id}`,
          name_en: null,
          uscc: `93330106MA2${String(index).padStart(7, "0")}`,
          region_code: "330106",
          signer_address: signer,
          key_custody: "own",
          keystore_json: null,
          status: "active",
          metadata_cid: null,
          ledger_state: "anchored",
          created_at_ms: T0,
          updated_at_ms: T0,
        })
        .execute();
    }
    const product = (gtin: string, createdBy: string, at: number) => ({
      gtin,
      name_zh: "茶",
      name_en: null,
      category: "tea",
      unit: "kg",
      cold_chain_min_c: null,
      cold_chain_max_c: null,
      max_yield_per_ha: null,
      net_content_milli: null,
      net_content_unit: null,
      created_by: createdBy,
      created_at_ms: at,
    });
    await db
      .insertInto("products")
      .values([
        product(BY_ORGANISATION, "org_a", T0 + 1),
        product(BY_BATCHES, "admin", T0 + 2),
        product(ORPHAN, "admin", T0 + 3),
      ])
      .execute();
    const batch = (gtin: string, lot: string, organisationId: string, ledgerState: string, at: number) => ({
      batch_id: `0x${Buffer.from(lot).toString("hex").padStart(64, "0")}`,
      gtin,
      lot,
      organisation_id: organisationId,
      plot_id: null,
      harvested_at_ms: at,
      quantity_milli: "1000",
      unit: "KGM",
      item_count: 1,
      items_root: `0x${"11".repeat(32)}`,
      metadata_cid: "bafy",
      video_cid: null,
      photo_cids_json: "[]",
      certificate_number: null,
      certification_ids_json: "[]",
      description_zh: null,
      description_en: null,
      attester_address: ADDRESSES[organisationId as keyof typeof ADDRESSES],
      signature: "0x",
      nonce: "0",
      deadline: "0",
      typed_data_version: "1",
      ledger_state: ledgerState,
      failure_reason: ledgerState === "failed" ? "RegistrySignatureExpired(1, 2)" : null,
      tx_hash: null,
      block_number: null,
      status: "active",
      recall_reason_cid: null,
      recalled_at_ms: null,
      created_by: organisationId,
      created_at_ms: at,
      updated_at_ms: at,
    });
    await db
      .insertInto("batches")
      .values([
        batch(BY_BATCHES, "C-1", "org_c", "failed", T0 + 10),
        batch(BY_BATCHES, "B-1", "org_b", "anchored", T0 + 20),
        batch(BY_BATCHES, "C-2", "org_c", "anchored", T0 + 30),
        batch(BY_ORGANISATION, "B-9", "org_b", "anchored", T0 + 5),
      ] as never)
      .execute();
    await migrateToLatest(store.db);
  });

  after(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("binds each product to its first registrant, and leaves one with none unbound", async () => {
    const bindings = await store.db
      .selectFrom("gtin_bindings")
      .select(["gtin", "organisation_id", "origin", "ledger_state", "released_at_ms"])
      .orderBy("gtin")
      .execute();
    assert.deepEqual(
      bindings.map((row) => ({ ...row, released_at_ms: row.released_at_ms })),
      [
        {
          gtin: BY_ORGANISATION,
          organisation_id: "org_a",
          origin: "migration",
          ledger_state: "pending",
          released_at_ms: null,
        },
        {
          gtin: BY_BATCHES,
          organisation_id: "org_b",
          origin: "migration",
          ledger_state: "pending",
          released_at_ms: null,
        },
      ],
    );
    assert.deepEqual(await unboundProducts(store.db), [{ gtin: ORPHAN, createdBy: "admin" }]);
    // The binding counts at once: org_b owns the GTIN its rival batched first but was refused.
    const forBatches = await entitlementBindingsFor(store.db, BY_BATCHES);
    assert.deepEqual(forBatches.gtins, [{ gtin: BY_BATCHES, owner: "org_b" }]);
  });

  it("queues each binding's ledger write once, at every start", async () => {
    const ctx = { db: store.db, now: () => T0 + 100, logger: pino({ level: "silent" }) } as unknown as ServiceContext;
    assert.equal(await queueUnanchoredBindings(ctx), 2);
    assert.equal(await queueUnanchoredBindings(ctx), 0, "a second start queues nothing more");
    const outbox = await store.db
      .selectFrom("outbox")
      .select(["kind", "reference_id", "payload_json", "state"])
      .orderBy("id")
      .execute();
    assert.deepEqual(
      outbox.map((entry) => ({ ...entry, payload_json: JSON.parse(entry.payload_json) as unknown })),
      [
        {
          kind: "gtin_binding",
          reference_id: `gtb_migrated_${BY_ORGANISATION}`,
          payload_json: { action: "bind", gtin: BY_ORGANISATION, owner: ADDRESSES.org_a },
          state: "pending",
        },
        {
          kind: "gtin_binding",
          reference_id: `gtb_migrated_${BY_BATCHES}`,
          payload_json: { action: "bind", gtin: BY_BATCHES, owner: ADDRESSES.org_b },
          state: "pending",
        },
      ],
    );
  });
});
