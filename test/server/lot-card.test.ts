/**
 * The live-stream lot card (issue 14, part 4) against a real server and a Hardhat node in its
 * own process: content negotiation on `/01/{gtin}/10/{lot}` (the page, the JSON with the card,
 * the unknown lot's page, a bad check digit), the card verified by the same core the page runs
 * (and a tampered one refused), the overlay PNG decoded (its size, and its pixels change when
 * the lot sells out through orders; a few drawn at a time), oEmbed's JSON, and which answers may
 * be framed.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";

import { PNG } from "pngjs";

import { apiClient, expectStatus } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { DEMO_GTIN } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry } from "../../scripts/lib/local-stack.ts";
import { buildLotPage } from "../../scripts/tasks/build-lot-page.ts";
import type { RunningServer } from "../../server/src/server.ts";
import { AppError } from "../../server/src/errors/app-error.ts";
import { createRpcClient, encodeBatchCall, type RpcClient } from "../../server/src/verify/rpc.ts";
import { verifyLotCard, type LotCard } from "../../server/src/verify/verify-lot.ts";
import { settleLedger } from "../e2e/support/settle-ledger.ts";
import { createDemoTea, onboard, registerDemoBatch, type Party } from "../support/onboard.ts";
import { startApiTestServer } from "../support/test-server.ts";

const LOT = "CARD-1";
const ITEMS = 3;

interface ProductAnswer {
  type: string;
  gtin: string;
  lot: string;
  card: LotCard | null;
}

function decodePng(bytes: Uint8Array): PNG {
  return PNG.sync.read(Buffer.from(bytes));
}

/** Share of pixels that differ between two images of one size. */
function differingShare(a: PNG, b: PNG): number {
  assert.equal(a.data.length, b.data.length);
  let differing = 0;
  for (let i = 0; i < a.data.length; i += 4) {
    if (a.data[i] !== b.data[i] || a.data[i + 1] !== b.data[i + 1] || a.data[i + 2] !== b.data[i + 2]) differing++;
  }
  return differing / (a.data.length / 4);
}

describe("the lot card: page, JSON, overlay image and oEmbed", () => {
  let node: ChainNode;
  let server: RunningServer;
  let dataDir: string;
  let cooperative: Party;
  let lotPath: string;

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.url}${path}`, { headers });
  const json = async (path: string): Promise<ProductAnswer> => {
    const response = await get(path, { accept: "application/json" });
    assert.equal(response.status, 200, await response.clone().text());
    return (await response.json()) as ProductAnswer;
  };
  const png = async (path: string): Promise<PNG> => {
    const response = await get(path);
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal(response.headers.get("content-type"), "image/png");
    assert.match(response.headers.get("cache-control") ?? "", /max-age=\d{1,2}\b/);
    const bytes = new Uint8Array(await response.arrayBuffer());
    assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "PNG signature");
    return decodePng(bytes);
  };

  before(async () => {
    await buildLotPage();
    node = await startChainNode();
    const deployment = await deployLocalRegistry(node.rpcUrl);
    ({ server, dataDir } = await startApiTestServer(deployment.env, "lot-card", { WORKERS: "off" }));
    const admin = apiClient(server.url, deployment.env.ADMIN_TOKEN ?? "");
    cooperative = await onboard(server.url, admin, {
      kind: "cooperative",
      regionCode: "330106",
      serial: 9_510,
      name: { zh: "龙井直播合作社", en: "Longjing Live Cooperative" },
      companyPrefixes: ["6901234"],
    });
    await createDemoTea(cooperative.api);
    await settleLedger(server);
    const batchId = await registerDemoBatch(cooperative.api, LOT, { quantityKg: "3", itemCount: ITEMS });
    await settleLedger(server);
    expectStatus(
      await cooperative.api.post(`/api/v1/batches/${batchId}/certificates`, {
        quantity: { value: "2", unit: "kg" },
        basis: ["self_test"],
        phone: "0571-8888 1234",
      }),
      201,
      "certificate",
    );
    lotPath = `/01/${DEMO_GTIN}/10/${LOT}`;
  });

  after(async () => {
    await server.close();
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers JSON with the product's shape and the card, which verifies against the chain", async () => {
    const answer = await json(lotPath);
    assert.equal(answer.type, "oioc.product");
    assert.equal(answer.gtin, DEMO_GTIN);
    assert.equal(answer.lot, LOT);
    const card = answer.card;
    assert.ok(card !== null);
    assert.equal(card.type, "oioc.lot-card");
    assert.deepEqual(card.balance, { registered: ITEMS, ordered: 0, remaining: ITEMS, soldOut: false });
    assert.equal(card.certificates.length, 1);
    assert.match(card.certificates[0]?.url ?? "", /\/c\/0x[0-9a-f]{64}$/);
    assert.equal(card.display.cooperative?.zh, "龙井直播合作社");
    assert.equal(card.links.image, `${card.links.page}/card.png`);

    const rpc = createRpcClient(node.rpcUrl);
    const report = await verifyLotCard(card, { baseUrl: server.url, rpc });
    assert.equal(report.verdict, "verified", JSON.stringify(report.checks));
    assert.equal(report.metadata?.lot, LOT);

    // The platform cannot change what the cooperative signed: a swapped item count is caught.
    const tampered: LotCard = structuredClone(card);
    tampered.batch.attestation.itemCount = String(ITEMS + 1);
    const refused = await verifyLotCard(tampered, { baseUrl: server.url, rpc });
    assert.equal(refused.verdict, "suspicious");
    assert.equal(refused.checks.find((c) => c.id === "attestation_signature")?.ok, false);

    // A batch the chain does not have yet is pending, never verified.
    const notYet: RpcClient = {
      chainId: () => rpc.chainId(),
      ethCall: (to, data) =>
        data.startsWith(encodeBatchCall(card.batch.batchId).slice(0, 10))
          ? Promise.resolve(`0x${"00".repeat(7 * 32)}`)
          : rpc.ethCall(to, data),
    };
    assert.equal((await verifyLotCard(card, { baseUrl: server.url, rpc: notYet })).verdict, "pending");
    // A chain that cannot be reached says so: not verified, and not a fake either.
    const down: RpcClient = {
      chainId: () => Promise.reject(new AppError("verify.rpc", { reason: "unreachable" })),
      ethCall: () => Promise.reject(new AppError("verify.rpc", { reason: "unreachable" })),
    };
    const unreachable = await verifyLotCard(card, { baseUrl: server.url, rpc: down });
    assert.equal(unreachable.verdict, "not_verified");
    assert.equal(unreachable.chainReachable, false);
  });

  it("answers a browser with the lot page: the card inlined, the QR drawn, oEmbed discoverable, not frameable", async () => {
    const response = await get(lotPath, { accept: "text/html", "accept-encoding": "br" });
    assert.equal(response.status, 200);
    // Compressed for the slow network a viewer scans from (fetch decodes it).
    assert.equal(response.headers.get("content-encoding"), "br");
    const html = await response.text();
    assert.match(html, /<link rel="alternate" type="application\/json\+oembed" href="[^"]+\/oembed\?url=/);
    assert.match(html, /<script type="application\/json" id="lot-card">\s*\{"type":"oioc.lot-card"/);
    assert.match(html, /<svg[^>]*viewBox/);
    assert.match(html, /\/l\/assets\/lot-[0-9a-f]{10}\.js/);
    assert.match(response.headers.get("content-security-policy") ?? "", /frame-ancestors 'self'/);
    assert.equal(response.headers.get("x-frame-options"), "SAMEORIGIN");

    const script = /\/l\/assets\/(lot-[0-9a-f]{10}\.js)/.exec(html)?.[1] ?? "";
    const asset = await get(`/l/assets/${script}`, { "accept-encoding": "br" });
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get("cache-control") ?? "", /immutable/);
  });

  it("lets other sites frame the compact card (?embed=1) and nothing else", async () => {
    const embed = await get(`${lotPath}?embed=1`, { accept: "text/html" });
    assert.equal(embed.status, 200);
    const csp = embed.headers.get("content-security-policy") ?? "";
    assert.match(csp, /frame-ancestors \*/);
    assert.doesNotMatch(csp, /frame-ancestors 'self'/);
    assert.match(csp, /default-src 'self'/, "the rest of the policy stays");
    assert.equal(embed.headers.get("x-frame-options"), null);
    assert.match(await embed.text(), /<body class="embed">/);
  });

  it("tells an unknown lot and a bad check digit apart, in the page's words", async () => {
    const unknown = await get(`/01/${DEMO_GTIN}/10/NO-SUCH-LOT`, { accept: "text/html" });
    assert.equal(unknown.status, 404);
    const page = await unknown.text();
    assert.match(page, /oioc.item-unknown/);
    assert.match(page, /没有登记这个批号/);
    assert.equal((await json(`/01/${DEMO_GTIN}/10/NO-SUCH-LOT`)).card, null);

    const badDigit = `/01/${DEMO_GTIN.slice(0, 13)}${String((Number(DEMO_GTIN.at(-1)) + 1) % 10)}/10/${LOT}`;
    const bad = await get(badDigit, { accept: "application/json" });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { code: string }).code, /check_digit/);
    const image = await get(`${badDigit}/card.png`);
    assert.equal(image.status, 400);
    const noImage = await get(`/01/${DEMO_GTIN}/10/NO-SUCH-LOT/card.png`);
    assert.equal(noImage.status, 404);
    assert.equal(((await noImage.json()) as { code: string }).code, "lot_card.not_found");
  });

  it("answers oEmbed 1.0 rich JSON naming the embed and the image, and refuses what it cannot embed", async () => {
    const { card } = await json(lotPath);
    assert.ok(card !== null);
    const response = await get(`/oembed?url=${encodeURIComponent(card.links.page)}&format=json&maxwidth=320`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
    const oembed = (await response.json()) as Record<string, unknown>;
    assert.equal(oembed.version, "1.0");
    assert.equal(oembed.type, "rich");
    assert.equal(oembed.width, 320);
    assert.equal(typeof oembed.height, "number");
    assert.equal(typeof oembed.title, "string");
    assert.match(String(oembed.html), /^<iframe src="[^"]+\?embed=1" width="320" height="\d+"/);
    assert.equal(oembed.thumbnail_url, `${card.links.image}?size=360`);
    assert.equal((await get(`/oembed?url=${encodeURIComponent(card.links.page)}&format=xml`)).status, 501);
    assert.equal((await get(`/oembed?url=${encodeURIComponent(card.links.page)}&format=yaml`)).status, 400);
    assert.equal((await get(`/oembed?url=${encodeURIComponent("https://elsewhere.example" + lotPath)}`)).status, 404);
    assert.equal((await get(`/oembed?url=${encodeURIComponent(`${server.url}/01/${DEMO_GTIN}/10/NOPE`)}`)).status, 404);
  });

  it("draws the overlay PNG at the size asked, and it changes when the lot sells out", async () => {
    const square = await png(`${lotPath}/card.png`);
    assert.equal(square.width, 1080);
    assert.equal(square.height, 1080);
    const small = await png(`${lotPath}?format=png&size=360`);
    assert.deepEqual([small.width, small.height], [360, 360]);
    for (const size of ["359", "2049", "abc"]) {
      const refused = await get(`${lotPath}/card.png?size=${size}`);
      assert.equal(refused.status, 400, size);
      assert.equal(((await refused.json()) as { code: string }).code, "lot_card.image_size");
    }

    expectStatus(
      await cooperative.api.post("/api/v1/orders", {
        buyerReference: "stream-buyer-1",
        channel: "live_stream",
        liveStream: { platform: "抖音" },
        lines: [{ gtin: DEMO_GTIN, lot: LOT, quantity: ITEMS }],
      }),
      201,
      "order for the whole lot",
    );
    const { card } = await json(lotPath);
    assert.deepEqual(card?.balance, { registered: ITEMS, ordered: ITEMS, remaining: 0, soldOut: true });
    const soldOut = await png(`${lotPath}/card.png?size=360`);
    // The status band and its words change colour and text: far more than anti-aliasing noise.
    assert.ok(differingShare(small, soldOut) > 0.05, `only ${String(differingShare(small, soldOut))} differ`);
    const again = await png(`${lotPath}?format=png&size=360`);
    assert.equal(differingShare(soldOut, again), 0, "the same state draws the same image");
  });
  it("draws a few images at a time and tells the rest to retry", async () => {
    // Twelve of the largest sizes, never drawn before, asked at once: two draw, two wait, the
    // others are refused. Large, so that each drawing outlasts the requests' arrival even on a
    // loaded machine (six small ones arrived one after another there, and all were drawn).
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => 2_048 - i).map((size) => get(`${lotPath}/card.png?size=${String(size)}`)),
    );
    const statuses = answers.map((answer) => answer.status);
    assert.ok(
      statuses.every((status) => status === 200 || status === 503),
      statuses.join(),
    );
    assert.ok(statuses.filter((status) => status === 200).length >= 2, statuses.join());
    const refused = answers.filter((answer) => answer.status === 503);
    assert.ok(refused.length >= 1, statuses.join());
    for (const answer of refused) {
      assert.equal(answer.headers.get("retry-after"), "1");
      assert.equal(((await answer.json()) as { code: string }).code, "lot_card.busy");
    }
    for (const answer of answers.filter((a) => a.status === 200)) await answer.arrayBuffer();
  });
});
