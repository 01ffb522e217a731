/**
 * Joining and signing in (issue 15) in Debian's Chromium on a 360×740 phone screen, against the
 * real stack (a Hardhat node in its own process, the server with SQLite and embedded IPFS): a
 * cooperative applies with a photo of its licence; the district bureau approves it in the
 * regulator console and gets the chair's sign-in QR code; the farmer opens that link in a fresh
 * browser, lands in the cooperative console signed in, and registers a batch with that session;
 * the chair adds a person and prints the person's QR code. Screenshots of each page, zh and
 * en, go to test-results/joining-*.png.
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
import { gtinCheckDigit } from "../../server/src/domain/gs1.ts";
import { qrPng } from "../../server/src/labels/qr.ts";
import type { RunningServer } from "../../server/src/server.ts";
import { onboard, type Party } from "../support/onboard.ts";
import { startTestServer } from "../support/test-server.ts";
import { settleLedger } from "./support/settle-ledger.ts";

const projectRoot = path.resolve(import.meta.dirname, "../..");
const screenshotDir = path.join(projectRoot, "test-results");
const PHONE = { width: 360, height: 740 };
const PLATFORM_PREFIX = "6970000";

describe("joining and signing in on a phone, in Chromium", () => {
  let node: ChainNode | undefined;
  let server: RunningServer | undefined;
  let dataDir = "";
  let browser: Browser | undefined;
  let bureau: Party;
  let adminToken = "";
  const problems: string[] = [];

  async function phone(): Promise<{ context: BrowserContext; page: Page }> {
    assert.ok(browser !== undefined);
    const context = await browser.newContext({
      viewport: PHONE,
      locale: "zh-CN",
      isMobile: true,
      hasTouch: true,
      deviceScaleFactor: 2,
    });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on("pageerror", (error) => problems.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error" && !/Failed to load resource/.test(message.text())) problems.push(message.text());
    });
    return { context, page };
  }

  async function shot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: path.join(screenshotDir, `joining-${name}.png`), fullPage: true });
  }

  /** Shots in Chinese, then English (the switch in the top bar), then back to Chinese. */
  async function bothLanguages(page: Page, name: string, englishText: RegExp): Promise<void> {
    await shot(page, `${name}-zh`);
    await page.click("[data-action=lang]");
    await page.getByText(englishText).first().waitFor();
    await shot(page, `${name}-en`);
    await page.click("[data-action=lang]");
  }

  before(async () => {
    await buildConsoles();
    mkdirSync(screenshotDir, { recursive: true });
    node = await startChainNode({ projectRoot });
    const deployment = await deployLocalRegistry(node.rpcUrl);
    ({ server, dataDir } = await startTestServer(deployment.env, "joining-e2e", {
      PLATFORM_COMPANY_PREFIX: PLATFORM_PREFIX,
      PLATFORM_PREFIX_EXTRA_DIGITS: "3",
    }));
    adminToken = deployment.env.ADMIN_TOKEN ?? "";
    const admin = apiClient(server.url, adminToken);
    bureau = await onboard(server.url, admin, { kind: "regulator", regionCode: "330106", serial: 901 });
    browser = (await launchChromium("the joining browser test")) ?? undefined;
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await node?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("apply with a licence photo → the bureau approves → the farmer signs in by the QR link → registers a batch", async () => {
    assert.ok(server !== undefined && browser !== undefined, "Chromium and the server are up");
    const serverUrl = server.url;

    // 1. The cooperative applies from its phone, with the licence photographed.
    const applicant = await phone();
    await applicant.page.goto(`${serverUrl}/apply`);
    await applicant.page.locator("[data-testid=free]", { hasText: "免费" }).waitFor();
    await bothLanguages(applicant.page, "apply", /Applying and trace codes are free/);
    const uscc = demoUscc("93", "330106", 902);
    await applicant.page.fill("input[name=nameZh]", "龙坞茶叶专业合作社");
    await applicant.page.fill("input[name=uscc]", uscc);
    await applicant.page.fill("input[name=regionCode]", "330106");
    await applicant.page.fill("input[name=contactName]", "王秀英");
    await applicant.page.fill("input[name=phone]", "13800138000");
    const photo = await qrPng("营业执照 龙坞茶叶专业合作社", { sizePx: 300 });
    await applicant.page.setInputFiles("input[name=licence]", {
      name: "licence.png",
      mimeType: "image/png",
      buffer: photo,
    });
    await applicant.page.click("[data-testid=apply-form] button[type=submit]");
    await applicant.page.locator("[data-testid=application-status][data-status=pending]").waitFor();
    await bothLanguages(applicant.page, "apply-status", /the county bureau is reviewing/);
    const statusUrl = applicant.page.url();
    assert.match(statusUrl, /\/apply#id=app_[^&]+&s=/);

    // 2. The district bureau reviews it in the regulator console (on a phone too) and approves.
    const reviewer = await phone();
    await reviewer.page.goto(`${serverUrl}/console/regulator`);
    await reviewer.page.fill("input[name=token]", bureau.token);
    await reviewer.page.click("form.sign-in button[type=submit]");
    await reviewer.page.locator(".tabs").waitFor();
    await reviewer.page.locator(".tabs button", { hasText: "入驻申请" }).click();
    const row = reviewer.page.locator("[data-testid=applications] tr", { hasText: "龙坞茶叶专业合作社" });
    await row.waitFor();
    assert.match((await row.textContent()) ?? "", /13800138000/);
    await row.locator("img.licence").waitFor();
    assert.ok(
      await row.locator("img.licence").evaluate((img) => (img as HTMLImageElement).naturalWidth > 0),
      "the licence photo is shown",
    );
    await bothLanguages(reviewer.page, "review", /Applications/);
    await row.locator("[data-action=approve]").click();
    const signInUrl = reviewer.page.locator("[data-testid=sign-in-url]");
    await signInUrl.waitFor();
    await reviewer.page.locator("[data-testid=sign-in-qr] img.qr").waitFor();
    await bothLanguages(reviewer.page, "review-approved", /Print/);
    const link = new URL((await signInUrl.textContent()) ?? "");

    // The operator's view (issue 15, part 6): the admin token in the same console sees every
    // region's applications; the district bureau does not see Yunnan's.
    expectStatus(
      await apiClient(serverUrl).post("/api/v1/applications", {
        kind: "retailer",
        name: { zh: "昆明果蔬店" },
        uscc: demoUscc("92", "530802", 903),
        regionCode: "530802",
        contact: { name: "李店主", phone: "13700137000" },
      }),
      201,
      "an application from Yunnan",
    );
    const operator = await phone();
    await operator.page.goto(`${serverUrl}/console/regulator`);
    await operator.page.fill("input[name=token]", adminToken);
    await operator.page.click("form.sign-in button[type=submit]");
    await operator.page.locator(".tabs button", { hasText: "入驻申请" }).click();
    await operator.page.locator("[data-testid=applications] tr", { hasText: "昆明果蔬店" }).waitFor();
    await shot(operator.page, "operator-applications-zh");
    await operator.context.close();
    await reviewer.page.click(".tabs button:nth-child(1)");
    await Promise.all([
      reviewer.page.waitForResponse((response) => response.url().includes("/api/v1/applications?status=pending")),
      reviewer.page.locator(".tabs button", { hasText: "入驻申请" }).click(),
    ]);
    await reviewer.page.locator("[data-testid=no-applications]").waitFor();
    assert.equal(link.pathname, "/signin");
    assert.match(link.hash, /^#t=[A-Za-z0-9_-]{22}$/);
    await reviewer.context.close();

    // The applicant's status page now says approved.
    await applicant.page.reload();
    await applicant.page.locator("[data-testid=application-status][data-status=approved]").waitFor();
    await applicant.context.close();

    // The organisation reaches the ledger and its platform prefix is bound.
    await settleLedger(server);
    const organisation = await server.ctx.db
      .selectFrom("organisations")
      .select(["id", "ledger_state"])
      .where("uscc", "=", uscc)
      .executeTakeFirstOrThrow();
    assert.equal(organisation.ledger_state, "anchored");
    const prefix = (
      await server.ctx.db
        .selectFrom("company_prefix_bindings")
        .select("prefix")
        .where("organisation_id", "=", organisation.id)
        .executeTakeFirstOrThrow()
    ).prefix;

    // 3. The farmer scans the QR code: a fresh browser opens the link and lands signed in.
    const farmer = await phone();
    await farmer.page.goto(`${serverUrl}/signin${link.hash}`);
    await farmer.page.waitForURL(/\/console\/cooperative$/);
    await farmer.page.locator(".tabs").waitFor();
    await farmer.page.locator(".brand", { hasText: "龙坞茶叶专业合作社" }).waitFor();
    const session = await farmer.page.evaluate(() => localStorage.getItem("oioc.console.cooperative.token"));
    assert.ok(session !== null && session.startsWith("oioc_"), "the console keeps the device session");
    // The same link a second time: refused, in the page's words.
    const again = await phone();
    await again.page.goto(`${serverUrl}/signin${link.hash}`);
    await again.page.locator(".flash-error", { hasText: "sign_in.invalid" }).waitFor();
    await bothLanguages(again.page, "signin-used", /This sign-in link is not valid/);
    await again.context.close();

    // 4. With that session she registers her product (API) and a batch (console).
    const body = `0${prefix}01`;
    const gtin = `${body}${String(gtinCheckDigit(body))}`;
    expectStatus(
      await apiClient(serverUrl, session).post("/api/v1/products", {
        gtin,
        name: { zh: "龙坞龙井" },
        category: "tea",
        unit: "kg",
      }),
      201,
      "the farmer's product",
    );
    await settleLedger(server);
    await farmer.page.click(".tabs button:nth-child(2)");
    await farmer.page.fill("input[name=gtin]", gtin);
    await farmer.page.locator("[data-testid=product-hint]", { hasText: "龙坞龙井" }).waitFor();
    await farmer.page.fill("input[name=lot]", "LW-PHONE-1");
    await farmer.page.fill("input[name=quantity]", "3");
    await farmer.page.fill("input[name=itemCount]", "4");
    await farmer.page.click("[data-testid=register-form] button[type=submit]");
    await farmer.page.locator("[data-lot='LW-PHONE-1']").waitFor();
    const batch = await server.ctx.db
      .selectFrom("batches")
      .select(["organisation_id"])
      .where("lot", "=", "LW-PHONE-1")
      .executeTakeFirstOrThrow();
    assert.equal(batch.organisation_id, organisation.id);
    const writes = await server.ctx.db
      .selectFrom("audit_log")
      .innerJoin("credentials", "credentials.id", "audit_log.credential_id")
      .select(["audit_log.action", "credentials.member_id"])
      .where("audit_log.organisation_id", "=", organisation.id)
      .where("audit_log.action", "like", "batch.%")
      .execute();
    assert.ok(
      writes.some((w) => w.member_id !== null),
      `the batch was written with the chair's device session (${JSON.stringify(writes)})`,
    );

    // 5. The people page: the chair adds a person and prints the person's sign-in QR code.
    await farmer.page.locator(".tabs button", { hasText: "人员" }).click();
    await farmer.page.locator("[data-testid=people] .person").first().waitFor();
    await farmer.page.fill("[data-testid=add-person] input[name=name]", "李强");
    await farmer.page.click("[data-testid=add-person] button[type=submit]");
    const person = farmer.page.locator(".person", { hasText: "李强" });
    await person.waitFor();
    await person.locator("[data-action=sign-in-qr]").click();
    await person.locator("[data-testid=sign-in-qr] img.qr").waitFor();
    await bothLanguages(farmer.page, "people", /Signed-in phones/);
    await farmer.context.close();
    assert.deepEqual(problems, [], "no page logged an error");
  });
});
