/**
 * The server end to end against a Hardhat node in its own process: onboarding, a batch
 * with its video, events, anchoring, indexing, items verifying on chain; bad input of
 * every kind refused with its documented code and nothing changed; and the query store
 * rebuilt from the chain and IPFS alone. Runs on SQLite, and on PostgreSQL when
 * TEST_DATABASE_URL is set (the test command's second server pass).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { ContractFactory, JsonRpcProvider, Wallet } from "ethers";
import { pino } from "pino";

import { apiClient, expectStatus, type ApiClient } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import {
  DEMO_GTIN,
  demoUscc,
  DEMO_LOT,
  grantGtin,
  onboardCooperative,
  seedDemoSystem,
  waitUntilAnchored,
  type DemoSystemSummary,
} from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry, devAccount, type LocalDeployment } from "../../scripts/lib/local-stack.ts";
import { loadConfig } from "../../server/src/config.ts";
import { eventHead } from "../../server/src/verify/hash-chain.ts";
import { buildItemTree } from "../../server/src/domain/merkle.ts";
import { traceRegistryAt } from "../../server/src/ledger/deploy.ts";
import { readVerifiedBatch } from "../../server/src/ledger/chain-reader.ts";
import type { ItemResolution } from "../../server/src/domain/resolution.ts";
import { verifyResolution } from "../../server/src/verify/verify-resolution.ts";
import { verifyLink } from "../../scripts/lib/verify-link.ts";
import { loadArtifact } from "../../server/src/ledger/registry-artifact.ts";
import { reindex } from "../../server/src/reindex.ts";
import type { SignatureRequest } from "../../server/src/services/signature-requests.ts";
import { startServer, type RunningServer } from "../../server/src/server.ts";
import { listItemSerials } from "../../server/src/storage/batches.ts";
import { listBatchEvents } from "../../server/src/storage/events.ts";
import { listInspectionRequests, type InspectionRequest } from "../../server/src/storage/inspection-requests.ts";
import { freshTestDatabaseUrl, TEST_DATABASE_URL } from "../support/test-database.ts";

describe(`server API (${TEST_DATABASE_URL === undefined ? "SQLite" : "PostgreSQL"})`, () => {
  let node: ChainNode;
  let deployment: LocalDeployment;
  let server: RunningServer;
  let dataDir: string;
  let env: Record<string, string>;
  let admin: ApiClient;
  let demo: DemoSystemSummary;
  const video = randomBytes(700_000); // three UnixFS chunks: a real multi-block DAG

  async function start(extra: Record<string, string> = {}): Promise<RunningServer> {
    return startServer(loadConfig({ ...env, ...extra }), {
      logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    });
  }

  before(async () => {
    node = await startChainNode();
    deployment = await deployLocalRegistry(node.rpcUrl);
    dataDir = mkdtempSync(path.join(tmpdir(), "api-"));
    const databaseUrl = await freshTestDatabaseUrl("api");
    env = {
      ...deployment.env,
      PORT: "0",
      DATA_DIR: dataDir,
      RATE_LIMIT_PER_MINUTE: "100000",
      ...(databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl }),
    };
    server = await start();
    admin = apiClient(server.url, env.ADMIN_TOKEN);
    demo = await seedDemoSystem(server.url, env.ADMIN_TOKEN ?? "", {
      video: { bytes: video, contentType: "video/mp4" },
      itemCount: 300,
    });
    await waitUntilAnchored(server.url, demo.batch.batchId, demo.eventIds.length);
  });

  after(async () => {
    await server.close();
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("anchors the batch and its events; every item verifies on chain and the event head matches", async () => {
    const provider = new JsonRpcProvider(node.rpcUrl, undefined, { staticNetwork: true });
    try {
      const registry = traceRegistryAt(deployment.registry, provider);
      const serials = await listItemSerials(server.ctx.db, demo.batch.batchId);
      assert.equal(serials.length, 300);
      const tree = buildItemTree(serials);
      for (const index of [0, 137, 299]) {
        const serial = serials[index] ?? "";
        assert.equal(await registry.getFunction("verifyItem")(demo.batch.batchId, serial, tree.proofAt(index)), true);
      }
      assert.equal(
        await registry.getFunction("verifyItem")(demo.batch.batchId, "NOTASERIAL123", tree.proofAt(0)),
        false,
        "a serial outside the batch does not verify",
      );
      const record = (await registry.getFunction("batch")(demo.batch.batchId)) as {
        itemsRoot: string;
        eventHead: string;
      };
      assert.equal(record.itemsRoot, tree.root);
      // The indexer has projected every EventRecorded log: the stored digests chain to the head on chain.
      await server.workOnce();
      const events = await listBatchEvents(server.ctx.db, demo.batch.batchId);
      assert.equal(events.length, demo.eventIds.length);
      assert.ok(
        events.every((e) => e.chain !== null),
        "every event carries its chain position",
      );
      assert.equal(eventHead(events.map((e) => e.digest)), record.eventHead);
    } finally {
      provider.destroy();
    }
  });

  it("searches batches by harvest date in China time, whose days start at 16:00 UTC", async () => {
    // Harvested 2026-04-15 06:30 in China, which is still 2026-04-14 in UTC.
    const lots = async (query: string) =>
      expectStatus(await admin.get<{ batches: { lot: string }[] }>(`/api/v1/batches?${query}`), 200, query).batches.map(
        (batch) => batch.lot,
      );
    assert.deepEqual(await lots("harvestedFrom=2026-04-15&harvestedTo=2026-04-15"), [DEMO_LOT]);
    assert.deepEqual(await lots("harvestedTo=2026-04-14"), []);
    assert.deepEqual(await lots("harvestedFrom=2026-04-16"), []);
  });

  it("serves the uploaded video from /ipfs with its type, ETag and byte ranges", async () => {
    const batch = expectStatus(
      await admin.get<{ batch: { videoCid: string } }>(`/api/v1/batches/${demo.batch.batchId}`),
      200,
      "get batch",
    ).batch;
    const response = await fetch(`${server.url}/ipfs/${batch.videoCid}`, { headers: { range: "bytes=300000-300099" } });
    assert.equal(response.status, 206);
    assert.equal(response.headers.get("content-type"), "video/mp4");
    assert.equal(response.headers.get("etag"), `"${batch.videoCid}"`);
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), video.subarray(300_000, 300_100));
  });

  it("answers a retried write with the first answer and refuses the key reused for another body", async () => {
    const coop = apiClient(server.url, demo.organisations.cooperative.token);
    const body = { name: "梅家坞 2 号茶园", areaHa: 0.5, regionCode: "330106" };
    const first = await coop.post(`/api/v1/organisations/${demo.organisations.cooperative.id}/plots`, body, {
      idempotencyKey: "plot-retry-0001",
    });
    const again = await coop.post(`/api/v1/organisations/${demo.organisations.cooperative.id}/plots`, body, {
      idempotencyKey: "plot-retry-0001",
    });
    assert.equal(first.status, 201);
    assert.deepEqual(again.body, first.body);
    assert.equal(again.headers.get("idempotent-replayed"), "true");
    const other = await coop.post(
      `/api/v1/organisations/${demo.organisations.cooperative.id}/plots`,
      { ...body, areaHa: 0.6 },
      { idempotencyKey: "plot-retry-0001" },
    );
    assert.equal(other.status, 409);
    assert.equal((other.body as { code: string }).code, "idempotency.conflict");
  });

  it("refuses a keyed write whose body is invalid before the key is looked at: as without a key", async () => {
    const credentials = `/api/v1/organisations/${demo.organisations.cooperative.id}/credentials`;
    const key = "credential-invalid-0001";
    const keys = async (): Promise<number> =>
      (await server.ctx.db.selectFrom("idempotency_keys").select("key").execute()).length;
    const keysBefore = await keys();
    const unkeyed = await admin.post(credentials, { label: "" });
    const keyed = await admin.post(credentials, { label: "" }, { idempotencyKey: key });
    assert.equal(unkeyed.status, 400);
    assert.deepEqual([keyed.status, keyed.body], [unkeyed.status, unkeyed.body], "the same problem, code and detail");
    assert.equal(await keys(), keysBefore, "no key kept for a refused body");
    // The key is free: the valid request under it is carried out, and a retry gets its answer.
    const issued = await admin.post<{ credential: { id: string } }>(
      credentials,
      { label: "idempotency" },
      { idempotencyKey: key },
    );
    assert.equal(issued.status, 201);
    assert.deepEqual(
      (await admin.post(credentials, { label: "idempotency" }, { idempotencyKey: key })).body,
      issued.body,
    );
    // The key now holds an answer; an invalid body under it is still refused for what it is,
    // checked before the key is looked up (a valid other body is idempotency.conflict, above).
    const invalidUnderUsedKey = await admin.post(credentials, { label: "" }, { idempotencyKey: key });
    assert.deepEqual([invalidUnderUsedKey.status, invalidUnderUsedKey.body], [unkeyed.status, unkeyed.body]);
    const revoked = await fetch(`${server.url}${credentials}/${issued.body.credential.id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${env.ADMIN_TOKEN ?? ""}` },
    });
    assert.equal(revoked.status, 204);
  });

  describe("bad input gets its documented error and changes nothing", () => {
    const validBatch = () => ({
      gtin: DEMO_GTIN,
      lot: "LJ2026-0502B",
      harvestedAt: "2026-05-02T06:30:00+08:00",
      quantity: { value: "80", unit: "kg" },
      itemCount: 10,
    });

    async function counts(): Promise<Record<string, number>> {
      const db = server.ctx.db;
      const count = async (table: "batches" | "items" | "outbox" | "events" | "audit_log" | "organisations") =>
        Number(
          (
            await db
              .selectFrom(table)
              .select((eb) => eb.fn.countAll<number | string>().as("n"))
              .executeTakeFirstOrThrow()
          ).n,
        );
      return {
        batches: await count("batches"),
        items: await count("items"),
        outbox: await count("outbox"),
        events: await count("events"),
        audit: await count("audit_log"),
        organisations: await count("organisations"),
      };
    }

    const cases: {
      name: string;
      who: () => ApiClient;
      path: () => string;
      body: () => unknown;
      status: number;
      code: string;
    }[] = [
      {
        name: "a wrong GTIN check digit",
        who: () => coop(),
        path: () => "/api/v1/batches",
        body: () => ({ ...validBatch(), gtin: "06901234567893" }),
        status: 400,
        code: "gs1.check_digit",
      },
      {
        name: "a lot with a character GS1 forbids",
        who: () => coop(),
        path: () => "/api/v1/batches",
        body: () => ({ ...validBatch(), lot: "LOT#1" }),
        status: 400,
        code: "gs1.lot_charset",
      },
      {
        name: "a missing field",
        who: () => coop(),
        path: () => "/api/v1/batches",
        body: () => ({ ...validBatch(), itemCount: undefined }),
        status: 400,
        code: "request.invalid",
      },
      {
        name: "a wrong type",
        who: () => coop(),
        path: () => "/api/v1/batches",
        body: () => ({ ...validBatch(), itemCount: "ten" }),
        status: 400,
        code: "request.invalid",
      },
      {
        name: "an unknown field",
        who: () => coop(),
        path: () => "/api/v1/batches",
        body: () => ({ ...validBatch(), price: 12 }),
        status: 400,
        code: "request.invalid",
      },
      {
        name: "too many items",
        who: () => coop(),
        path: () => "/api/v1/batches",
        body: () => ({ ...validBatch(), itemCount: 1_000_001 }),
        status: 413,
        code: "batch.too_many_items",
      },
      {
        name: "an unregistered product",
        who: () => coop(),
        path: () => "/api/v1/batches",
        body: () => ({ ...validBatch(), gtin: "06901234567885" }),
        status: 404,
        code: "product.not_found",
      },
      {
        name: "a video that was never uploaded",
        who: () => coop(),
        path: () => "/api/v1/batches",
        body: () => ({ ...validBatch(), videoCid: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy" }),
        status: 404,
        code: "media.not_found",
      },
      {
        name: "a GTIN and lot already registered",
        who: () => coop(),
        path: () => "/api/v1/batches",
        body: () => ({ ...validBatch(), lot: DEMO_LOT }),
        status: 409,
        code: "batch.exists",
      },
      {
        name: "the wrong role",
        who: () => apiClient(server.url, demo.organisations.logistics.token),
        path: () => "/api/v1/batches",
        body: validBatch,
        status: 403,
        code: "auth.forbidden",
      },
      {
        name: "no credentials",
        who: () => apiClient(server.url),
        path: () => "/api/v1/batches",
        body: validBatch,
        status: 401,
        code: "auth.missing",
      },
      {
        name: "an unknown token",
        who: () => apiClient(server.url, `oioc_${"x".repeat(43)}`),
        path: () => "/api/v1/batches",
        body: validBatch,
        status: 401,
        code: "auth.invalid",
      },
      {
        name: "an invalid unified social credit code",
        who: () => admin,
        path: () => "/api/v1/organisations",
        body: () => ({ kind: "cooperative", name: { zh: "测试社" }, uscc: "93330106000001000X", regionCode: "330106" }),
        status: 400,
        code: "uscc.check_character",
      },
      {
        name: "a farm step by someone else's organisation",
        who: () => apiClient(server.url, demo.organisations.processor.token),
        path: () => `/api/v1/batches/${demo.batch.batchId}/events`,
        body: () => ({ bizStep: "harvesting", occurredAt: "2026-04-15T06:30:00+08:00" }),
        status: 403,
        code: "organisation.wrong_kind",
      },
      {
        name: "an inspection without tests",
        who: () => apiClient(server.url, demo.organisations.inspector.token),
        path: () => `/api/v1/batches/${demo.batch.batchId}/events`,
        body: () => ({ bizStep: "inspecting", occurredAt: "2026-04-16T10:00:00+08:00" }),
        status: 400,
        code: "event.data_invalid",
      },
      {
        name: "an event in the future",
        who: () => apiClient(server.url, demo.organisations.logistics.token),
        path: () => `/api/v1/batches/${demo.batch.batchId}/events`,
        body: () => ({ bizStep: "shipping", occurredAt: "2099-01-01T00:00:00+08:00" }),
        status: 400,
        code: "event.before_harvest",
      },
      {
        name: "an event for an unknown batch",
        who: () => apiClient(server.url, demo.organisations.logistics.token),
        path: () => `/api/v1/batches/0x${"12".repeat(32)}/events`,
        body: () => ({ bizStep: "shipping", occurredAt: "2026-04-18T07:00:00+08:00" }),
        status: 404,
        code: "batch.not_found",
      },
    ];
    const coop = (): ApiClient => apiClient(server.url, demo.organisations.cooperative.token);

    for (const c of cases) {
      it(`refuses ${c.name} (${c.code})`, async () => {
        const before = await counts();
        const response = await c.who().post(c.path(), c.body());
        assert.equal(response.status, c.status, JSON.stringify(response.body));
        assert.equal(response.headers.get("content-type"), "application/problem+json; charset=utf-8");
        const problem = response.body as { code: string; message: { zh: string; en: string } };
        assert.equal(problem.code, c.code);
        assert.ok(problem.message.zh.length > 0 && problem.message.en.length > 0);
        assert.deepEqual(await counts(), before);
      });
    }

    it("refuses an oversize body with request.too_large", async () => {
      const before = await counts();
      const response = await coop().post("/api/v1/batches", {
        ...validBatch(),
        description: { zh: "长".repeat(2_000_000) },
      });
      assert.equal(response.status, 413);
      assert.equal((response.body as { code: string }).code, "request.too_large");
      assert.deepEqual(await counts(), before);
    });

    it("refuses a revoked credential", async () => {
      const issued = expectStatus(
        await admin.post<{ credential: { id: string; token: string } }>(
          `/api/v1/organisations/${demo.organisations.cooperative.id}/credentials`,
          { label: "phone" },
        ),
        201,
        "issue",
      ).credential;
      const revoke = await fetch(
        `${server.url}/api/v1/organisations/${demo.organisations.cooperative.id}/credentials/${issued.id}`,
        { method: "DELETE", headers: { authorization: `Bearer ${env.ADMIN_TOKEN ?? ""}` } },
      );
      assert.equal(revoke.status, 204);
      const response = await apiClient(server.url, issued.token).post("/api/v1/batches", validBatch());
      assert.equal(response.status, 401);
      assert.equal((response.body as { code: string }).code, "auth.invalid");
    });
  });

  it("serves an OpenAPI 3.1 document that lists every write", async () => {
    const doc = expectStatus(
      await admin.get<{ openapi: string; paths: Record<string, unknown> }>("/api/v1/openapi.json"),
      200,
      "openapi",
    );
    assert.equal(doc.openapi, "3.1.0");
    for (const p of ["/api/v1/organisations", "/api/v1/batches", "/api/v1/batches/{batchId}/events", "/api/v1/media"]) {
      assert.ok(p in doc.paths, p);
    }
  });

  it("lets a cooperative with its own wallet sign its attestation, and refuses anyone else's signature", async () => {
    const wallet = Wallet.createRandom();
    const onboarded = expectStatus(
      await admin.post<{ organisation: { id: string; keyCustody: string }; credential: { token: string } }>(
        "/api/v1/organisations",
        {
          kind: "cooperative",
          name: { zh: "龙坞茶叶合作社", en: "Longwu Tea Cooperative" },
          uscc: demoUscc("93", "330106", 7_777),
          regionCode: "330106",
          signerAddress: wallet.address,
        },
      ),
      201,
      "onboard own-key cooperative",
    );
    assert.equal(onboarded.organisation.keyCustody, "own");
    // It packs the demo cooperative's tea: the GTIN's owner grants it.
    await grantGtin(server.url, demo.organisations.cooperative.token, DEMO_GTIN, onboarded.organisation.id);
    const coop = apiClient(server.url, onboarded.credential.token);
    const created = expectStatus(
      await coop.post<{ signatureRequest: SignatureRequest }>("/api/v1/batches", {
        gtin: DEMO_GTIN,
        lot: "LW2026-0420",
        harvestedAt: "2026-04-20T07:00:00+08:00",
        quantity: { value: "40", unit: "kg" },
        itemCount: 25,
      }),
      201,
      "prepare",
    ).signatureRequest;
    assert.equal(created.typedData.primaryType, "BatchAttestation");
    assert.equal(String(created.typedData.message.attester).toLowerCase(), wallet.address.toLowerCase());
    const { domain, types, message } = created.typedData;
    const batchesBefore = await server.ctx.db.selectFrom("batches").select("batch_id").execute();

    const forged = await Wallet.createRandom().signTypedData(domain, types, message);
    const refused = await coop.post<{ code: string }>(created.submitUrl, { signature: forged });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.code, "signature.invalid");
    assert.equal((await server.ctx.db.selectFrom("batches").select("batch_id").execute()).length, batchesBefore.length);
    const otherOrg = await apiClient(server.url, demo.organisations.cooperative.token).post<{ code: string }>(
      created.submitUrl,
      { signature: await wallet.signTypedData(domain, types, message) },
    );
    assert.equal(otherOrg.status, 404, "another organisation cannot see or complete the request");

    const accepted = expectStatus(
      await coop.post<{ batch: { batchId: string; itemCount: number } }>(created.submitUrl, {
        signature: await wallet.signTypedData(domain, types, message),
      }),
      202,
      "submit",
    ).batch;
    assert.equal(accepted.itemCount, 25);
    await waitUntilAnchored(server.url, accepted.batchId, 0);
    assert.equal((await listItemSerials(server.ctx.db, accepted.batchId)).length, 25);
  });

  it("lets a cooperative whose key is a smart-contract wallet (ERC-1271) sign, asking the wallet as the registry does", async () => {
    // The wallet accepts exactly its owner's ECDSA signatures, as a 1-of-1 Safe would.
    const owner = Wallet.createRandom();
    const funder = devAccount(9).connect(new JsonRpcProvider(node.rpcUrl, undefined, { staticNetwork: true }));
    const artifact = loadArtifact("test/OwnerSignedWallet.sol", "OwnerSignedWallet");
    const contractWallet = await new ContractFactory(artifact.abi, artifact.bytecode, funder).deploy(owner.address);
    await contractWallet.waitForDeployment();
    const walletAddress = await contractWallet.getAddress();
    const onboarded = await onboardCooperative(server.url, env.ADMIN_TOKEN ?? "", {
      name: { zh: "梅家坞茶叶联合社", en: "Meijiawu Tea Federation" },
      serial: 8_808,
      signerAddress: walletAddress,
    });
    // It packs under the demo cooperative's brand: the GTIN's owner grants it.
    await grantGtin(server.url, demo.organisations.cooperative.token, DEMO_GTIN, onboarded.id);
    const coop = apiClient(server.url, onboarded.token);
    const created = expectStatus(
      await coop.post<{ signatureRequest: SignatureRequest }>("/api/v1/batches", {
        gtin: DEMO_GTIN,
        lot: "MJW2026-0501",
        harvestedAt: "2026-05-01T07:00:00+08:00",
        quantity: { value: "30", unit: "kg" },
        itemCount: 12,
      }),
      201,
      "prepare",
    ).signatureRequest;
    const { domain, types, message } = created.typedData;
    const batchesBefore = (await server.ctx.db.selectFrom("batches").select("batch_id").execute()).length;

    // Someone else's key: the wallet says no, so the server does.
    const refused = await coop.post<{ code: string }>(created.submitUrl, {
      signature: await Wallet.createRandom().signTypedData(domain, types, message),
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.code, "signature.invalid");
    assert.equal((await server.ctx.db.selectFrom("batches").select("batch_id").execute()).length, batchesBefore);

    // The owner's: the wallet says yes, and so does the registry when the batch is anchored.
    const accepted = expectStatus(
      await coop.post<{ batch: { batchId: string } }>(created.submitUrl, {
        signature: await owner.signTypedData(domain, types, message),
      }),
      202,
      "submit",
    ).batch;
    await waitUntilAnchored(server.url, accepted.batchId, 0);
    const onChain = (await traceRegistryAt(deployment.registry, new JsonRpcProvider(node.rpcUrl))
      .getFunction("batch")
      .staticCall(accepted.batchId)) as { attester: string };
    assert.equal(onChain.attester.toLowerCase(), walletAddress.toLowerCase());

    // An event signed in the wallet too; then the scan page's verification (through the
    // server's read-only proxy) asks the wallet by ERC-1271 and passes both signatures.
    const eventRequest = expectStatus(
      await coop.post<{ signatureRequest: SignatureRequest }>(`/api/v1/batches/${accepted.batchId}/events`, {
        bizStep: "cooling",
        occurredAt: "2026-05-02T09:00:00+08:00",
      }),
      201,
      "prepare the event",
    ).signatureRequest;
    const signedEvent = eventRequest.typedData;
    expectStatus(
      await coop.post(eventRequest.submitUrl, {
        signature: await owner.signTypedData(signedEvent.domain, signedEvent.types, signedEvent.message),
      }),
      202,
      "submit the event",
    );
    await waitUntilAnchored(server.url, accepted.batchId, 1);
    const [serial] = await listItemSerials(server.ctx.db, accepted.batchId);
    const link = `${server.url}/01/${DEMO_GTIN}/10/MJW2026-0501/21/${serial ?? ""}`;
    const lines: string[] = [];
    const outcome = await verifyLink(link, { print: (line) => lines.push(line) });
    assert.deepEqual(outcome, { kind: "verdict", verdict: "verified", findingCodes: [] }, lines.join("\n"));
    assert.ok(
      lines.some((l) => /ok {3}attestation_signature: contract wallet .* agrees \(ERC-1271/.test(l)),
      lines.join("\n"),
    );
    assert.ok(
      lines.some((l) => /ok {3}event_signatures: 1 events.*contract wallet/.test(l)),
      lines.join("\n"),
    );

    // Another key's signatures through the same wallet: not verified.
    const resolution = (await (
      await fetch(link, { headers: { accept: "application/json" } })
    ).json()) as ItemResolution;
    const stranger = Wallet.createRandom();
    const [recorded] = resolution.events;
    assert.ok(recorded !== undefined);
    resolution.batch.signature = await stranger.signTypedData(domain, types, message);
    recorded.signature = await stranger.signTypedData(signedEvent.domain, signedEvent.types, signedEvent.message);
    const report = await verifyResolution(resolution, { baseUrl: link });
    const check = (id: string) => report.checks.find((c) => c.id === id);
    assert.equal(check("attestation_signature")?.ok, false, check("attestation_signature")?.detail ?? "");
    assert.match(check("attestation_signature")?.detail ?? "", /contract wallet does not agree/);
    assert.equal(check("event_signatures")?.ok, false, check("event_signatures")?.detail ?? "");
    assert.equal(report.verdict === "verified", false);

    // The regulator's path (the chain's logs, asked at each log's block) agrees.
    const verified = await readVerifiedBatch(
      traceRegistryAt(deployment.registry, new JsonRpcProvider(node.rpcUrl)),
      { chainId: deployment.chainId, verifyingContract: deployment.registry, version: "2" },
      accepted.batchId,
    );
    assert.deepEqual(verified.findings, []);
    assert.equal(verified.attestation?.signatureValid, true);
  });

  it("rebuilds every organisation, batch, item and event from the chain and IPFS into an empty database", async () => {
    const serials = await listItemSerials(server.ctx.db, demo.batch.batchId);
    const events = await listBatchEvents(server.ctx.db, demo.batch.batchId);
    const inspectionRequests = await listInspectionRequests(server.ctx.db, demo.batch.batchId);
    const batch = (await admin.get<{ batch: unknown }>(`/api/v1/batches/${demo.batch.batchId}`)).body.batch;
    // Regulators hold a role, not a registration: the ledger knows every other organisation.
    const registered = await server.ctx.db
      .selectFrom("organisations")
      .select("signer_address")
      .where("ledger_state", "is not", null)
      .orderBy("signer_address")
      .execute();
    assert.ok(registered.length >= 7, "the demo's five, an own-wallet and a contract-wallet cooperative");
    await server.close();
    // The database is lost; the IPFS blocks and the key backups in DATA_DIR remain.
    if (TEST_DATABASE_URL === undefined) {
      for (const suffix of ["", "-wal", "-shm"]) rmSync(path.join(dataDir, `trace.db${suffix}`), { force: true });
    } else {
      env.DATABASE_URL = (await freshTestDatabaseUrl("api")) ?? "";
    }
    const restored = await reindex(loadConfig({ ...env, WORKERS: "off" }), { logger: pino({ level: "silent" }) });
    try {
      assert.deepEqual(await listItemSerials(restored.db, demo.batch.batchId), serials);
      const restoredEvents = await listBatchEvents(restored.db, demo.batch.batchId);
      assert.deepEqual(
        restoredEvents.map((e) => [
          e.digest,
          e.bizStep,
          e.payloadCid,
          e.chain?.eventHead,
          e.data,
          e.counterparty?.address,
        ]),
        events.map((e) => [e.digest, e.bizStep, e.payloadCid, e.chain?.eventHead, e.data, e.counterparty?.address]),
      );
      // Custody is rebuilt too: each shipping's receiver is an organisation again, and the inspection requests.
      assert.ok(restoredEvents.some((e) => e.counterparty !== null));
      assert.ok(restoredEvents.every((e) => e.counterparty === null || e.counterparty.organisationId !== null));
      const requestFields = (r: InspectionRequest) => [
        r.inspectorAddress,
        r.requestedBy,
        r.requesterAddress,
        r.signature,
        r.nonce,
        r.ledger.state,
      ];
      assert.deepEqual(
        (await listInspectionRequests(restored.db, demo.batch.batchId)).map(requestFields),
        inspectionRequests.map(requestFields),
      );
      const organisations = await restored.db
        .selectFrom("organisations")
        .select("signer_address")
        .orderBy("signer_address")
        .execute();
      assert.deepEqual(organisations, registered, "every organisation the ledger registers, and no other");
    } finally {
      await restored.close();
    }
    // The server runs on the rebuilt store and shows the batch as before.
    server = await start();
    const again = (
      await apiClient(server.url).get<{ batch: Record<string, unknown> }>(`/api/v1/batches/${demo.batch.batchId}`)
    ).body.batch;
    const { createdAt: _a, organisationId: _o, plotId: _p, ...rest } = again;
    const { createdAt: _b, organisationId: _o2, plotId: _p2, ...restBefore } = batch as Record<string, unknown>;
    assert.deepEqual(rest, restBefore);
  });
});
