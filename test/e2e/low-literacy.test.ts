/**
 * The consoles for people who read little (issue 15, part 5), in Chromium on a 360×740 phone
 * against the real stack (a Hardhat node in its own process, the server with SQLite and
 * embedded IPFS): Chinese whatever the browser's language until the person picks English;
 * every tap target at least 48 × 48 px, body text at least 16 px, nothing wider than the
 * screen; a picture on each step to choose and on each waiting record; and the numbers to
 * check read aloud through `speechSynthesis` (a page-side spy records each utterance), in the
 * page's language, with no button at all where the browser cannot speak.
 */
import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import type { Browser, BrowserContext, Page } from "playwright-core";

import { apiClient, expectStatus } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { launchChromium } from "../../scripts/lib/chromium.ts";
import { DEMO_COMPANY_PREFIX, DEMO_GTIN } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry } from "../../scripts/lib/local-stack.ts";
import { buildConsoles } from "../../scripts/tasks/build-consoles.ts";
import type { RunningServer } from "../../server/src/server.ts";
import { listItemSerials } from "../../server/src/storage/batches.ts";
import { createDemoTea, onboard, registerDemoBatch, type Party } from "../support/onboard.ts";
import { startTestServer } from "../support/test-server.ts";
import { settleLedger } from "./support/settle-ledger.ts";
import { horizontalOverflow, lowContrast, smallTapTargets, smallText } from "./support/touch-targets.ts";

const projectRoot = path.resolve(import.meta.dirname, "../..");
const screenshotDir = path.join(projectRoot, "test-results");
const PHONE = { width: 360, height: 740 };
const LOT = "LOW-1";
/** Digits as the zh voice is given them, one by one (written out here, not taken from the page's code). */
const ZH_DIGIT = "零一二三四五六七八九";
const zhDigits = (digits: string): string => Array.from(digits, (d) => ZH_DIGIT[Number(d)] ?? d).join(" ");

interface Utterance {
  text: string;
  lang: string;
}

describe("the consoles for people who read little, on a phone in Chromium", () => {
  let node: ChainNode | undefined;
  let server: RunningServer | undefined;
  let dataDir = "";
  let browser: Browser | undefined;
  let cooperative: Party;
  let carrier: Party;
  let serial = "";
  const problems: string[] = [];

  async function phone(
    options: { locale?: string; speech?: boolean } = {},
  ): Promise<{ context: BrowserContext; page: Page }> {
    assert.ok(browser !== undefined);
    const locale = options.locale ?? "zh-CN";
    const context = await browser.newContext({
      viewport: PHONE,
      locale,
      extraHTTPHeaders: { "accept-language": locale },
      isMobile: true,
      hasTouch: true,
    });
    if (options.speech === false) {
      await context.addInitScript(() => {
        // A browser without the Web Speech API.
        Object.defineProperty(window, "speechSynthesis", { value: undefined, configurable: true });
      });
    } else {
      await context.addInitScript(() => {
        // Records what would be spoken; the utterance is what the person would hear.
        const spoken: { text: string; lang: string }[] = [];
        (window as unknown as { spoken: typeof spoken }).spoken = spoken;
        speechSynthesis.speak = (utterance: SpeechSynthesisUtterance) => {
          spoken.push({ text: utterance.text, lang: utterance.lang });
        };
      });
    }
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on("pageerror", (error) => problems.push(error.message));
    return { context, page };
  }

  /** Clicks a read-aloud button and returns what it said. */
  async function readAloud(page: Page, selector: string): Promise<Utterance> {
    const count = await page.evaluate(() => (window as unknown as { spoken: unknown[] }).spoken.length);
    await page.click(selector);
    return page.evaluate((n) => {
      const spoken = (window as unknown as { spoken: { text: string; lang: string }[] }).spoken;
      if (spoken.length !== n + 1) throw new Error(`expected one utterance, got ${String(spoken.length - n)}`);
      return spoken[n] ?? { text: "", lang: "" };
    }, count);
  }

  /** Big targets, big enough text, nothing wider than the phone, enough contrast: what a thumb in the sun needs. */
  async function fitsAThumb(page: Page, where: string): Promise<void> {
    const file = where.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "");
    await page.screenshot({ path: path.join(screenshotDir, `low-literacy-${file}.png`), fullPage: true });
    assert.deepEqual(await smallTapTargets(page), [], `${where}: tap targets under 48 × 48 px`);
    assert.deepEqual(await smallText(page), [], `${where}: text under 16 px`);
    assert.equal(await horizontalOverflow(page), 0, `${where}: wider than the screen`);
    assert.deepEqual(await lowContrast(page), [], `${where}: text under WCAG AA contrast`);
  }

  async function signInWithToken(page: Page, console: string, token: string, ready: string): Promise<void> {
    await page.goto(`${String(server?.url)}/console/${console}`);
    await page.locator("form.sign-in").waitFor();
    await fitsAThumb(page, `${console} sign-in`);
    await page.fill("input[name=token]", token);
    await page.click("form.sign-in button[type=submit]");
    await page.locator(ready).waitFor();
  }

  before(async () => {
    await buildConsoles();
    mkdirSync(screenshotDir, { recursive: true });
    node = await startChainNode({ projectRoot });
    const deployment = await deployLocalRegistry(node.rpcUrl);
    ({ server, dataDir } = await startTestServer(deployment.env, "low-literacy-e2e"));
    const admin = apiClient(server.url, deployment.env.ADMIN_TOKEN ?? "");
    cooperative = await onboard(server.url, admin, {
      kind: "cooperative",
      regionCode: "330106",
      serial: 9_801,
      companyPrefixes: [DEMO_COMPANY_PREFIX],
      name: { zh: "龙井合作社", en: "Longjing Cooperative" },
    });
    carrier = await onboard(server.url, admin, {
      kind: "logistics",
      regionCode: "330106",
      serial: 9_802,
      name: { zh: "杭州冷链物流", en: "Hangzhou Cold Chain" },
    });
    await createDemoTea(cooperative.api);
    await settleLedger(server);
    const batchId = await registerDemoBatch(cooperative.api, LOT, { quantityKg: "6", itemCount: 6 });
    await settleLedger(server);
    serial = (await listItemSerials(server.ctx.db, batchId))[0] ?? "";
    expectStatus(
      await cooperative.api.post(`/api/v1/batches/${batchId}/events`, {
        bizStep: "shipping",
        occurredAt: "2026-04-16T08:00:00+08:00",
        receiver: carrier.id,
      }),
      202,
      "shipping to the carrier",
    );
    browser = (await launchChromium("the low-literacy console test")) ?? undefined;
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await node?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("every console and the apply and sign-in pages open in Chinese on an English phone, until English is chosen", async () => {
    assert.ok(server !== undefined && browser !== undefined, "Chromium and the server are up");
    const { context, page } = await phone({ locale: "en-US" });
    const pages = [
      "/console/field",
      "/console/cooperative",
      "/console/regulator",
      "/console/operator",
      "/apply",
      "/signin",
    ];
    for (const where of pages) {
      await page.goto(`${server.url}${where}`);
      await page.locator("header.top [data-action=lang]").waitFor();
      assert.equal(await page.evaluate(() => document.documentElement.lang), "zh-CN", where);
      // The switch offers the other language: this page is in Chinese.
      assert.equal((await page.textContent("header.top [data-action=lang]"))?.trim(), "English", where);
      // The pages a farmer meets before any console: applying, and signing in from a QR code.
      if (where === "/apply" || where === "/signin") await fitsAThumb(page, where);
    }
    await page.goto(`${server.url}/console/field`);
    await page.click("header.top [data-action=lang]");
    await page.locator("header.top [data-action=lang]", { hasText: "中文" }).waitFor();
    // Remembered on the device, for every page.
    for (const where of ["/console/field", "/apply"]) {
      await page.goto(`${server.url}${where}`);
      await page.locator("header.top [data-action=lang]", { hasText: "中文" }).waitFor();
      assert.equal(await page.evaluate(() => document.documentElement.lang), "en", where);
    }
    await context.close();
  });

  it("field console: big picture buttons, pictures in the queue, the code and temperatures read aloud", async () => {
    assert.ok(server !== undefined && browser !== undefined);
    const { context, page } = await phone();
    await signInWithToken(page, "field", carrier.token, "[data-testid=scan-form]");
    await fitsAThumb(page, "field scan");
    // Whose phone console this is, said aloud after signing in.
    assert.deepEqual(await readAloud(page, ".with-speak:has([data-testid=signed-in-as]) [data-action=read-aloud]"), {
      text: "已登录，杭州冷链物流",
      lang: "zh-CN",
    });

    await page.fill("input[name=code]", `${server.url}/01/${DEMO_GTIN}/10/${LOT}/21/${serial}`);
    await page.click("[data-testid=scan-form] button[type=submit]");
    await page.locator("[data-testid=may-record]").waitFor();
    await fitsAThumb(page, "field lookup");
    // Each step offered is a picture with its word under it.
    const offered = await page
      .locator("[data-testid=may-record] button[data-step]")
      .evaluateAll((buttons) =>
        buttons.map((b) => [
          b.getAttribute("data-step"),
          b.querySelector("svg")?.getAttribute("data-pictogram"),
          b.textContent.trim(),
        ]),
      );
    assert.ok(offered.length > 0);
    for (const [step, picture, word] of offered) {
      assert.equal(picture, step);
      assert.notEqual(word, "");
    }
    // The code just scanned, character by character, in Chinese.
    const code = await readAloud(page, "[data-testid=lookup] [data-action=read-aloud]");
    assert.deepEqual(code, {
      text: `批号，L O W 杠 一，商品条码，${zhDigits(DEMO_GTIN)}，序号，${zhDigits(serial)}`,
      lang: "zh-CN",
    });

    // The carrier holds the batch once it records receiving it, with the temperatures on arrival.
    await page.click("[data-step=receiving]");
    const form = page.locator("[data-testid=record-form]");
    await form.waitFor();
    await fitsAThumb(page, "field receiving form");
    await form.locator("textarea[name=temperatures]").fill("2026-04-18 08:00,-1.5\n2026-04-18 09:00,4");
    const temperatures = "[data-testid=record-form] .with-speak:has(textarea) [data-action=read-aloud]";
    assert.deepEqual(await readAloud(page, temperatures), { text: "零下一点五摄氏度，四摄氏度", lang: "zh-CN" });
    await page.click("[data-action=lang]");
    await page.getByText("Temperatures (one per line").waitFor();
    assert.deepEqual(await readAloud(page, temperatures), {
      text: "minus 1.5 degrees Celsius, 4 degrees Celsius",
      lang: "en-GB",
    });
    await fitsAThumb(page, "field receiving form, English");
    await page.click("[data-action=lang]");

    // Offline, the record waits with its picture.
    await context.setOffline(true);
    await form.locator("button[type=submit]").click();
    await page.locator(".flash-info").waitFor();
    await page.click("nav.tabs [role=tab]:nth-child(2)");
    const waiting = page.locator("[data-testid=queue] li");
    await waiting.waitFor();
    assert.equal(await waiting.locator("svg[data-pictogram=receiving]").count(), 1);
    await fitsAThumb(page, "field queue");
    await context.close();
  });

  it("cooperative console: the step chosen from pictures, the batch's lot, quantity and items read aloud", async () => {
    assert.ok(server !== undefined && browser !== undefined);
    const { context, page } = await phone();
    await signInWithToken(page, "cooperative", cooperative.token, `[data-lot='${LOT}']`);
    const card = page.locator(`[data-lot='${LOT}']`);
    assert.deepEqual(await readAloud(page, `[data-lot='${LOT}'] .with-speak [data-action=read-aloud]`), {
      text: "批号，L O W 杠 一，采收数量，六千克，件数，六件",
      lang: "zh-CN",
    });
    await card.locator("[data-action=events]").click();
    const form = card.locator("[data-testid=event-form]");
    await form.waitFor();
    await fitsAThumb(page, "cooperative batches with the event form");
    const choices = await form
      .locator(".step-grid label[data-step]")
      .evaluateAll((labels) =>
        labels.map((l) => [l.getAttribute("data-step"), l.querySelector("svg")?.getAttribute("data-pictogram")]),
      );
    assert.deepEqual(
      choices.map(([step]) => step),
      ["planting", "input_application", "harvesting", "cooling", "transforming", "packing", "shipping"],
    );
    for (const [step, picture] of choices) assert.equal(picture, step);
    // Tapping a picture chooses its step: the shipping fields appear, the others go.
    assert.equal(await form.locator("input[name=receiver]").isVisible(), false);
    await form.locator("label[data-step=shipping]").click();
    assert.equal(await form.locator("input[name=bizStep]:checked").getAttribute("value"), "shipping");
    assert.equal(await form.locator("input[name=receiver]").isVisible(), true);
    await form.locator("label[data-step=input_application]").click();
    await form.locator("input[name=inputAmount]").fill("2.5");
    assert.deepEqual(
      await readAloud(page, `[data-lot='${LOT}'] [data-testid=event-form] fieldset [data-action=read-aloud]`),
      { text: "二点五千克", lang: "zh-CN" },
    );

    await page.click("nav.tabs [role=tab]:nth-child(2)");
    const register = page.locator("[data-testid=register-form]");
    await register.waitFor();
    assert.equal(await register.locator("h1 svg[data-pictogram=register]").count(), 1);
    await fitsAThumb(page, "cooperative register");
    await register.locator("input[name=lot]").fill("A-2");
    await register.locator("input[name=quantity]").fill("12.5");
    const speakers = register.locator("[data-action=read-aloud]");
    assert.equal(await speakers.count(), 3, "lot, quantity, items");
    const said: Utterance[] = [];
    for (const index of [0, 1, 2]) {
      const before = await page.evaluate(() => (window as unknown as { spoken: unknown[] }).spoken.length);
      await speakers.nth(index).click();
      said.push(
        await page.evaluate(
          (n) => (window as unknown as { spoken: Utterance[] }).spoken[n] ?? { text: "", lang: "" },
          before,
        ),
      );
    }
    assert.deepEqual(
      said.map((u) => u.text),
      ["批号，A 杠 二", "十二点五千克", "一百件"],
    );
    for (const [tab, view] of [
      [3, "section.records"],
      [4, "[data-testid=orders]"],
      [5, "[data-testid=people]"],
    ] as const) {
      await page.click(`nav.tabs [role=tab]:nth-child(${String(tab)})`);
      await page.locator(view).waitFor();
      await fitsAThumb(page, `cooperative ${view}`);
    }

    // Offline, the step recorded waits in the queue with its picture.
    await page.click("nav.tabs [role=tab]:nth-child(1)");
    const offlineForm = page.locator(`[data-lot='${LOT}'] [data-testid=event-form]`);
    await offlineForm.waitFor();
    await context.setOffline(true);
    await offlineForm.locator("label[data-step=cooling]").click();
    await offlineForm.locator("button[type=submit]").click();
    await page.locator("[data-testid=queue] li svg[data-pictogram=cooling]").waitFor();
    await fitsAThumb(page, "cooperative queue");
    await context.close();
  });

  it("where the browser cannot speak, no read-aloud button is drawn", async () => {
    assert.ok(server !== undefined && browser !== undefined);
    const { context, page } = await phone({ speech: false });
    await signInWithToken(page, "cooperative", cooperative.token, `[data-lot='${LOT}']`);
    await page.locator(`[data-lot='${LOT}'] .facts`).waitFor();
    assert.equal(await page.locator("[data-action=read-aloud]").count(), 0);
    await context.close();
    assert.deepEqual(problems, []);
  });
});
