import assert from "node:assert/strict";
import { after, describe, it } from "node:test";

import { StandardMerkleTree } from "@openzeppelin/merkle-tree";

import { isAppError } from "../errors/app-error.ts";
import { buildItemTree } from "../domain/merkle.ts";
import { deriveVerificationCode, generateSerials, verificationCodeDigest } from "../domain/serials.ts";
import { openItemsArchive } from "./items-archive.ts";
import { buildItemTreeOffLoop, closeHeavyWorkers, issueItems, openItemsArchiveOffLoop } from "./heavy.ts";

const pepper = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);
const secret = "a keystore secret of some length";
const batchId = `0x${"5a".repeat(32)}`;

/** The longest the event loop went without running a 5 ms timer while `work` ran, and how long `work` took. */
async function loopGaps<T>(work: () => Promise<T>): Promise<{ result: T; maxGapMs: number; durationMs: number }> {
  let last = performance.now();
  let maxGapMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
  }, 5);
  const started = performance.now();
  try {
    const result = await work();
    return { result, maxGapMs: Math.max(maxGapMs, performance.now() - last), durationMs: performance.now() - started };
  } finally {
    clearInterval(timer);
  }
}

void describe("heavy work on worker threads", () => {
  after(closeHeavyWorkers);

  it("issues serials, hidden-code HMACs, the root and the archive exactly as the loop-bound code did", async () => {
    const issued = await issueItems({ count: 3_000, hiddenCodes: true, pepper, batchId, archiveSecret: secret });
    assert.equal(issued.serials.length, 3_000);
    assert.equal(new Set(issued.serials).size, 3_000);
    assert.ok(issued.serials.every((serial) => /^[0-9A-HJKMNP-TV-Z]{13}$/.test(serial)));
    issued.serials.forEach((serial, i) => {
      assert.equal(
        issued.hiddenCodeHmacs[i],
        verificationCodeDigest(pepper, serial, deriveVerificationCode(pepper, batchId, serial)),
      );
    });
    assert.equal(issued.root, buildItemTree(issued.serials).root);
    assert.equal(
      issued.root,
      StandardMerkleTree.of(
        issued.serials.map((serial) => [serial]),
        ["string"],
      ).root,
    );
    const archive = openItemsArchive(secret, batchId, issued.archive);
    assert.deepEqual(archive, { batchId, serials: issued.serials, hiddenCodeHmacs: issued.hiddenCodeHmacs });
  });

  it("opens a sealed archive off the loop exactly as openItemsArchive does, and refuses another batch's", async () => {
    const issued = await issueItems({ count: 2_000, hiddenCodes: true, pepper, batchId, archiveSecret: secret });
    const opened = await openItemsArchiveOffLoop(secret, batchId.toUpperCase().replace("0X", "0x"), issued.archive);
    assert.deepEqual(opened, openItemsArchive(secret, batchId, issued.archive));
    const plain = await issueItems({ count: 3, hiddenCodes: false, pepper, batchId, archiveSecret: secret });
    assert.deepEqual(await openItemsArchiveOffLoop(secret, batchId, plain.archive), {
      batchId,
      serials: plain.serials,
      hiddenCodeHmacs: [null, null, null],
    });
    await assert.rejects(openItemsArchiveOffLoop(secret, `0x${"00".repeat(32)}`, issued.archive));
  });

  it("issues no HMACs for a batch without hidden codes", async () => {
    const issued = await issueItems({ count: 10, hiddenCodes: false, pepper, batchId, archiveSecret: secret });
    assert.deepEqual(issued.hiddenCodeHmacs, new Array(10).fill(null));
    assert.deepEqual(openItemsArchive(secret, batchId, issued.archive).hiddenCodeHmacs, new Array(10).fill(null));
  });

  it("builds the same tree off the loop: root and every proof, as OpenZeppelin's", async () => {
    const serials = generateSerials(2_001);
    const ours = await buildItemTreeOffLoop(serials);
    const theirs = StandardMerkleTree.of(
      serials.map((serial) => [serial]),
      ["string"],
    );
    assert.equal(ours.root, theirs.root);
    for (let i = 0; i < serials.length; i += 97) {
      assert.deepEqual(ours.proofAt(i), theirs.getProof(i));
      assert.deepEqual(ours.proofOf(serials[i] ?? ""), theirs.getProof(i));
    }
    // A serial no worker could split on still gets its tree.
    const odd = ["A\nB", "C"];
    assert.equal((await buildItemTreeOffLoop(odd)).root, buildItemTree(odd).root);
  });

  it("throws the domain's errors across the thread", async () => {
    await assert.rejects(buildItemTreeOffLoop(["X1", "X2", "X1"]), (error) =>
      isAppError(error, "merkle.duplicate_serial"),
    );
    await assert.rejects(buildItemTreeOffLoop([]), (error) => isAppError(error, "merkle.empty"));
    await assert.rejects(
      issueItems({ count: 1, hiddenCodes: true, pepper: new Uint8Array(8), batchId, archiveSecret: secret }),
      (error) => isAppError(error, "serial.pepper_too_short"),
    );
  });

  it("keeps the event loop answering while 100,000 items are issued and their tree rebuilt", async (t) => {
    // Done on the loop, the longest pause would be the whole duration; here it is a small slice of it.
    const issuing = await loopGaps(() =>
      issueItems({ count: 100_000, hiddenCodes: true, pepper, batchId, archiveSecret: secret }),
    );
    const building = await loopGaps(() => buildItemTreeOffLoop(issuing.result.serials));
    assert.equal(building.result.root, issuing.result.root);
    t.diagnostic(
      `issue: ${issuing.durationMs.toFixed(0)} ms, longest pause ${issuing.maxGapMs.toFixed(0)} ms; ` +
        `tree: ${building.durationMs.toFixed(0)} ms, longest pause ${building.maxGapMs.toFixed(0)} ms`,
    );
    assert.ok(issuing.maxGapMs < issuing.durationMs / 4, "issuing held the loop");
    assert.ok(building.maxGapMs < building.durationMs / 4, "building the tree held the loop");
  });
});
