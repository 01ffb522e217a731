/**
 * The scan path on the server side: the GS1 Digital Link resolver (JSON, linkset, CORS,
 * syntax errors, unknown codes), what its answer lets anyone verify, scan counting and
 * clone signals, hidden-code claims with their rate limits, the read-only JSON-RPC proxy,
 * and a recall reaching the resolution once anchored.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { brotliDecompressSync, gunzipSync } from "node:zlib";

import { JsonRpcProvider } from "ethers";
import { pino } from "pino";

import { apiClient, expectStatus } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import {
  DEMO_COMPANY_PREFIX,
  seedDemoSystem,
  waitUntilAnchored,
  type DemoSystemSummary,
} from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry, type LocalDeployment } from "../../scripts/lib/local-stack.ts";
import { verifyLink } from "../../scripts/lib/verify-link.ts";
import { loadConfig } from "../../server/src/config.ts";
import type { ItemResolution, UnknownItemResolution } from "../../server/src/domain/resolution.ts";
import { deriveVerificationCode } from "../../server/src/domain/serials.ts";
import { ssccFor } from "../../server/src/domain/sscc.ts";
import { traceRegistryAt } from "../../server/src/ledger/deploy.ts";
import { EXPECTED_GUESS_HOURS, MAX_WRONG_PER_ITEM_PER_HOUR } from "../../server/src/services/claims.ts";
import { loadEpcisValidator } from "../support/epcis-schema.ts";
import { startServer, type RunningServer } from "../../server/src/server.ts";
import { listItemSerials } from "../../server/src/storage/batches.ts";
import { eventHead, itemLeaf, recoverSigner, typedDataDigest, verifyProof } from "../../server/src/verify/index.ts";

const execFileAsync = promisify(execFile);

describe("resolver, claims and the RPC proxy", () => {
  let node: ChainNode;
  let deployment: LocalDeployment;
  let server: RunningServer;
  let dataDir: string;
  let demo: DemoSystemSummary;
  let serials: string[];
  const itemPath = (serial: string): string => `/01/${demo.batch.gtin}/10/${demo.batch.lot}/21/${serial}`;
  const reader = () => apiClient(server.url);

  async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!(await condition())) {
      assert.ok(Date.now() < deadline, `${what} in time`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  before(async () => {
    node = await startChainNode();
    deployment = await deployLocalRegistry(node.rpcUrl);
    dataDir = mkdtempSync(path.join(tmpdir(), "resolver-"));
    server = await startServer(
      loadConfig({ ...deployment.env, PORT: "0", DATA_DIR: dataDir, RATE_LIMIT_PER_MINUTE: "100000" }),
      { logger: pino({ level: "silent" }) },
    );
    demo = await seedDemoSystem(server.url, deployment.env.ADMIN_TOKEN ?? "", { itemCount: 40 });
    await waitUntilAnchored(server.url, demo.batch.batchId, demo.eventIds.length);
    await server.workOnce();
    serials = await listItemSerials(server.ctx.db, demo.batch.batchId);
  });

  after(async () => {
    await server.close();
    await node.stop();
    if (process.env.KEEP_DATA === undefined) rmSync(dataDir, { recursive: true, force: true });
    else console.log("data kept in", dataDir);
  });

  it("answers JSON that verifies against the chain: item proof, attestation signature, event chain", async () => {
    const serial = serials[3] ?? "";
    const { status, body } = await reader().get<ItemResolution>(itemPath(serial));
    assert.equal(status, 200);
    assert.equal(body.type, "oioc.item-resolution");
    assert.equal(body.uri, `${server.ctx.publicOrigin}${itemPath(serial)}`);
    const provider = new JsonRpcProvider(node.rpcUrl, undefined, { staticNetwork: true });
    try {
      const record = (await traceRegistryAt(deployment.registry, provider).getFunction("batch")(
        body.batch.batchId,
      )) as {
        itemsRoot: string;
        attester: string;
        eventHead: string;
      };
      assert.equal(verifyProof(record.itemsRoot, itemLeaf(serial), body.proof), true);
      const domain = { chainId: body.chain.chainId, verifyingContract: body.chain.registry };
      const attestationDigest = typedDataDigest(domain, "BatchAttestation", { ...body.batch.attestation });
      assert.equal(recoverSigner(attestationDigest, body.batch.signature), record.attester);
      // The answer carries no digests: the ones computed from the signed values chain to the head on chain.
      const digests = body.events.map((e) => typedDataDigest(domain, "TraceEvent", { ...e.value }));
      assert.equal(eventHead(digests), record.eventHead);
      assert.ok(body.events.every((e) => !("digest" in e)));
      assert.deepEqual(body.display.regionName, {
        zh: "浙江省 杭州市 西湖区",
        en: "Xihu District, Hangzhou, Zhejiang",
      });
      assert.deepEqual(body.display.coldChain, { minC: 0, maxC: 25 }, "the platform's range, beside the signed one");
    } finally {
      provider.destroy();
    }
  });

  it("says plainly when a well-formed code was never issued, and remembers the scan", async () => {
    const { status, body } = await reader().get<UnknownItemResolution>(itemPath("ZZZZZZZZZZZZZ"));
    assert.equal(status, 404);
    assert.equal(body.type, "oioc.item-unknown");
    assert.match(body.message.zh, /假冒/);
    const page = await fetch(`${server.url}${itemPath("YYYYYYYYYYYYY")}`, { headers: { accept: "text/html" } });
    assert.equal(page.status, 404);
    // On disk before the page was answered (written with the page views of its moment, not later).
    const unknownScans = await server.ctx.db
      .selectFrom("scans")
      .select("serial")
      .where("verdict", "=", "unknown")
      .execute();
    assert.deepEqual(
      unknownScans.map((s) => s.serial),
      ["YYYYYYYYYYYYY"],
    );
  });

  it("answers a page view only once its scan is on disk, concurrent page views sharing one commit", async () => {
    // An item no other test scans: eight page views would make it look copied.
    const serial = serials.at(-1) ?? "";
    const storedScans = async (): Promise<number> =>
      (await server.ctx.db.selectFrom("scans").select("id").where("serial", "=", serial).execute()).length;
    const before = await storedScans();
    const pages = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const page = await fetch(`${server.url}${itemPath(serial)}`, { headers: { accept: "text/html" } });
        await page.arrayBuffer();
        // Read as soon as this page arrived: its own scan (at least) is already stored.
        return { status: page.status, stored: await storedScans() };
      }),
    );
    for (const [i, page] of pages.entries()) {
      assert.equal(page.status, 200);
      assert.ok(page.stored >= before + 1, `page ${String(i)} arrived before its scan was stored`);
    }
    assert.equal(await storedScans(), before + 8);
  });

  it("refuses malformed links with 400 and the GS1 reason", async () => {
    const cases: [string, string][] = [
      [`/01/06901234567893/10/${demo.batch.lot}/21/ABC`, "gs1.check_digit"],
      [`/01/${demo.batch.gtin}/21/ABC/10/${demo.batch.lot}`, "digital_link.order"],
      [`/01/${demo.batch.gtin}/10/${demo.batch.lot}/21/${"A".repeat(21)}`, "gs1.serial_length"],
      [`/01/${demo.batch.gtin}/10/${demo.batch.lot}/21/AB%00C`, "gs1.serial_charset"],
    ];
    for (const [p, code] of cases) {
      const { status, body } = await reader().get<{ code: string }>(p);
      assert.equal(status, 400, p);
      assert.equal(body.code, code, p);
    }
  });

  it("speaks CORS, HEAD, and answers linkType=all with an RFC 9264 linkset", async () => {
    const options = await fetch(`${server.url}${itemPath(serials[0] ?? "")}`, { method: "OPTIONS" });
    assert.equal(options.status, 204);
    assert.equal(options.headers.get("access-control-allow-origin"), "*");
    assert.match(options.headers.get("access-control-allow-methods") ?? "", /GET, HEAD, OPTIONS/);
    const head = await fetch(`${server.url}${itemPath(serials[0] ?? "")}`, {
      method: "HEAD",
      headers: { accept: "application/json" },
    });
    assert.equal(head.status, 200);
    assert.equal((await head.arrayBuffer()).byteLength, 0);
    const { status, headers, body } = await reader().get<{ linkset: Record<string, unknown>[] }>(
      `${itemPath(serials[0] ?? "")}?linkType=all`,
    );
    assert.equal(status, 200);
    assert.match(headers.get("content-type") ?? "", /^application\/linkset\+json/);
    const set = body.linkset[0] ?? {};
    assert.equal(set.anchor, `${server.ctx.publicOrigin}${itemPath(serials[0] ?? "")}`);
    assert.ok(Array.isArray(set["https://gs1.org/voc/pip"]));
    assert.ok(Array.isArray(set["https://gs1.org/voc/defaultLink"]));
  });

  /** A consumer's page view from a given loopback address (all of 127/8 reaches the server) and User-Agent. */
  function pageView(
    pathname: string,
    from: string,
    userAgent = "Mozilla/5.0 (Linux; Android 14) Mobile",
  ): Promise<number> {
    const url = new URL(pathname, server.url);
    return new Promise((resolve, reject) => {
      const request = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          localAddress: from,
          headers: { accept: "text/html", "user-agent": userAgent },
        },
        (response) => {
          response.resume();
          response.on("end", () => {
            resolve(response.statusCode ?? 0);
          });
        },
      );
      request.on("error", reject);
      request.end();
    });
  }
  const signalsOf = async (serial: string): Promise<string[]> =>
    (await reader().get<ItemResolution>(itemPath(serial))).body.scans.signals.map((s) => s.code);

  it("does not call a genuine buyer's day a copy: shop, home, claim", async () => {
    const serial = serials[5] ?? "";
    assert.equal(await pageView(itemPath(serial), "127.0.0.2"), 200, "at the shop");
    assert.equal(await pageView(itemPath(serial), "127.0.0.3"), 200, "at home");
    const code = deriveVerificationCode(server.ctx.secrets.hiddenCodePepper, demo.batch.batchId, serial);
    expectStatus(
      await apiClient(server.url).post(`/api/v1/claims/${demo.batch.gtin}/${demo.batch.lot}/${serial}`, { code }),
      200,
      "claim",
    );
    assert.equal(await pageView(itemPath(serial), "127.0.0.3"), 200, "at home, after the claim");
    const { body } = await reader().get<ItemResolution>(itemPath(serial));
    assert.equal(body.scans.count, 3);
    assert.deepEqual(body.scans.signals, []);
    const quiet = await reader().get<ItemResolution>(itemPath(serials[6] ?? ""));
    assert.deepEqual(quiet.body.scans.signals, [], "JSON reads by verifiers are not counted as scans");
  });

  it("does not count a new User-Agent as a new phone", async () => {
    const serial = serials[9] ?? "";
    for (const agent of ["Chrome/120", "Firefox/121", "Safari/17", "WeChat/8.0"]) {
      assert.equal(await pageView(itemPath(serial), "127.0.0.4", agent), 200);
    }
    assert.deepEqual(await signalsOf(serial), [], "four views, four User-Agents, one address");
  });

  it("flags a code scanned from four addresses in a day, or often, or elsewhere after its claim", async () => {
    const spread = serials[10] ?? "";
    for (const from of ["127.0.0.5", "127.0.0.6", "127.0.0.7"]) await pageView(itemPath(spread), from);
    assert.deepEqual(await signalsOf(spread), [], "three addresses are still a buyer");
    await pageView(itemPath(spread), "127.0.0.8");
    assert.deepEqual(await signalsOf(spread), ["many_places"]);

    const often = serials[11] ?? "";
    for (let i = 0; i < 5; i++) await pageView(itemPath(often), "127.0.0.9");
    assert.deepEqual(await signalsOf(often), []);
    await pageView(itemPath(often), "127.0.0.9");
    assert.deepEqual(await signalsOf(often), ["many_scans_day"], "six scans in a day");

    const claimed = serials[12] ?? "";
    await pageView(itemPath(claimed), "127.0.0.10");
    const code = deriveVerificationCode(server.ctx.secrets.hiddenCodePepper, demo.batch.batchId, claimed);
    expectStatus(
      await apiClient(server.url).post(`/api/v1/claims/${demo.batch.gtin}/${demo.batch.lot}/${claimed}`, { code }),
      200,
      "claim",
    );
    await pageView(itemPath(claimed), "127.0.0.10");
    assert.deepEqual(await signalsOf(claimed), [], "the claimant's own scan");
    await pageView(itemPath(claimed), "127.0.0.11");
    assert.deepEqual(await signalsOf(claimed), ["scanned_after_claim"], "a copy scanned elsewhere after the claim");
  });

  it("verifies a link on the command line as the page does: checks, findings in plain words, verdict", async () => {
    const lines: string[] = [];
    const print = (line: string): void => {
      lines.push(line);
    };
    const genuine = await verifyLink(`${server.url}${itemPath(serials[13] ?? "")}`, { rpc: node.rpcUrl, print });
    assert.deepEqual(genuine, { kind: "verdict", verdict: "verified", findingCodes: [] });
    assert.equal(lines.at(-1), "verdict: VERIFIED");

    const coop = apiClient(server.url, demo.organisations.cooperative.token);
    const { batchId } = expectStatus(
      await coop.post<{ batch: { batchId: string } }>("/api/v1/batches", {
        gtin: demo.batch.gtin,
        lot: "CLI-FAILED-1",
        harvestedAt: "2026-05-02T07:00:00+08:00",
        quantity: { value: "5", unit: "kg" },
        itemCount: 2,
      }),
      202,
      "register",
    ).batch;
    await waitUntilAnchored(server.url, batchId, 0);
    // An inspector inspects a batch when its cooperative asked.
    expectStatus(
      await coop.post(`/api/v1/batches/${batchId}/inspection-requests`, { inspector: demo.organisations.inspector.id }),
      202,
      "inspection request",
    );
    expectStatus(
      await apiClient(server.url, demo.organisations.inspector.token).post(`/api/v1/batches/${batchId}/events`, {
        bizStep: "inspecting",
        occurredAt: "2026-05-03T10:00:00+08:00",
        data: { tests: [{ substance: "铅 lead", resultMgPerKg: 0.8, limitMgPerKg: 0.2, passed: false }] },
      }),
      202,
      "failed inspection",
    );
    await waitUntilAnchored(server.url, batchId, 1);
    const serial = (await listItemSerials(server.ctx.db, batchId))[0] ?? "";
    lines.length = 0;
    const failed = await verifyLink(`${server.url}/01/${demo.batch.gtin}/10/CLI-FAILED-1/21/${serial}`, { print });
    assert.deepEqual(failed, { kind: "verdict", verdict: "warning", findingCodes: ["test_failed"] });
    assert.ok(lines.some((line) => line.includes("检测不合格：铅 lead（检出 0.8 mg/kg，限量 0.2 mg/kg）")));
    assert.equal(lines.at(-1), "verdict: WARNING");

    const badDigit = `${demo.batch.gtin.slice(0, 13)}${String((Number(demo.batch.gtin.at(-1)) + 1) % 10)}`;
    lines.length = 0;
    assert.deepEqual(await verifyLink(`${server.url}/01/${badDigit}/10/L/21/S`, { print }), {
      kind: "bad_code",
      code: "gs1.check_digit",
    });
    assert.match(lines.join("\n"), /MALFORMED CODE[\s\S]*校验位错误/);
  });

  it("claims a hidden code once, reports the first claim later, refuses wrong codes and limits guessing", async () => {
    const serial = serials[7] ?? "";
    const code = deriveVerificationCode(server.ctx.secrets.hiddenCodePepper, demo.batch.batchId, serial);
    const claimPath = `/api/v1/claims/${demo.batch.gtin}/${demo.batch.lot}/${serial}`;
    const api = apiClient(server.url);
    const first = expectStatus(
      await api.post<{ firstClaim: boolean; claimedAtMs: number }>(claimPath, { code }),
      200,
      "claim",
    );
    assert.equal(first.firstClaim, true);
    const second = expectStatus(
      await api.post<{ firstClaim: boolean; claimedAtMs: number }>(claimPath, { code }),
      200,
      "again",
    );
    assert.deepEqual(second, { firstClaim: false, claimedAtMs: first.claimedAtMs });
    const after = await reader().get<ItemResolution>(itemPath(serial));
    assert.equal(after.body.item.claimedAtMs, first.claimedAtMs);

    const target = serials[8] ?? "";
    const targetPath = `/api/v1/claims/${demo.batch.gtin}/${demo.batch.lot}/${target}`;
    const right = deriveVerificationCode(server.ctx.secrets.hiddenCodePepper, demo.batch.batchId, target);
    const wrong = String((Number(right) + 1) % 100_000_000).padStart(8, "0");
    for (let i = 0; i < MAX_WRONG_PER_ITEM_PER_HOUR; i++) {
      const response = await api.post<{ code: string }>(targetPath, { code: wrong });
      assert.equal(response.status, 400);
      assert.equal(response.body.code, "claim.wrong_code");
    }
    const limited = await api.post<{ code: string }>(targetPath, { code: right });
    assert.equal(limited.status, 429, "even the right code waits once the item's limit is reached");
    assert.equal(limited.body.code, "claim.too_many_attempts");
    // 10^8 codes, 5 wrong guesses an hour per item: over a thousand years on average.
    assert.ok(EXPECTED_GUESS_HOURS / (24 * 365) > 1_000);
  });

  it("lets reads of the registry through the JSON-RPC proxy and nothing else", async () => {
    const call = async (body: unknown) =>
      (await fetch(`${server.url}/rpc`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      }).then((r) => r.json())) as { result?: string; error?: { code: number } };
    assert.equal((await call({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] })).result, "0x7a69");
    const selector = "0xf698da25"; // domainSeparator()
    const read = await call({
      jsonrpc: "2.0",
      id: 2,
      method: "eth_call",
      params: [{ to: deployment.registry, data: selector }, "latest"],
    });
    assert.match(read.result ?? "", /^0x[0-9a-f]{64}$/);
    for (const refused of [
      { jsonrpc: "2.0", id: 3, method: "eth_sendRawTransaction", params: ["0x00"] },
      {
        jsonrpc: "2.0",
        id: 4,
        method: "eth_call",
        params: [{ to: "0x0000000000000000000000000000000000000001", data: "0x" }, "latest"],
      },
      { jsonrpc: "2.0", id: 5, method: "hardhat_mine", params: [] },
    ]) {
      assert.equal((await call(refused)).error?.code, -32601, refused.method);
    }
  });

  it("compresses a large batch of chain reads for a client that takes brotli, and only then", async () => {
    const reads = Array.from({ length: 20 }, (_, i) => ({
      jsonrpc: "2.0",
      id: i,
      method: "eth_call",
      params: [{ to: deployment.registry, data: "0xf698da25" }, "latest"],
    }));
    const post = (acceptEncoding: string) =>
      new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
        // node:http, which (unlike fetch) neither asks for nor decodes compression on its own.
        const request = httpRequest(
          `${server.url}/rpc`,
          { method: "POST", headers: { "content-type": "application/json", "accept-encoding": acceptEncoding } },
          (response) => {
            const chunks: Buffer[] = [];
            response.on("data", (chunk: Buffer) => chunks.push(chunk));
            response.on("end", () => {
              resolve({ encoding: response.headers["content-encoding"], body: Buffer.concat(chunks) });
            });
          },
        );
        request.on("error", reject);
        request.end(JSON.stringify(reads));
      });
    const plain = await post("identity");
    assert.equal(plain.encoding, undefined);
    const brotli = await post("gzip, deflate, br");
    assert.equal(brotli.encoding, "br");
    assert.ok(
      brotli.body.byteLength < plain.body.byteLength / 2,
      `${brotli.body.byteLength} of ${plain.body.byteLength} B`,
    );
    assert.deepEqual(
      JSON.parse(brotliDecompressSync(brotli.body).toString("utf8")),
      JSON.parse(plain.body.toString("utf8")),
    );
  });

  it("lets a regulator suspend an organisation, at once here and on chain, and reinstate it", async () => {
    // The processor, in the regulator's own district (330106): a regulator acts only inside its region.
    const regulator = apiClient(server.url, demo.organisations.regulator.token);
    const processor = apiClient(server.url, demo.organisations.processor.token);
    // The cooperative hands the batch to the processor, whose receiving is the write it tries.
    const coop = apiClient(server.url, demo.organisations.cooperative.token);
    expectStatus(
      await coop.post(`/api/v1/batches/${demo.batch.batchId}/events`, {
        bizStep: "shipping",
        occurredAt: "2026-04-19T06:00:00+08:00",
        receiver: demo.organisations.processor.id,
      }),
      202,
      "ship to the processor",
    );
    const receiving = { bizStep: "receiving", occurredAt: "2026-04-19T07:00:00+08:00" };
    const notRegulator = await processor.post<{ code: string }>(
      `/api/v1/organisations/${demo.organisations.processor.id}/suspend`,
      { reason: { zh: "自己停自己" } },
    );
    assert.equal(notRegulator.status, 403);
    expectStatus(
      await regulator.post(`/api/v1/organisations/${demo.organisations.processor.id}/suspend`, {
        reason: { zh: "冷链记录造假，暂停备案", en: "Falsified cold-chain records" },
      }),
      202,
      "suspend",
    );
    const refused = await processor.post<{ code: string }>(`/api/v1/batches/${demo.batch.batchId}/events`, receiving);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, "organisation.suspended");
    const provider = new JsonRpcProvider(node.rpcUrl, undefined, { staticNetwork: true });
    const registry = traceRegistryAt(deployment.registry, provider);
    const statusOnChain = async (): Promise<bigint> =>
      ((await registry.getFunction("organisation")(demo.organisations.processor.signerAddress)) as { status: bigint })
        .status;
    try {
      await until(async () => (await statusOnChain()) === 2n, "suspension anchored");
      expectStatus(
        await regulator.post(`/api/v1/organisations/${demo.organisations.processor.id}/reinstate`, {
          reason: { zh: "整改完成" },
        }),
        202,
        "reinstate",
      );
      await until(async () => (await statusOnChain()) === 1n, "reinstatement anchored");
    } finally {
      provider.destroy();
    }
    expectStatus(await processor.post(`/api/v1/batches/${demo.batch.batchId}/events`, receiving), 202, "writes again");
    const log = await server.ctx.db
      .selectFrom("audit_log")
      .select(["action", "organisation_id"])
      .where("target", "=", demo.organisations.processor.id)
      .where("action", "in", ["organisation.suspension", "organisation.reinstatement"])
      .execute();
    assert.deepEqual(
      log.map((entry) => entry.action),
      ["organisation.suspension", "organisation.reinstatement"],
    );
    assert.ok(log.every((entry) => entry.organisation_id === demo.organisations.regulator.id));
  });

  it("lets a regulator recall a batch of its region", async () => {
    const coop = apiClient(server.url, demo.organisations.cooperative.token);
    const second = expectStatus(
      await coop.post<{ batch: { batchId: string } }>("/api/v1/batches", {
        gtin: demo.batch.gtin,
        lot: "LJ2026-0601R",
        harvestedAt: "2026-06-01T06:00:00+08:00",
        quantity: { value: "3", unit: "kg" },
        itemCount: 3,
      }),
      202,
      "register",
    ).batch;
    await waitUntilAnchored(server.url, second.batchId, 0);
    expectStatus(
      await apiClient(server.url, demo.organisations.regulator.token).post(
        `/api/v1/batches/${second.batchId}/regulator-recall`,
        { reason: { zh: "抽检不合格：联苯菊酯超标", en: "Sampling failed: bifenthrin above the limit" } },
      ),
      202,
      "regulator recall",
    );
    await until(
      async () =>
        (await coop.get<{ batch: { status: string } }>(`/api/v1/batches/${second.batchId}`)).body.batch.status ===
        "recalled",
      "recall indexed",
    );
  });

  it("exports the batch as EPCIS 2.0 that validates against the official schema, and as CSV and XLSX", async () => {
    const regulator = demo.organisations.regulator.token;
    const get = (p: string, token = regulator) =>
      fetch(`${server.url}${p}`, { headers: { authorization: `Bearer ${token}` } });
    const epcis = await get(`/api/v1/exports/epcis?batchId=${demo.batch.batchId}`);
    assert.equal(epcis.status, 200);
    assert.match(epcis.headers.get("content-type") ?? "", /^application\/ld\+json/);
    const document = (await epcis.json()) as { epcisBody: { eventList: unknown[] } };
    const validate = loadEpcisValidator();
    const validation = validate(document);
    assert.equal(validation.valid, true, JSON.stringify(validation));
    assert.ok(document.epcisBody.eventList.length >= 9);

    const csv = await get(`/api/v1/exports/kde.csv?region=33`);
    assert.equal(csv.status, 200);
    const bytes = Buffer.from(await csv.arrayBuffer());
    assert.equal(bytes.subarray(0, 3).toString("hex"), "efbbbf", "UTF-8 byte order mark for Excel");
    const text = bytes.toString("utf8");
    assert.ok(text.includes(demo.batch.lot));
    const xlsx = await get(`/api/v1/exports/kde.xlsx?organisationId=${demo.organisations.cooperative.id}`);
    assert.equal(xlsx.status, 200);
    assert.equal(
      Buffer.from(await xlsx.arrayBuffer())
        .subarray(0, 2)
        .toString(),
      "PK",
      "a zip container",
    );

    const otherCoop = await get(
      `/api/v1/exports/epcis?batchId=${demo.batch.batchId}`,
      demo.organisations.retailer.token,
    );
    assert.equal(otherCoop.status, 403);
    const noScope = await get(`/api/v1/exports/epcis`);
    assert.equal(noScope.status, 400);
  });

  it("streams the batch's label sheet to its cooperative, with QR codes of its items", async () => {
    const coop = demo.organisations.cooperative.token;
    const get = (p: string, token = coop) =>
      fetch(`${server.url}${p}`, { headers: { authorization: `Bearer ${token}` } });
    const sheet = await get(`/api/v1/batches/${demo.batch.batchId}/labels.pdf?columns=3&rows=7`);
    assert.equal(sheet.status, 200);
    assert.equal(sheet.headers.get("content-type"), "application/pdf");
    const pdf = Buffer.from(await sheet.arrayBuffer());
    assert.equal(pdf.subarray(0, 5).toString(), "%PDF-");
    assert.match(pdf.subarray(-8).toString(), /%%EOF/);
    const cramped = await get(`/api/v1/batches/${demo.batch.batchId}/labels.pdf?columns=12&rows=24`);
    assert.equal(cramped.status, 400);
    assert.equal(((await cramped.json()) as { code: string }).code, "labels.layout");
    const notYours = await get(`/api/v1/batches/${demo.batch.batchId}/labels.pdf`, demo.organisations.retailer.token);
    assert.equal(notYours.status, 403);
    // The CLI writes the same sheet to a file.
    const out = path.join(dataDir, "labels.pdf");
    // Asynchronously: the server answering the CLI runs in this very process.
    await execFileAsync(
      process.execPath,
      [
        "scripts/tasks/cli.ts",
        "labels",
        "--server",
        server.url,
        "--batch",
        demo.batch.batchId,
        "--out",
        out,
        "--columns",
        "3",
      ],
      {
        env: { ...process.env, COOPERATIVE_TOKEN: coop },
      },
    );
    assert.equal(readFileSync(out).subarray(0, 5).toString(), "%PDF-");
    const svg = await get(`/api/v1/batches/${demo.batch.batchId}/items/${serials[0] ?? ""}/qr.svg`);
    assert.equal(svg.status, 200);
    assert.match(await svg.text(), /^<svg|^<\?xml/);
  });

  it("builds each answer from the batch as it is now: a new event shows at the very next scan, in JSON and in the page", async () => {
    const serial = serials[3] ?? "";
    const first = await reader().get<ItemResolution>(itemPath(serial));
    expectStatus(first, 200, "first answer");
    const other = await reader().get<ItemResolution>(itemPath(serials[4] ?? ""));
    // Items of one batch share the batch's part and differ in their own.
    assert.deepEqual(other.body.events, first.body.events);
    assert.deepEqual(other.body.batch, first.body.batch);
    assert.notEqual(other.body.item.serial, first.body.item.serial);
    assert.notDeepEqual(other.body.proof, first.body.proof);
    assert.equal(verifyProof(first.body.batch.attestation.itemsRoot, itemLeaf(serial), first.body.proof), true);

    expectStatus(
      await apiClient(server.url, demo.organisations.inspector.token).post(
        `/api/v1/batches/${demo.batch.batchId}/events`,
        {
          bizStep: "inspecting",
          occurredAt: "2026-05-04T09:00:00+08:00",
          data: { tests: [{ substance: "镉 cadmium", resultMgPerKg: 0.01, limitMgPerKg: 0.2, passed: true }] },
        },
      ),
      202,
      "an inspection",
    );
    const next = await reader().get<ItemResolution>(itemPath(serial));
    assert.equal(next.body.events.length, first.body.events.length + 1, "the new event is in the next answer");
    assert.equal(next.body.events.at(-1)?.bizStep, "inspecting");

    // The page carries the same answer (the scan it records counts in `scans` only).
    const page = await new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
      const req = httpRequest(
        `${server.url}${itemPath(serial)}`,
        { headers: { accept: "text/html", "accept-encoding": "gzip, deflate, br" } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            resolve({ encoding: res.headers["content-encoding"], body: Buffer.concat(chunks) });
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end();
    });
    assert.equal(page.encoding, "gzip");
    const html = gunzipSync(page.body).toString("utf8");
    const inline = /<script type="application\/json" id="resolution">([^<]*)<\/script>/.exec(html)?.[1];
    assert.ok(inline !== undefined, "the answer is inlined");
    const { scans: _pageScans, ...pageAnswer } = JSON.parse(inline) as ItemResolution;
    const { scans: _jsonScans, ...jsonAnswer } = next.body;
    assert.deepEqual(pageAnswer, jsonAnswer);
    await waitUntilAnchored(server.url, demo.batch.batchId, next.body.events.length);
  });

  it("shows a packing and a certificate at the very next scan, and sends the JSON gzipped to a client that takes it", async () => {
    const coop = apiClient(server.url, demo.organisations.cooperative.token);
    const [packedSerial, looseSerial] = [serials[10] ?? "", serials[11] ?? ""];
    const before = expectStatus(await reader().get<ItemResolution>(itemPath(packedSerial)), 200, "before");
    assert.equal(before.containers, undefined, "never packed: no containers");
    const certificatesBefore = before.certificates?.length ?? 0;

    const sscc = ssccFor(0, DEMO_COMPANY_PREFIX, 77n);
    expectStatus(
      await coop.post("/api/v1/containers", {
        sscc,
        items: [before.uri],
        occurredAt: "2026-04-20T09:00:00+08:00",
      }),
      202,
      "pack one item",
    );
    const packed = expectStatus(await reader().get<ItemResolution>(itemPath(packedSerial)), 200, "after packing");
    assert.deepEqual(
      packed.containers?.map((container: { sscc: string }) => container.sscc),
      [sscc],
      "the case is in the next answer",
    );
    const loose = expectStatus(await reader().get<ItemResolution>(itemPath(looseSerial)), 200, "another item");
    assert.equal(loose.containers, undefined, "an item of the same batch not in the case has none");

    expectStatus(
      await coop.post(`/api/v1/batches/${demo.batch.batchId}/certificates`, {
        basis: ["self_test"],
        phone: "0571-8888 1234",
        quantity: { value: "1", unit: "kg" },
      }),
      201,
      "a certificate",
    );
    for (const serial of [packedSerial, looseSerial]) {
      const next = expectStatus(await reader().get<ItemResolution>(itemPath(serial)), 200, "after the certificate");
      assert.equal(next.certificates?.length, certificatesBefore + 1, "the certificate is in the next answer");
    }

    // The same answer gzipped (its batch's part compressed once), for a client that takes gzip.
    const identity = expectStatus(await reader().get<ItemResolution>(itemPath(packedSerial)), 200, "identity");
    const zipped = await fetch(`${server.url}${itemPath(packedSerial)}`, {
      headers: { accept: "application/json", "accept-encoding": "gzip" },
    });
    // fetch decodes the body itself; the header says what was on the wire.
    assert.equal(zipped.headers.get("content-encoding"), "gzip");
    assert.match(zipped.headers.get("vary") ?? "", /Accept-Encoding/);
    assert.deepEqual(await zipped.json(), identity);
  });

  it("shows a cooperative's recall in the resolution once it is anchored", async () => {
    const coop = apiClient(server.url, demo.organisations.cooperative.token);
    expectStatus(
      await coop.post(`/api/v1/batches/${demo.batch.batchId}/recall`, {
        reason: { zh: "农残复检超标", en: "Residue retest failed" },
      }),
      202,
      "recall",
    );
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { body } = await reader().get<ItemResolution>(itemPath(serials[1] ?? ""));
      if (body.batch.status === "recalled") {
        assert.deepEqual(body.batch.recall?.reason, { zh: "农残复检超标", en: "Residue retest failed" });
        break;
      }
      assert.ok(Date.now() < deadline, "the recall reached the resolution in time");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const again = await coop.post<{ code: string }>(`/api/v1/batches/${demo.batch.batchId}/recall`, {
      reason: { zh: "再次" },
    });
    assert.equal(again.status, 409);
    assert.equal(again.body.code, "batch.recalled");
  });
});
