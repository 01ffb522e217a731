/**
 * Every console page on a phone, in Chinese and in English (issue 15: "screenshots of each
 * console page, zh and en, on 360×740"). One Hardhat node in its own process, one server
 * (SQLite, embedded IPFS) with the demo's organisations and records plus what the pages need to
 * show something (a lot shipped to the carrier, a case despatched to it, orders open, packed and
 * despatched, a person, a pending and a refused application, an empty and a suspended
 * cooperative); one Chromium with one page per language, 360×740 CSS px at device scale factor
 * 1 (the pictures are for reading on a desk screen at their natural size; twice the pixels
 * would double the time to take them).
 *
 * The pages are listed from the consoles' code: the cooperative's tabs (batches with a batch's
 * events and the recall dialog, register, records with their forms, orders, people with a
 * sign-in QR code), the field console's (scan, a batch and a case looked up, nothing to record,
 * the shipping and inspection forms, the queue), the regulator's (batches, audit,
 * organisations, applications with the refusal dialog), the operator's panels (organisations,
 * applications, keys, relayer, outbox), `/apply` with its status page and `/signin`; each
 * sign-in card, the empty states, the suspended banner, the offline banner with writes
 * waiting, a queue with an entry the server refused, and forms showing an error. For each page
 * and language: `test-results/console-gallery/<console>-<page>-<zh|en>.png` (full page), and
 * the checks a phone user depends on: nothing wider than the screen, every tap target 48 × 48
 * px or more (support/touch-targets.ts), the UI's own words in the page's language, no error in
 * the page's console. Every finding is listed beside its picture in
 * `test-results/console-gallery/index.html`; a test fails on its console's findings after both
 * languages are shot.
 */
import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import type { Browser, BrowserContext, Locator, Page } from "playwright-core";

import { apiClient, expectStatus } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { launchChromium } from "../../scripts/lib/chromium.ts";
import { DEMO_COMPANY_PREFIX, DEMO_GTIN, DEMO_LOT, demoUscc, seedDemoSystem } from "../../scripts/lib/demo-system.ts";
import type { DemoSystemSummary } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry } from "../../scripts/lib/local-stack.ts";
import { buildConsoles } from "../../scripts/tasks/build-consoles.ts";
import { ssccFor } from "../../server/src/domain/sscc.ts";
import type { RunningServer } from "../../server/src/server.ts";
import { listItemSerials } from "../../server/src/storage/batches.ts";
import type { Lang } from "../../scanner-web/src/i18n.ts";
import { onboard, registerDemoBatch, type Party } from "../support/onboard.ts";
import { startTestServer } from "../support/test-server.ts";
import { pageErrors, wrongLanguage, writeGalleryIndex, type GalleryEntry } from "./support/gallery-checks.ts";
import { settleLedger } from "./support/settle-ledger.ts";
import { horizontalOverflow, smallTapTargets } from "./support/touch-targets.ts";

const projectRoot = path.resolve(import.meta.dirname, "../..");
const galleryDir = path.join(projectRoot, "test-results", "console-gallery");
const PHONE = { width: 360, height: 740 };
const LANGS: readonly Lang[] = ["zh", "en"];
/** A lot shipped to the carrier and received by it: the carrier may ship it on. */
const SHIPPED_LOT = "G2026-0501";
/** A lot whose items are packed in a case despatched to the carrier. */
const CASED_LOT = "G2026-0502";
const CASE = ssccFor(0, DEMO_COMPANY_PREFIX, 301n);
/** Lots of orders: one packed and waiting to be despatched, one despatched in a case. */
const PACKED_LOT = "G2026-0503";
const DESPATCHED_LOT = "G2026-0504";
const PERSON = "王秀英";
/**
 * What the seeded records carry that has no English: the plot's and places' names (plots have
 * only Chinese names), a person's name, the inputs and substances as the organisations typed
 * them, and the pending applicant, which gave no English name.
 */
const DATA_ZH = [
  "狮峰山 7 号茶园",
  "茗香加工车间",
  "浙冷链杭州仓",
  "上海茶韵专卖店",
  "腐熟菜籽饼肥",
  "联苯菊酯 bifenthrin",
  "草甘膦 glyphosate",
  "杭州市农产品质量安全检测中心",
  "中国绿色食品发展中心",
  PERSON,
  "龙坞茶叶专业合作社",
  "梅家坞茶叶专业合作社",
  "执照上的名称与信用代码不一致",
  "转塘茶叶专业合作社",
  "李春花",
];
/** Latin text a Chinese page shows as the records give it: the substances as the testing centre typed them. */
const DATA_LATIN = ["bifenthrin", "glyphosate"];

interface Run {
  lang: Lang;
  context: BrowserContext;
  page: Page;
  errors: string[];
}

describe("the console gallery: every console page on a 360×740 phone, zh and en", () => {
  let node: ChainNode | undefined;
  let server: RunningServer | undefined;
  let dataDir = "";
  let browser: Browser | undefined;
  let demo: DemoSystemSummary;
  let emptyCooperative: Party;
  let suspendedCooperative: Party;
  let adminToken = "";
  let pending = { id: "", secret: "" };
  let refused = { id: "", secret: "" };
  const runs = new Map<Lang, Run>();
  const gallery: GalleryEntry[] = [];

  const url = (route: string): string => `${String(server?.url)}${route}`;

  /** The screenshot and the checks of the page as it is now. */
  async function shot(run: Run, consoleName: string, pageName: string): Promise<void> {
    const { page, lang } = run;
    // Fonts and the last redraw settle before the picture, taken from the top (the bar is sticky:
    // scrolled, a full-page picture would draw it over the content further down).
    await page.evaluate(async () => {
      window.scrollTo(0, 0);
      await document.fonts.ready;
      await new Promise((resolve) => requestAnimationFrame(resolve));
    });
    const file = `${consoleName}-${pageName}-${lang}.png`;
    await page.screenshot({ path: path.join(galleryDir, file), fullPage: true });
    const findings: string[] = [];
    const overflow = await horizontalOverflow(page);
    if (overflow > 0) findings.push(`wider than the screen by ${String(overflow)} px`);
    for (const target of await smallTapTargets(page)) {
      findings.push(
        `tap target ${String(target.width)}×${String(target.height)} "${target.text}" (${target.selector})`,
      );
    }
    for (const text of await wrongLanguage(page, lang, lang === "en" ? DATA_ZH : [...DATA_ZH, ...DATA_LATIN])) {
      findings.push(`not in ${lang === "en" ? "English" : "Chinese"}: "${text}"`);
    }
    findings.push(...run.errors.splice(0).map((error) => `page error: ${error}`));
    gallery.push({ file, console: consoleName, page: pageName, lang, findings });
  }

  /** The findings of one console's pages, as one readable list: every page is shot before any fails the test. */
  function findingsOf(consoleName: string): string[] {
    return gallery
      .filter((entry) => entry.console === consoleName)
      .flatMap((entry) => entry.findings.map((finding) => `${entry.file}: ${finding}`));
  }

  async function tokenSignIn(page: Page, route: string, token: string, ready: string): Promise<void> {
    await page.goto(url(route));
    await page.fill("input[name=token]", token);
    await page.click("form.sign-in button[type=submit]");
    await page.locator(ready).first().waitFor();
  }

  async function signOut(page: Page): Promise<void> {
    await page.locator(".top .link").last().click();
    await page.locator("form.sign-in").waitFor();
  }

  /** The step in a cooperative's event form: a list, or a grid of pictures (radio buttons). */
  async function chooseStep(form: Locator, step: string): Promise<void> {
    const list = form.locator("select[name=bizStep]");
    if ((await list.count()) > 0) await list.selectOption(step);
    else await form.locator(`input[name=bizStep][value=${step}]`).check({ force: true });
  }

  async function tab(page: Page, index: number, ready: string): Promise<void> {
    await page.click(`nav.tabs [role=tab]:nth-child(${String(index)})`);
    await page.locator(ready).first().waitFor();
  }

  before(async () => {
    await buildConsoles();
    rmSync(galleryDir, { recursive: true, force: true });
    mkdirSync(galleryDir, { recursive: true });
    node = await startChainNode({ projectRoot });
    const deployment = await deployLocalRegistry(node.rpcUrl);
    ({ server, dataDir } = await startTestServer(deployment.env, "console-gallery"));
    adminToken = deployment.env.ADMIN_TOKEN ?? "";
    const admin = apiClient(server.url, adminToken);
    demo = await seedDemoSystem(server.url, adminToken, { itemCount: 6 });
    const coop = apiClient(server.url, demo.organisations.cooperative.token);
    const carrier = apiClient(server.url, demo.organisations.logistics.token);
    const carrierId = demo.organisations.logistics.id;
    emptyCooperative = await onboard(server.url, admin, {
      kind: "cooperative",
      regionCode: "330106",
      serial: 9_801,
      name: { zh: "梅家坞茶叶专业合作社", en: "Meijiawu Tea Cooperative" },
    });
    suspendedCooperative = await onboard(server.url, admin, {
      kind: "cooperative",
      regionCode: "330106",
      serial: 9_805,
      name: { zh: "灵隐茶叶专业合作社", en: "Lingyin Tea Cooperative" },
    });
    const shipped = await registerDemoBatch(coop, SHIPPED_LOT, { quantityKg: "4", itemCount: 4 });
    const cased = await registerDemoBatch(coop, CASED_LOT, { quantityKg: "2", itemCount: 2 });
    const packedLot = await registerDemoBatch(coop, PACKED_LOT, { quantityKg: "2", itemCount: 2 });
    const despatchedLot = await registerDemoBatch(coop, DESPATCHED_LOT, { quantityKg: "1", itemCount: 1 });
    await settleLedger(server);
    expectStatus(
      await coop.post(`/api/v1/batches/${shipped}/events`, {
        bizStep: "shipping",
        occurredAt: "2026-04-16T08:00:00+08:00",
        receiver: carrierId,
      }),
      202,
      "shipping to the carrier",
    );
    await settleLedger(server);
    expectStatus(
      await carrier.post(`/api/v1/batches/${shipped}/events`, {
        bizStep: "receiving",
        occurredAt: "2026-04-16T10:00:00+08:00",
        data: {},
      }),
      202,
      "the carrier receives",
    );
    expectStatus(
      await coop.post("/api/v1/containers", {
        sscc: CASE,
        items: [{ gtin: DEMO_GTIN, lot: CASED_LOT, serials: await listItemSerials(server.ctx.db, cased) }],
        occurredAt: "2026-04-16T09:00:00+08:00",
        shipTo: carrierId,
      }),
      202,
      "pack and despatch the case",
    );
    expectStatus(
      await coop.post("/api/v1/orders", {
        buyerReference: "会员 0087",
        sellerOrderNumber: "SO-2026-0042",
        channel: "shop",
        lines: [{ gtin: DEMO_GTIN, lot: SHIPPED_LOT, quantity: 2 }],
      }),
      201,
      "an order",
    );
    // Orders at each stage the Orders tab draws: open, packed (the despatch form), despatched (its case).
    const { db } = server.ctx;
    const base = server.url;
    const packedOrder = async (lot: string, batchId: string, count: number): Promise<string> => {
      const { order } = expectStatus(
        await coop.post<{ order: { id: string } }>("/api/v1/orders", {
          buyerReference: `会员 ${lot}`,
          channel: "platform",
          lines: [{ gtin: DEMO_GTIN, lot, quantity: count }],
        }),
        201,
        `an order of ${lot}`,
      );
      const serials = await listItemSerials(db, batchId);
      expectStatus(
        await coop.post(`/api/v1/orders/${order.id}/items`, {
          codes: serials.map((serial) => `${base}/01/${DEMO_GTIN}/10/${lot}/21/${serial}`),
        }),
        200,
        `pack the order of ${lot}`,
      );
      return order.id;
    };
    await packedOrder(PACKED_LOT, packedLot, 2);
    const despatchedOrder = await packedOrder(DESPATCHED_LOT, despatchedLot, 1);
    const [despatchCase] = expectStatus(
      await coop.post<{ ssccs: string[] }>("/api/v1/containers/sscc", { count: 1 }),
      201,
      "allocate a case",
    ).ssccs;
    expectStatus(
      await coop.post(`/api/v1/orders/${despatchedOrder}/despatch`, {
        sscc: despatchCase,
        shipTo: carrierId,
        occurredAt: "2026-04-17T09:00:00+08:00",
      }),
      200,
      "despatch an order",
    );
    expectStatus(
      await coop.post(`/api/v1/organisations/${demo.organisations.cooperative.id}/members`, {
        name: PERSON,
        capabilities: ["batches", "events"],
      }),
      201,
      "a person",
    );
    await settleLedger(server);
    const apply = async (name: string, serial: number): Promise<{ id: string; secret: string }> => {
      const answer = expectStatus(
        await apiClient(server?.url ?? "").post<{ application: { id: string }; secret: string }>(
          "/api/v1/applications",
          {
            kind: "cooperative",
            name: { zh: name },
            uscc: demoUscc("93", "330106", serial),
            regionCode: "330106",
            contact: { name: "李春花", phone: "13800138000" },
          },
        ),
        201,
        `apply as ${name}`,
      );
      return { id: answer.application.id, secret: answer.secret };
    };
    expectStatus(
      await apiClient(server.url, demo.organisations.regulator.token).post(
        `/api/v1/organisations/${suspendedCooperative.id}/suspend`,
        { reason: { zh: "抽检不合格，暂停登记", en: "Failed a spot check: registration suspended" } },
        { idempotencyKey: "gallery-suspend" },
      ),
      202,
      "suspend a cooperative",
    );
    await settleLedger(server);
    pending = await apply("龙坞茶叶专业合作社", 9_802);
    refused = await apply("转塘茶叶专业合作社", 9_803);
    expectStatus(
      await apiClient(server.url, demo.organisations.regulator.token).post(
        `/api/v1/applications/${refused.id}/refuse`,
        {
          reason: { zh: "执照上的名称与信用代码不一致", en: "The name on the licence does not match the credit code" },
        },
      ),
      200,
      "refuse an application",
    );
    browser = (await launchChromium("the console gallery")) ?? undefined;
    assert.ok(browser !== undefined, "Chromium is up");
    for (const lang of LANGS) {
      const context = await browser.newContext({
        viewport: PHONE,
        deviceScaleFactor: 1,
        isMobile: true,
        hasTouch: true,
        locale: lang === "zh" ? "zh-CN" : "en-GB",
      });
      // The page's language as a person who chose it once would have it: remembered on the device.
      await context.addInitScript((chosen) => {
        localStorage.setItem("oioc.lang", chosen);
      }, lang);
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      runs.set(lang, { lang, context, page, errors: pageErrors(page) });
    }
  });

  after(async () => {
    if (gallery.length > 0) writeGalleryIndex(galleryDir, gallery);
    await browser?.close();
    await server?.close();
    await node?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Runs `work` on the Chinese page, then the English one; then fails on what either showed on `consoles`' pages. */
  function each(consoles: readonly string[], work: (run: Run) => Promise<void>): () => Promise<void> {
    return async () => {
      const failures: unknown[] = [];
      for (const lang of LANGS) {
        const run = runs.get(lang);
        assert.ok(run !== undefined);
        // Each console starts online, whatever the one before left (a failure while offline).
        await run.context.setOffline(false);
        // A failure in one language still leaves the other's pages shot and checked.
        await work(run).catch((error: unknown) => failures.push(error));
      }
      if (failures.length > 0) throw failures[0];
      assert.deepEqual(consoles.flatMap(findingsOf), []);
    };
  }

  it(
    "joining: the application form, a refused form, the status page pending and refused; the sign-in link page",
    each(["apply", "signin"], async (run) => {
      const { page } = run;
      await page.goto(url("/apply"));
      await page.locator("[data-testid=apply-form]").waitFor();
      await shot(run, "apply", "form");
      // A credit code whose check character is wrong: the server's message, nothing stored.
      await page.fill("input[name=nameZh]", "石马茶叶专业合作社");
      await page.fill("input[name=uscc]", `${demoUscc("93", "330106", 9_804).slice(0, 17)}X`);
      await page.fill("input[name=regionCode]", "330106");
      await page.fill("input[name=contactName]", "赵大山");
      await page.fill("input[name=phone]", "13900139000");
      await page.click("[data-testid=apply-form] button[type=submit]");
      await page.locator(".flash-error").waitFor();
      await shot(run, "apply", "form-error");
      for (const [state, ref] of [
        ["pending", pending],
        ["refused", refused],
      ] as const) {
        await page.goto(url(`/apply#id=${ref.id}&s=${ref.secret}`));
        await page.reload();
        await page.locator(`[data-testid=application-status][data-status=${state}]`).waitFor();
        await shot(run, "apply", `status-${state}`);
      }
      await page.goto(url("/signin"));
      await page.locator(".flash-error").waitFor();
      await shot(run, "signin", "no-link");
      // A link of the right shape that was used already (or never issued).
      await page.goto(url(`/signin#t=${"A".repeat(22)}`));
      await page.reload();
      await page.locator(".flash-error").waitFor();
      await shot(run, "signin", "used-link");
    }),
  );

  it(
    "cooperative console: sign-in, every tab, a batch's events, a refused form, offline with writes waiting, a refusal in the queue, empty states",
    each(["cooperative"], async (run) => {
      const { page, context } = run;
      await page.goto(url("/console/cooperative"));
      await page.locator("form.sign-in").waitFor();
      await shot(run, "cooperative", "sign-in");
      // Another kind's token here is refused with the console's own words.
      await page.fill("input[name=token]", demo.organisations.regulator.token);
      await page.click("form.sign-in button[type=submit]");
      await page.locator("form.sign-in .flash-error").waitFor();
      await shot(run, "cooperative", "sign-in-refused");

      await tokenSignIn(page, "/console/cooperative", demo.organisations.cooperative.token, `[data-lot="${DEMO_LOT}"]`);
      await shot(run, "cooperative", "batches");
      const card = page.locator(`[data-lot="${DEMO_LOT}"]`);
      await card.locator("[data-action=events]").click();
      await card.locator("[data-testid=event-form]").waitFor();
      await shot(run, "cooperative", "batch-events");
      // Recalling asks for a reason first; cancelled, nothing happens.
      await page.click(`[data-lot="${CASED_LOT}"] [data-action=recall]`);
      await page.locator("dialog.modal").waitFor();
      await shot(run, "cooperative", "recall-dialog");
      await page.click("dialog.modal button[value=cancel]");
      await page.locator("dialog.modal").waitFor({ state: "detached" });

      await tab(page, 2, "[data-testid=register-form]");
      await shot(run, "cooperative", "register");
      // A GTIN whose check digit is wrong passes the field's pattern; the server says what is wrong.
      await page.fill("input[name=gtin]", `${DEMO_GTIN.slice(0, 13)}${String((Number(DEMO_GTIN.at(-1)) + 1) % 10)}`);
      await page.fill("input[name=lot]", "G2026-ERR");
      await page.fill("input[name=quantity]", "3");
      await page.click("[data-testid=register-form] button[type=submit]");
      await page.locator("[data-testid=register-form] .flash-error").waitFor();
      await shot(run, "cooperative", "register-error");

      await tab(page, 3, "[data-testid=plot-list]");
      await shot(run, "cooperative", "records");
      // Each record's form, unfolded.
      for (const summary of await page.locator(".records details > summary").all()) await summary.click();
      await page.locator("[data-testid=certification-form]").waitFor();
      await shot(run, "cooperative", "records-forms");
      await tab(page, 4, "[data-testid=orders] [data-testid=despatch-form]");
      await page.locator('[data-testid=orders] [data-testid=case-ledger][data-state="anchored"]').waitFor();
      await shot(run, "cooperative", "orders");
      await tab(page, 5, `[data-testid=people] .person:has-text("${PERSON}")`);
      await shot(run, "cooperative", "people");
      await page.locator(".person", { hasText: PERSON }).locator("[data-action=sign-in-qr]").click();
      await page.locator("[data-testid=sign-in-qr] img.qr").waitFor();
      await shot(run, "cooperative", "people-sign-in-qr");

      // Offline: a write waits on the phone (one the server will refuse: a shipment to nobody real).
      await tab(page, 1, `[data-lot="${DEMO_LOT}"]`);
      // The batch's events stay open across tabs.
      if ((await card.locator("[data-action=events]").getAttribute("aria-expanded")) !== "true")
        await card.locator("[data-action=events]").click();
      const form = card.locator("[data-testid=event-form]");
      await form.waitFor();
      await context.setOffline(true);
      await page.locator("[data-testid=offline]").waitFor();
      await chooseStep(form, "shipping");
      await form.locator("input[name=receiver]").fill("no-such-organisation");
      await form.locator("button[type=submit]").click();
      await page.locator("[data-testid=queue] li").waitFor();
      await shot(run, "cooperative", "offline-waiting");
      await context.setOffline(false);
      await page.evaluate(() => window.dispatchEvent(new Event("online")));
      await page.locator("[data-testid=queue-refused]").waitFor();
      await shot(run, "cooperative", "queue-refused");
      await page.locator("[data-testid=queue-refused] [data-action=dismiss]").click();
      await page.locator("[data-testid=queue-refused]").waitFor({ state: "detached" });

      // A cooperative with nothing yet: each tab's empty state.
      await signOut(page);
      await tokenSignIn(page, "/console/cooperative", emptyCooperative.token, "main .card");
      await shot(run, "cooperative", "batches-empty");
      await tab(page, 3, ".records");
      await shot(run, "cooperative", "records-empty");
      await tab(page, 4, "[data-testid=orders] p.help");
      await shot(run, "cooperative", "orders-empty");
      await signOut(page);
      // A cooperative the regulator suspended: the banner says why nothing can be recorded.
      await tokenSignIn(page, "/console/cooperative", suspendedCooperative.token, ".banner-danger");
      await shot(run, "cooperative", "suspended");
      await signOut(page);
    }),
  );

  it(
    "field console: sign-in, scan, a bad code, a batch and a case looked up, nothing to record, the shipping and inspection forms, the queue empty, offline and refused",
    each(["field"], async (run) => {
      const { page, context } = run;
      const lookUp = async (code: string, shown: string): Promise<void> => {
        await page.fill("input[name=code]", code);
        await page.click("[data-testid=scan-form] button[type=submit]");
        await page.locator("[data-testid=lookup]", { hasText: shown }).waitFor();
        await page.locator("[data-testid=may-record]").waitFor();
      };
      await page.goto(url("/console/field"));
      await page.locator("form.sign-in").waitFor();
      await shot(run, "field", "sign-in");
      await tokenSignIn(page, "/console/field", demo.organisations.logistics.token, "[data-testid=scan-form]");
      await shot(run, "field", "scan");
      await page.fill("input[name=code]", "not a code");
      await page.click("[data-testid=scan-form] button[type=submit]");
      await page.locator(".flash-error").waitFor();
      await shot(run, "field", "scan-bad-code");

      const shippedLink = url(`/01/${DEMO_GTIN}/10/${SHIPPED_LOT}`);
      await lookUp(shippedLink, SHIPPED_LOT);
      await shot(run, "field", "batch");
      await page.click("[data-step=shipping]");
      await page.locator("[data-testid=record-form][data-step=shipping]").waitFor();
      await shot(run, "field", "ship-form");
      await lookUp(`(00)${CASE}`, CASE);
      await shot(run, "field", "case");
      // The carrier handed the demo's lot to the shop: nothing for it to record now.
      await lookUp(url(`/01/${DEMO_GTIN}/10/${DEMO_LOT}`), DEMO_LOT);
      await shot(run, "field", "nothing-to-record");
      await tab(page, 2, "[data-testid=queue]");
      await shot(run, "field", "queue-empty");

      // Offline: a shipment to nobody real waits on the phone; back online the server refuses it.
      await tab(page, 1, "[data-testid=scan-form]");
      await lookUp(shippedLink, SHIPPED_LOT);
      await context.setOffline(true);
      await page.locator("[data-testid=offline]").waitFor();
      await page.click("[data-step=shipping]");
      await page.fill("[data-testid=record-form] input[name=receiver]", "no-such-organisation");
      await page.click("[data-testid=record-form] button[type=submit]");
      await page.locator(".flash-info").waitFor();
      await tab(page, 2, "[data-testid=queue] li");
      await shot(run, "field", "queue-offline");
      await context.setOffline(false);
      await page.evaluate(() => window.dispatchEvent(new Event("online")));
      await page.locator("[data-testid=queue-refused]").waitFor();
      await shot(run, "field", "queue-refused");
      await page.click("[data-testid=queue-refused] [data-action=dismiss]");
      await page.locator("[data-testid=queue-refused]").waitFor({ state: "detached" });
      await signOut(page);

      // The testing centre the cooperative asked: the inspection form.
      await tokenSignIn(page, "/console/field", demo.organisations.inspector.token, "[data-testid=scan-form]");
      await lookUp(url(`/01/${DEMO_GTIN}/10/${DEMO_LOT}`), DEMO_LOT);
      await page.click("[data-step=inspecting]");
      await page.locator("[data-testid=record-form][data-step=inspecting]").waitFor();
      await shot(run, "field", "inspect-form");
      await signOut(page);
    }),
  );

  it(
    "regulator console: sign-in, the batch search before and after, the audit before and after, organisations, applications and the refusal dialog",
    each(["regulator"], async (run) => {
      const { page } = run;
      await page.goto(url("/console/regulator"));
      await page.locator("form.sign-in").waitFor();
      await shot(run, "regulator", "sign-in");
      await tokenSignIn(page, "/console/regulator", demo.organisations.regulator.token, "[data-testid=filters]");
      await shot(run, "regulator", "batches");
      await page.click("[data-testid=filters] button[type=submit]");
      await page.locator(`tr[data-lot="${DEMO_LOT}"]`).waitFor();
      await shot(run, "regulator", "batches-found");
      // A batch's whole record: its steps with their facts, certificates, inspection requests, scans.
      await page.click(`tr[data-lot="${DEMO_LOT}"] [data-action=open-record]`);
      await page.locator("[data-testid=batch-record][data-complete=true] .record-event").first().waitFor();
      await shot(run, "regulator", "record");
      await page.click("[data-testid=batch-record] [data-action=back]");
      await page.locator(`tr[data-lot="${DEMO_LOT}"]`).waitFor();
      await tab(page, 3, "main .card");
      await shot(run, "regulator", "audit-none");
      await tab(page, 1, `tr[data-lot="${DEMO_LOT}"]`);
      await page.click(`tr[data-lot="${DEMO_LOT}"] [data-action=audit]`);
      await page.locator("[data-testid=audit-report]").waitFor({ timeout: 30_000 });
      await shot(run, "regulator", "audit");
      await tab(page, 2, "[data-testid=organisations] tbody tr");
      await shot(run, "regulator", "organisations");
      await tab(page, 4, `[data-application-id="${pending.id}"]`);
      await shot(run, "regulator", "applications");
      await page.click(`[data-application-id="${pending.id}"] [data-action=refuse]`);
      await page.locator("dialog.modal").waitFor();
      await shot(run, "regulator", "refuse-dialog");
      await page.click("dialog.modal button[value=cancel]");
      await page.locator("dialog.modal").waitFor({ state: "detached" });
      await signOut(page);
    }),
  );

  it(
    "operator console: sign-in and each panel (organisations, applications, keys, relayer, outbox)",
    each(["operator"], async (run) => {
      const { page } = run;
      await page.goto(url("/console/operator"));
      await page.locator("form.sign-in").waitFor();
      await shot(run, "operator", "sign-in");
      await tokenSignIn(page, "/console/operator", adminToken, "[data-testid=panel-organisations][data-loaded=true]");
      await shot(run, "operator", "organisations");
      await tab(page, 2, `[data-application-id="${pending.id}"]`);
      await shot(run, "operator", "applications");
      for (const [index, panel] of [
        [3, "keys"],
        [4, "relayer"],
        [5, "outbox"],
      ] as const) {
        await tab(page, index, `[data-testid=panel-${panel}][data-loaded=true]`);
        await shot(run, "operator", panel);
      }
      await signOut(page);
    }),
  );
});
