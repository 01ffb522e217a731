/**
 * 合格证 as signed credentials (issue 14, part 5), through the API against a Hardhat node in
 * its own process: a cooperative certifies part of a batch, anyone reads it and verifies it
 * online (the issuer's key registered on the chain) and offline (given the issuer's key); a
 * tampered document or signature is refused; a stranger and an over-quantity are refused
 * with nothing stored; a retailer holding two batches issues a mixed lot's certificate naming
 * both parents, and its lineage verifies; the A6 PDF's QR code reads back as the page's URL; a
 * batch recalled after its certificate was issued is named by the verifier and the CLI.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { JsonRpcProvider, Wallet } from "ethers";

import { apiClient, expectStatus, type ApiClient } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { DEMO_GTIN, demoUscc } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry } from "../../scripts/lib/local-stack.ts";
import { publicCertificate, type PublicCertificate } from "../../server/src/domain/certificate.ts";
import type { RunningServer } from "../../server/src/server.ts";
import { certificatesOfBatch } from "../../server/src/services/certificates.ts";
import {
  lineageProblems,
  loadFromOrigin,
  recalledInLineage,
  verifyCertificate,
} from "../../server/src/verify/certificate.ts";
import { createRpcClient, encodeBatchCall } from "../../server/src/verify/rpc.ts";
import { settleLedger } from "../e2e/support/settle-ledger.ts";
import { POPPLER, WQY_FONT, ZBAR, decodeQrCodes, haveTools, run } from "../support/label-tools.ts";
import { onboard as onboardParty, registerDemoBatch, type Party } from "../support/onboard.ts";
import { refusalChecker } from "../support/refusals.ts";
import { TEST_DATABASE_URL } from "../support/test-database.ts";
import { startApiTestServer } from "../support/test-server.ts";
import { verifyCertificateCommand } from "../../scripts/tasks/cli/verify-certificate.ts";

const COMPANY_PREFIX = "6901234";

const BODY = { basis: ["self_test", "internal_control"], phone: "0571-8888 1234" };

describe(`合格证: signed certificates with lineage (${TEST_DATABASE_URL === undefined ? "SQLite" : "PostgreSQL"})`, () => {
  let node: ChainNode;
  let provider: JsonRpcProvider;
  let server: RunningServer;
  let dataDir: string;
  let admin: ApiClient;
  let anyone: ApiClient;
  const cast = {} as Record<"cooperative" | "rival" | "retailer", Party>;
  let batchA: string;
  let batchB: string;
  let certA: PublicCertificate;
  let certB: PublicCertificate;

  async function snapshot(): Promise<unknown> {
    const db = server.ctx.db;
    return {
      certificates: await db.selectFrom("certificates").select("id").orderBy("id").execute(),
      batches: await db.selectFrom("certificate_batches").selectAll().orderBy("certificate_id").execute(),
      parents: await db.selectFrom("certificate_parents").selectAll().orderBy("certificate_id").execute(),
      signatureRequests: (await db.selectFrom("signature_requests").select("id").execute()).length,
      auditLog: (await db.selectFrom("audit_log").select("id").execute()).length,
      block: await provider.getBlockNumber(),
    };
  }
  const refusedUnchanged = refusalChecker({ settle: () => settleLedger(server), snapshot });

  const onboard = (kind: string, regionCode: string, serial: number, prefixes?: string[]): Promise<Party> =>
    onboardParty(server.url, admin, {
      kind,
      regionCode,
      serial,
      companyPrefixes: prefixes,
      name: `合格证测试 ${String(serial)}`,
    });

  const registerBatch = (lot: string): Promise<string> =>
    registerDemoBatch(cast.cooperative.api, lot, { quantityKg: "100", itemCount: 2 });

  async function handOver(batchId: string, to: Party): Promise<void> {
    expectStatus(
      await cast.cooperative.api.post(`/api/v1/batches/${batchId}/events`, {
        bizStep: "shipping",
        occurredAt: "2026-04-16T08:00:00+08:00",
        receiver: to.id,
      }),
      202,
      "shipping",
    );
    expectStatus(
      await to.api.post(`/api/v1/batches/${batchId}/events`, {
        bizStep: "receiving",
        occurredAt: "2026-04-16T12:00:00+08:00",
      }),
      202,
      "receiving",
    );
  }

  async function issue(party: Party, batchId: string, value: string): Promise<PublicCertificate> {
    const answer = expectStatus(
      await party.api.post<{ certificate: unknown }>(`/api/v1/batches/${batchId}/certificates`, {
        ...BODY,
        quantity: { value, unit: "kg" },
      }),
      201,
      `certificate of ${value} kg`,
    );
    return publicCertificate.parse(answer.certificate);
  }

  const online = () => ({ mode: "ledger" as const, rpc: createRpcClient(node.rpcUrl) });
  const load = () => loadFromOrigin(server.url);

  before(async () => {
    node = await startChainNode();
    const deployment = await deployLocalRegistry(node.rpcUrl);
    ({ server, dataDir } = await startApiTestServer(deployment.env, "certificates"));
    provider = new JsonRpcProvider(node.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
    admin = apiClient(server.url, deployment.env.ADMIN_TOKEN ?? "");
    anyone = apiClient(server.url);
    cast.cooperative = await onboard("cooperative", "330106", 9_310, [COMPANY_PREFIX]);
    cast.rival = await onboard("cooperative", "330106", 9_311, ["6909999"]);
    cast.retailer = await onboard("retailer", "310101", 9_312);
    expectStatus(
      await cast.cooperative.api.post("/api/v1/products", {
        gtin: DEMO_GTIN,
        name: { zh: "西湖龙井", en: "West Lake Longjing" },
        category: "tea",
        unit: "kg",
      }),
      201,
      "product",
    );
    await settleLedger(server);
    batchA = await registerBatch("CERT-A");
    batchB = await registerBatch("CERT-B");
    await settleLedger(server);
  });

  // Each part may be missing when `before` failed half-way; what was started is still stopped, or the run hangs.
  after(async () => {
    (provider as JsonRpcProvider | undefined)?.destroy();
    await (server as RunningServer | undefined)?.close();
    await (node as ChainNode | undefined)?.stop();
    if ((dataDir as string | undefined) !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  it("issues a batch's certificate that verifies online and offline", async () => {
    certA = await issue(cast.cooperative, batchA, "60");
    const read = publicCertificate.parse(
      expectStatus(await anyone.get(`/api/v1/certificates/${certA.id}`), 200, "read"),
    );
    assert.deepEqual(read, certA);
    assert.equal(read.value.issuer, cast.cooperative.signerAddress);
    assert.deepEqual(read.batchIds, [batchA]);
    assert.equal(read.issuer.ledgerState, "anchored");
    const document = JSON.parse(read.document) as {
      quantity: { milli: string; unit: string };
      promise: { zh: string };
    };
    assert.deepEqual(document.quantity, { milli: "60000", unit: "KGM" });
    assert.match(document.promise.zh, /不使用禁用农药兽药、停用兽药和非法添加物，常规农药兽药残留不超标/);

    const checked = await verifyCertificate(certA.id, { load: load(), issuers: online() });
    assert.deepEqual(lineageProblems(checked), []);
    assert.equal(checked.ok, true);
    assert.equal(checked.issuer, "registered");
    assert.equal(checked.signer?.toLowerCase(), cast.cooperative.signerAddress.toLowerCase());

    const offline = await verifyCertificate(certA.id, {
      load: () => Promise.resolve(read),
      issuers: { mode: "offline", issuers: [cast.cooperative.signerAddress] },
    });
    assert.equal(offline.ok, true);
    assert.equal(offline.issuer, "not_checked");
    const stranger = await verifyCertificate(certA.id, {
      load: () => Promise.resolve(read),
      issuers: { mode: "offline", issuers: [cast.rival.signerAddress] },
    });
    assert.deepEqual(stranger.problems, ["not_expected_issuer"]);
    assert.equal(stranger.ok, false);

    const listed = await certificatesOfBatch(server.ctx, batchA);
    assert.deepEqual(
      listed.map((summary) => [summary.id, summary.quantityMilli, summary.mixed]),
      [[certA.id, 60_000n, false]],
    );
  });

  it("refuses a tampered document, signature or signed field", async () => {
    const tamperedDocument = { ...certA, document: certA.document.replace('"milli":"60000"', '"milli":"90000"') };
    assert.notEqual(tamperedDocument.document, certA.document);
    const byDocument = await verifyCertificate(certA.id, {
      load: () => Promise.resolve(tamperedDocument),
      issuers: online(),
    });
    assert.equal(byDocument.ok, false);
    assert.ok(byDocument.problems.includes("document_hash"), JSON.stringify(byDocument.problems));

    // A signature of the same length by nobody: r flipped in one byte.
    const flipped = `${certA.signature.slice(0, 10)}${certA.signature[10] === "0" ? "1" : "0"}${certA.signature.slice(11)}`;
    const bySignature = await verifyCertificate(certA.id, {
      load: () => Promise.resolve({ ...certA, signature: flipped }),
      issuers: online(),
    });
    assert.equal(bySignature.ok, false);
    assert.ok(bySignature.problems.includes("signature"), JSON.stringify(bySignature.problems));

    const byField = await verifyCertificate(certA.id, {
      load: () => Promise.resolve({ ...certA, value: { ...certA.value, quantityMilli: "90000" } }),
      issuers: online(),
    });
    assert.equal(byField.ok, false);
    assert.ok(byField.problems.includes("field_mismatch") && byField.problems.includes("id_mismatch"));

    // A certificate signed by a key the registry never registered (a well-formed forgery).
    const { TypedDataEncoder } = await import("ethers");
    const forger = Wallet.createRandom();
    const { OFF_CHAIN_TYPES } = await import("../../server/src/domain/typed-data.ts");
    const { keccak256Hex } = await import("../../server/src/verify/bytes.ts");
    const forgedDocument = certA.document.replace(cast.cooperative.signerAddress, forger.address);
    const value = {
      ...certA.value,
      issuer: forger.address,
      documentHash: keccak256Hex(new TextEncoder().encode(forgedDocument)),
    };
    const types = { QualityCertificate: OFF_CHAIN_TYPES.QualityCertificate.map((field) => ({ ...field })) };
    const forged = {
      ...certA,
      id: TypedDataEncoder.hash(certA.domain, types, value),
      value,
      document: forgedDocument,
      signature: await forger.signTypedData(certA.domain, types, value),
      issuer: { ...certA.issuer, signerAddress: forger.address },
    };
    const byForger = await verifyCertificate(forged.id, { load: () => Promise.resolve(forged), issuers: online() });
    assert.deepEqual(byForger.problems, ["issuer_not_registered"]);
    const forgerOffline = await verifyCertificate(forged.id, {
      load: () => Promise.resolve(forged),
      issuers: { mode: "offline", issuers: [cast.cooperative.signerAddress] },
    });
    assert.deepEqual(forgerOffline.problems, ["not_expected_issuer"]);
  });

  it("refuses a stranger, an over-quantity and a wrong unit, storing nothing", async () => {
    await refusedUnchanged(
      "a rival cooperative certifies the batch",
      () =>
        cast.rival.api.post(`/api/v1/batches/${batchA}/certificates`, {
          ...BODY,
          quantity: { value: "1", unit: "kg" },
        }),
      403,
      "certificate.no_custody",
    );
    const over = await refusedUnchanged(
      "60 kg certified, 41 more of a 100 kg batch",
      () =>
        cast.cooperative.api.post(`/api/v1/batches/${batchA}/certificates`, {
          ...BODY,
          quantity: { value: "40.001", unit: "kg" },
        }),
      409,
      "certificate.over_quantity",
    );
    assert.equal((over as unknown as { remainingMilli: string }).remainingMilli, "40000");
    await refusedUnchanged(
      "a certificate in grams of a batch in kilograms",
      () =>
        cast.cooperative.api.post(`/api/v1/batches/${batchA}/certificates`, {
          ...BODY,
          quantity: { value: "5", unit: "g" },
        }),
      400,
      "product.unit_mismatch",
    );
    await refusedUnchanged(
      "issued the day before the harvest",
      () =>
        cast.cooperative.api.post(`/api/v1/batches/${batchA}/certificates`, {
          ...BODY,
          issuedOn: "2026-04-14",
          quantity: { value: "1", unit: "kg" },
        }),
      400,
      "request.invalid",
    );
    await refusedUnchanged(
      "no basis",
      () =>
        cast.cooperative.api.post(`/api/v1/batches/${batchA}/certificates`, {
          ...BODY,
          basis: [],
          quantity: { value: "1", unit: "kg" },
        }),
      400,
      "request.invalid",
    );
    // An organisation holding its own key is judged as a custodial one before its wallet is asked:
    // refused, nothing is prepared for it to sign (certificates-own-wallet.test.ts signs them).
    const ownKey = Wallet.createRandom();
    const walletHolder = expectStatus(
      await admin.post<{ credential: { token: string } }>("/api/v1/organisations", {
        kind: "retailer",
        name: { zh: "自持密钥商店" },
        uscc: demoUscc("91", "310101", 9_313),
        regionCode: "310101",
        signerAddress: ownKey.address,
      }),
      201,
      "own-wallet retailer",
    );
    await refusedUnchanged(
      "an organisation with its own wallet that does not hold the batch",
      () =>
        apiClient(server.url, walletHolder.credential.token).post(`/api/v1/batches/${batchA}/certificates`, {
          ...BODY,
          quantity: { value: "1", unit: "kg" },
        }),
      403,
      "certificate.no_custody",
    );
    // A batch the registry has not accepted yet (its attestation may still fail and the batch be removed).
    await server.ctx.db
      .updateTable("batches")
      .set({ ledger_state: "submitted" })
      .where("batch_id", "=", batchA)
      .execute();
    try {
      await refusedUnchanged(
        "a batch not yet on the ledger",
        () =>
          cast.cooperative.api.post(`/api/v1/batches/${batchA}/certificates`, {
            ...BODY,
            quantity: { value: "1", unit: "kg" },
          }),
        409,
        "certificate.batch_not_anchored",
      );
    } finally {
      await server.ctx.db
        .updateTable("batches")
        .set({ ledger_state: "anchored" })
        .where("batch_id", "=", batchA)
        .execute();
    }
    await refusedUnchanged(
      "no such certificate",
      () => anyone.get(`/api/v1/certificates/0x${"ab".repeat(32)}`),
      404,
      "certificate.not_found",
    );
  });

  it("lets a buyer holding both batches issue a mixed lot's certificate naming both parents", async (t) => {
    certB = await issue(cast.cooperative, batchB, "30");
    await refusedUnchanged(
      "the retailer mixes lots it does not hold yet",
      () =>
        cast.retailer.api.post("/api/v1/certificates", {
          ...BODY,
          parents: [certA.id, certB.id],
          quantity: { value: "90", unit: "kg" },
        }),
      403,
      "certificate.no_custody",
    );
    await handOver(batchA, cast.retailer);
    await handOver(batchB, cast.retailer);
    await refusedUnchanged(
      "more than the parents together",
      () =>
        cast.retailer.api.post("/api/v1/certificates", {
          ...BODY,
          parents: [certA.id, certB.id],
          quantity: { value: "90.5", unit: "kg" },
        }),
      409,
      "certificate.parents_over_quantity",
    );
    await refusedUnchanged(
      "a parent named twice",
      () =>
        cast.retailer.api.post("/api/v1/certificates", {
          ...BODY,
          parents: [certA.id, certA.id],
          quantity: { value: "1", unit: "kg" },
        }),
      400,
      "certificate.parent_invalid",
    );
    await refusedUnchanged(
      "the rival mixes the retailer's lots",
      () =>
        cast.rival.api.post("/api/v1/certificates", {
          ...BODY,
          parents: [certA.id, certB.id],
          quantity: { value: "1", unit: "kg" },
        }),
      403,
      "certificate.no_custody",
    );
    const mixed = publicCertificate.parse(
      expectStatus(
        await cast.retailer.api.post<{ certificate: unknown }>(
          "/api/v1/certificates",
          { ...BODY, basis: ["entrusted_test"], parents: [certA.id, certB.id], quantity: { value: "90", unit: "kg" } },
          { idempotencyKey: "mixed-lot-0001" },
        ),
        201,
        "mixed",
      ).certificate,
    );
    // The same key again answers the same certificate, and stores no second one.
    const again = expectStatus(
      await cast.retailer.api.post<{ certificate: { id: string } }>(
        "/api/v1/certificates",
        { ...BODY, basis: ["entrusted_test"], parents: [certA.id, certB.id], quantity: { value: "90", unit: "kg" } },
        { idempotencyKey: "mixed-lot-0001" },
      ),
      201,
      "mixed again",
    );
    assert.equal(again.certificate.id, mixed.id);
    assert.deepEqual(mixed.parents, [certA.id, certB.id]);
    assert.deepEqual(mixed.batchIds, [batchA, batchB].sort());

    const checked = await verifyCertificate(mixed.id, { load: load(), issuers: online() });
    assert.deepEqual(lineageProblems(checked), []);
    assert.equal(checked.ok, true);
    assert.equal(checked.signer?.toLowerCase(), cast.retailer.signerAddress.toLowerCase());
    assert.deepEqual(
      checked.parents.map((parent) => [parent.id, parent.ok, parent.signer?.toLowerCase()]),
      [
        [certA.id, true, cast.cooperative.signerAddress.toLowerCase()],
        [certB.id, true, cast.cooperative.signerAddress.toLowerCase()],
      ],
    );
    // The CLI: through the platform's /rpc, and offline given the issuer's key.
    const printed: string[] = [];
    const log = t.mock.method(console, "log", (line: string) => printed.push(line));
    assert.equal(await verifyCertificateCommand({ url: `${server.url}/c/${mixed.id}` }), true);
    assert.equal(
      await verifyCertificateCommand({ url: `${server.url}/c/${mixed.id}`, issuer: cast.retailer.signerAddress }),
      true,
    );
    assert.equal(
      await verifyCertificateCommand({ url: `${server.url}/c/${mixed.id}`, issuer: cast.rival.signerAddress }),
      false,
    );
    log.mock.restore();
    assert.match(
      printed[0] ?? "",
      /^VERIFIED 0x[0-9a-f]{64} 西湖龙井 90 kg, .*registered on the ledger\n {2}VERIFIED .*\n {2}VERIFIED /,
    );
    assert.match(printed[1] ?? "", /\(not checked against the ledger\)/);
    assert.match(printed[2] ?? "", /^NOT VERIFIED .*\n {2}- the signer is not the expected issuer/);

    // A parent altered on the way is named, and fails the whole lineage.
    const altered = await verifyCertificate(mixed.id, {
      load: async (id) => {
        const body = await load()(id);
        return id === certB.id ? { ...certB, signature: certA.signature } : body;
      },
      issuers: online(),
    });
    assert.equal(altered.ok, false);
    assert.deepEqual([...new Set(lineageProblems(altered).map((problem) => problem.id))], [certB.id]);
    assert.ok(lineageProblems(altered).some((problem) => problem.problem === "signature"));

    // The parents are given out: repacking the same lots again certifies nothing more.
    const overdrawn = await refusedUnchanged(
      "a second mixed certificate from parents already given out",
      () =>
        cast.retailer.api.post("/api/v1/certificates", {
          ...BODY,
          parents: [certB.id, certA.id],
          quantity: { value: "0.001", unit: "kg" },
        }),
      409,
      "certificate.parents_over_quantity",
    );
    assert.equal((overdrawn as unknown as { remainingMilli: string }).remainingMilli, "0");
    assert.deepEqual(
      (
        await server.ctx.db
          .selectFrom("certificate_parents")
          .select(["parent_id", "quantity_milli"])
          .where("certificate_id", "=", mixed.id)
          .orderBy("position")
          .execute()
      ).map((row) => ({ ...row })),
      [
        { parent_id: certA.id, quantity_milli: "60000" },
        { parent_id: certB.id, quantity_milli: "30000" },
      ],
    );

    // The retailer now holds batch A: it may certify what remains of it, and no more.
    await issue(cast.retailer, batchA, "40");
    await refusedUnchanged(
      "the custodian asks for a gram more than remains",
      () =>
        cast.retailer.api.post(`/api/v1/batches/${batchA}/certificates`, {
          ...BODY,
          quantity: { value: "0.001", unit: "kg" },
        }),
      409,
      "certificate.over_quantity",
    );
    const listed = await certificatesOfBatch(server.ctx, batchA);
    assert.deepEqual(
      listed.map((summary) => summary.mixed),
      [false, true, false],
    );
  });

  it("lets only one of two requests at once take what remains of a batch", async () => {
    // Batch B: 100 kg registered, 30 kg certified; two requests of 40 kg each would make 110.
    const send = () =>
      cast.retailer.api.post(`/api/v1/batches/${batchB}/certificates`, {
        ...BODY,
        quantity: { value: "40", unit: "kg" },
      });
    const answers = await Promise.all([send(), send()]);
    assert.deepEqual(answers.map((answer) => answer.status).sort(), [201, 409]);
    const listed = await certificatesOfBatch(server.ctx, batchB);
    assert.deepEqual(
      listed.filter((summary) => !summary.mixed).map((summary) => summary.quantityMilli),
      [30_000n, 40_000n],
    );
  });

  it("prints an A6 PDF whose QR code reads back as the certificate's page", async (t) => {
    const response = await fetch(`${server.url}/api/v1/certificates/${certA.id}.pdf`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/pdf");
    const pdf = new Uint8Array(await response.arrayBuffer());
    assert.equal(new TextDecoder().decode(pdf.subarray(0, 5)), "%PDF-");
    // Drawn once: a second copy is the same bytes (a drawing again would carry its own creation time).
    const again = await fetch(`${server.url}/api/v1/certificates/${certA.id}.pdf`);
    assert.deepEqual(new Uint8Array(await again.arrayBuffer()), pdf);
    if (!(await haveTools([ZBAR, POPPLER, WQY_FONT], "certificate PDF decoding"))) {
      t.skip("zbar, poppler or the CJK font missing");
      return;
    }
    const dir = mkdtempSync(path.join(tmpdir(), "certificate-pdf-"));
    try {
      writeFileSync(path.join(dir, "c.pdf"), pdf);
      assert.equal(
        (await run("pdftoppm", ["-r", "200", "-gray", "-singlefile", path.join(dir, "c.pdf"), path.join(dir, "page")]))
          .code,
        0,
      );
      assert.deepEqual(await decodeQrCodes(path.join(dir, "page.pgm")), [`${server.ctx.publicOrigin}/c/${certA.id}`]);
      const text = await run("pdftotext", [path.join(dir, "c.pdf"), "-"]);
      assert.match(text.stdout, /承诺达标合格证/);
      assert.match(text.stdout, /西湖龙井/);
      assert.match(text.stdout, /60 千克/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names a batch recalled after its certificate was issued, which stays authentic; the CLI says RECALLED", async (t) => {
    const batchR = await registerBatch("CERT-R");
    await settleLedger(server);
    const certR = await issue(cast.cooperative, batchR, "10");
    const before = await verifyCertificate(certR.id, { load: load(), issuers: online() });
    assert.equal(before.ok, true);
    assert.equal(before.recallsRead, true);
    assert.deepEqual(before.recalledBatches, []);

    expectStatus(
      await cast.cooperative.api.post(`/api/v1/batches/${batchR}/recall`, {
        reason: { zh: "检出农药残留超标", en: "Pesticide residue over the limit" },
      }),
      202,
      "recall",
    );
    await settleLedger(server);
    const after = await verifyCertificate(certR.id, { load: load(), issuers: online() });
    assert.equal(after.ok, true, "a recall later does not make the signed certificate false");
    assert.deepEqual(after.problems, []);
    assert.deepEqual(after.recalledBatches, [batchR]);
    assert.deepEqual(recalledInLineage(after), [batchR]);
    // Offline nothing is read from the chain, and the check says the recalls were not read.
    const offline = await verifyCertificate(certR.id, {
      load: load(),
      issuers: { mode: "offline", issuers: [cast.cooperative.signerAddress] },
    });
    assert.equal(offline.recallsRead, false);
    assert.deepEqual(offline.recalledBatches, []);
    // The ledger answering for the issuer but not for the batch: not verified, and it says why.
    const real = createRpcClient(node.rpcUrl);
    const batchesRefused = await verifyCertificate(certR.id, {
      load: load(),
      issuers: {
        mode: "ledger",
        rpc: {
          chainId: () => real.chainId(),
          ethCall: (to, data) =>
            data.startsWith(encodeBatchCall(batchR).slice(0, 10))
              ? Promise.reject(new Error("the node refused the batch read"))
              : real.ethCall(to, data),
        },
      },
    });
    assert.equal(batchesRefused.ok, false);
    assert.deepEqual(batchesRefused.problems, ["batch_unreadable"]);
    assert.equal(batchesRefused.recallsRead, false);

    const printed: string[] = [];
    const log = t.mock.method(console, "log", (line: string) => printed.push(line));
    const verdict = await verifyCertificateCommand({ url: `${server.url}/c/${certR.id}` });
    // A certificate of another batch, not recalled, still verifies plainly.
    const plain = await verifyCertificateCommand({ url: `${server.url}/c/${certA.id}` });
    log.mock.restore();
    assert.equal(plain, true);
    assert.doesNotMatch(printed[1] ?? "", /RECALLED|recalled/);
    assert.equal(verdict, "recalled");
    assert.match(printed[0] ?? "", /^VERIFIED 0x[0-9a-f]{64} .*\n {2}- batch 0x[0-9a-f]{64} is recalled on the ledger/);
    assert.match(printed[0] ?? "", /\nRECALLED: 1 batch\(es\)/);
  });
});
