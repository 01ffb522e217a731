/**
 * `npm run demo` for a phone: with an explicit public origin (here a loopback address other
 * than 127.0.0.1, as a LAN address would be; tests never listen beyond loopback) the printed
 * scan link, its QR code and the page it opens all name that origin, and the page reads the
 * chain through that origin's /rpc.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { freePort } from "../../scripts/lib/chain-node.ts";
import { qrTerminal } from "../../server/src/labels/qr.ts";

describe("the demo on a phone (explicit PUBLIC_ORIGIN)", () => {
  let demo: ChildProcess;
  let output = "";
  let origin: string;
  const stateDir = mkdtempSync(path.join(tmpdir(), "demo-phone-"));

  before(async () => {
    const port = await freePort();
    origin = `http://127.0.0.2:${String(port)}`;
    demo = spawn("node", ["scripts/tasks/demo.ts"], {
      env: {
        ...process.env,
        HOST: "127.0.0.2",
        PORT: String(port),
        PUBLIC_ORIGIN: origin,
        DEMO_CHAIN_PORT: String(await freePort()),
        DEMO_STATE_DIR: stateDir,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = once(demo, "exit").then(([code]) => {
      throw new Error(`the demo exited (${String(code)}) before it was running:\n${output}`);
    });
    const running = new Promise<void>((resolve) => {
      const collect = (chunk: Buffer): void => {
        output += chunk.toString();
        if (output.includes("[demo] running")) resolve();
      };
      demo.stdout?.on("data", collect);
      demo.stderr?.on("data", collect);
    });
    await Promise.race([running, exited]);
  });

  after(async () => {
    if (demo.exitCode === null) {
      demo.kill("SIGINT");
      await once(demo, "exit");
    }
    rmSync(stateDir, { recursive: true, force: true });
  });

  function itemUrl(): string {
    const match = /Scan one item[^\n]*\n\s+(\S+)/.exec(output);
    assert.ok(match?.[1] !== undefined, `no scan link printed:\n${output}`);
    return match[1];
  }

  it("prints the scan link and the consoles on the public origin", () => {
    assert.ok(itemUrl().startsWith(`${origin}/01/`), itemUrl());
    assert.match(output, new RegExp(`public origin ${origin.replace(/\./g, "\\.")}`));
    assert.ok(output.includes(`${origin}/console/cooperative`));
    assert.ok(!output.includes("http://localhost:"), "no link names localhost");
  });

  it("prints two items of the batch with their own cases, and the lot card's URL, all serving", async () => {
    const paths = /Each item's own path[^\n]*\n([\s\S]*?)\nLot card[^\n]*\n\s+(\S+)/.exec(output);
    assert.ok(paths?.[1] !== undefined && paths[2] !== undefined, `no paths or lot card printed:\n${output}`);
    const printed = [...paths[1].matchAll(/\n\s+(\S+\/01\/\S+)\n\s+case \(SSCC\) (\d{18}) → /g)].map((m) => ({
      uri: m[1] ?? "",
      sscc: m[2] ?? "",
    }));
    assert.equal(printed.length, 3, paths[1]);
    assert.equal(new Set(printed.map((p) => p.sscc)).size, 3, "each item is in a case of its own");
    assert.equal(new Set(printed.map((p) => p.uri)).size, 3);
    for (const { uri, sscc } of printed) {
      assert.ok(uri.startsWith(`${origin}/01/`), uri);
      // Each item's resolution names its own case and none of the others'.
      const resolution = await (await fetch(uri, { headers: { accept: "application/json" } })).text();
      assert.ok(resolution.includes(sscc), `${uri} does not name its case ${sscc}`);
      for (const other of printed.filter((p) => p.sscc !== sscc)) assert.ok(!resolution.includes(other.sscc));
    }
    assert.match(paths[0], /live stream 直播/);
    const lotCard = paths[2];
    assert.ok(lotCard.startsWith(`${origin}/01/`) && !lotCard.includes("/21/"), lotCard);
    const card = await fetch(lotCard, { headers: { accept: "text/html" } });
    assert.equal(card.status, 200);
    await card.body?.cancel();
  });

  it("prints the QR code of exactly that link", async () => {
    assert.ok(output.includes(await qrTerminal(itemUrl())), "the printed QR code encodes the printed link");
  });

  it("serves the page there, its inlined resolution naming the public origin for the item and /rpc", async () => {
    const link = itemUrl();
    const page = await fetch(link, { headers: { accept: "text/html" } });
    assert.equal(page.status, 200);
    const html = await page.text();
    const inlined = /<script type="application\/json" id="resolution">([\s\S]*?)<\/script>/.exec(html)?.[1];
    assert.ok(inlined !== undefined, "the resolution is inlined in the page");
    const resolution = JSON.parse(inlined) as { uri: string; chain: { rpcUrl: string } };
    assert.equal(resolution.uri, link);
    // The page reads the chain through the server's /rpc, on the origin the phone loaded it from.
    const rpc = new URL(resolution.chain.rpcUrl, link);
    assert.equal(rpc.origin, origin);
    assert.equal(rpc.pathname, "/rpc");
    const answer = await fetch(rpc, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    });
    assert.equal(answer.status, 200);
    assert.equal(((await answer.json()) as { result: string }).result, "0x7a69");
  });
});
