import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { openDatabase, type OpenedDatabase } from "./database.ts";
import { migrateToLatest } from "./migrate.ts";
import { bufferScan, countScansSince, firstScanAtMs, flushScans, itemScanSummary, type NewScan } from "./scans.ts";

const BATCH = `0x${"ab".repeat(32)}`;

function scan(serial: string, at: number, client: string): NewScan {
  return { batchId: BATCH, serial, scannedAtMs: at, coarsePlace: null, clientHash: client, verdict: "resolved" };
}

describe("page views written by group commit", () => {
  let dir = "";
  let store: OpenedDatabase;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "oioc-scans-"));
    store = await openDatabase({ kind: "sqlite", path: path.join(dir, "trace.db") });
    await migrateToLatest(store.db);
  });

  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const stored = async (serial: string): Promise<number> =>
    (await store.db.selectFrom("scans").select("id").where("serial", "=", serial).execute()).length;

  // Most cases below buffer without waiting for the commit (`void`), to count scans not written yet.
  it("counts scans not written yet, and writes them in one group", async () => {
    void bufferScan(store.db, scan("A", 1_000, "c1"));
    void bufferScan(store.db, scan("A", 2_000, "c1"));
    void bufferScan(store.db, scan("A", 3_000, "c2"));
    assert.equal(await stored("A"), 0, "nothing written yet");
    assert.deepEqual(await countScansSince(store.db, BATCH, "A", 1_500), { scans: 2, distinctClients: 2 });
    assert.equal(await firstScanAtMs(store.db, BATCH, "A"), 1_000);
    await flushScans(store.db);
    assert.equal(await stored("A"), 3);
    assert.deepEqual(await countScansSince(store.db, BATCH, "A", 1_500), { scans: 2, distinctClients: 2 });
    assert.deepEqual(await countScansSince(store.db, BATCH, "A", 0), { scans: 3, distinctClients: 2 });
  });

  it("a client already counted in the database is not counted again for an unwritten scan", async () => {
    void bufferScan(store.db, scan("A", 4_000, "c2"));
    void bufferScan(store.db, scan("A", 5_000, "c3"));
    assert.deepEqual(await countScansSince(store.db, BATCH, "A", 0), { scans: 5, distinctClients: 3 });
    await flushScans(store.db);
  });

  it("summarises an item's day, week, distinct clients of the day and first scan in one read, unwritten scans too", async () => {
    const DAY = 86_400_000;
    const now = 30 * DAY;
    void bufferScan(store.db, scan("S", now - 10 * DAY, "old"));
    void bufferScan(store.db, scan("S", now - 3 * DAY, "w1"));
    void bufferScan(store.db, scan("S", now - 3_600_000, "d1"));
    await flushScans(store.db);
    void bufferScan(store.db, scan("S", now - 60_000, "d1"));
    void bufferScan(store.db, scan("S", now - 1_000, "d2"));
    const expected = { scansDay: 3, scansWeek: 4, distinctClientsDay: 2, firstAtMs: now - 10 * DAY };
    assert.deepEqual(await itemScanSummary(store.db, BATCH, "S", now), expected);
    await flushScans(store.db);
    assert.deepEqual(await itemScanSummary(store.db, BATCH, "S", now), expected);
    assert.deepEqual(await itemScanSummary(store.db, BATCH, "never-scanned", now), {
      scansDay: 0,
      scansWeek: 0,
      distinctClientsDay: 0,
      firstAtMs: null,
    });
  });

  it("counts the asking page view's own client once, whether it scanned today before or not", async () => {
    const DAY = 86_400_000;
    const now = 40 * DAY;
    void bufferScan(store.db, scan("O", now - 2 * DAY, "yesterday"));
    void bufferScan(store.db, scan("O", now - 3_600_000, "shop"));
    await flushScans(store.db);
    // The shop scans again (known today), beside a new phone's unwritten scan.
    void bufferScan(store.db, scan("O", now - 1_000, "home"));
    void bufferScan(store.db, scan("O", now, "shop"));
    const expected = { scansDay: 3, scansWeek: 4, distinctClientsDay: 2, firstAtMs: now - 2 * DAY };
    assert.deepEqual(await itemScanSummary(store.db, BATCH, "O", now, "shop"), expected);
    assert.deepEqual(await itemScanSummary(store.db, BATCH, "O", now, "home"), expected);
    assert.deepEqual(await itemScanSummary(store.db, BATCH, "O", now), expected);
    // Scanned only yesterday: new today.
    void bufferScan(store.db, scan("O", now, "yesterday"));
    assert.equal((await itemScanSummary(store.db, BATCH, "O", now, "yesterday")).distinctClientsDay, 3);
    await flushScans(store.db);
    assert.equal((await itemScanSummary(store.db, BATCH, "O", now, "yesterday")).distinctClientsDay, 3);
  });

  it("never misses or double-counts a scan while groups are being written", async () => {
    const counts: number[] = [];
    for (let i = 0; i < 200; i++) {
      void bufferScan(store.db, scan("B", 10_000 + i, `c${String(i % 7)}`));
      // Counts race the timer's flushes: each must see exactly the scans made before it.
      const seen = await countScansSince(store.db, BATCH, "B", 0);
      counts.push(seen.scans);
      assert.equal(seen.distinctClients, Math.min(i + 1, 7));
      if (i % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 30));
    }
    assert.deepEqual(
      counts,
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
    await flushScans(store.db);
    assert.equal(await stored("B"), 200);
  });

  it("settles a page view's wait only once its group is committed, one commit for the scans of a moment", async () => {
    const waits = ["d1", "d2", "d3"].map((client, i) =>
      bufferScan(store.db, scan("D", 40_000 + i, client)).then(() => stored("D")),
    );
    assert.deepEqual(await Promise.all(waits), [3, 3, 3]);
  });

  it("refuses the page views of a group whose commit failed", async () => {
    const other = await openDatabase({ kind: "sqlite", path: path.join(dir, "closed.db") });
    await migrateToLatest(other.db);
    await other.close();
    await assert.rejects(bufferScan(other.db, scan("E", 1, "e1")));
    await assert.rejects(countScansSince(other.db, BATCH, "E", 0));
  });

  it("counts running alongside a flush each see every scan exactly once", async () => {
    let total = 0;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 10; i++) void bufferScan(store.db, scan("C", 20_000 + total + i, "c1"));
      total += 10;
      const [flushed, ...seen] = await Promise.all([
        flushScans(store.db),
        ...Array.from({ length: 6 }, () => countScansSince(store.db, BATCH, "C", 0)),
      ]);
      assert.equal(flushed, undefined);
      assert.deepEqual(
        seen.map((s) => s.scans),
        Array.from({ length: 6 }, () => total),
      );
    }
    assert.equal(await stored("C"), total);
  });
});
