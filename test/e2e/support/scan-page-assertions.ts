/**
 * What the scan page must do, as a behaviour suite that takes where to find it: today the
 * harness in `scan-page.test.ts` provides the target; the real server's test can call
 * `scanPageBehaviour` with its own base URL and item paths, and the same assertions run.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { it, type TestContext } from "node:test";

import type { Browser, Page } from "playwright-core";

export interface ScanPageUrls {
  /** An item of an active, anchored batch, with no clone signals. */
  genuine: string;
  /** An item of a batch the chain says is recalled (whatever the server says). */
  recalled: string;
  /** A well-formed code no batch has (the server answers 404). */
  unknown: string;
  /** Cases only a test double can serve: a resolution that lies in one way each. */
  notInBatch?: string;
  alteredEvent?: string;
  swappedMetadata?: string;
  swappedVideo?: string;
  suspicious?: string;
  /** A genuine item whose resolution names a JSON-RPC endpoint that does not answer. */
  chainDown?: string;
  /** An item of a batch signed but not yet on chain. */
  pending?: string;
  /** A genuine item whose page does not inline the resolution (the page fetches JSON). */
  fetched?: string;
}

export interface ScanPageTarget {
  browser: Browser;
  baseUrl: string;
  urls: ScanPageUrls;
  /** The video CID the genuine item's signed metadata names. */
  videoCid: string;
  /** The genuine item's hidden code, when the test knows it (claims then get tested). */
  hiddenCode?: string;
  screenshotDir: string;
}

export const SCAN_VIEWPORT = { width: 360, height: 740 };

export interface Opened {
  page: Page;
  verdict: string;
  problems: string[];
  close: () => Promise<void>;
}

/** Opens `url` as a phone would and waits for the page's verdict. */
export async function open(target: Pick<ScanPageTarget, "browser" | "baseUrl">, url: string): Promise<Opened> {
  const context = await target.browser.newContext({ viewport: SCAN_VIEWPORT, locale: "zh-CN", deviceScaleFactor: 1 });
  const page = await context.newPage();
  const problems: string[] = [];
  const address = new URL(url, target.baseUrl).href;
  // Script errors and CSP refusals show as console errors; failed loads are judged by URL
  // instead (the browser's own favicon probe may 404, and an unknown code's page is a 404).
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      problems.push(message.text());
    }
  });
  page.on("pageerror", (error) => problems.push(error.message));
  page.on("response", (response) => {
    const responseUrl = response.url();
    if (response.status() >= 400 && responseUrl !== address && !responseUrl.endsWith("/favicon.ico")) {
      problems.push(`${response.status()} ${responseUrl}`);
    }
  });
  await page.goto(address);
  const banner = page.locator('[data-verdict]:not([data-verdict="checking"])');
  await banner.waitFor({ timeout: 30_000 });
  const verdict = (await banner.getAttribute("data-verdict")) ?? "";
  return { page, verdict, problems, close: () => context.close() };
}

async function failedChecks(page: Page): Promise<string[]> {
  return page
    .locator('[data-check][data-ok="false"]')
    .evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-check") ?? ""));
}

async function screenshot(target: ScanPageTarget, page: Page, name: string): Promise<void> {
  mkdirSync(target.screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(target.screenshotDir, `scan-page-${name}.png`), fullPage: true });
}

async function expectVerdict(
  target: ScanPageTarget,
  t: TestContext,
  url: string | undefined,
  verdict: string,
  failing?: string,
): Promise<void> {
  if (url === undefined) {
    t.skip("this target has no such case");
    return;
  }
  const opened = await open(target, url);
  try {
    const failed = await failedChecks(opened.page);
    assert.equal(opened.verdict, verdict, `verdict of ${url} (failed checks: ${failed.join(", ")})`);
    if (failing !== undefined)
      assert.ok(failed.includes(failing), `${failing} should fail; failed: ${failed.join(", ")}`);
    assert.deepEqual(opened.problems, [], "no script errors or CSP violations");
    await screenshot(target, opened.page, verdict);
  } finally {
    await opened.close();
  }
}

/**
 * Registers the scan page's behaviour. `getTarget` is called when each case runs (after
 * the caller's `before`); it answers undefined when the browser is not available here, and
 * the case is then skipped (outside CI: `requireOrSkip` decides).
 */
export type OptionalCase = Exclude<keyof ScanPageUrls, "genuine" | "recalled" | "unknown"> | "hiddenCode";

/**
 * `cases`, when given, names the optional cases the target can produce; the others are not
 * registered at all (rather than skipped), so a target that cannot fake a gateway, say,
 * runs only what it can honestly run.
 */
export function scanPageBehaviour(
  getTarget: () => ScanPageTarget | undefined,
  cases?: ReadonlySet<OptionalCase>,
): void {
  const scenario = (
    name: string,
    body: (target: ScanPageTarget, t: TestContext) => Promise<void>,
    needs?: OptionalCase,
  ): void => {
    if (needs !== undefined && cases !== undefined && !cases.has(needs)) return;
    it(name, async (t: TestContext) => {
      const target = getTarget();
      if (target === undefined) {
        t.skip("Chromium is not available");
        return;
      }
      await body(target, t);
    });
  };

  scenario("a genuine item is verified in the browser, every check passing, in Chinese by default", async (target) => {
    const opened = await open(target, target.urls.genuine);
    try {
      assert.equal(opened.verdict, "verified", `failed checks: ${(await failedChecks(opened.page)).join(", ")}`);
      const checks = await opened.page
        .locator("[data-check]")
        .evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-ok")));
      assert.ok(checks.length >= 10, "every check is listed");
      assert.ok(
        checks.every((ok) => ok === "true"),
        `all checks pass: ${checks.join(",")}`,
      );
      assert.equal(await opened.page.locator("h1").innerText(), "已验证");
      assert.equal(await opened.page.getAttribute("html", "lang"), "zh-CN");
      assert.match(await opened.page.locator("main").innerText(), /西湖龙井/);
      assert.deepEqual(opened.problems, [], "no script errors or CSP violations");
      await screenshot(target, opened.page, "verified");
    } finally {
      await opened.close();
    }
  });

  scenario("plays and seeks the video the verified metadata names, streamed from /ipfs/{cid}", async (target) => {
    const opened = await open(target, target.urls.genuine);
    try {
      const video = opened.page.locator("video");
      // Never a black box before it plays: a poster (the batch's signed photo), or else the
      // first frame, which a media fragment just past 0 makes the browser paint.
      const poster = await video.getAttribute("poster");
      assert.equal(
        await video.getAttribute("src"),
        poster === null ? `/ipfs/${target.videoCid}#t=0.1` : `/ipfs/${target.videoCid}`,
      );
      assert.equal(await video.getAttribute("preload"), "metadata");
      const box = await video.boundingBox();
      assert.ok(box !== null && box.height > 100, "the video's box is reserved before it loads");
      // Metadata first, then a seek to the middle: the gateway must answer ranges for that.
      const seekedTo = await video.evaluate(
        (element: HTMLVideoElement) =>
          new Promise<number>((resolve) => {
            element.addEventListener(
              "error",
              () => {
                resolve(Number.NaN);
              },
              { once: true },
            );
            const seek = (): void => {
              element.addEventListener(
                "seeked",
                () => {
                  resolve(element.currentTime);
                },
                { once: true },
              );
              element.currentTime = element.duration / 2;
            };
            if (element.readyState >= 1) seek();
            else element.addEventListener("loadedmetadata", seek, { once: true });
          }),
      );
      assert.ok(seekedTo > 0, `the video loads and seeks (to ${seekedTo} s)`);
    } finally {
      await opened.close();
    }
  });

  scenario("switches to English and remembers it", async (target) => {
    const opened = await open(target, target.urls.genuine);
    try {
      await opened.page.locator("button.lang").click();
      assert.equal(await opened.page.locator("h1").innerText(), "Verified");
      await opened.page.reload();
      await opened.page.locator('[data-verdict="verified"]').waitFor({ timeout: 30_000 });
      assert.equal(await opened.page.locator("h1").innerText(), "Verified");
      assert.equal(await opened.page.getAttribute("html", "lang"), "en");
      const card = await opened.page.locator(".card").first().innerText();
      assert.match(card, /Xihu District, Hangzhou, Zhejiang/, "the region in English");
      assert.match(card, /Plot\s+[\d.]+ ha, Xihu District/, "the plot by its area, not its Chinese name");
      assert.doesNotMatch(card, /\(\d{6}\)|茶园/, "no bare region code, no Chinese plot name");
      await screenshot(target, opened.page, "verified-en");
    } finally {
      await opened.close();
    }
  });

  scenario("a batch the chain says is recalled shows recalled with its reason", async (target) => {
    const opened = await open(target, target.urls.recalled);
    try {
      assert.equal(opened.verdict, "recalled");
      assert.match(await opened.page.locator("[data-verdict]").innerText(), /召回原因/);
      assert.deepEqual(opened.problems, [], "no script errors or CSP violations");
      await screenshot(target, opened.page, "recalled");
    } finally {
      await opened.close();
    }
  });

  scenario("an unknown code says so plainly", async (target) => {
    const opened = await open(target, target.urls.unknown);
    try {
      assert.equal(opened.verdict, "unknown");
      assert.match(await opened.page.locator("[data-verdict]").innerText(), /此码不存在/);
      assert.deepEqual(opened.problems, [], "no script errors or CSP violations");
      await screenshot(target, opened.page, "unknown");
    } finally {
      await opened.close();
    }
  });

  scenario(
    "a serial whose proof does not lead to the signed root is not verified",
    async (target, t) => {
      await expectVerdict(target, t, target.urls.notInBatch, "not_verified", "item_in_batch");
    },
    "notInBatch",
  );

  scenario(
    "an event changed in the resolution is not verified",
    async (target, t) => {
      await expectVerdict(target, t, target.urls.alteredEvent, "not_verified", "event_signatures");
    },
    "alteredEvent",
  );

  scenario(
    "a swapped metadata CID is not verified",
    async (target, t) => {
      await expectVerdict(target, t, target.urls.swappedMetadata, "not_verified", "metadata_cid");
    },
    "swappedMetadata",
  );

  scenario(
    "a swapped video CID cannot reach the page: the video shown is the signed one or none",
    async (target, t) => {
      if (target.urls.swappedVideo === undefined) {
        t.skip("this target has no such case");
        return;
      }
      const opened = await open(target, target.urls.swappedVideo);
      try {
        assert.equal(opened.verdict, "not_verified");
        assert.ok((await failedChecks(opened.page)).includes("metadata_cid"));
        assert.equal(await opened.page.locator("video").count(), 0, "no unverified video is shown");
      } finally {
        await opened.close();
      }
    },
    "swappedVideo",
  );

  scenario(
    "clone signals make a genuine item suspicious",
    async (target, t) => {
      await expectVerdict(target, t, target.urls.suspicious, "suspicious");
    },
    "suspicious",
  );

  scenario(
    "a batch not yet on chain is pending, not verified",
    async (target, t) => {
      await expectVerdict(target, t, target.urls.pending, "pending");
    },
    "pending",
  );

  scenario(
    "a chain that cannot be reached asks to try again instead of judging the item",
    async (target, t) => {
      if (target.urls.chainDown === undefined) {
        t.skip("this target has no such case");
        return;
      }
      const opened = await open(target, target.urls.chainDown);
      try {
        assert.equal(opened.verdict, "chain_down", "its own message, not the network's");
        assert.match(await opened.page.locator("[data-verdict]").innerText(), /连不上区块链节点.*请稍后重试/s);
      } finally {
        await opened.close();
      }
    },
    "chainDown",
  );

  scenario(
    "verifies the same when the page fetches the resolution as JSON",
    async (target, t) => {
      await expectVerdict(target, t, target.urls.fetched, "verified");
    },
    "fetched",
  );

  scenario(
    "the hidden code: a wrong code, then the first claim, then 'already checked'",
    async (target, t) => {
      if (target.hiddenCode === undefined) {
        t.skip("the hidden code is not known to this test");
        return;
      }
      const opened = await open(target, target.urls.genuine);
      try {
        const input = opened.page.locator("#hidden-code");
        const result = opened.page.locator(".claim-result");
        await input.fill(target.hiddenCode === "00000000" ? "11111111" : "00000000");
        await opened.page.locator(".claim button").click();
        await result.waitFor();
        assert.equal(await result.innerText(), "验证码不正确");
        await opened.page.locator("#hidden-code").fill(target.hiddenCode);
        await opened.page.locator(".claim button").click();
        await opened.page.locator(".claim-first").waitFor();
        assert.equal(await opened.page.locator(".claim-result").innerText(), "首次验证成功");
        await opened.page.locator("#hidden-code").fill(target.hiddenCode);
        await opened.page.locator(".claim button").click();
        await opened.page.locator(".claim-claimed_before").waitFor();
        assert.match(
          await opened.page.locator(".claim-result").innerText(),
          /^此码已于 \d{4}-\d{2}-\d{2} \d{2}:\d{2} 被验证过$/,
        );
      } finally {
        await opened.close();
      }
    },
    "hiddenCode",
  );
}
