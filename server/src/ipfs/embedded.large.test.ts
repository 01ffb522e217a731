/**
 * Streaming with large inputs: a 1 GiB file goes in and comes back out while the process
 * grows by at most a few tens of MB, and the add throughput for 100 MB is reported. Kept
 * apart from embedded.test.ts because it writes 1.1 GB to the temp directory (removed after).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { generatedBytes, ownResidentBytes, residentPeak } from "../../../test/support/large-data.ts";
import { parseCid, type ContentStore } from "./content-store.ts";
import { openEmbeddedContentStore } from "./embedded.ts";

const MiB = 1024 * 1024;
/**
 * Growth allowed while streaming 1 GiB: the importer's and reader's bounded windows plus the
 * garbage V8 lets pile up before collecting (measured 23-35 MiB for add, 3-5 MiB for cat on
 * the 2-core machine). Holding the input would cost 1024 MiB.
 */
const MAX_GROWTH_BYTES = 64 * MiB;

void describe("embedded content store with large files", () => {
  let dataDir: string;
  let store: ContentStore;

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "ipfs-large-"));
    store = await openEmbeddedContentStore({ dataDir });
    // Warm up (module loading, JIT) so it does not count as growth.
    const warmUp = await store.add(generatedBytes(8 * MiB, 9, { pieceBytes: 64 * 1024 }));
    for await (const _chunk of store.cat(warmUp.cid)) {
      // drain
    }
  });

  after(async () => {
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  void it("adds and reads back 1 GiB while the process grows by less than 64 MiB", { timeout: 120_000 }, async (t) => {
    const size = 1024 * MiB;
    const inputDigest = createHash("sha256");
    let cidText = "";
    const addStarted = performance.now();
    const add = await residentPeak(ownResidentBytes, async () => {
      const added = await store.add(generatedBytes(size, 1, { pieceBytes: 64 * 1024, digest: inputDigest }));
      assert.equal(added.sizeBytes, size);
      cidText = added.cid.toString();
    });
    const addSeconds = (performance.now() - addStarted) / 1000;
    const addGrowth = add.peakBytes - add.startBytes;

    const outputDigest = createHash("sha256");
    let readBytes = 0;
    const readStarted = performance.now();
    const read = await residentPeak(ownResidentBytes, async () => {
      for await (const chunk of store.cat(parseCid(cidText))) {
        outputDigest.update(chunk);
        readBytes += chunk.length;
      }
    });
    const readSeconds = (performance.now() - readStarted) / 1000;
    const readGrowth = read.peakBytes - read.startBytes;

    t.diagnostic(`add 1 GiB: ${addSeconds.toFixed(1)} s, peak RSS growth ${(addGrowth / MiB).toFixed(1)} MiB`);
    t.diagnostic(`cat 1 GiB: ${readSeconds.toFixed(1)} s, peak RSS growth ${(readGrowth / MiB).toFixed(1)} MiB`);
    assert.equal(readBytes, size);
    assert.equal(outputDigest.digest("hex"), inputDigest.digest("hex"));
    assert.ok(addGrowth < MAX_GROWTH_BYTES, `add grew RSS by ${(addGrowth / MiB).toFixed(1)} MiB`);
    assert.ok(readGrowth < MAX_GROWTH_BYTES, `cat grew RSS by ${(readGrowth / MiB).toFixed(1)} MiB`);
  });

  void it("reports add throughput for 100 MB (durable: every block fsynced)", { timeout: 60_000 }, async (t) => {
    const size = 100_000_000;
    const started = performance.now();
    const added = await store.add(generatedBytes(size, 2, { pieceBytes: 64 * 1024 }));
    const seconds = (performance.now() - started) / 1000;
    assert.equal(added.sizeBytes, size);
    t.diagnostic(
      `add 100 MB: ${seconds.toFixed(2)} s = ${(size / 1e6 / seconds).toFixed(0)} MB/s (generating the input included)`,
    );
  });
});
