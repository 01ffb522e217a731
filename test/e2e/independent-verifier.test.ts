/**
 * The independent verifier in Debian's Chromium, served from another origin than the
 * platform's (its own host name, mapped to loopback), against a real Hardhat node behind
 * three JSON-RPC endpoints that can be told to lie, and the real server. Each lie a dishonest
 * operator could tell must be caught and named: a resolution naming another registry, one
 * endpoint forging the answers only a quorum can judge (`eth_call`, `eth_getLogs`), one
 * forging `eth_getProof` storage values (the proof catches it), all
 * endpoints but one gone (no quorum, never "verified"), and a tampered script (the browser
 * refuses it; `check-verifier` names it).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { promisify } from "node:util";

import { chromium, type Browser, type Page } from "playwright-core";

import { freePort, startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { CHROMIUM_ARGS, CHROMIUM_PATH, launchChromium } from "../../scripts/lib/chromium.ts";
import { seedDemoSystem } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry } from "../../scripts/lib/local-stack.ts";
import { serveStaticSite, type StaticSite } from "../../scripts/lib/static-site.ts";
import { buildVerifier, type VerifierBuild } from "../../scripts/tasks/build-verifier.ts";
import { buildWeb } from "../../scripts/tasks/build-web.ts";
import { checkHostedVerifier } from "../../scripts/tasks/cli/check-verifier.ts";
import type { RunningServer } from "../../server/src/server.ts";
import { settleLedger } from "./support/settle-ledger.ts";
import { startLyingRpc, type LyingRpc } from "../support/lying-rpc.ts";
import { itemPathOf, startTestServer } from "../support/test-server.ts";

const projectRoot = path.resolve(import.meta.dirname, "../..");
const execFileAsync = promisify(execFile);
/** The verifier's own host name: another origin than the platform's 127.0.0.1. */
const VERIFIER_HOST = "verifier.test";
/** Any registry but the pinned one. */
const OTHER_REGISTRY = "0x00000000000000000000000000000000DeaDBeef";

/** The platform's answers with `chain.registry` rewritten, as a dishonest operator would serve them. */
async function startRegistryRewriter(platform: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    void (async () => {
      const upstream = await fetch(new URL(req.url ?? "/", platform), {
        headers: { accept: req.headers.accept ?? "*/*" },
      });
      const text = await upstream.text();
      let body = text;
      if ((upstream.headers.get("content-type") ?? "").includes("json")) {
        const json = JSON.parse(text) as { chain?: { registry?: string } };
        if (json.chain !== undefined) json.chain.registry = OTHER_REGISTRY;
        body = JSON.stringify(json);
      }
      res.writeHead(upstream.status, {
        "content-type": upstream.headers.get("content-type") ?? "text/plain",
        "access-control-allow-origin": "*",
      });
      res.end(body);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

interface Verdict {
  verdict: string;
  endpoints: Record<string, { status: string; detail: string }>;
  failedChecks: string[];
  pins: string[];
  problems: string[];
  /** Every URL the page asked for. */
  requests: string[];
  page: Page;
  close: () => Promise<void>;
}

describe("the independent verifier, on another origin", () => {
  let node: ChainNode | undefined;
  let server: RunningServer | undefined;
  let dataDir = "";
  let endpoints: LyingRpc[] = [];
  let site: StaticSite | undefined;
  let tamperedSite: StaticSite | undefined;
  let rewriter: { url: string; close: () => Promise<void> } | undefined;
  let browser: Browser | undefined;
  let build: VerifierBuild;
  let outDir = "";
  let tamperedDir = "";
  let genuineLink = "";
  let verifierOrigin = "";

  before(async () => {
    await buildWeb();
    node = await startChainNode({ projectRoot });
    const deployment = await deployLocalRegistry(node.rpcUrl);
    endpoints = await Promise.all([0, 1, 2].map(() => startLyingRpc(node?.rpcUrl ?? "")));
    outDir = mkdtempSync(path.join(tmpdir(), "verifier-"));
    build = await buildVerifier(
      {
        chainId: deployment.chainId.toString(),
        registry: deployment.registry,
        typedDataVersion: "2",
        deploymentBlock: String(deployment.deployedAtBlock),
        endpoints: endpoints.map((e) => e.url),
        quorum: 2,
      },
      { outDir },
    );
    site = await serveStaticSite(outDir);
    verifierOrigin = `http://${VERIFIER_HOST}:${String(site.port)}`;
    // A copy whose script a host changed: one string in it, the page left as built.
    tamperedDir = mkdtempSync(path.join(tmpdir(), "verifier-tampered-"));
    cpSync(outDir, tamperedDir, { recursive: true });
    const scriptFile = path.join(tamperedDir, build.release.script);
    const script = readFileSync(scriptFile, "utf8");
    assert.ok(script.includes("独立核验"));
    writeFileSync(scriptFile, script.replace("独立核验", "已经核验"));
    tamperedSite = await serveStaticSite(tamperedDir);

    const port = await freePort();
    const started = await startTestServer(deployment.env, "independent-verifier", {
      PORT: String(port),
      PUBLIC_ORIGIN: `http://127.0.0.1:${String(port)}`,
      VERIFIER_URL: `${verifierOrigin}/`,
    });
    ({ server, dataDir } = started);
    const demo = await seedDemoSystem(server.url, deployment.env.ADMIN_TOKEN ?? "", { itemCount: 6, video: null });
    await settleLedger(server);
    genuineLink = `${server.url}${await itemPathOf(server, demo.batch.batchId, demo.batch.lot, 0)}`;
    rewriter = await startRegistryRewriter(server.url);

    // Installs Chromium when missing; this test's own browser maps the verifier's host name.
    const probe = await launchChromium("the independent verifier's browser tests");
    if (probe === null) return;
    await probe.close();
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: [...CHROMIUM_ARGS, `--host-resolver-rules=MAP ${VERIFIER_HOST} 127.0.0.1`],
    });
  });

  after(async () => {
    await browser?.close();
    await rewriter?.close();
    await site?.close();
    await tamperedSite?.close();
    await Promise.all(endpoints.map((e) => e.close()));
    await server?.close();
    await node?.stop();
    for (const dir of [dataDir, outDir, tamperedDir]) if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  function modes(...list: LyingRpc["mode"][]): void {
    list.forEach((mode, index) => {
      const endpoint = endpoints[index];
      if (endpoint !== undefined) endpoint.mode = mode;
    });
  }

  /** Opens the verifier on `link` and waits for its verdict. */
  async function verify(t: TestContext, link: string, origin = verifierOrigin): Promise<Verdict | null> {
    if (browser === undefined) {
      t.skip("Chromium is not available here");
      return null;
    }
    const context = await browser.newContext({ locale: "zh-CN", viewport: { width: 360, height: 740 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(error.message));
    const requests: string[] = [];
    page.on("request", (request) => requests.push(request.url()));
    await page.goto(`${origin}/?link=${encodeURIComponent(link)}`);
    const banner = page.locator('[data-verdict]:not([data-verdict="checking"])');
    await banner.waitFor({ timeout: 30_000 });
    const endpointsShown = await page.locator("[data-endpoint]").evaluateAll((nodes) =>
      nodes.map((n) => ({
        url: n.getAttribute("data-endpoint") ?? "",
        status: n.getAttribute("data-status") ?? "",
        detail: n.querySelector(".note")?.textContent ?? "",
      })),
    );
    const screenshots = path.join(projectRoot, "test-results", "independent-verifier");
    mkdirSync(screenshots, { recursive: true });
    await page.screenshot({
      path: path.join(screenshots, `${t.name.slice(0, 40).replace(/\W+/g, "-")}.png`),
      fullPage: true,
    });
    return {
      verdict: (await banner.getAttribute("data-verdict")) ?? "",
      endpoints: Object.fromEntries(endpointsShown.map((e) => [e.url, { status: e.status, detail: e.detail }])),
      failedChecks: await page
        .locator('[data-check][data-ok="false"]')
        .evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-check") ?? "")),
      pins: await page.locator("[data-pin]").evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-pin") ?? "")),
      problems,
      requests,
      page,
      close: () => context.close(),
    };
  }

  const statusOf = (shown: Verdict, index: number): string =>
    shown.endpoints[endpoints[index]?.url ?? ""]?.status ?? "";

  it("verifies the genuine item through three honest endpoints (quorum 2), and shows what it rested on", async (t) => {
    modes("honest", "honest", "honest");
    const shown = await verify(t, genuineLink);
    if (shown === null) return;
    try {
      assert.deepEqual(shown.problems, []);
      assert.deepEqual(shown.failedChecks, []);
      assert.equal(shown.verdict, "verified");
      assert.deepEqual(
        [0, 1, 2].map((i) => statusOf(shown, i)),
        ["agreed", "agreed", "agreed"],
      );
      assert.match((await shown.page.locator("[data-block]").getAttribute("data-block")) ?? "", /^\d+$/);
      // Every chain read went to the pinned endpoints, none through the platform's /rpc.
      const platform = new URL(server?.url ?? "").origin;
      const asked = shown.requests
        .filter((url) => new URL(url).origin === platform)
        .map((url) => new URL(url).pathname);
      assert.ok(asked.length > 0 && asked.every((p) => p.startsWith("/01/")), asked.join());
      for (const endpoint of endpoints) assert.ok((endpoint.seen.get("eth_getProof") ?? 0) > 0);
      assert.equal(await shown.page.locator("[data-verdict] h1").textContent(), "已验证");
      await shown.page.locator("button.lang").click();
      assert.equal(await shown.page.locator("[data-verdict] h1").textContent(), "Verified");
      assert.match((await shown.page.locator("[data-endpoint]").first().textContent()) ?? "", /agreed/);
    } finally {
      await shown.close();
    }
  });

  it("verifies a link pasted into its field", async (t) => {
    if (browser === undefined) {
      t.skip("Chromium is not available here");
      return;
    }
    modes("honest", "honest", "honest");
    const context = await browser.newContext({ locale: "zh-CN" });
    try {
      const page = await context.newPage();
      await page.goto(`${verifierOrigin}/`);
      await page.locator("input[name=link]").fill(`  ${genuineLink}  `);
      await page.locator("form button[type=submit]").click();
      const banner = page.locator('[data-verdict]:not([data-verdict="checking"])');
      await banner.waitFor({ timeout: 30_000 });
      assert.equal(await banner.getAttribute("data-verdict"), "verified");
      assert.equal(new URL(page.url()).searchParams.get("link"), genuineLink, "the link is in the address to share");
      await page.locator("input[name=link]").fill("not a link");
      await page.locator("form button[type=submit]").click();
      await page.locator('[data-verdict="bad_link"]').waitFor({ timeout: 5_000 });
    } finally {
      await context.close();
    }
  });

  it("the platform's page links to it, and the link verifies there", async (t) => {
    if (browser === undefined || server === undefined) {
      t.skip("Chromium is not available here");
      return;
    }
    modes("honest", "honest", "honest");
    const context = await browser.newContext({ locale: "zh-CN" });
    try {
      const page = await context.newPage();
      await page.goto(genuineLink);
      const link = page.locator("a[data-verifier]");
      await link.waitFor({ timeout: 30_000 });
      const href = (await link.getAttribute("href")) ?? "";
      assert.equal(new URL(href).origin, verifierOrigin);
      assert.equal(new URL(href).searchParams.get("link"), genuineLink);
      await link.click();
      const banner = page.locator('[data-verdict]:not([data-verdict="checking"])');
      await banner.waitFor({ timeout: 30_000 });
      assert.equal(new URL(page.url()).origin, verifierOrigin);
      assert.equal(await banner.getAttribute("data-verdict"), "verified");
    } finally {
      await context.close();
    }
  });

  it("refuses a resolution naming another registry, and names it", async (t) => {
    modes("honest", "honest", "honest");
    const shown = await verify(t, genuineLink.replace(server?.url ?? "", rewriter?.url ?? ""));
    if (shown === null) return;
    try {
      assert.equal(shown.verdict, "pin_mismatch");
      assert.deepEqual(shown.pins, ["registry"]);
      assert.ok(shown.failedChecks.includes("chain_id"), shown.failedChecks.join());
      const named = (await shown.page.locator('[data-pin="registry"]').textContent()) ?? "";
      assert.ok(named.includes(OTHER_REGISTRY), named);
      // The long addresses wrap on a phone's screen instead of widening the page.
      assert.ok(await shown.page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth));
    } finally {
      await shown.close();
    }
  });

  it("outvotes an endpoint forging the answers only a quorum can judge (eth_call, eth_getLogs), and names it", async (t) => {
    modes("forge-reads", "honest", "honest");
    const shown = await verify(t, genuineLink);
    if (shown === null) return;
    try {
      assert.equal(shown.verdict, "verified");
      assert.equal(statusOf(shown, 0), "lied", JSON.stringify([shown.endpoints, [...(endpoints[0]?.seen ?? [])]]));
      assert.deepEqual(
        [1, 2].map((i) => statusOf(shown, i)),
        ["agreed", "agreed"],
      );
      assert.ok((endpoints[0]?.forged ?? 0) > 0, "the endpoint forged an answer");
    } finally {
      await shown.close();
    }
  });

  it("catches an endpoint forging eth_getProof storage values, and names it", async (t) => {
    modes("honest", "forge-proof", "honest");
    const shown = await verify(t, genuineLink);
    if (shown === null) return;
    try {
      assert.equal(shown.verdict, "verified");
      assert.equal(statusOf(shown, 1), "lied", JSON.stringify(shown.endpoints));
      assert.ok((endpoints[1]?.forged ?? 0) > 0, "the endpoint forged a storage value");
    } finally {
      await shown.close();
    }
  });

  it("with all endpoints but one dropped, says it cannot reach a quorum, never verified", async (t) => {
    modes("drop", "drop", "honest");
    const shown = await verify(t, genuineLink);
    if (shown === null) return;
    try {
      assert.equal(shown.verdict, "no_quorum");
      assert.equal(await shown.page.locator('[data-verdict="verified"]').count(), 0);
      assert.deepEqual(
        [0, 1].map((i) => statusOf(shown, i)),
        ["unreachable", "unreachable"],
      );
    } finally {
      await shown.close();
    }
  });

  it("a tampered script: the browser refuses it (the integrity message stays), check-verifier names it", async (t) => {
    modes("honest", "honest", "honest");
    if (browser === undefined || tamperedSite === undefined || site === undefined) {
      t.skip("Chromium is not available here");
      return;
    }
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const refused: string[] = [];
      page.on("console", (message) => refused.push(message.text()));
      await page.goto(`http://${VERIFIER_HOST}:${String(tamperedSite.port)}/?link=${encodeURIComponent(genuineLink)}`);
      await page.waitForLoadState("load");
      await page.waitForTimeout(1_000);
      assert.equal(await page.locator("[data-boot]").count(), 1, "the integrity message stays");
      assert.equal(await page.locator("[data-verdict]").count(), 0);
      assert.ok(
        refused.some((text) => /integrity/i.test(text)),
        refused.join("\n"),
      );
    } finally {
      await context.close();
    }

    const cli = async (url: string): Promise<{ code: number; out: string }> => {
      try {
        const { stdout } = await execFileAsync(
          process.execPath,
          ["scripts/tasks/cli.ts", "check-verifier", "--url", url, "--cid", build.release.cid],
          { cwd: projectRoot },
        );
        return { code: 0, out: stdout };
      } catch (error) {
        const failed = error as { code?: number; stdout?: string };
        return { code: failed.code ?? -1, out: failed.stdout ?? "" };
      }
    };
    // The faithful copy in this process (the CLI's own code); the tampered one through the CLI, for its exit status.
    const genuine = await checkHostedVerifier(site.url, { cid: build.release.cid });
    assert.deepEqual(genuine.problems, []);
    assert.equal(genuine.cid, build.release.cid);
    const tampered = await cli(tamperedSite.url);
    assert.equal(tampered.code, 1, tampered.out);
    assert.match(tampered.out, new RegExp(`DIFFERS ${build.release.script.replace(".", "\\.")}`));
    assert.ok(readdirSync(tamperedDir).includes(build.release.script));
  });
});
