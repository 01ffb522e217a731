/**
 * The regulator opens a batch and sees its whole record, in Debian's Chromium against the real
 * stack (a Hardhat node in its own process, the server with SQLite and embedded IPFS). A
 * cooperative in Xihu district harvests with a voice note (real audio/webm bytes, recorded by
 * Chromium's own MediaRecorder), ships to a carrier with a temperature log that leaves the
 * product's range for 40 minutes, the carrier receives with a video, a testing centre the
 * cooperative asked inspects with one passing and one failing result and the report's photo, and
 * the cooperative issues a 合格证. The district's regulator opens the batch from its search: each step, its time,
 * its signer, its ledger state with the transaction, the excursion, the results, the photo, the
 * video, the voice note (its `src` fetched: the bytes uploaded, under the CID the upload gave), the
 * certificate and the inspection request, in Chinese and in English; a part whose request fails
 * shows its own message while the rest still shows. A regulator of another region opening the
 * same record by its address is refused by the server (403) and the page says so, zh and en.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import type { Browser, BrowserContext, Page } from "playwright-core";

import { apiClient, expectStatus, type ApiClient } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { launchChromium } from "../../scripts/lib/chromium.ts";
import { DEMO_COMPANY_PREFIX } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry } from "../../scripts/lib/local-stack.ts";
import { buildConsoles } from "../../scripts/tasks/build-consoles.ts";
import { qrPng } from "../../server/src/labels/qr.ts";
import type { RunningServer } from "../../server/src/server.ts";
import { BIZ_STEP_TEXT } from "../../scanner-web/src/i18n.ts";
import { createDemoTea, onboard, registerDemoBatch, type Party } from "../support/onboard.ts";
import { startTestServer } from "../support/test-server.ts";
import { pageErrors } from "./support/gallery-checks.ts";
import { settleLedger } from "./support/settle-ledger.ts";

const projectRoot = path.resolve(import.meta.dirname, "../..");
const DESK = { width: 1280, height: 900 };
const LOT = "REC2026-0416";

interface EventAnswer {
  id: string;
  bizStep: string;
  occurredAt: string;
  signerAddress: string;
  ledger: { state: string; txHash: string | null };
}

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");
const short = (address: string): string => `${address.slice(0, 6)}…${address.slice(-4)}`;

describe("the regulator opens a batch and sees its whole record", () => {
  let node: ChainNode | undefined;
  let server: RunningServer | undefined;
  let dataDir = "";
  let browser: Browser | undefined;
  let cooperative: Party;
  let carrier: Party;
  let inspector: Party;
  let regulator: Party;
  let otherRegulator: Party;
  let batchId = "";
  let certificateId = "";
  let voice = { cid: "", sha: "", bytes: 0 };
  let photo = { cid: "", sha: "" };
  let videoCid = "";
  let events: EventAnswer[] = [];

  /** Real audio/webm bytes: half a second of a tone, recorded by Chromium's MediaRecorder. */
  async function recordVoiceNote(page: Page): Promise<Buffer> {
    const base64 = await page.evaluate(async () => {
      const audio = new AudioContext();
      await audio.resume();
      const tone = audio.createOscillator();
      const sink = audio.createMediaStreamDestination();
      tone.connect(sink);
      tone.start();
      const recorder = new MediaRecorder(sink.stream, { mimeType: "audio/webm" });
      const chunks: Blob[] = [];
      recorder.addEventListener("dataavailable", (event) => {
        chunks.push(event.data);
      });
      const stopped = new Promise((resolve) => {
        recorder.addEventListener("stop", resolve);
      });
      recorder.start();
      await new Promise((resolve) => setTimeout(resolve, 500));
      recorder.stop();
      await stopped;
      tone.stop();
      await audio.close();
      const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
      let text = "";
      for (const byte of bytes) text += String.fromCharCode(byte);
      return btoa(text);
    });
    return Buffer.from(base64, "base64");
  }

  async function upload(party: Party, bytes: Uint8Array, type: string): Promise<string> {
    return expectStatus(await party.api.upload<{ media: { cid: string } }>("/api/v1/media", bytes, type), 201, type)
      .media.cid;
  }

  async function record(party: ApiClient, body: Record<string, unknown>): Promise<void> {
    expectStatus(await party.post(`/api/v1/batches/${batchId}/events`, body), 202, String(body.bizStep));
  }

  async function openConsole(
    token: string,
    hash = "",
  ): Promise<{ context: BrowserContext; page: Page; errors: string[]; answers: { path: string; status: number }[] }> {
    assert.ok(browser !== undefined && server !== undefined);
    const context = await browser.newContext({ viewport: DESK, locale: "zh-CN" });
    await context.addInitScript(() => {
      localStorage.setItem("oioc.lang", "zh");
    });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const errors = pageErrors(page);
    const answers: { path: string; status: number }[] = [];
    page.on("response", (response) => {
      answers.push({ path: new URL(response.url()).pathname, status: response.status() });
    });
    await page.goto(`${server.url}/console/regulator${hash}`);
    await page.fill("input[name=token]", token);
    await page.click("form.sign-in button[type=submit]");
    await page.locator(".tabs").waitFor();
    return { context, page, errors, answers };
  }

  async function switchLanguage(page: Page): Promise<void> {
    await page.click(".top [data-action=lang]");
  }

  before(async () => {
    await buildConsoles();
    node = await startChainNode({ projectRoot });
    const deployment = await deployLocalRegistry(node.rpcUrl);
    ({ server, dataDir } = await startTestServer(deployment.env, "regulator-batch-record"));
    const admin = apiClient(server.url, deployment.env.ADMIN_TOKEN ?? "");
    const base = server.url;
    cooperative = await onboard(base, admin, {
      kind: "cooperative",
      regionCode: "330106",
      serial: 7_101,
      name: { zh: "龙井茶叶专业合作社", en: "Longjing Tea Cooperative" },
      companyPrefixes: [DEMO_COMPANY_PREFIX],
    });
    carrier = await onboard(base, admin, {
      kind: "logistics",
      regionCode: "330110",
      serial: 7_102,
      name: { zh: "浙冷链物流", en: "Zhe Cold Chain Logistics" },
    });
    inspector = await onboard(base, admin, {
      kind: "inspector",
      regionCode: "330100",
      serial: 7_103,
      name: { zh: "杭州检测中心", en: "Hangzhou Testing Centre" },
    });
    regulator = await onboard(base, admin, {
      kind: "regulator",
      regionCode: "330106",
      serial: 7_104,
      name: { zh: "西湖区市场监督管理局", en: "Xihu District Market Supervision Bureau" },
    });
    otherRegulator = await onboard(base, admin, {
      kind: "regulator",
      regionCode: "310101",
      serial: 7_105,
      name: { zh: "黄浦区市场监督管理局", en: "Huangpu District Market Supervision Bureau" },
    });
    await createDemoTea(cooperative.api);
    await settleLedger(server);
    batchId = await registerDemoBatch(cooperative.api, LOT, { quantityKg: "40", itemCount: 4 });
    await settleLedger(server);
    certificateId = expectStatus(
      await cooperative.api.post<{ certificate: { id: string } }>(`/api/v1/batches/${batchId}/certificates`, {
        basis: ["self_test"],
        phone: "0571-8888 1234",
        quantity: { value: "40", unit: "kg" },
      }),
      201,
      "certificate",
    ).certificate.id;

    browser = (await launchChromium("the regulator's batch record")) ?? undefined;
    assert.ok(browser !== undefined, "Chromium is up");
    const recorderContext = await browser.newContext();
    const recorderPage = await recorderContext.newPage();
    await recorderPage.goto(`${server.url}/console/regulator`);
    const note = await recordVoiceNote(recorderPage);
    await recorderContext.close();
    assert.ok(note.length > 100, `a recorded note (${String(note.length)} bytes)`);
    voice = { cid: await upload(cooperative, note, "audio/webm"), sha: sha256(note), bytes: note.length };
    const reportPhoto = await qrPng("检测报告 REC-1", { sizePx: 200 });
    photo = { cid: await upload(inspector, reportPhoto, "image/png"), sha: sha256(reportPhoto) };

    await record(cooperative.api, {
      bizStep: "harvesting",
      occurredAt: "2026-04-15T06:00:00+08:00",
      data: { quantity: { value: "40", unit: "kg" } },
      attachmentCids: [voice.cid],
    });
    // Ten minutes apart; 30 °C from 08:20 to 09:00 (the product's range is 0–25 °C): one excursion of 40 minutes.
    const celsius = [6, 7, 8, 30, 31, 30, 29, 8, 7];
    await record(cooperative.api, {
      bizStep: "shipping",
      occurredAt: "2026-04-16T08:00:00+08:00",
      receiver: carrier.id,
      data: {
        temperatures: celsius.map((value, index) => ({
          at: new Date(Date.parse("2026-04-16T07:50:00+08:00") + index * 600_000).toISOString(),
          celsius: value,
        })),
      },
    });
    await settleLedger(server);
    // The carrier films the pallet on arrival (the bytes need not decode: only how the page offers them is checked).
    videoCid = await upload(carrier, randomBytes(20_000), "video/mp4");
    await record(carrier.api, {
      bizStep: "receiving",
      occurredAt: "2026-04-16T10:00:00+08:00",
      data: { location: { regionCode: "330110", name: "浙冷链杭州仓" } },
      attachmentCids: [videoCid],
    });
    expectStatus(
      await cooperative.api.post(`/api/v1/batches/${batchId}/inspection-requests`, { inspector: inspector.id }),
      202,
      "inspection request",
    );
    await settleLedger(server);
    await record(inspector.api, {
      bizStep: "inspecting",
      occurredAt: "2026-04-17T09:30:00+08:00",
      data: {
        tests: [
          { substance: "联苯菊酯", resultMgPerKg: 0.02, limitMgPerKg: 5, passed: true },
          { substance: "毒死蜱", resultMgPerKg: 0.5, limitMgPerKg: 0.1, passed: false },
        ],
      },
      attachmentCids: [photo.cid],
    });
    await settleLedger(server);
    events = expectStatus(
      await regulator.api.get<{ events: EventAnswer[] }>(`/api/v1/batches/${batchId}/events`),
      200,
      "events",
    ).events;
    assert.equal(events.length, 4);
    assert.ok(events.every((e) => e.ledger.state === "anchored" && e.ledger.txHash !== null));
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await node?.stop();
    if (dataDir !== "") rmSync(dataDir, { recursive: true, force: true });
  });

  it("the district's regulator opens the batch from its search: steps, signers, ledger, excursion, results, photo, voice note, certificate, zh and en", async () => {
    assert.ok(server !== undefined);
    const { context, page, errors } = await openConsole(regulator.token);
    await page.click("[data-testid=filters] button[type=submit]");
    await page.click(`tr[data-lot="${LOT}"] [data-action=open-record]`);
    const view = page.locator(`[data-testid=batch-record][data-batch-id="${batchId}"][data-complete=true]`);
    await view.waitFor();
    assert.equal(new URL(page.url()).hash, `#batch=${batchId}`);

    assert.equal(await view.locator("[data-testid=record-product]").textContent(), "西湖龙井");
    const header = await view.locator("[data-testid=record-header]").innerText();
    assert.match(header, new RegExp(LOT));
    assert.match(header, /龙井茶叶专业合作社/);
    assert.match(header, /浙江省 杭州市 西湖区/);
    assert.match(header, /2026-04-15 \d\d:\d\d \(北京时间\)/);

    // Newest last, each as the API has it.
    const items = view.locator(".record-event");
    assert.deepEqual(await items.evaluateAll((li) => li.map((e) => e.getAttribute("data-step"))), [
      "harvesting",
      "shipping",
      "receiving",
      "inspecting",
    ]);
    const signers = new Map([
      ["harvesting", ["龙井茶叶专业合作社", cooperative.signerAddress]],
      ["shipping", ["龙井茶叶专业合作社", cooperative.signerAddress]],
      ["receiving", ["浙冷链物流", carrier.signerAddress]],
      ["inspecting", ["杭州检测中心", inspector.signerAddress]],
    ]);
    const times = new Map([
      ["harvesting", "2026-04-15 06:00"],
      ["shipping", "2026-04-16 08:00"],
      ["receiving", "2026-04-16 10:00"],
      ["inspecting", "2026-04-17 09:30"],
    ]);
    for (const event of events) {
      const item = view.locator(`.record-event[data-event-id="${event.id}"]`);
      assert.equal(await item.locator("[data-testid=step]").textContent(), BIZ_STEP_TEXT[event.bizStep]?.[0]);
      assert.equal(
        await item.locator("[data-testid=when]").textContent(),
        `${times.get(event.bizStep) ?? ""} (北京时间)`,
      );
      const [organisation, address] = signers.get(event.bizStep) ?? ["", ""];
      assert.equal(await item.locator("[data-testid=signer-organisation]").textContent(), organisation);
      assert.equal(event.signerAddress.toLowerCase(), address?.toLowerCase());
      assert.equal(await item.locator("[data-testid=signer]").textContent(), short(event.signerAddress));
      assert.equal(await item.locator("[data-testid=ledger]").getAttribute("data-state"), "anchored");
      assert.equal(await item.locator("[data-testid=tx-hash]").textContent(), event.ledger.txHash);
      // Only the shipment left the range.
      assert.equal(await item.locator("[data-testid=excursion]").count(), event.bizStep === "shipping" ? 1 : 0);
    }
    const shipping = view.locator(".record-event[data-step=shipping]");
    assert.equal(await shipping.locator("[data-testid=excursion]").getAttribute("data-kind"), "too_warm");
    assert.match(
      await shipping.locator("[data-testid=excursion]").innerText(),
      /2026-04-16 08:20 至 2026-04-16 09:00（40 分钟），最高 31 °C/,
    );
    assert.match(
      await shipping.locator("[data-testid=temperatures]").innerText(),
      /9 个读数，6–31 °C，产品要求 0–25 °C/,
    );

    const inspecting = view.locator(".record-event[data-step=inspecting]");
    assert.deepEqual(
      await inspecting
        .locator("[data-testid=test-result]")
        .evaluateAll((li) => li.map((e) => e.getAttribute("data-passed"))),
      ["true", "false"],
    );
    assert.match(
      await inspecting.locator("[data-testid=test-result][data-passed=false]").innerText(),
      /不合格 毒死蜱 0.5 mg\/kg/,
    );
    const photoLink = inspecting.locator("a[data-testid=photo]");
    assert.equal(await photoLink.getAttribute("href"), `/ipfs/${photo.cid}`);
    assert.ok(
      await photoLink.locator("img").evaluate(async (img: HTMLImageElement) => {
        await img.decode();
        return img.naturalWidth > 0;
      }),
      "the report photo shows",
    );

    const video = view.locator(".record-event[data-step=receiving] [data-testid=video] video");
    assert.equal(await video.getAttribute("preload"), "metadata");
    assert.equal(await video.getAttribute("src"), `/ipfs/${videoCid}`);
    assert.equal(
      await view.locator("[data-testid=attachments]").count(),
      3,
      "only the events with files show attachments",
    );

    // The voice note: a player whose source is the uploaded bytes under their CID, and plays.
    const audio = view.locator(".record-event[data-step=harvesting] [data-testid=voice-note] audio");
    assert.equal(await audio.getAttribute("preload"), "metadata");
    const src = await audio.evaluate((element: HTMLAudioElement) => element.currentSrc || element.src);
    assert.equal(new URL(src).pathname, `/ipfs/${voice.cid}`);
    const served = await fetch(src);
    assert.equal(served.status, 200);
    assert.match(served.headers.get("content-type") ?? "", /^audio\/webm/);
    const servedBytes = new Uint8Array(await served.arrayBuffer());
    assert.equal(servedBytes.length, voice.bytes);
    assert.equal(sha256(servedBytes), voice.sha);
    assert.ok(
      await audio.evaluate(
        (element: HTMLAudioElement) =>
          new Promise<boolean>((resolve) => {
            if (element.readyState >= 1) resolve(true);
            element.addEventListener("loadedmetadata", () => {
              resolve(true);
            });
            element.addEventListener("error", () => {
              resolve(false);
            });
          }),
      ),
      "the voice note plays",
    );

    const certificate = view.locator(`[data-testid=certificate][data-certificate-id="${certificateId}"]`);
    assert.match(await certificate.innerText(), /龙井茶叶专业合作社[\s\S]*40 千克/);
    assert.equal(await certificate.locator(`a[href="/c/${certificateId}"]`).count(), 1);
    assert.equal(await certificate.locator(`a[href="/api/v1/certificates/${certificateId}.pdf"]`).count(), 1);
    assert.match(await view.locator("[data-testid=inspection-request]").innerText(), /杭州检测中心[\s\S]*已检测/);
    assert.match(await view.locator("[data-testid=scans-unknown]").innerText(), /^0 次扫码/);

    // English: the same record in the page's other language.
    await switchLanguage(page);
    await view.locator("[data-testid=step]", { hasText: "Shipping" }).waitFor();
    assert.match(await view.locator("[data-testid=record-product]").innerText(), /West Lake Longjing|西湖龙井/);
    assert.match(await view.locator("[data-testid=record-header]").innerText(), /Xihu District, Hangzhou, Zhejiang/);
    assert.match(await shipping.locator("[data-testid=when]").innerText(), /^2026-04-16 08:00 \(China time\)$/);
    assert.match(
      await shipping.locator("[data-testid=excursion]").innerText(),
      /Out of range: .*\(40 min\), highest 31 °C/,
    );
    assert.match(await inspecting.locator("[data-testid=test-result][data-passed=false]").innerText(), /^Fail/);
    assert.match(
      await view.locator("[data-testid=inspection-request]").innerText(),
      /Hangzhou Testing Centre[\s\S]*Inspected/,
    );
    await switchLanguage(page);

    // A part whose request fails says so; the rest of the record still shows.
    await page.route(`**/api/v1/batches/${batchId}/certificates`, (route) => route.abort());
    await page.reload();
    await view.waitFor();
    await view.locator("[data-testid=certificates-failed]").waitFor();
    assert.equal(await view.locator(".record-event").count(), 4);
    await page.unroute(`**/api/v1/batches/${batchId}/certificates`);

    // Back to the search: the address forgets the record.
    await page.click("[data-testid=batch-record] [data-action=back]");
    await page.locator("[data-testid=filters]").waitFor();
    assert.equal(new URL(page.url()).hash, "");
    await context.close();
    assert.deepEqual(errors, [], "the console logged errors");
  });

  it("a regulator of another region opening the record by its address is refused by the server, zh and en", async () => {
    assert.ok(server !== undefined);
    expectStatus(
      await otherRegulator.api.get(`/api/v1/batches/${batchId}/scan-facts`),
      403,
      "scan facts outside the region",
    );
    assert.ok(browser !== undefined);
    const { context, page, errors, answers } = await openConsole(otherRegulator.token, `#batch=${batchId}`);
    const refused = page.locator("[data-testid=record-refused]");
    await refused.waitFor();
    assert.match(
      await refused.innerText(),
      /该对象不在本监管机构的辖区内。[\s\S]*\[organisation\.outside_jurisdiction\]/,
    );
    // The page's own request was the one refused.
    assert.deepEqual(
      answers.filter((a) => a.path === `/api/v1/batches/${batchId}/scan-facts`).map((a) => a.status),
      [403],
    );
    assert.equal(await page.locator(".record-event").count(), 0, "nothing of the record shows");
    await switchLanguage(page);
    await refused.locator("h1", { hasText: "This batch's record cannot be shown." }).waitFor();
    assert.match(await refused.innerText(), /This lies outside your regulator's region\./);
    await context.close();
    assert.deepEqual(errors, [], "the console logged errors");
  });
});
