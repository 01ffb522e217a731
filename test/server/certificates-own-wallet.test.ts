/**
 * 合格证 issued by organisations that hold their own key, through the API against a Hardhat
 * node in its own process: each issuing request answers a signature request for the
 * `QualityCertificate` struct (nothing stored), signed here with ethers' `Wallet.signTypedData`
 * as a wallet would, and the certificate is stored when the signature comes back, exactly as a
 * custodial one is: same public JSON, id (the struct's EIP-712 digest), PDF, and it verifies.
 * An own-key cooperative certifies its batch; an own-key processor holding two batches issues a
 * repacked lot's certificate naming both parents. Refused at submission with nothing stored
 * (the request stays open): a signature by another key, a request whose mass balance another
 * certificate took meanwhile, and one whose batch was handed over meanwhile (the shop that
 * received it then certifies the rest with its custodial key); another organisation's request
 * is not found; the same signature posted twice at once stores one certificate. A cooperative
 * whose key is a contract wallet (ERC-1271) issues one its owner signs: verified online, where
 * the verifier asks the wallet, and not offline, where nothing can.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";

import { ContractFactory, JsonRpcProvider, TypedDataEncoder, Wallet, type HDNodeWallet } from "ethers";

import { apiClient, expectStatus, type ApiClient, type ApiResponse } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { DEMO_GTIN } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry, devAccount } from "../../scripts/lib/local-stack.ts";
import { publicCertificate, type PublicCertificate } from "../../server/src/domain/certificate.ts";
import { gtinCheckDigit } from "../../server/src/domain/gs1.ts";
import { loadArtifact } from "../../server/src/ledger/registry-artifact.ts";
import type { RunningServer } from "../../server/src/server.ts";
import type { SignatureRequest } from "../../server/src/services/signature-requests.ts";
import { lineageProblems, loadFromOrigin, verifyCertificate } from "../../server/src/verify/certificate.ts";
import { createRpcClient } from "../../server/src/verify/rpc.ts";
import { settleLedger } from "../e2e/support/settle-ledger.ts";
import { onboard as onboardParty, type Party } from "../support/onboard.ts";
import type { Problem } from "../support/problems.ts";
import { refusalChecker } from "../support/refusals.ts";
import { TEST_DATABASE_URL } from "../support/test-database.ts";
import { startApiTestServer } from "../support/test-server.ts";

const COMPANY_PREFIX = "6901234";
const BODY = { basis: ["self_test", "internal_control"], phone: "0571-8888 1234" };

type Prepared = { signatureRequest: SignatureRequest };
interface Issued {
  certificate: unknown;
  url: string;
  pdfUrl: string;
  pageUrl: string;
}

describe(`合格证 signed in an organisation's own wallet (${TEST_DATABASE_URL === undefined ? "SQLite" : "PostgreSQL"})`, () => {
  let node: ChainNode;
  let provider: JsonRpcProvider;
  let server: RunningServer;
  let dataDir: string;
  let admin: ApiClient;
  let anyone: ApiClient;
  const cast = {} as Record<"cooperative" | "processor" | "shop" | "rival", Party>;
  const wallets = { cooperative: Wallet.createRandom(), processor: Wallet.createRandom() };
  let batchA: string;
  let batchB: string;
  let certA: PublicCertificate;
  let certB: PublicCertificate;

  async function snapshot() {
    const db = server.ctx.db;
    return {
      certificates: await db.selectFrom("certificates").select("id").orderBy("id").execute(),
      batches: await db.selectFrom("certificate_batches").selectAll().orderBy("certificate_id").execute(),
      parents: await db.selectFrom("certificate_parents").selectAll().orderBy("certificate_id").execute(),
      requests: await db.selectFrom("signature_requests").select(["id", "completed_at_ms"]).orderBy("id").execute(),
      auditLog: (await db.selectFrom("audit_log").select("id").execute()).length,
      block: await provider.getBlockNumber(),
    };
  }
  const settle = (): Promise<void> => settleLedger(server);
  const refusedUnchanged = refusalChecker({ settle, snapshot });

  const sign = (wallet: Wallet | HDNodeWallet, request: SignatureRequest): Promise<string> =>
    wallet.signTypedData(request.typedData.domain, request.typedData.types, request.typedData.message);

  /** The signature request an own-key organisation's write answers with. */
  function prepared(answer: ApiResponse, kind: string, what: string): SignatureRequest {
    const { signatureRequest } = expectStatus(answer as ApiResponse<Prepared>, 201, what);
    assert.equal(signatureRequest.kind, kind, what);
    assert.equal(answer.headers.get("location"), signatureRequest.submitUrl, what);
    return signatureRequest;
  }

  /** A write by an own-key organisation: prepared, signed in its wallet, submitted. */
  async function signedWrite(
    party: Party,
    wallet: HDNodeWallet,
    path: string,
    body: unknown,
    kind: string,
    what: string,
  ): Promise<void> {
    const request = prepared(await party.api.post(path, body), kind, `prepare ${what}`);
    expectStatus(await party.api.post(request.submitUrl, { signature: await sign(wallet, request) }), 202, what);
  }

  async function registerBatch(lot: string): Promise<string> {
    const request = prepared(
      await cast.cooperative.api.post("/api/v1/batches", {
        gtin: DEMO_GTIN,
        lot,
        harvestedAt: "2026-04-15T06:00:00+08:00",
        quantity: { value: "100", unit: "kg" },
        itemCount: 2,
      }),
      "attestation",
      `prepare batch ${lot}`,
    );
    const { batch } = expectStatus(
      await cast.cooperative.api.post<{ batch: { batchId: string } }>(request.submitUrl, {
        signature: await sign(wallets.cooperative, request),
      }),
      202,
      `batch ${lot}`,
    );
    return batch.batchId;
  }

  /** The own-key cooperative ships the batch to the own-key processor, which receives it: both signed in their wallets. */
  async function handToProcessor(batchId: string): Promise<void> {
    const events = `/api/v1/batches/${batchId}/events`;
    await signedWrite(
      cast.cooperative,
      wallets.cooperative,
      events,
      { bizStep: "shipping", occurredAt: "2026-04-16T08:00:00+08:00", receiver: cast.processor.id, data: {} },
      "event",
      "the cooperative ships to the processor",
    );
    await signedWrite(
      cast.processor,
      wallets.processor,
      events,
      { bizStep: "receiving", occurredAt: "2026-04-16T12:00:00+08:00", data: {} },
      "event",
      "the processor receives",
    );
    await settle();
  }

  /** Submits the wallet's signature; the stored certificate as the public JSON answers it. */
  async function submit(
    party: Party,
    wallet: Wallet | HDNodeWallet,
    request: SignatureRequest,
  ): Promise<PublicCertificate> {
    const answer = await party.api.post<Issued>(request.submitUrl, { signature: await sign(wallet, request) });
    const issued = expectStatus(answer, 201, `submit ${request.id}`);
    const certificate = publicCertificate.parse(issued.certificate);
    assert.equal(issued.url, `/api/v1/certificates/${certificate.id}`);
    assert.equal(answer.headers.get("location"), issued.url);
    assert.equal(issued.pdfUrl, `${issued.url}.pdf`);
    assert.equal(issued.pageUrl, `${server.ctx.publicOrigin}/c/${certificate.id}`);
    // The id is the EIP-712 digest of exactly what the wallet was given to sign.
    assert.equal(
      certificate.id,
      TypedDataEncoder.hash(request.typedData.domain, request.typedData.types, request.typedData.message),
    );
    return certificate;
  }

  const batchCertificate = (party: Party, batchId: string, value: string) =>
    party.api.post(`/api/v1/batches/${batchId}/certificates`, { ...BODY, quantity: { value, unit: "kg" } });

  const online = () => ({ mode: "ledger" as const, rpc: createRpcClient(node.rpcUrl) });
  const load = () => loadFromOrigin(server.url);

  before(async () => {
    node = await startChainNode();
    const deployment = await deployLocalRegistry(node.rpcUrl);
    ({ server, dataDir } = await startApiTestServer(deployment.env, "certificates_own_wallet"));
    provider = new JsonRpcProvider(node.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
    admin = apiClient(server.url, deployment.env.ADMIN_TOKEN ?? "");
    anyone = apiClient(server.url);
    const onboard = (kind: string, regionCode: string, serial: number, extra: Record<string, unknown> = {}) =>
      onboardParty(server.url, admin, { kind, regionCode, serial, name: `自持密钥合格证 ${String(serial)}`, ...extra });
    cast.cooperative = await onboard("cooperative", "330106", 9_450, {
      companyPrefixes: [COMPANY_PREFIX],
      signerAddress: wallets.cooperative.address,
    });
    cast.processor = await onboard("processor", "330106", 9_451, { signerAddress: wallets.processor.address });
    cast.shop = await onboard("retailer", "310101", 9_452);
    cast.rival = await onboard("cooperative", "330106", 9_453, { companyPrefixes: ["6909999"] });
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
    await settle();
    batchA = await registerBatch("OWN-CERT-A");
    batchB = await registerBatch("OWN-CERT-B");
    await settle();
  });

  after(async () => {
    (provider as JsonRpcProvider | undefined)?.destroy();
    await (server as RunningServer | undefined)?.close();
    await (node as ChainNode | undefined)?.stop();
    if ((dataDir as string | undefined) !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  it("issues a batch's certificate signed in the cooperative's wallet, verified as a custodial one", async () => {
    const before = await snapshot();
    const answer = await batchCertificate(cast.cooperative, batchA, "60");
    const request = prepared(answer, "quality_certificate", "prepare the certificate");
    assert.equal(request.typedData.primaryType, "QualityCertificate");
    assert.deepEqual(Object.keys(request.typedData.types), ["QualityCertificate"]);
    assert.equal(String(request.typedData.message.issuer).toLowerCase(), wallets.cooperative.address.toLowerCase());
    assert.equal(request.typedData.message.quantityMilli, "60000");
    assert.equal(request.typedData.message.gtin, BigInt(DEMO_GTIN).toString());
    // Prepared, not stored: no certificate until the wallet signs.
    const afterPreparing = await snapshot();
    assert.deepEqual(
      [afterPreparing.certificates, afterPreparing.batches, afterPreparing.parents, afterPreparing.block],
      [before.certificates, before.batches, before.parents, before.block],
    );
    assert.equal(afterPreparing.requests.length, before.requests.length + 1);
    // The organisation reads its request back as it was answered.
    const read = expectStatus(
      await cast.cooperative.api.get<{ signatureRequest: SignatureRequest; completed: boolean }>(request.submitUrl),
      200,
      "read the request",
    );
    assert.deepEqual(read, { signatureRequest: request, completed: false });

    certA = await submit(cast.cooperative, wallets.cooperative, request);
    assert.equal(certA.value.issuer.toLowerCase(), wallets.cooperative.address.toLowerCase());
    assert.equal(certA.signature, await sign(wallets.cooperative, request));
    assert.deepEqual(certA.batchIds, [batchA]);
    assert.deepEqual(certA.parents, []);
    assert.deepEqual(
      publicCertificate.parse(expectStatus(await anyone.get(`/api/v1/certificates/${certA.id}`), 200, "read")),
      certA,
    );
    const completed = expectStatus(
      await cast.cooperative.api.get<{ completed: boolean }>(request.submitUrl),
      200,
      "read the request again",
    );
    assert.equal(completed.completed, true);
    // Submitted twice: the request is spent, and no second certificate is stored.
    const again = await cast.cooperative.api.post<Problem>(request.submitUrl, {
      signature: await sign(wallets.cooperative, request),
    });
    assert.equal(again.status, 409, JSON.stringify(again.body));
    assert.equal(again.body.code, "idempotency.conflict");

    const checked = await verifyCertificate(certA.id, { load: load(), issuers: online() });
    assert.deepEqual(lineageProblems(checked), []);
    assert.equal(checked.ok, true);
    assert.equal(checked.issuer, "registered");
    assert.equal(checked.signer?.toLowerCase(), wallets.cooperative.address.toLowerCase());
    const offline = await verifyCertificate(certA.id, {
      load: load(),
      issuers: { mode: "offline", issuers: [wallets.cooperative.address] },
    });
    assert.equal(offline.ok, true);
    const pdf = await fetch(`${server.url}/api/v1/certificates/${certA.id}.pdf`);
    assert.equal(pdf.status, 200);
    assert.equal(pdf.headers.get("content-type"), "application/pdf");
    assert.equal(new TextDecoder().decode(new Uint8Array(await pdf.arrayBuffer()).subarray(0, 5)), "%PDF-");
  });

  it("refuses a signature by another key and another organisation's request, storing nothing", async () => {
    const request = prepared(
      await batchCertificate(cast.cooperative, batchB, "1"),
      "quality_certificate",
      "prepare a certificate of 1 kg",
    );
    const forged = await sign(wallets.processor, request);
    await refusedUnchanged(
      "a certificate signed by another organisation's key",
      () => cast.cooperative.api.post(request.submitUrl, { signature: forged }),
      400,
      "signature.invalid",
    );
    const genuine = await sign(wallets.cooperative, request);
    await refusedUnchanged(
      "another organisation posts the cooperative's signature to its request",
      () => cast.rival.api.post(request.submitUrl, { signature: genuine }),
      404,
      "draft.not_found",
    );
    await refusedUnchanged(
      "another organisation reads the cooperative's request",
      () => cast.rival.api.get(request.submitUrl),
      404,
      "draft.not_found",
    );
    // Not spent by the refusals: left unsigned, it takes nothing from the batch (the next test counts on that).
  });

  it("refuses at submission a certificate whose batch another certificate took meanwhile", async () => {
    // Batch B: 100 kg, nothing certified yet; 70 kg and 40 kg are each within it when prepared.
    const larger = prepared(
      await batchCertificate(cast.cooperative, batchB, "70"),
      "quality_certificate",
      "prepare 70 kg",
    );
    const smaller = prepared(
      await batchCertificate(cast.cooperative, batchB, "40"),
      "quality_certificate",
      "prepare 40 kg",
    );
    certB = await submit(cast.cooperative, wallets.cooperative, smaller);
    const signature = await sign(wallets.cooperative, larger);
    const over = await refusedUnchanged(
      "70 kg signed after 40 kg of the 100 kg batch were certified",
      () => cast.cooperative.api.post(larger.submitUrl, { signature }),
      409,
      "certificate.over_quantity",
    );
    assert.equal((over as unknown as { remainingMilli: string }).remainingMilli, "60000");
    const open = expectStatus(
      await cast.cooperative.api.get<{ completed: boolean }>(larger.submitUrl),
      200,
      "the refused request",
    );
    assert.equal(open.completed, false);
    // Refused at preparation as the custodial path is: nothing prepared.
    await refusedUnchanged(
      "61 kg of the 60 kg that remain",
      () => batchCertificate(cast.cooperative, batchB, "61"),
      409,
      "certificate.over_quantity",
    );
  });

  it("stores one certificate when the same signature is posted twice at once", async () => {
    const request = prepared(
      await batchCertificate(cast.cooperative, batchB, "1"),
      "quality_certificate",
      "prepare 1 kg",
    );
    const signature = await sign(wallets.cooperative, request);
    const answers = await Promise.all([
      cast.cooperative.api.post<Problem>(request.submitUrl, { signature }),
      cast.cooperative.api.post<Problem>(request.submitUrl, { signature }),
    ]);
    assert.deepEqual(
      answers.map((answer) => answer.status).sort(),
      [201, 409],
      JSON.stringify(answers.map((answer) => answer.body)),
    );
    assert.equal(answers.find((answer) => answer.status === 409)?.body.code, "idempotency.conflict");
    const id = TypedDataEncoder.hash(request.typedData.domain, request.typedData.types, request.typedData.message);
    const stored = await server.ctx.db.selectFrom("certificates").select("id").where("id", "=", id).execute();
    assert.equal(stored.length, 1);
  });

  it("lets an own-key processor holding both batches issue a mixed lot's certificate naming both parents", async () => {
    const body = { ...BODY, parents: [certA.id, certB.id], quantity: { value: "100", unit: "kg" } };
    await refusedUnchanged(
      "the processor mixes lots it does not hold yet",
      () => cast.processor.api.post("/api/v1/certificates", body),
      403,
      "certificate.no_custody",
    );
    await handToProcessor(batchA);
    await handToProcessor(batchB);
    await refusedUnchanged(
      "more than the parents together",
      () => cast.processor.api.post("/api/v1/certificates", { ...body, quantity: { value: "100.001", unit: "kg" } }),
      409,
      "certificate.parents_over_quantity",
    );
    const first = await cast.processor.api.post("/api/v1/certificates", body, { idempotencyKey: "own-mixed-0001" });
    const request = prepared(first, "quality_certificate", "prepare the mixed certificate");
    // The same key again answers the same request, and prepares no second one.
    const replayed = await cast.processor.api.post<Prepared>("/api/v1/certificates", body, {
      idempotencyKey: "own-mixed-0001",
    });
    assert.deepEqual(expectStatus(replayed, 201, "the same key again").signatureRequest, request);
    assert.equal(replayed.headers.get("idempotent-replayed"), "true");

    const mixed = await submit(cast.processor, wallets.processor, request);
    assert.deepEqual(mixed.parents, [certA.id, certB.id]);
    assert.deepEqual(mixed.batchIds, [batchA, batchB].sort());
    assert.equal(mixed.value.issuer.toLowerCase(), wallets.processor.address.toLowerCase());
    const checked = await verifyCertificate(mixed.id, { load: load(), issuers: online() });
    assert.deepEqual(lineageProblems(checked), []);
    assert.equal(checked.ok, true);
    assert.deepEqual(
      checked.parents.map((parent) => [parent.id, parent.ok, parent.signer?.toLowerCase()]),
      [
        [certA.id, true, wallets.cooperative.address.toLowerCase()],
        [certB.id, true, wallets.cooperative.address.toLowerCase()],
      ],
    );
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
        { parent_id: certB.id, quantity_milli: "40000" },
      ],
    );
  });

  it("refuses at submission a certificate whose batch was handed over meanwhile; the new custodian certifies it", async () => {
    // The processor holds batch A (60 of its 100 kg certified) and prepares a certificate of the rest.
    const request = prepared(
      await batchCertificate(cast.processor, batchA, "40"),
      "quality_certificate",
      "prepare the processor's 40 kg",
    );
    await signedWrite(
      cast.processor,
      wallets.processor,
      `/api/v1/batches/${batchA}/events`,
      { bizStep: "shipping", occurredAt: "2026-04-17T08:00:00+08:00", receiver: cast.shop.id, data: {} },
      "event",
      "the processor ships batch A to the shop",
    );
    expectStatus(
      await cast.shop.api.post(`/api/v1/batches/${batchA}/events`, {
        bizStep: "receiving",
        occurredAt: "2026-04-17T12:00:00+08:00",
        data: {},
      }),
      202,
      "the shop receives batch A",
    );
    await settle();
    const signature = await sign(wallets.processor, request);
    await refusedUnchanged(
      "a certificate signed by the processor after it handed the batch over",
      () => cast.processor.api.post(request.submitUrl, { signature }),
      403,
      "certificate.no_custody",
    );
    // The refusal took nothing: the shop (custodial key) certifies the 40 kg that remain.
    const custodial = publicCertificate.parse(
      expectStatus(
        await cast.shop.api.post<Issued>(`/api/v1/batches/${batchA}/certificates`, {
          ...BODY,
          quantity: { value: "40", unit: "kg" },
        }),
        201,
        "the shop's certificate",
      ).certificate,
    );
    // A custodial certificate and a wallet-signed one read alike.
    assert.deepEqual(Object.keys(custodial), Object.keys(certA));
    assert.deepEqual(Object.keys(custodial.value), Object.keys(certA.value));
    assert.deepEqual(custodial.domain, certA.domain);
    const checked = await verifyCertificate(custodial.id, { load: load(), issuers: online() });
    assert.equal(checked.ok, true, JSON.stringify(lineageProblems(checked)));
  });
  it("issues a certificate for a cooperative whose key is a contract wallet (ERC-1271), verified online by asking it", async () => {
    // The wallet accepts exactly its owner's 65-byte signatures, as a 1-of-1 Safe would.
    const owner = Wallet.createRandom();
    const artifact = loadArtifact("test/OwnerSignedWallet.sol", "OwnerSignedWallet");
    const deployed = await new ContractFactory(artifact.abi, artifact.bytecode, devAccount(9).connect(provider)).deploy(
      owner.address,
    );
    await deployed.waitForDeployment();
    const walletAddress = await deployed.getAddress();
    const prefix = "6905555";
    const body = `0${prefix}00001`;
    const gtin = `${body}${String(gtinCheckDigit(body))}`;
    const federation = await onboardParty(server.url, admin, {
      kind: "cooperative",
      regionCode: "330106",
      serial: 9_454,
      name: "合约钱包合作社",
      companyPrefixes: [prefix],
      signerAddress: walletAddress,
    });
    expectStatus(
      await federation.api.post("/api/v1/products", { gtin, name: { zh: "梅家坞龙井" }, category: "tea", unit: "kg" }),
      201,
      "product",
    );
    await settle();
    const attestation = prepared(
      await federation.api.post("/api/v1/batches", {
        gtin,
        lot: "SAFE-CERT-1",
        harvestedAt: "2026-04-15T06:00:00+08:00",
        quantity: { value: "10", unit: "kg" },
        itemCount: 2,
      }),
      "attestation",
      "prepare the federation's batch",
    );
    const { batch } = expectStatus(
      await federation.api.post<{ batch: { batchId: string } }>(attestation.submitUrl, {
        signature: await sign(owner, attestation),
      }),
      202,
      "the federation's batch",
    );
    await settle();
    const request = prepared(
      await batchCertificate(federation, batch.batchId, "10"),
      "quality_certificate",
      "prepare the federation's certificate",
    );
    assert.equal(String(request.typedData.message.issuer).toLowerCase(), walletAddress.toLowerCase());
    const certificate = await submit(federation, owner, request);
    assert.equal(certificate.value.issuer.toLowerCase(), walletAddress.toLowerCase());

    const checked = await verifyCertificate(certificate.id, { load: load(), issuers: online() });
    assert.deepEqual(lineageProblems(checked), []);
    assert.equal(checked.signer?.toLowerCase(), walletAddress.toLowerCase());
    assert.equal(checked.issuer, "registered");
    // Offline nothing can ask the wallet: the owner's signature is not the issuer's (docs/certificate.md, What is left).
    const offline = await verifyCertificate(certificate.id, {
      load: load(),
      issuers: { mode: "offline", issuers: [walletAddress] },
    });
    assert.ok(offline.problems.includes("signature"), JSON.stringify(offline.problems));
  });
});
