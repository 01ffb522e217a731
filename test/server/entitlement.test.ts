/**
 * GTIN entitlement (issue #12, item 1) through the API against a Hardhat node in its own
 * process: a GTIN is usable only by the organisation its company prefix (or the GTIN
 * itself) is bound to, and by those its owner granted it; the registry refuses the same
 * batches, so a relayer cannot anchor a squatted lot either. Every refusal is checked to
 * leave the store and the chain as they were.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { JsonRpcProvider, Wallet, type Contract } from "ethers";
import { pino } from "pino";

import { apiClient, expectStatus, type ApiClient, type ApiResponse } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { DEMO_COMPANY_PREFIX, DEMO_GTIN, demoUscc } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry } from "../../scripts/lib/local-stack.ts";
import { gtinCheckDigit } from "../../server/src/domain/gs1.ts";
import { buildItemTree } from "../../server/src/domain/merkle.ts";
import { generateSerials } from "../../server/src/domain/serials.ts";
import { traceRegistryAt } from "../../server/src/ledger/deploy.ts";
import { decodeRevert } from "../../server/src/ledger/contract-errors.ts";
import { traceRegistryInterface } from "../../server/src/ledger/registry-artifact.ts";
import { signTyped } from "../../server/src/ledger/signing.ts";
import { loadConfig } from "../../server/src/config.ts";
import { reindex } from "../../server/src/reindex.ts";
import type { RunningServer } from "../../server/src/server.ts";
import { settleLedger } from "../e2e/support/settle-ledger.ts";
import { onboard as onboardParty, type Party } from "../support/onboard.ts";
import { refusalChecker } from "../support/refusals.ts";
import { freshTestDatabaseUrl, TEST_DATABASE_URL } from "../support/test-database.ts";
import { startTestServer } from "../support/test-server.ts";

type Org = Party;

const PLATFORM_PREFIX = "6950000";

/** A GTIN-14 with its check digit from the 13 digits before it. */
function gtinOf(body13: string): string {
  return `${body13}${String(gtinCheckDigit(body13))}`;
}

describe(`GTIN entitlement (${TEST_DATABASE_URL === undefined ? "SQLite" : "PostgreSQL"})`, () => {
  let node: ChainNode;
  let provider: JsonRpcProvider;
  let server: RunningServer;
  let dataDir: string;
  let env: Record<string, string>;
  let admin: ApiClient;
  let adminToken = "";
  let registry: Contract;
  let relayerKey: string;
  /** The West Lake cooperative: owns the demo's prefix 6901234 and its product. */
  let victim: Org;
  /** A second cooperative with a prefix of its own (6909999). */
  let rival: Org;
  /** A cooperative without GS1 membership, packing for others. */
  let packer: Org;
  let serial = 9_300;

  function onboard(name: string, companyPrefixes?: string[]): Promise<Org> {
    serial += 1;
    return onboardParty(server.url, admin, {
      kind: "cooperative",
      regionCode: "330106",
      serial,
      name,
      companyPrefixes,
    });
  }

  async function del(path: string, token: string): Promise<ApiResponse> {
    const response = await fetch(new URL(path, server.url), {
      method: "DELETE",
      headers: { authorization: `Bearer ${token}`, accept: "application/json" },
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text === "" ? null : (JSON.parse(text) as unknown),
      headers: response.headers,
    };
  }

  const batchBody = (gtin: string, lot: string) => ({
    gtin,
    lot,
    harvestedAt: "2026-04-15T06:00:00+08:00",
    quantity: { value: "2", unit: "kg" },
    itemCount: 2,
  });

  /** What a refusal must not change: every table a write touches, and the chain's height and logs. */
  async function snapshot(): Promise<unknown> {
    const db = server.ctx.db;
    const head = await provider.getBlockNumber();
    return {
      organisations: await db.selectFrom("organisations").select(["id", "status"]).orderBy("id").execute(),
      products: await db.selectFrom("products").select("gtin").orderBy("gtin").execute(),
      batches: await db.selectFrom("batches").select(["batch_id", "ledger_state"]).orderBy("batch_id").execute(),
      items: (await db.selectFrom("items").select("serial").execute()).length,
      prefixes: await db
        .selectFrom("company_prefix_bindings")
        .select(["id", "prefix", "released_at_ms", "ledger_state"])
        .orderBy("id")
        .execute(),
      gtins: await db.selectFrom("gtin_bindings").select(["id", "released_at_ms"]).orderBy("id").execute(),
      grants: await db.selectFrom("gtin_grants").select(["id", "withdrawn_at_ms"]).orderBy("id").execute(),
      outbox: await db.selectFrom("outbox").select(["id", "state"]).orderBy("id").execute(),
      auditLog: (await db.selectFrom("audit_log").select("id").execute()).length,
      signatureRequests: (await db.selectFrom("signature_requests").select("id").execute()).length,
      block: head,
      logs: (await provider.getLogs({ address: registry.target as string, fromBlock: 0, toBlock: head })).length,
    };
  }

  const refusedUnchanged = refusalChecker({ settle: () => settleLedger(server), snapshot });

  async function ledgerStateOf(batchId: string): Promise<string> {
    const row = await server.ctx.db
      .selectFrom("batches")
      .select("ledger_state")
      .where("batch_id", "=", batchId)
      .executeTakeFirstOrThrow();
    return row.ledger_state;
  }

  before(async () => {
    node = await startChainNode();
    const deployment = await deployLocalRegistry(node.rpcUrl);
    relayerKey = deployment.env.RELAYER_PRIVATE_KEY ?? "";
    const databaseUrl = await freshTestDatabaseUrl("entitlement");
    ({ server, dataDir, env } = await startTestServer(deployment.env, "entitlement", {
      PLATFORM_COMPANY_PREFIX: PLATFORM_PREFIX,
      PLATFORM_PREFIX_EXTRA_DIGITS: "3",
      ...(databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl }),
    }));
    provider = new JsonRpcProvider(node.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
    registry = traceRegistryAt(deployment.registry, new Wallet(relayerKey, provider));
    adminToken = deployment.env.ADMIN_TOKEN ?? "";
    admin = apiClient(server.url, adminToken);
    victim = await onboard("西湖龙井茶叶专业合作社", [DEMO_COMPANY_PREFIX]);
    rival = await onboard("对手合作社", ["6909999"]);
    packer = await onboard("代工合作社");
    expectStatus(
      await victim.api.post("/api/v1/products", {
        gtin: DEMO_GTIN,
        name: { zh: "西湖龙井" },
        category: "tea",
        unit: "kg",
      }),
      201,
      "the victim's product",
    );
    const batch = expectStatus(
      await victim.api.post<{ batch: { batchId: string } }>("/api/v1/batches", batchBody(DEMO_GTIN, "LJ2026-01")),
      202,
      "the victim's batch",
    ).batch;
    await settleLedger(server);
    assert.equal(await ledgerStateOf(batch.batchId), "anchored");
  });

  after(async () => {
    provider.destroy();
    await server.close();
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("binds each onboarded cooperative's prefix on chain, and says who owns a GTIN", async () => {
    const onChain = async (prefix: string): Promise<string> =>
      (await registry.getFunction("companyPrefixOwner")(BigInt(prefix), prefix.length)) as string;
    assert.equal((await onChain(DEMO_COMPANY_PREFIX)).toLowerCase(), victim.signerAddress.toLowerCase());
    assert.equal((await onChain("6909999")).toLowerCase(), rival.signerAddress.toLowerCase());
    const entitlement = expectStatus(
      await apiClient(server.url).get<{
        entitlement: { owner: { organisationId: string; source: string; prefix: string }; ledgerState: string };
      }>(`/api/v1/products/${DEMO_GTIN}/entitlement`),
      200,
      "entitlement",
    ).entitlement;
    assert.deepEqual(entitlement.owner, {
      organisationId: victim.id,
      source: "company_prefix",
      prefix: DEMO_COMPANY_PREFIX,
    });
    assert.equal(entitlement.ledgerState, "anchored");
    const unbound = expectStatus(
      await apiClient(server.url).get<{ entitlement: { owner: null } }>(
        `/api/v1/products/${gtinOf("0680000000001")}/entitlement`,
      ),
      200,
      "unbound",
    );
    assert.equal(unbound.entitlement.owner, null);
  });

  it("refuses a rival's batch under the victim's GTIN, and so does the registry when relayed directly", async () => {
    await refusedUnchanged(
      "a rival's batch of the victim's GTIN",
      () => rival.api.post("/api/v1/batches", batchBody(DEMO_GTIN, "LJ2026-SQUAT")),
      403,
      "gtin.not_entitled",
    );
    // The rival's own key signs the squatting attestation; the relayer submits it straight to the registry.
    const row = await server.ctx.db
      .selectFrom("organisations")
      .select("keystore_json")
      .where("id", "=", rival.id)
      .executeTakeFirstOrThrow();
    const rivalKey = await server.ctx.keyRing.unlock(row.keystore_json ?? "");
    const serials = generateSerials(2);
    const value = {
      attester: rivalKey.address,
      gtin: BigInt(DEMO_GTIN),
      lot: "LJ2026-SQUAT",
      itemsRoot: buildItemTree(serials).root,
      itemCount: 2n,
      quantityMilli: 2_000n,
      unit: "KGM",
      harvestedAt: BigInt(Math.floor(Date.now() / 1000) - 86_400),
      metadataCid: `0x01551220${"07".repeat(32)}`,
      nonce: 900n,
      deadline: BigInt(Math.floor(Date.now() / 1000) + 3_600),
    };
    const signature = await signTyped(rivalKey, server.ctx.domain, "BatchAttestation", value);
    const before = await snapshot();
    await assert.rejects(
      registry.getFunction("attestBatches").staticCall([{ ...value, signature }]),
      (error: unknown) => decodeRevert(traceRegistryInterface(), error)?.name === "RegistryGtinNotEntitled",
    );
    assert.deepEqual(await snapshot(), before);
  });

  it("refuses a rival's product under the victim's prefix", async () => {
    await refusedUnchanged(
      "a rival's product of the victim's prefix",
      () =>
        rival.api.post("/api/v1/products", {
          gtin: gtinOf("0690123400017"),
          name: { zh: "冒名龙井" },
          category: "tea",
          unit: "kg",
        }),
      403,
      "gtin.not_entitled",
    );
    // Its own prefix is its to use.
    expectStatus(
      await rival.api.post("/api/v1/products", {
        gtin: gtinOf("0690999900011"),
        name: { zh: "对手的茶" },
        category: "tea",
        unit: "kg",
      }),
      201,
      "the rival's own product",
    );
  });

  it("lets the owner grant a GTIN to a contract packer, whose batch is accepted and anchored, and withdraw it", async () => {
    await refusedUnchanged(
      "the packer's batch before any grant",
      () => packer.api.post("/api/v1/batches", batchBody(DEMO_GTIN, "PACK-0")),
      403,
      "gtin.not_entitled",
    );
    await refusedUnchanged(
      "a grant by an organisation that does not own the GTIN",
      () => rival.api.post(`/api/v1/products/${DEMO_GTIN}/grants`, { grantee: packer.id }),
      403,
      "gtin.not_owner",
    );
    const grant = expectStatus(
      await victim.api.post<{ grant: { granteeOrganisationId: string; ledgerState: string } }>(
        `/api/v1/products/${DEMO_GTIN}/grants`,
        { grantee: packer.id },
      ),
      202,
      "grant",
    ).grant;
    assert.equal(grant.granteeOrganisationId, packer.id);
    assert.equal(grant.ledgerState, "pending");
    await refusedUnchanged(
      "a grantee passing the GTIN on",
      () => packer.api.post(`/api/v1/products/${DEMO_GTIN}/grants`, { grantee: rival.id }),
      403,
      "gtin.not_owner",
    );
    const packed = expectStatus(
      await packer.api.post<{ batch: { batchId: string } }>("/api/v1/batches", batchBody(DEMO_GTIN, "PACK-1")),
      202,
      "the packer's batch",
    ).batch;
    await settleLedger(server);
    assert.equal(await ledgerStateOf(packed.batchId), "anchored");
    assert.equal(await registry.getFunction("gtinGranted")(BigInt(DEMO_GTIN), packer.signerAddress), true);
    const grantees = expectStatus(
      await apiClient(server.url).get<{ entitlement: { grantees: { organisationId: string; ledgerState: string }[] } }>(
        `/api/v1/products/${DEMO_GTIN}/entitlement`,
      ),
      200,
      "entitlement",
    ).entitlement.grantees;
    assert.deepEqual(
      grantees.map((g) => [g.organisationId, g.ledgerState]),
      [[packer.id, "anchored"]],
    );

    expectStatus(await del(`/api/v1/products/${DEMO_GTIN}/grants/${packer.id}`, victim.token), 202, "withdraw");
    await settleLedger(server);
    assert.equal(await registry.getFunction("gtinGranted")(BigInt(DEMO_GTIN), packer.signerAddress), false);
    await refusedUnchanged(
      "the packer's batch after the withdrawal",
      () => packer.api.post("/api/v1/batches", batchBody(DEMO_GTIN, "PACK-2")),
      403,
      "gtin.not_entitled",
    );
    await refusedUnchanged(
      "a second withdrawal",
      () => del(`/api/v1/products/${DEMO_GTIN}/grants/${packer.id}`, victim.token),
      404,
      "gtin.grant_not_found",
    );
  });

  it("has an owner holding its own key sign the grant in its wallet, as it signs its batches", async () => {
    const wallet = Wallet.createRandom();
    serial += 1;
    const own = expectStatus(
      await admin.post<{ organisation: { id: string }; credential: { token: string } }>("/api/v1/organisations", {
        kind: "cooperative",
        name: { zh: "自持密钥合作社" },
        uscc: demoUscc("93", "330106", serial),
        regionCode: "330106",
        signerAddress: wallet.address,
        companyPrefixes: ["6907777"],
      }),
      201,
      "onboard an own-wallet owner",
    );
    const owner = apiClient(server.url, own.credential.token);
    const gtin = gtinOf("0690777700012");
    const prepared = expectStatus(
      await owner.post<{ signatureRequest: { typedData: Record<string, unknown>; submitUrl: string } }>(
        `/api/v1/products/${gtin}/grants`,
        { grantee: packer.id },
      ),
      201,
      "prepare the grant",
    ).signatureRequest;
    const { domain, types, message, primaryType } = prepared.typedData as {
      domain: Record<string, string>;
      types: Record<string, { name: string; type: string }[]>;
      message: Record<string, string>;
      primaryType: string;
    };
    assert.equal(primaryType, "GtinGrant");
    assert.equal(message.grantee?.toLowerCase(), packer.signerAddress.toLowerCase());
    await refusedUnchanged(
      "a grant signed by another key",
      async () =>
        owner.post(prepared.submitUrl, {
          signature: await Wallet.createRandom().signTypedData(domain, types, message),
        }),
      400,
      "signature.invalid",
    );
    const granted = expectStatus(
      await owner.post<{ grant: { granteeOrganisationId: string } }>(prepared.submitUrl, {
        signature: await wallet.signTypedData(domain, types, message),
      }),
      202,
      "submit the signed grant",
    ).grant;
    assert.equal(granted.granteeOrganisationId, packer.id);
    await settleLedger(server);
    assert.equal(await registry.getFunction("gtinGranted")(BigInt(gtin), packer.signerAddress), true);
  });

  it("refuses a prefix that is taken, lies within another's, or is no prefix; and a release of one not bound", async () => {
    await refusedUnchanged(
      "the victim's prefix bound again to the rival",
      () => admin.post(`/api/v1/organisations/${rival.id}/company-prefixes`, { prefix: DEMO_COMPANY_PREFIX }),
      409,
      "company_prefix.taken",
    );
    await refusedUnchanged(
      "a prefix inside the victim's",
      () => admin.post(`/api/v1/organisations/${rival.id}/company-prefixes`, { prefix: "69012345" }),
      409,
      "company_prefix.taken",
    );
    for (const prefix of ["12345", "1234567890123", "69O1234"]) {
      await refusedUnchanged(
        `the prefix "${prefix}"`,
        () => admin.post(`/api/v1/organisations/${rival.id}/company-prefixes`, { prefix }),
        400,
        "company_prefix.invalid",
      );
    }
    await refusedUnchanged(
      "a release of a prefix the organisation does not hold",
      () => del(`/api/v1/organisations/${rival.id}/company-prefixes/${DEMO_COMPANY_PREFIX}`, adminToken),
      404,
      "company_prefix.not_bound",
    );
    await refusedUnchanged(
      "an organisation registered with a prefix another holds",
      () =>
        admin.post("/api/v1/organisations", {
          kind: "cooperative",
          name: { zh: "抢注合作社" },
          uscc: demoUscc("93", "330106", 9_399),
          regionCode: "330106",
          companyPrefixes: ["6908888", DEMO_COMPANY_PREFIX],
        }),
      409,
      "company_prefix.taken",
    );
    await refusedUnchanged(
      "a regulator registered with a prefix",
      () =>
        admin.post("/api/v1/organisations", {
          kind: "regulator",
          name: { zh: "监管局" },
          uscc: demoUscc("11", "330106", 9_398),
          regionCode: "330106",
          companyPrefixes: ["6908888"],
        }),
      403,
      "organisation.wrong_kind",
    );
    await refusedUnchanged(
      "a cooperative binding a prefix itself",
      () => rival.api.post(`/api/v1/organisations/${rival.id}/company-prefixes`, { prefix: "6908888" }),
      403,
      "auth.forbidden",
    );
  });

  it("allocates a cooperative without GS1 membership a prefix from the platform's, never the same twice", async () => {
    const newcomer = await onboard("新办合作社");
    const allocated = expectStatus(
      await admin.post<{ companyPrefix: { prefix: string; origin: string } }>(
        `/api/v1/organisations/${newcomer.id}/company-prefixes`,
        { allocate: true },
      ),
      202,
      "allocate",
    ).companyPrefix;
    assert.deepEqual(allocated, { ...allocated, prefix: `${PLATFORM_PREFIX}000`, origin: "platform" });
    const next = await onboard("另一新办合作社");
    const second = expectStatus(
      await admin.post<{ companyPrefix: { prefix: string } }>(`/api/v1/organisations/${next.id}/company-prefixes`, {
        allocate: true,
      }),
      202,
      "allocate again",
    ).companyPrefix;
    assert.equal(second.prefix, `${PLATFORM_PREFIX}001`);
    // Released, the first is not handed out again.
    expectStatus(
      await del(`/api/v1/organisations/${next.id}/company-prefixes/${second.prefix}`, adminToken),
      202,
      "release",
    );
    const third = expectStatus(
      await admin.post<{ companyPrefix: { prefix: string } }>(`/api/v1/organisations/${next.id}/company-prefixes`, {
        allocate: true,
      }),
      202,
      "allocate after a release",
    ).companyPrefix;
    assert.equal(third.prefix, `${PLATFORM_PREFIX}002`);

    // The newcomer's GTINs: its 10-digit prefix, a 2-digit item reference, the check digit.
    const gtin = gtinOf(`0${PLATFORM_PREFIX}00001`);
    expectStatus(
      await newcomer.api.post("/api/v1/products", { gtin, name: { zh: "新茶" }, category: "tea", unit: "kg" }),
      201,
      "the newcomer's product",
    );
    const batch = expectStatus(
      await newcomer.api.post<{ batch: { batchId: string } }>("/api/v1/batches", batchBody(gtin, "NEW-1")),
      202,
      "the newcomer's batch",
    ).batch;
    await settleLedger(server);
    assert.equal(await ledgerStateOf(batch.batchId), "anchored");
    const owner = (await registry.getFunction("gtinOwner")(BigInt(gtin))) as string;
    assert.equal(owner.toLowerCase(), newcomer.signerAddress.toLowerCase());
    assert.equal(
      ((await registry.getFunction("companyPrefixOwner")(BigInt(second.prefix), 10)) as string).toLowerCase(),
      "0x0000000000000000000000000000000000000000",
      "the released prefix is released on chain too",
    );

    // An operator without a platform prefix allocates nothing.
    const configured = server.ctx.platformPrefix;
    delete server.ctx.platformPrefix;
    try {
      await refusedUnchanged(
        "an allocation without a platform prefix",
        () => admin.post(`/api/v1/organisations/${next.id}/company-prefixes`, { allocate: true }),
        409,
        "platform_prefix.not_configured",
      );
    } finally {
      server.ctx.platformPrefix = configured;
    }
  });

  it("binds a single GTIN, which wins over the prefix it lies in, once", async () => {
    // A GTIN under the rival's prefix, bought on its own by the packer (as GS1 sells single GTINs).
    const gtin = gtinOf("0690999900028");
    expectStatus(await admin.post(`/api/v1/organisations/${packer.id}/gtins`, { gtin }), 202, "bind a GTIN");
    await refusedUnchanged(
      "the same GTIN bound again",
      () => admin.post(`/api/v1/organisations/${rival.id}/gtins`, { gtin }),
      409,
      "gtin.binding_taken",
    );
    await refusedUnchanged(
      "the prefix's owner registering the GTIN bound to another",
      () => rival.api.post("/api/v1/products", { gtin, name: { zh: "对手" }, category: "tea", unit: "kg" }),
      403,
      "gtin.not_entitled",
    );
    expectStatus(
      await packer.api.post("/api/v1/products", { gtin, name: { zh: "代工茶" }, category: "tea", unit: "kg" }),
      201,
      "the GTIN's owner registers it",
    );
    const batch = expectStatus(
      await packer.api.post<{ batch: { batchId: string } }>("/api/v1/batches", batchBody(gtin, "SINGLE-1")),
      202,
      "a batch of it",
    ).batch;
    await settleLedger(server);
    assert.equal(await ledgerStateOf(batch.batchId), "anchored");
  });

  it("counts a grant only while its owner owns the GTIN, as the registry does", async () => {
    const first = await onboard("原品牌合作社", ["6906666"]);
    const gtin = gtinOf("0690666600013");
    expectStatus(
      await first.api.post("/api/v1/products", { gtin, name: { zh: "转让茶" }, category: "tea", unit: "kg" }),
      201,
      "the first owner's product",
    );
    expectStatus(await first.api.post(`/api/v1/products/${gtin}/grants`, { grantee: packer.id }), 202, "grant");
    await settleLedger(server);
    // The licence lapses and the prefix passes to another cooperative.
    expectStatus(await del(`/api/v1/organisations/${first.id}/company-prefixes/6906666`, adminToken), 202, "release");
    const next = await onboard("新品牌合作社");
    expectStatus(
      await admin.post(`/api/v1/organisations/${next.id}/company-prefixes`, { prefix: "6906666" }),
      202,
      "bind to the next owner",
    );
    await settleLedger(server);
    assert.equal(await registry.getFunction("gtinGranted")(BigInt(gtin), packer.signerAddress), false);
    await refusedUnchanged(
      "the packer's batch under the former owner's grant",
      () => packer.api.post("/api/v1/batches", batchBody(gtin, "MOVED-1")),
      403,
      "gtin.not_entitled",
    );
    expectStatus(
      await next.api.post(`/api/v1/products/${gtin}/grants`, { grantee: packer.id }),
      202,
      "the new owner's grant",
    );
    const batch = expectStatus(
      await packer.api.post<{ batch: { batchId: string } }>("/api/v1/batches", batchBody(gtin, "MOVED-2")),
      202,
      "the packer's batch under the new owner's grant",
    ).batch;
    await settleLedger(server);
    assert.equal(await ledgerStateOf(batch.batchId), "anchored");
  });

  it("restores the bindings and grants in force from the chain into an empty database (reindex)", async () => {
    await settleLedger(server);
    /** What is in force, named by signers (organisation ids are the store's own). */
    const inForce = async (db: typeof server.ctx.db) => ({
      prefixes: await db
        .selectFrom("company_prefix_bindings")
        .innerJoin("organisations", "organisations.id", "company_prefix_bindings.organisation_id")
        .select(["prefix", "origin", "signer_address", "company_prefix_bindings.ledger_state"])
        .where("released_at_ms", "is", null)
        .orderBy("prefix")
        .execute(),
      gtins: await db
        .selectFrom("gtin_bindings")
        .innerJoin("organisations", "organisations.id", "gtin_bindings.organisation_id")
        .select(["gtin", "signer_address", "gtin_bindings.ledger_state"])
        .where("released_at_ms", "is", null)
        .orderBy("gtin")
        .execute(),
      grants: await db
        .selectFrom("gtin_grants")
        .innerJoin("organisations", "organisations.id", "gtin_grants.grantee_organisation_id")
        .select(["gtin", "signer_address", "gtin_grants.ledger_state"])
        .where("withdrawn_at_ms", "is", null)
        .orderBy("gtin")
        .orderBy("signer_address")
        .execute(),
    });
    const before = await inForce(server.ctx.db);
    assert.ok(
      before.prefixes.length >= 5 && before.gtins.length >= 1 && before.grants.length >= 1,
      JSON.stringify(before),
    );
    const dir = mkdtempSync(path.join(tmpdir(), "entitlement-reindex-"));
    // A store of its own, with the live server's IPFS blocks and key backups (what a reindex reads).
    for (const sub of ["ipfs", "keys"]) cpSync(path.join(dataDir, sub), path.join(dir, sub), { recursive: true });
    const url = await freshTestDatabaseUrl("entitlement_reindex");
    const restored = await reindex(
      loadConfig({ ...env, DATA_DIR: dir, WORKERS: "off", ...(url === undefined ? {} : { DATABASE_URL: url }) }),
      { logger: pino({ level: "silent" }) },
    );
    try {
      // Organisation ids are the rebuilt store's own: what is in force is compared by signer.
      assert.deepEqual(await inForce(restored.db), before);
    } finally {
      await restored.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
