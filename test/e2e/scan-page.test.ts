/**
 * The consumer scan page end to end: a Hardhat node in its own process seeded through the
 * contracts, the built page served by a stand-in resolver (`support/scan-harness-server.ts`),
 * and Debian's Chromium reading the chain itself through `/rpc`. One honest resolution per
 * case and several dishonest ones; the verdict must come out of the browser's own checks.
 * The verification core is also run in Node on the same cases, so a failure says whether
 * the core or the page is at fault.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import type { Browser } from "playwright-core";

import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { launchChromium } from "../../scripts/lib/chromium.ts";
import { buildWeb } from "../../scripts/tasks/build-web.ts";
import { encodeDocument } from "../../server/src/domain/documents.ts";
import type { ItemResolution, UnknownItemResolution } from "../../server/src/domain/resolution.ts";
import { cidTextFromHex, verifyResolution, type Verdict } from "../../server/src/verify/index.ts";
import { startHarnessServer, type HarnessRoute, type HarnessServer } from "./support/scan-harness-server.ts";
import { open, scanPageBehaviour, type ScanPageTarget, type ScanPageUrls } from "./support/scan-page-assertions.ts";
import { resolutionFor, seedScanLedger, type ScanLedger } from "./support/scan-ledger.ts";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";

const projectRoot = path.resolve(import.meta.dirname, "../..");
const HIDDEN_CODE = "12345678";

/** The cases, each an item path and the resolution the stand-in resolver answers for it. */
async function buildCases(ledger: ScanLedger): Promise<{
  urls: Required<ScanPageUrls>;
  /** An item of the batch a packer attested under the GTIN owner's grant. */
  granted: string;
  routes: Map<string, HarnessRoute>;
  tampered: Map<string, Uint8Array>;
  resolutions: Map<string, ItemResolution>;
}> {
  const { active, recalled } = ledger;
  const serial = (i: number): string => active.serials[i] ?? "";
  const routes = new Map<string, HarnessRoute>();
  const resolutions = new Map<string, ItemResolution>();
  const add = (resolution: ItemResolution, inline = true): string => {
    routes.set(resolution.uri, { status: 200, body: resolution, inline });
    resolutions.set(resolution.uri, resolution);
    return resolution.uri;
  };

  const genuine = add(resolutionFor(ledger, active, serial(0)));
  const fetched = add(resolutionFor(ledger, active, serial(1)), false);
  const suspiciousResolution = resolutionFor(ledger, active, serial(2));
  suspiciousResolution.scans = {
    count: 14,
    firstAtMs: Date.now() - 86_400_000,
    signals: [{ code: "many_scans_day", zh: "此码 24 小时内被扫描 14 次", en: "Scanned 14 times in 24 hours" }],
  };
  const suspicious = add(suspiciousResolution);
  const recalledUrl = add(resolutionFor(ledger, recalled, recalled.serials[0] ?? ""));
  const pending = add(resolutionFor(ledger, ledger.pending, ledger.pending.serials[0] ?? ""));
  // Port 9 (discard) on loopback: nothing answers JSON-RPC there.
  const chainDownResolution = resolutionFor(ledger, active, serial(6));
  chainDownResolution.chain.rpcUrl = "http://127.0.0.1:9/rpc";
  const chainDown = add(chainDownResolution);
  const notInBatch = add(resolutionFor(ledger, active, "ZZNOTINBATCH1"));
  const granted = add(resolutionFor(ledger, ledger.granted, ledger.granted.serials[0] ?? ""));

  const altered = resolutionFor(ledger, active, serial(3));
  const event = altered.events[1];
  assert.ok(event !== undefined);
  event.value.occurredAt = String(Number(event.value.occurredAt) + 86_400);
  const alteredEvent = add(altered);

  // A metadata document with another video, as a dishonest server would like to show.
  const tamperedDoc = encodeDocument({ ...active.metadata, videoCid: ledger.otherVideoCid });
  const tamperedCid = CID.create(1, raw.code, await sha256.digest(tamperedDoc)).toString();
  ledger.blobs.set(tamperedCid, tamperedDoc);
  const swappedMetadataResolution = resolutionFor(ledger, active, serial(4));
  swappedMetadataResolution.batch.metadataCid = tamperedCid;
  const swappedMetadata = add(swappedMetadataResolution);
  // The same lie told by the gateway instead: the signed CID, other bytes behind it.
  const tampered = new Map([[cidTextFromHex(active.attestation.metadataCid), tamperedDoc]]);
  const swappedVideoResolution = resolutionFor(ledger, active, serial(5));
  swappedVideoResolution.ipfsGateway = "/ipfs-tampered/";
  const swappedVideo = add(swappedVideoResolution);

  const unknownUri = `/01/${active.gtin}/10/${active.lot}/21/UNKNOWN0000001`;
  const unknown: UnknownItemResolution = {
    type: "oioc.item-unknown",
    version: 1,
    uri: unknownUri,
    item: { gtin: active.gtin, lot: active.lot, serial: "UNKNOWN0000001" },
    message: { zh: "此码不存在，可能是假冒产品。", en: "This code does not exist; the product may be counterfeit." },
  };
  routes.set(unknownUri, { status: 404, body: unknown, inline: true });

  return {
    granted,
    urls: {
      genuine,
      chainDown,
      pending,
      fetched,
      suspicious,
      recalled: recalledUrl,
      notInBatch,
      alteredEvent,
      swappedMetadata,
      swappedVideo,
      unknown: unknownUri,
    },
    routes,
    tampered,
    resolutions,
  };
}

describe("scan page", () => {
  let node: ChainNode | undefined;
  let harness: HarnessServer | undefined;
  let browser: Browser | undefined;
  let target: ScanPageTarget | undefined;
  let cases: Awaited<ReturnType<typeof buildCases>> | undefined;

  before(async () => {
    const build = await buildWeb();
    assert.ok(build.withinBudget, `the scan page is ${build.gzipBytes} bytes gzip, over budget`);
    node = await startChainNode({ projectRoot });
    const ledger = await seedScanLedger(node.rpcUrl, projectRoot);
    cases = await buildCases(ledger);
    harness = await startHarnessServer({
      distDir: build.outDir,
      chainRpcUrl: node.rpcUrl,
      blobs: ledger.blobs,
      tamperedBlobs: cases.tampered,
      routes: cases.routes,
      hiddenCode: HIDDEN_CODE,
    });

    browser = (await launchChromium("the scan page's browser tests")) ?? undefined;
    if (browser === undefined) return;
    target = {
      browser,
      baseUrl: harness.baseUrl,
      urls: cases.urls,
      videoCid: ledger.videoCid,
      hiddenCode: HIDDEN_CODE,
      screenshotDir: path.join(projectRoot, "test-results"),
    };
  });

  after(async () => {
    await browser?.close();
    await harness?.close();
    await node?.stop();
  });

  describe("the verification core in Node, on the same cases", () => {
    const expectations: [keyof ScanPageUrls, Verdict, string | null][] = [
      ["genuine", "verified", null],
      ["fetched", "verified", null],
      ["suspicious", "suspicious", null],
      ["recalled", "recalled", null],
      ["pending", "pending", null],
      ["notInBatch", "not_verified", "item_in_batch"],
      ["alteredEvent", "not_verified", "event_signatures"],
      ["swappedMetadata", "not_verified", "metadata_cid"],
      ["swappedVideo", "not_verified", "metadata_cid"],
    ];
    for (const [name, verdict, failing] of expectations) {
      it(`${name}: ${verdict}${failing === null ? "" : ` (${failing} fails)`}`, async () => {
        assert.ok(cases !== undefined && harness !== undefined);
        const uri = cases.urls[name];
        const resolution = cases.resolutions.get(uri);
        assert.ok(resolution !== undefined);
        const report = await verifyResolution(resolution, { baseUrl: new URL(uri, harness.baseUrl).href });
        const failed = report.checks.filter((c) => c.ok === false);
        assert.equal(report.verdict, verdict, JSON.stringify(failed));
        if (failing === null) {
          assert.deepEqual(failed, []);
          // Only a batch not on chain leaves checks open; everything else is decided.
          assert.equal(
            report.checks.some((c) => c.ok === null),
            verdict === "pending",
          );
        } else {
          assert.ok(
            failed.some((c) => c.id === failing),
            JSON.stringify(failed),
          );
        }
        if (verdict === "verified" || verdict === "suspicious") {
          assert.equal(report.metadata?.lot, resolution.item.lot);
          assert.ok(
            report.events.length > 0 && report.events.every((e) => e.onChain && e.signatureValid && e.payload !== null),
          );
        }
        if (name === "swappedVideo" || name === "swappedMetadata") assert.equal(report.videoCid, null);
        // The recall verdict came from the chain: this resolution claims the batch is active.
        if (name === "recalled") assert.equal(resolution.batch.status, "active");
      });
    }

    it("a chain that cannot be read: not verified, and flagged as unreachable rather than fake", async () => {
      assert.ok(cases !== undefined && harness !== undefined);
      const resolution = cases.resolutions.get(cases.urls.chainDown);
      assert.ok(resolution !== undefined);
      const report = await verifyResolution(resolution, { baseUrl: harness.baseUrl });
      assert.equal(report.verdict, "not_verified");
      assert.equal(report.chainReachable, false);
      const genuine = cases.resolutions.get(cases.urls.genuine);
      assert.ok(genuine !== undefined);
      assert.equal((await verifyResolution(genuine, { baseUrl: harness.baseUrl })).chainReachable, true);
    });

    it("who was entitled comes from the chain: the GTIN's owner by its prefix, three handovers", async () => {
      assert.ok(cases !== undefined && harness !== undefined);
      const resolution = cases.resolutions.get(cases.urls.genuine);
      assert.ok(resolution !== undefined);
      const report = await verifyResolution(resolution, { baseUrl: harness.baseUrl });
      assert.ok(report.authority !== null);
      const cooperative = resolution.batch.attestation.attester.toLowerCase();
      assert.deepEqual(report.authority.findings, []);
      assert.equal(report.authority.entitlement?.basis, "prefix_owner");
      assert.equal(report.authority.entitlement.owner, cooperative);
      assert.deepEqual(report.authority.entitlement.prefix, { value: 6_901_234n, digits: 7 });
      const receivers = resolution.events
        .filter((e) => e.bizStep === "shipping")
        .map((e) => e.value.counterparty.toLowerCase());
      assert.deepEqual(
        report.authority.handovers.map((h) => [h.from, h.to]),
        [
          [cooperative, receivers[0]],
          [receivers[0], receivers[1]],
          [receivers[1], receivers[2]],
        ],
      );
      assert.deepEqual(report.batchOnChain?.custodian?.toLowerCase(), receivers[2]);
      assert.ok(report.events.every((e) => e.authority?.basis !== null && e.authority?.basis !== undefined));
    });

    it("a packer's batch under the GTIN owner's signed grant: verified, registered as the owner's grantee", async () => {
      assert.ok(cases !== undefined && harness !== undefined);
      const resolution = cases.resolutions.get(cases.granted);
      const owner = cases.resolutions.get(cases.urls.genuine)?.batch.attestation.attester.toLowerCase();
      assert.ok(resolution !== undefined && owner !== undefined);
      const report = await verifyResolution(resolution, { baseUrl: harness.baseUrl });
      assert.equal(report.verdict, "verified", JSON.stringify(report.checks.filter((c) => c.ok !== true)));
      assert.equal(report.authority?.entitlement?.basis, "grantee");
      assert.equal(report.authority.entitlement.owner, owner);
      assert.equal(report.authority.entitlement.attesterOrigin, resolution.batch.attestation.attester.toLowerCase());
    });

    it("a pinned registry other than the resolution's fails chain_id", async () => {
      assert.ok(cases !== undefined && harness !== undefined);
      const resolution = cases.resolutions.get(cases.urls.genuine);
      assert.ok(resolution !== undefined);
      const report = await verifyResolution(resolution, {
        baseUrl: harness.baseUrl,
        expected: { registry: "0x000000000000000000000000000000000000dEaD" },
      });
      assert.equal(report.verdict, "not_verified");
      assert.equal(report.checks.find((c) => c.id === "chain_id")?.ok, false);
    });
  });

  describe("in Chromium at 360 × 740", () => {
    scanPageBehaviour(() => target);

    it("says who was entitled: registered by the GTIN's owner, and each handover, in zh and en", async (t) => {
      if (target === undefined) {
        t.skip("Chromium is not available");
        return;
      }
      const opened = await open(target, target.urls.genuine);
      try {
        assert.equal(opened.verdict, "verified");
        const entitlement = opened.page.locator("[data-entitlement]");
        assert.equal(await entitlement.getAttribute("data-entitlement"), "prefix_owner");
        assert.equal(await entitlement.textContent(), "由商品条码所有者登记");
        const handovers = (): Promise<string[]> =>
          opened.page.locator("[data-handover]").evaluateAll((nodes) => nodes.map((n) => n.textContent));
        assert.deepEqual(await handovers(), [
          "交接：西湖龙井茶叶专业合作社 → 杭州茗香茶叶加工厂",
          "交接：杭州茗香茶叶加工厂 → 浙冷链物流",
          "交接：浙冷链物流 → 上海茶韵专卖店",
        ]);
        for (const check of ["entitlement", "custody"]) {
          assert.equal(await opened.page.locator(`[data-check="${check}"]`).getAttribute("data-ok"), "true", check);
        }
        assert.equal(await opened.page.locator("[data-no-custody]").count(), 0);
        await opened.page.locator("button.lang").click();
        assert.equal(await entitlement.textContent(), "Registered by the GTIN's owner");
        assert.deepEqual(
          (await handovers())[0],
          "Handed over by West Lake Longjing Tea Cooperative to Hangzhou Mingxiang Tea Processing",
        );
        await opened.page.screenshot({
          path: path.join(projectRoot, "test-results", "scan-page-handovers.png"),
          fullPage: true,
        });
        assert.deepEqual(opened.problems, []);
      } finally {
        await opened.close();
      }
    });

    it("says a packer registered the batch under the GTIN owner's grant, in zh and en", async (t) => {
      if (target === undefined || cases === undefined) {
        t.skip("Chromium is not available");
        return;
      }
      const opened = await open(target, cases.granted);
      try {
        assert.equal(opened.verdict, "verified");
        const entitlement = opened.page.locator('[data-entitlement="grantee"]');
        assert.equal(
          await entitlement.textContent(),
          "由 龙坞茶叶代工合作社 经 厂商识别代码 6901234 的所有者 授权登记",
        );
        await opened.page.locator("button.lang").click();
        assert.equal(
          await entitlement.textContent(),
          "Registered by Longwu Tea Packing Cooperative under a grant from the owner of company prefix 6901234",
        );
        assert.deepEqual(opened.problems, []);
      } finally {
        await opened.close();
      }
    });
  });
});
