/**
 * Media waiting on the phone (issue 15, parts 4 and 5) in Chromium on a 360×740 phone, against
 * the real stack (a Hardhat node in its own process, the server with SQLite and embedded IPFS).
 * A testing centre records a result in the field console with a voice note (Chromium's fake
 * microphone) and a 5 MB video while offline, behind a record whose video is of a type the
 * server does not take (set aside with the reason, holding nothing back); the page is reloaded
 * offline (the queue and the
 * files are still on the phone, shown with their size); back online the video goes up in
 * pieces, one piece is cut off half-way (the server keeps the half it got), and the upload
 * resumes from the offset the server reports rather than from zero; the record is sent once and
 * names both files, which are stored with the CIDs their bytes give. A page reloaded while a
 * video goes up continues the same upload session from the server's offset. The cooperative
 * console's event form attaches a voice note the same way.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { chromium, type Browser, type Route } from "playwright-core";

import { apiClient, expectStatus } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { CHROMIUM_ARGS, CHROMIUM_PATH } from "../../scripts/lib/chromium.ts";
import { DEMO_COMPANY_PREFIX, DEMO_GTIN } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry } from "../../scripts/lib/local-stack.ts";
import { buildConsoles } from "../../scripts/tasks/build-consoles.ts";
import { buildWeb } from "../../scripts/tasks/build-web.ts";
import { importFile } from "../../server/src/ipfs/unixfs-file.ts";
import type { RunningServer } from "../../server/src/server.ts";
import { getMedia } from "../../server/src/storage/media.ts";
import { createDemoTea, onboard, registerDemoBatch, type Party } from "../support/onboard.ts";
import { startTestServer } from "../support/test-server.ts";
import { settleLedger } from "./support/settle-ledger.ts";

const projectRoot = path.resolve(import.meta.dirname, "../..");
const PHONE = { width: 360, height: 740 };
const LOT = "MEDIA-1";
/** The console's piece size (shared/upload.ts PIECE_BYTES). */
const PIECE = 2 * 1024 * 1024;
const VIDEO_BYTES = 5 * 1024 * 1024;

interface EventRow {
  bizStep: string;
  actorOrganisationId: string;
  payloadCid: string;
}

describe("videos and voice notes wait on the phone and go up resumably", () => {
  let node: ChainNode | undefined;
  let server: RunningServer | undefined;
  let dataDir = "";
  let browser: Browser | undefined;
  let cooperative: Party;
  let lab: Party;
  let batchId = "";

  before(async () => {
    await buildWeb();
    await buildConsoles();
    node = await startChainNode({ projectRoot });
    const deployment = await deployLocalRegistry(node.rpcUrl);
    ({ server, dataDir } = await startTestServer(deployment.env, "media-queue-e2e"));
    const admin = apiClient(server.url, deployment.env.ADMIN_TOKEN ?? "");
    cooperative = await onboard(server.url, admin, {
      kind: "cooperative",
      regionCode: "330106",
      serial: 9_801,
      companyPrefixes: [DEMO_COMPANY_PREFIX],
      name: { zh: "龙井合作社", en: "Longjing Cooperative" },
    });
    lab = await onboard(server.url, admin, {
      kind: "inspector",
      regionCode: "330106",
      serial: 9_802,
      name: { zh: "杭州农产品检测中心", en: "Hangzhou Testing Centre" },
    });
    await createDemoTea(cooperative.api);
    await settleLedger(server);
    batchId = await registerDemoBatch(cooperative.api, LOT, { quantityKg: "2", itemCount: 2 });
    await settleLedger(server);
    expectStatus(
      await cooperative.api.post(`/api/v1/batches/${batchId}/inspection-requests`, { inspector: lab.id }),
      202,
      "inspection request",
    );
    await settleLedger(server);
    // A microphone that plays a tone, allowed without asking: the voice note is really recorded.
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: [...CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"],
    });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await node?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("queues a video and a voice note offline, survives a reload, resumes a cut-off upload, sends the record once", async () => {
    assert.ok(server !== undefined && browser !== undefined);
    const problems: string[] = [];
    const context = await browser.newContext({ viewport: PHONE, locale: "zh-CN", isMobile: true, hasTouch: true });
    await context.grantPermissions(["microphone"], { origin: server.url });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    page.on("pageerror", (error) => problems.push(error.message));
    const waitingCount = (n: number) =>
      page.waitForFunction(
        (count) =>
          Object.keys(localStorage)
            .filter((k) => k.startsWith("oioc.console.queue."))
            .some(
              (k) => (JSON.parse(localStorage.getItem(k) ?? "{}") as { waiting?: unknown[] }).waiting?.length === count,
            ),
        n,
      );

    await page.goto(`${server.url}/console/field`);
    await page.fill("input[name=token]", lab.token);
    await page.click("form.sign-in button[type=submit]");
    await page.locator("[data-testid=scan-form]").waitFor();
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    await page.fill("input[name=code]", `${server.url}/01/${DEMO_GTIN}/10/${LOT}`);
    await page.click("[data-testid=scan-form] button[type=submit]");
    await page.locator("[data-testid=may-record]").waitFor();
    await context.setOffline(true);
    // First, offline, a record with a video of a type the server does not take: it will be set
    // aside with the reason, and must not hold back the good one queued after it.
    await page.click("[data-step=inspecting]");
    await page.fill("input[name=substance]", "乐果 dimethoate");
    await page.setInputFiles("[data-testid=record-form] [data-testid=video-input]", {
      name: "clip.avi",
      mimeType: "video/x-msvideo",
      buffer: randomBytes(50_000),
    });
    await page.locator("[data-testid=video-chosen]", { hasText: "clip.avi" }).waitFor();
    await page.click("[data-testid=record-form] button[type=submit]");
    await waitingCount(1);

    await page.click("[data-step=inspecting]");
    await page.fill("input[name=substance]", "毒死蜱 chlorpyrifos");
    await page.fill("input[name=result]", "0.01");

    // Tap to record, tap to stop; the note can be played before it is sent.
    await page.click("[data-testid=record-form] [data-action=voice-note]");
    await page.locator("[data-testid=record-form] [data-action=voice-note][aria-pressed=true]").waitFor();
    await page.waitForTimeout(1_200);
    await page.click("[data-testid=record-form] [data-action=voice-note]");
    const preview = page.locator("[data-testid=voice-note-preview]");
    await preview.waitFor();
    const playable = await preview.evaluate(
      (audio: HTMLAudioElement) =>
        new Promise<boolean>((resolve) => {
          if (audio.readyState >= 1) resolve(true);
          audio.addEventListener("loadedmetadata", () => {
            resolve(true);
          });
          audio.addEventListener("error", () => {
            resolve(false);
          });
        }),
    );
    assert.ok(playable, "the recorded note does not play");

    const video = randomBytes(VIDEO_BYTES);
    await page.setInputFiles("[data-testid=record-form] [data-testid=video-input]", {
      name: "planting.mp4",
      mimeType: "video/mp4",
      buffer: video,
    });
    await page.locator("[data-testid=video-chosen]", { hasText: "planting.mp4" }).waitFor();

    await page.click("[data-testid=record-form] button[type=submit]");
    // Kept on the phone (the 5 MB video in IndexedDB) before the page goes.
    await waitingCount(2);

    // Reloaded with no network: the record and its files are still on the phone.
    const reloaded = await page.reload();
    assert.equal(reloaded?.fromServiceWorker(), true);
    await page.click("nav.tabs [role=tab]:nth-child(2)");
    const size = page.locator("[data-testid=queue] li [data-testid=media-size]");
    await size.nth(1).waitFor();
    const waitingBytes = Number(await size.nth(1).getAttribute("data-total"));
    assert.ok(waitingBytes > VIDEO_BYTES, `the queue shows ${String(waitingBytes)} bytes waiting`);

    // The link drops half-way through the video's second piece: the server gets that half only.
    const pieces: { offset: number; bytes: number; upload: string }[] = [];
    let cut: { upload: string; serverOffset: number } | null = null;
    await context.route("**/api/v1/media/uploads/*", async (route) => {
      const request = route.request();
      if (request.method() !== "PATCH") {
        await route.continue();
        return;
      }
      const body = request.postDataBuffer() ?? Buffer.alloc(0);
      const offset = Number(await request.headerValue("upload-offset"));
      const upload = request.url().split("/").pop() ?? "";
      pieces.push({ offset, bytes: body.length, upload });
      if (cut === null && offset === PIECE && body.length === PIECE) {
        const half = body.subarray(0, PIECE / 2);
        await route.fetch({ postData: half });
        cut = { upload, serverOffset: PIECE + half.length };
        await route.abort("connectionreset");
        return;
      }
      await route.continue();
    });

    await context.setOffline(false);
    await page.evaluate(() => window.dispatchEvent(new Event("online")));
    await page.locator("[data-testid=queue] [data-testid=media-progress]").first().waitFor();
    await page.locator("[data-testid=queue] li").first().waitFor({ state: "detached", timeout: 60_000 });
    // The unaccepted video's record is set aside with the server's reason; nothing else is.
    assert.equal(await page.locator("[data-testid=queue-refused]").count(), 1);
    assert.match(
      (await page.locator("[data-testid=queue-refused]").textContent()) ?? "",
      /request\.unsupported_media_type/,
    );

    // The piece after the cut started where the server's copy ended, not at zero.
    const dropped = cut as { upload: string; serverOffset: number } | null;
    assert.ok(dropped !== null, `no piece was cut: ${JSON.stringify(pieces)}`);
    const videoPieces = pieces.filter((p) => p.upload === dropped.upload);
    const after = videoPieces[videoPieces.findIndex((p) => p.offset === PIECE) + 1];
    assert.equal(after?.offset, dropped.serverOffset, JSON.stringify(videoPieces));
    const sentForVideo = videoPieces.reduce((sum, p) => sum + p.bytes, 0);
    const resent = sentForVideo - VIDEO_BYTES;
    assert.ok(resent > 0 && resent < VIDEO_BYTES / 2, `re-sent ${String(resent)} bytes of ${String(VIDEO_BYTES)}`);
    assert.equal(videoPieces[0]?.offset, 0);
    assert.equal(videoPieces.filter((p) => p.offset === 0).length, 1, "the video started over");

    await settleLedger(server);
    const events = expectStatus(
      await cooperative.api.get<{ events: EventRow[] }>(`/api/v1/batches/${batchId}/events`),
      200,
      "events",
    ).events.filter((e) => e.bizStep === "inspecting" && e.actorOrganisationId === lab.id);
    assert.equal(events.length, 1, "the record was sent once");
    const payload = (await (await fetch(`${server.url}/ipfs/${String(events[0]?.payloadCid)}`)).json()) as {
      attachmentCids: string[];
    };
    assert.equal(payload.attachmentCids.length, 2);
    const kinds = await Promise.all(
      payload.attachmentCids.map(async (cid) => (await getMedia(server?.ctx.db ?? assert.fail(), cid))?.contentType),
    );
    assert.match(kinds[0] ?? "", /^audio\/(webm|ogg|mp4)$/);
    assert.equal(kinds[1], "video/mp4");
    assert.equal(payload.attachmentCids[1], (await importFile([video], { put: () => Promise.resolve() })).toString());
    assert.deepEqual(problems, []);
    await context.close();
  });
  it("continues a video after the page is reloaded mid-upload, from the server's offset", async () => {
    assert.ok(server !== undefined && browser !== undefined);
    const context = await browser.newContext({ viewport: PHONE, locale: "zh-CN", isMobile: true, hasTouch: true });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    const inspections = async (): Promise<number> =>
      expectStatus(
        await cooperative.api.get<{ events: EventRow[] }>(`/api/v1/batches/${batchId}/events`),
        200,
        "events",
      ).events.filter((e) => e.bizStep === "inspecting" && e.actorOrganisationId === lab.id).length;
    const before = await inspections();
    // The second piece is held (never answered) while the page reloads under it.
    const pieces: { offset: number; upload: string; afterReload: boolean }[] = [];
    let reloaded = false;
    let held: ((route: Route) => void) | null = null;
    const heldRoute = new Promise<Route>((resolve) => {
      held = resolve;
    });
    await context.route("**/api/v1/media/uploads/*", async (route) => {
      const request = route.request();
      if (request.method() !== "PATCH") {
        await route.continue();
        return;
      }
      const offset = Number(await request.headerValue("upload-offset"));
      pieces.push({ offset, upload: request.url().split("/").pop() ?? "", afterReload: reloaded });
      if (!reloaded && offset === PIECE && held !== null) {
        held(route);
        held = null;
        return;
      }
      await route.continue();
    });
    await page.goto(`${server.url}/console/field`);
    await page.fill("input[name=token]", lab.token);
    await page.click("form.sign-in button[type=submit]");
    await page.fill("input[name=code]", `${server.url}/01/${DEMO_GTIN}/10/${LOT}`);
    await page.click("[data-testid=scan-form] button[type=submit]");
    await page.click("[data-step=inspecting]");
    await page.fill("input[name=substance]", "多菌灵 carbendazim");
    const video = randomBytes(VIDEO_BYTES);
    await page.setInputFiles("[data-testid=record-form] [data-testid=video-input]", {
      name: "harvest.mp4",
      mimeType: "video/mp4",
      buffer: video,
    });
    await page.locator("[data-testid=video-chosen]", { hasText: "harvest.mp4" }).waitFor();
    await page.click("[data-testid=record-form] button[type=submit]");
    const hanging = await heldRoute;
    reloaded = true;
    await page.reload();
    await hanging.abort("connectionreset").catch(() => undefined);
    // Signed in from the saved token, the console sends what waits: the same session, on from its offset.
    await page.waitForFunction(() =>
      Object.keys(localStorage)
        .filter((k) => k.startsWith("oioc.console.queue."))
        .every((k) => (JSON.parse(localStorage.getItem(k) ?? "{}") as { waiting?: unknown[] }).waiting?.length === 0),
    );
    const upload = pieces[0]?.upload;
    const resumed = pieces.filter((p) => p.afterReload);
    assert.ok(resumed.length > 0, JSON.stringify(pieces));
    assert.ok(
      resumed.every((p) => p.upload === upload),
      `a new session after the reload: ${JSON.stringify(pieces)}`,
    );
    assert.equal(resumed[0]?.offset, PIECE, JSON.stringify(pieces));
    assert.ok(!resumed.some((p) => p.offset === 0), "the video started over after the reload");
    assert.equal(await inspections(), before + 1, "the record was sent once");
    await context.close();
  });

  it("the cooperative console attaches a voice note to an event; it goes up through the queue", async () => {
    assert.ok(server !== undefined && browser !== undefined);
    const problems: string[] = [];
    const context = await browser.newContext({ viewport: PHONE, locale: "zh-CN", isMobile: true, hasTouch: true });
    await context.grantPermissions(["microphone"], { origin: server.url });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    page.on("pageerror", (error) => problems.push(error.message));
    await page.goto(`${server.url}/console/cooperative`);
    await page.fill("input[name=token]", cooperative.token);
    await page.click("form.sign-in button[type=submit]");
    const card = page.locator(`[data-lot='${LOT}']`);
    await card.locator("[data-action=events]").click();
    const form = card.locator("[data-testid=event-form]");
    await form.waitFor();
    await form.locator("label[data-step=packing]").click();
    await form.locator("[data-action=voice-note]").click();
    await form.locator("[data-action=voice-note][aria-pressed=true]").waitFor();
    await page.waitForTimeout(800);
    await form.locator("[data-action=voice-note]").click();
    await form.locator("[data-testid=voice-note-preview]").waitFor();
    await form.locator("button[type=submit]").click();
    // Sent through the queue: the note first, then the event naming it.
    let packing: EventRow | undefined;
    for (const deadline = Date.now() + 30_000; packing === undefined && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      packing = expectStatus(
        await cooperative.api.get<{ events: EventRow[] }>(`/api/v1/batches/${batchId}/events`),
        200,
        "events",
      ).events.find((e) => e.bizStep === "packing");
    }
    assert.ok(packing !== undefined, "the event was not recorded");
    const payload = (await (await fetch(`${server.url}/ipfs/${packing.payloadCid}`)).json()) as {
      attachmentCids: string[];
    };
    assert.equal(payload.attachmentCids.length, 1);
    const note = await getMedia(server.ctx.db, payload.attachmentCids[0] ?? "");
    assert.match(note?.contentType ?? "", /^audio\/(webm|ogg|mp4)$/);
    assert.ok((note?.sizeBytes ?? 0) > 0);
    await page.locator("[data-testid=queue] li").waitFor({ state: "detached" });
    assert.deepEqual(problems, []);
    await context.close();
  });
});
