/**
 * The 合格证 page in Chromium, against a real server and a Hardhat node: a mixed lot's
 * certificate verifies in the browser (signatures, issuers registered on the chain through the
 * platform's /rpc) with its two parents shown as its lineage, in Chinese and, on the switch,
 * in English; when a parent's batch is recalled afterwards, the page says so first, in red;
 * when the platform alters a parent's stored document, the page says the certificate is not
 * verified and names the parent.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";

import type { Browser, Page } from "playwright-core";

import { apiClient, expectStatus, type ApiClient } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { launchChromium } from "../../scripts/lib/chromium.ts";
import { DEMO_GTIN } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry } from "../../scripts/lib/local-stack.ts";
import { buildCertificatePage } from "../../scripts/tasks/build-certificate-page.ts";
import type { RunningServer } from "../../server/src/server.ts";
import { settleLedger } from "./support/settle-ledger.ts";
import { onboard as onboardParty } from "../support/onboard.ts";
import { startApiTestServer } from "../support/test-server.ts";

const BODY = { basis: ["self_test"], phone: "0571-8888 1234" };

describe("the 合格证 page verifies a certificate and its lineage in the browser", () => {
  let node: ChainNode;
  let server: RunningServer;
  let dataDir: string;
  let browser: Browser | null = null;
  let parents: string[] = [];
  let mixedId = "";
  let retailerSigner = "";
  let cooperativeApi: ApiClient;
  const batchIds: string[] = [];

  const onboard = (admin: ApiClient, kind: string, regionCode: string, serial: number, prefixes?: string[]) =>
    onboardParty(server.url, admin, {
      kind,
      regionCode,
      serial,
      companyPrefixes: prefixes,
      name: { zh: `合格证页面 ${String(serial)}`, en: `Certificate page ${String(serial)}` },
    });

  async function verdictOf(page: Page, url: string): Promise<string> {
    await page.goto(url);
    await page.waitForSelector('main:not([data-verdict="checking"])', { timeout: 15_000 });
    return (await page.getAttribute("main", "data-verdict")) ?? "";
  }

  before(async () => {
    await buildCertificatePage();
    node = await startChainNode();
    const deployment = await deployLocalRegistry(node.rpcUrl);
    ({ server, dataDir } = await startApiTestServer(deployment.env, "certificate-page"));
    const admin = apiClient(server.url, deployment.env.ADMIN_TOKEN ?? "");
    const cooperative = await onboard(admin, "cooperative", "330106", 9_410, ["6901234"]);
    cooperativeApi = cooperative.api;
    const retailer = await onboard(admin, "retailer", "310101", 9_411);
    retailerSigner = retailer.signerAddress;
    expectStatus(
      await cooperative.api.post("/api/v1/products", {
        gtin: DEMO_GTIN,
        name: { zh: "西湖龙井", en: "West Lake Longjing" },
        category: "tea",
        unit: "kg",
      }),
      201,
      "product",
    );
    await settleLedger(server);
    for (const lot of ["PAGE-A", "PAGE-B"]) {
      const registered = expectStatus(
        await cooperative.api.post<{ batch: { batchId: string } }>("/api/v1/batches", {
          gtin: DEMO_GTIN,
          lot,
          harvestedAt: "2026-04-15T06:00:00+08:00",
          quantity: { value: "50", unit: "kg" },
          itemCount: 1,
        }),
        202,
        lot,
      ).batch.batchId;
      batchIds.push(registered);
    }
    // Certificates are issued for batches the registry has accepted.
    await settleLedger(server);
    for (const batchId of batchIds) {
      const certificate = expectStatus(
        await cooperative.api.post<{ certificate: { id: string } }>(`/api/v1/batches/${batchId}/certificates`, {
          ...BODY,
          quantity: { value: "50", unit: "kg" },
        }),
        201,
        `certificate of ${batchId}`,
      ).certificate;
      parents.push(certificate.id);
      expectStatus(
        await cooperative.api.post(`/api/v1/batches/${batchId}/events`, {
          bizStep: "shipping",
          occurredAt: "2026-04-16T08:00:00+08:00",
          receiver: retailer.id,
        }),
        202,
        "shipping",
      );
      expectStatus(
        await retailer.api.post(`/api/v1/batches/${batchId}/events`, {
          bizStep: "receiving",
          occurredAt: "2026-04-16T12:00:00+08:00",
        }),
        202,
        "receiving",
      );
    }
    mixedId = expectStatus(
      await retailer.api.post<{ certificate: { id: string } }>("/api/v1/certificates", {
        ...BODY,
        parents,
        quantity: { value: "100", unit: "kg" },
      }),
      201,
      "mixed",
    ).certificate.id;
    // The organisations' registrations must be on the chain for the page to find them.
    await settleLedger(server);
    browser = await launchChromium("the certificate page test");
  });

  // Each part may be missing when `before` failed half-way; what was started is still stopped, or the run hangs.
  after(async () => {
    await browser?.close();
    await (server as RunningServer | undefined)?.close();
    await (node as ChainNode | undefined)?.stop();
    if ((dataDir as string | undefined) !== undefined) rmSync(dataDir, { recursive: true, force: true });
    parents = [];
  });

  it("shows a mixed lot's certificate verified, with both parents, in zh and en", async (t) => {
    if (browser === null) {
      t.skip("Chromium missing");
      return;
    }
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    assert.equal(await verdictOf(page, `${server.url}/c/${mixedId}`), "verified");
    assert.match((await page.textContent("#verdict")) ?? "", /已验证/);
    assert.match((await page.textContent("main")) ?? "", /西湖龙井/);
    assert.match((await page.textContent("main")) ?? "", /100 千克/);
    const lineage = await page.$$eval(".lineage li[data-certificate-id]", (items) =>
      items.map((item) => [item.getAttribute("data-certificate-id"), item.getAttribute("data-ok")]),
    );
    assert.deepEqual(
      lineage,
      parents.map((id) => [id, "true"]),
    );
    await page.click("#lang");
    assert.match((await page.textContent("#verdict")) ?? "", /^Verified/);
    assert.match((await page.textContent("main")) ?? "", /Lineage \(parent certificates\)/);
    // Offline, given the issuer's key: no chain read, and the page says so.
    assert.equal(await verdictOf(page, `${server.url}/c/${mixedId}?issuer=${retailerSigner}`), "verified");
    assert.match((await page.textContent("#verdict")) ?? "", /not checked against the ledger/);
    assert.equal(await verdictOf(page, `${server.url}/c/${mixedId}?issuer=0x${"12".repeat(20)}`), "failed");
    assert.deepEqual(errors, []);
    await page.close();
  });

  it("says, first and in red, that a batch in the lineage was recalled after the certificates were issued", async (t) => {
    if (browser === null) {
      t.skip("Chromium missing");
      return;
    }
    // The first parent's batch is recalled by its cooperative; the registry records it.
    expectStatus(
      await cooperativeApi.post(`/api/v1/batches/${batchIds[0] ?? ""}/recall`, {
        reason: { zh: "检出农药残留超标", en: "Pesticide residue over the limit" },
      }),
      202,
      "recall",
    );
    await settleLedger(server);
    const page = await browser.newPage({ viewport: { width: 360, height: 740 } });
    assert.equal(await verdictOf(page, `${server.url}/c/${mixedId}`), "recalled");
    assert.match((await page.textContent("#verdict")) ?? "", /已被召回：请勿食用/);
    assert.equal(await page.getAttribute("#verdict", "class"), "verdict bad");
    assert.match((await page.textContent(".recalled-since")) ?? "", /签名有效/);
    const lineage = await page.$$eval(".lineage li[data-certificate-id]", (items) =>
      items.map((item) => [
        item.getAttribute("data-certificate-id"),
        item.getAttribute("data-ok"),
        item.getAttribute("data-recalled"),
      ]),
    );
    assert.deepEqual(lineage, [
      [parents[0], "true", "true"],
      [parents[1], "true", "false"],
    ]);
    assert.equal(await page.getAttribute(`li[data-batch-id="${batchIds[0] ?? ""}"]`, "data-batch-id"), batchIds[0]);
    await page.click("#lang");
    assert.match((await page.textContent("#verdict")) ?? "", /^A batch this certificate covers has been recalled/);
    // The other parent's own page: its batch is not recalled.
    assert.equal(await verdictOf(page, `${server.url}/c/${parents[1] ?? ""}`), "verified");
    await page.close();
  });

  it("says not verified and names the parent when the platform alters a parent's document", async (t) => {
    if (browser === null) {
      t.skip("Chromium missing");
      return;
    }
    const altered = parents[1] ?? "";
    const stored = await server.ctx.db
      .selectFrom("certificates")
      .select("document_text")
      .where("id", "=", altered)
      .executeTakeFirstOrThrow();
    await server.ctx.db
      .updateTable("certificates")
      .set({ document_text: stored.document_text.replace('"self_test"', '"entrusted_test"') })
      .where("id", "=", altered)
      .execute();
    const page = await browser.newPage();
    assert.equal(await verdictOf(page, `${server.url}/c/${mixedId}`), "failed");
    const lineage = await page.$$eval(".lineage li[data-certificate-id]", (items) =>
      items.map((item) => [item.getAttribute("data-certificate-id"), item.getAttribute("data-ok")]),
    );
    assert.deepEqual(lineage, [
      [parents[0], "true"],
      [altered, "false"],
    ]);
    assert.match((await page.textContent(`li[data-certificate-id="${altered}"]`)) ?? "", /与签名不符/);
    assert.equal(await verdictOf(page, `${server.url}/c/${altered}`), "failed");
    assert.equal(await verdictOf(page, `${server.url}/c/0x${"cd".repeat(32)}`), "failed");
    assert.match((await page.textContent("#verdict")) ?? "", /找不到此合格证/);
    await page.close();
  });
});
