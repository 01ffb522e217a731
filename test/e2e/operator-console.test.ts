/**
 * The operator console (issue 15 part 6) in Debian's Chromium on a 360×740 phone screen,
 * against a real Hardhat node and the server: the admin signs in with the operator's token;
 * each panel (organisations, applications, keys, relayer, outbox) is opened in Chinese and in
 * English and shot to test-results/console-operator-<panel>-<zh|en>.png, and shows what the
 * API says: the prefixes and people, a pending application approved with its sign-in QR code,
 * the relayer key's role read on chain, the low-balance warning, and the registration the
 * registry refused. The admin suspends a carrier through the dialog; the console reopens
 * offline from the service worker.
 */
import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import type { Browser, BrowserContext, Page } from "playwright-core";

import { apiClient, expectStatus } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { launchChromium } from "../../scripts/lib/chromium.ts";
import { demoUscc } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry } from "../../scripts/lib/local-stack.ts";
import { buildConsoles } from "../../scripts/tasks/build-consoles.ts";
import type { RunningServer } from "../../server/src/server.ts";
import { createDemoTea, onboard, registerDemoBatch, type Party } from "../support/onboard.ts";
import { startTestServer } from "../support/test-server.ts";
import { settleLedger } from "./support/settle-ledger.ts";
import { horizontalOverflow, smallTapTargets } from "./support/touch-targets.ts";

const projectRoot = path.resolve(import.meta.dirname, "../..");
const screenshotDir = path.join(projectRoot, "test-results");
const PHONE = { width: 360, height: 740 };

describe("the operator console on a phone screen, in Chromium", () => {
  let node: ChainNode | undefined;
  let server: RunningServer | undefined;
  let dataDir = "";
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  let adminToken = "";
  let cooperative: Party;
  let carrier: Party;
  const problems: string[] = [];

  async function chainCall(method: string, params: unknown[]): Promise<void> {
    assert.ok(node !== undefined);
    await fetch(node.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
  }

  /** Nothing widens the page past the screen (wide tables scroll in their card), and every target takes a thumb. */
  async function fitsThePhone(p: Page, what: string): Promise<void> {
    assert.equal(await horizontalOverflow(p), 0, `${what}: the page is no wider than the phone`);
    assert.deepEqual(await smallTapTargets(p), [], `${what}: every tap target is 48 px or more`);
  }

  /** Opens a panel by its tab, waits for its answer, and shoots it in Chinese and English. */
  async function panel(p: Page, name: string, tabZh: string, headingEn: string): Promise<void> {
    await p.locator(".tabs button", { hasText: tabZh }).click();
    const section = p.locator(`[data-testid=panel-${name}][data-loaded=true]`);
    if (name !== "applications") await section.waitFor();
    await p.screenshot({ path: path.join(screenshotDir, `console-operator-${name}-zh.png`), fullPage: true });
    await fitsThePhone(p, `${name} in Chinese`);
    await p.click("[data-action=lang]");
    await p.locator("main h1", { hasText: headingEn }).first().waitFor();
    await p.screenshot({ path: path.join(screenshotDir, `console-operator-${name}-en.png`), fullPage: true });
    await fitsThePhone(p, `${name} in English`);
    await p.click("[data-action=lang]");
    await p.locator(".tabs button", { hasText: tabZh }).waitFor();
  }

  before(async () => {
    await buildConsoles();
    mkdirSync(screenshotDir, { recursive: true });
    node = await startChainNode({ projectRoot });
    const deployment = await deployLocalRegistry(node.rpcUrl);
    // A line above a Hardhat account's 10,000 coins: the relayer panel warns.
    ({ server, dataDir } = await startTestServer(deployment.env, "operator-console", {
      RELAYER_BALANCE_WARN_WEI: (10n ** 24n).toString(),
    }));
    adminToken = deployment.env.ADMIN_TOKEN ?? "";
    const admin = apiClient(server.url, adminToken);
    cooperative = await onboard(server.url, admin, {
      kind: "cooperative",
      regionCode: "330106",
      serial: 1_601,
      name: { zh: "龙坞茶叶合作社", en: "Longwu Tea Cooperative" },
      companyPrefixes: ["6901234"],
    });
    carrier = await onboard(server.url, admin, {
      kind: "logistics",
      regionCode: "330110",
      serial: 1_602,
      name: { zh: "杭州冷链物流", en: "Hangzhou Cold Chain" },
    });
    await onboard(server.url, admin, { kind: "regulator", regionCode: "330106", serial: 1_603 });
    expectStatus(
      await cooperative.api.post(`/api/v1/organisations/${cooperative.id}/members`, {
        name: "王秀英",
        capabilities: [],
      }),
      201,
      "a person",
    );
    expectStatus(
      await apiClient(server.url).post("/api/v1/applications", {
        kind: "retailer",
        name: { zh: "西湖茶叶店" },
        uscc: demoUscc("92", "330106", 1_604),
        regionCode: "330106",
        contact: { name: "李店主", phone: "13700137000" },
      }),
      201,
      "an application",
    );
    await createDemoTea(cooperative.api);
    await registerDemoBatch(cooperative.api, "OPC-1", { quantityKg: "2", itemCount: 2 });
    await settleLedger(server);
    // A registration the registry refuses: its signature expired while the chain moved on.
    await registerDemoBatch(cooperative.api, "OPC-LATE", { quantityKg: "2", itemCount: 2 });
    await chainCall("evm_increaseTime", [server.ctx.signatureTtlSeconds + 3_600]);
    await chainCall("evm_mine", []);
    await settleLedger(server);
    browser = (await launchChromium("the operator console test")) ?? undefined;
    if (browser !== undefined) {
      context = await browser.newContext({
        viewport: PHONE,
        locale: "zh-CN",
        isMobile: true,
        hasTouch: true,
        deviceScaleFactor: 2,
      });
      page = await context.newPage();
      page.setDefaultTimeout(15_000);
      page.on("pageerror", (error) => problems.push(error.message));
      page.on("console", (message) => {
        if (message.type() === "error" && !/Failed to load resource/.test(message.text()))
          problems.push(message.text());
      });
    }
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await node?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("signs in the admin only, and opens every panel in Chinese and English", async () => {
    assert.ok(server !== undefined && page !== undefined, "Chromium and the server are up");
    const p = page;
    await p.goto(`${server.url}/console/operator`);
    // A cooperative's token is not the operator's.
    await p.fill("input[name=token]", cooperative.token);
    await p.click("form.sign-in button[type=submit]");
    await p.locator(".flash-error", { hasText: "console.wrong_role" }).waitFor();
    // Kept on the device and refused at the next start: forgotten, and the card says why.
    await p.evaluate((token) => {
      localStorage.setItem("oioc.console.operator.token", token);
    }, cooperative.token);
    await p.reload();
    await p.locator("main > .flash-region .flash-error", { hasText: "console.wrong_role" }).waitFor();
    assert.equal(await p.evaluate(() => localStorage.getItem("oioc.console.operator.token")), null);
    await p.fill("input[name=token]", adminToken);
    await p.click("form.sign-in button[type=submit]");
    await p.locator(".tabs").waitFor();

    // Organisations: the cooperative's prefix and its one person.
    await panel(p, "organisations", "机构", "Organisations");
    const coopRow = p.locator(`[data-testid=organisations] tr[data-organisation-id="${cooperative.id}"]`);
    assert.equal((await coopRow.locator("[data-testid=prefixes]").textContent())?.trim(), "6901234");
    assert.equal(await coopRow.locator("[data-testid=members]").textContent(), "1");
    // The admin suspends the carrier with a reason, through the dialog.
    const carrierRow = p.locator(`[data-testid=organisations] tr[data-organisation-id="${carrier.id}"]`);
    await carrierRow.locator("[data-action=suspend]").click();
    await p.fill("dialog textarea[name=reason-zh]", "运营方核查冷链资质");
    await p.click("dialog button[value=ok]");
    await carrierRow.locator("[data-testid=organisation-status]", { hasText: "已暂停" }).waitFor();
    await carrierRow.locator("[data-action=reinstate]").waitFor();
    const stored = await server.ctx.db
      .selectFrom("organisations")
      .select("status")
      .where("id", "=", carrier.id)
      .executeTakeFirstOrThrow();
    assert.equal(stored.status, "suspended");

    // Applications: the shop's, approved here, with the chair's sign-in QR code.
    await p.locator(".tabs button", { hasText: "入驻申请" }).click();
    const application = p.locator("[data-testid=applications] tr", { hasText: "西湖茶叶店" });
    await application.waitFor();
    await panel(p, "applications", "入驻申请", "Applications");
    await application.locator("[data-action=approve]").click();
    await p.locator("[data-testid=sign-in-qr] img.qr").waitFor();

    // Keys: the relayer's address holds the relayer role on chain.
    await panel(p, "keys", "密钥", "Keys");
    const relayerKey = p.locator("[data-key-use=relayer]");
    assert.equal(await relayerKey.locator("[data-testid=roles]").textContent(), "RELAYER_ROLE");
    await p
      .locator(`[data-testid=organisation-keys] tr[data-organisation-id="${cooperative.id}"]`, {
        hasText: cooperative.signerAddress,
      })
      .waitFor();

    // Relayer: below this server's line, so it warns; one registration's fee is known.
    await panel(p, "relayer", "中继账户", "Relayer");
    await p.locator("[data-testid=relayer-balance][data-low=true] [data-testid=low-balance]").waitFor();
    await p.locator("[data-testid=relayer-estimate]").waitFor();

    // Outbox: the refused registration with its code and its explanation.
    await panel(p, "outbox", "上链队列", "Outbox");
    const refused = p.locator("[data-testid=last-errors] li[data-code=SignatureExpired][data-state=failed]");
    await refused.waitFor();
    assert.match((await refused.textContent()) ?? "", /签名在写入账本前已过期/);
    await p.locator("[data-testid=no-retry]").waitFor();
    assert.equal(
      await p.locator("[data-testid=outbox-counts] tr[data-kind=attestation] td[data-state=failed]").textContent(),
      "1",
    );
    assert.deepEqual(problems, [], "no script errors");
  });

  it("reopens offline from the service worker", async () => {
    assert.ok(server !== undefined && page !== undefined && context !== undefined);
    const p = page;
    await p.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    await context.setOffline(true);
    try {
      await p.reload();
      // The page and its bundle come from the worker; the API cannot be reached, and says so.
      await p.locator("header .brand", { hasText: "运营控制台" }).waitFor();
      await p.locator(".flash-error", { hasText: "无法连接服务器" }).waitFor();
      // No connection is no refusal: the token stays for when the network is back.
      assert.equal(await p.evaluate(() => localStorage.getItem("oioc.console.operator.token")), adminToken);
    } finally {
      await context.setOffline(false);
    }
  });
});
