/**
 * Cases and pallets for organisations that hold their own key, through the API against a
 * Hardhat node in its own process: each container request answers a signature request (the
 * EIP-712 value over the container's state when prepared), signed here with ethers'
 * `Wallet.signTypedData` as a wallet would, and stored when submitted exactly as a custodial
 * step is, so it anchors with the registry's `containerState`. An own-wallet processor packs
 * and despatches a case to an own-wallet carrier, who receives it and ships it on to a shop,
 * which receives it. Refused at submission, with nothing stored: a request whose container
 * changed meanwhile (a custodial step accepted first), whose items another packing took
 * meanwhile, one signed by another key, and one expired.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";

import { Contract, JsonRpcProvider, Wallet, type HDNodeWallet } from "ethers";

import { apiClient, expectStatus, type ApiClient, type ApiResponse } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { verifyLink } from "../../scripts/lib/verify-link.ts";
import { DEMO_GTIN } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry } from "../../scripts/lib/local-stack.ts";
import { containerStateHash } from "../../server/src/domain/container-state.ts";
import { containerKeyOf, ssccFor } from "../../server/src/domain/sscc.ts";
import { traceRegistryArtifact } from "../../server/src/ledger/registry-artifact.ts";
import type { RunningServer } from "../../server/src/server.ts";
import type { SignatureRequest } from "../../server/src/services/signature-requests.ts";
import { listItemSerials } from "../../server/src/storage/batches.ts";
import { onboard as onboardParty, registerDemoBatch, type Party } from "../support/onboard.ts";
import type { Problem } from "../support/problems.ts";
import { containerSnapshot, settleContainerSteps } from "../support/container-ledger.ts";
import { refusalChecker } from "../support/refusals.ts";
import { TEST_DATABASE_URL } from "../support/test-database.ts";
import { startApiTestServer } from "../support/test-server.ts";

const COMPANY_PREFIX = "6901234";

interface StepView {
  action: string;
  ledgerState: string;
  stateHash: string;
  state: { childrenRoot: string; custodian: string; pendingReceiver: string; link: string };
}
interface ContainerView {
  state: string;
  custodianOrganisationId: string | null;
  pendingReceiverOrganisationId: string | null;
  steps: StepView[];
}
type Prepared = { signatureRequest: SignatureRequest };

describe(`cases and pallets signed in an organisation's own wallet (${TEST_DATABASE_URL === undefined ? "SQLite" : "PostgreSQL"})`, () => {
  let node: ChainNode;
  let provider: JsonRpcProvider;
  let registry: Contract;
  let server: RunningServer;
  let dataDir: string;
  let admin: ApiClient;
  const cast = {} as Record<"cooperative" | "processor" | "carrier" | "shop", Party>;
  const wallets = { processor: Wallet.createRandom(), carrier: Wallet.createRandom() };
  let serials: string[];
  let reference = 500;
  const nextSscc = () => ssccFor(0, COMPANY_PREFIX, BigInt(reference++));
  const LOT = "OWN-A";

  const settle = (): Promise<void> => settleContainerSteps(server);
  const snapshot = (): Promise<unknown> => containerSnapshot(server, provider);
  const refusedUnchanged = refusalChecker({ settle, snapshot });

  async function view(sscc: string): Promise<ContainerView> {
    return expectStatus(
      await apiClient(server.url).get<{ container: ContainerView }>(`/api/v1/containers/${sscc}`),
      200,
      `read ${sscc}`,
    ).container;
  }

  /** The signature request a container request by an own-wallet organisation answers with. */
  function prepared(answer: ApiResponse, kind: string, what: string): SignatureRequest {
    const { signatureRequest } = expectStatus(answer as ApiResponse<Prepared>, 201, what);
    assert.equal(signatureRequest.kind, kind, what);
    assert.equal(answer.headers.get("location"), signatureRequest.submitUrl, what);
    return signatureRequest;
  }

  const sign = (wallet: HDNodeWallet, request: SignatureRequest): Promise<string> =>
    wallet.signTypedData(request.typedData.domain, request.typedData.types, request.typedData.message);

  async function submit(
    party: Party,
    wallet: HDNodeWallet,
    request: SignatureRequest,
    what: string,
  ): Promise<StepView> {
    const answer = await party.api.post<{ step: StepView; sscc: string }>(request.submitUrl, {
      signature: await sign(wallet, request),
    });
    return expectStatus(answer, 202, what).step;
  }

  const packBody = (sscc: string, from: number, to: number, extra: Record<string, unknown> = {}) => ({
    sscc,
    items: [{ gtin: DEMO_GTIN, lot: LOT, from: serials[from], to: serials[to] }],
    occurredAt: "2026-04-20T09:00:00+08:00",
    ...extra,
  });
  const eventBody = (action: string, extra: Record<string, unknown> = {}) => ({
    action,
    occurredAt: "2026-04-21T09:00:00+08:00",
    ...extra,
  });

  /** Every step anchored, and the chain holds the hash of the state the server computed for the last. */
  async function assertOnChain(sscc: string): Promise<ContainerView> {
    const container = await view(sscc);
    const last = container.steps.at(-1);
    assert.ok(last);
    assert.deepEqual(
      container.steps.map((step) => step.ledgerState),
      container.steps.map(() => "anchored"),
      `${sscc}: every step anchored`,
    );
    assert.equal(last.stateHash, containerStateHash(last.state));
    assert.equal(await registry.getFunction("containerState")(containerKeyOf(sscc)), last.stateHash);
    return container;
  }

  before(async () => {
    node = await startChainNode();
    const deployment = await deployLocalRegistry(node.rpcUrl);
    ({ server, dataDir } = await startApiTestServer(deployment.env, "containers_own_wallet"));
    provider = new JsonRpcProvider(node.rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
    registry = new Contract(deployment.env.REGISTRY_ADDRESS ?? "", traceRegistryArtifact().abi, provider);
    admin = apiClient(server.url, deployment.env.ADMIN_TOKEN ?? "");
    const onboard = (kind: string, regionCode: string, serial: number, extra: Record<string, unknown> = {}) =>
      onboardParty(server.url, admin, { kind, regionCode, serial, name: `自持密钥装箱 ${String(serial)}`, ...extra });
    cast.cooperative = await onboard("cooperative", "330106", 9_430, { companyPrefixes: [COMPANY_PREFIX] });
    cast.processor = await onboard("processor", "330106", 9_431, { signerAddress: wallets.processor.address });
    cast.carrier = await onboard("logistics", "310101", 9_432, { signerAddress: wallets.carrier.address });
    cast.shop = await onboard("retailer", "310101", 9_433);
    expectStatus(
      await cast.cooperative.api.post("/api/v1/products", {
        gtin: DEMO_GTIN,
        name: { zh: "西湖龙井" },
        category: "tea",
        unit: "kg",
      }),
      201,
      "product",
    );
    await settle();
    const batchId = await registerDemoBatch(cast.cooperative.api, LOT, { quantityKg: "20", itemCount: 16 });
    await settle();
    serials = (await listItemSerials(server.ctx.db, batchId)).sort();
    // The batch is handed to the processor, which receives it in its wallet: it may then pack it.
    expectStatus(
      await cast.cooperative.api.post(`/api/v1/batches/${batchId}/events`, {
        bizStep: "shipping",
        occurredAt: "2026-04-19T09:00:00+08:00",
        receiver: cast.processor.id,
        data: {},
      }),
      202,
      "ship the batch to the processor",
    );
    const receiving = expectStatus(
      await cast.processor.api.post<Prepared>(`/api/v1/batches/${batchId}/events`, {
        bizStep: "receiving",
        occurredAt: "2026-04-19T18:00:00+08:00",
        data: {},
      }),
      201,
      "prepare the processor's receiving",
    ).signatureRequest;
    expectStatus(
      await cast.processor.api.post(receiving.submitUrl, { signature: await sign(wallets.processor, receiving) }),
      202,
      "the processor receives the batch",
    );
    await settle();
  });

  after(async () => {
    (provider as JsonRpcProvider | undefined)?.destroy();
    await (server as RunningServer | undefined)?.close();
    await (node as ChainNode | undefined)?.stop();
    if ((dataDir as string | undefined) !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  it("packs, despatches, receives and ships a case by wallet signatures, anchored as a custodial one", async () => {
    const sscc = nextSscc();
    const packing = prepared(
      await cast.processor.api.post("/api/v1/containers", packBody(sscc, 0, 5, { shipTo: cast.carrier.id })),
      "container_packing",
      "prepare the despatch",
    );
    assert.equal(packing.typedData.primaryType, "ContainerPacking");
    assert.equal(String(packing.typedData.message.actor).toLowerCase(), wallets.processor.address.toLowerCase());
    assert.equal(packing.typedData.message.childCount, "6");
    // Prepared, not stored: nothing of the container exists until the wallet signs.
    assert.equal((await apiClient(server.url).get(`/api/v1/containers/${sscc}`)).status, 404);
    const packed = await submit(cast.processor, wallets.processor, packing, "submit the despatch");
    assert.equal(packed.action, "packing");
    assert.equal(packed.state.custodian, wallets.processor.address.toLowerCase());
    assert.equal(packed.state.pendingReceiver, wallets.carrier.address.toLowerCase());
    // Submitted twice: the request is spent.
    const again = await cast.processor.api.post(packing.submitUrl, {
      signature: await sign(wallets.processor, packing),
    });
    assert.equal(again.status, 409, JSON.stringify(again.body));
    await settle();
    const despatched = await assertOnChain(sscc);
    assert.equal(despatched.state, "in_transit");
    assert.equal(despatched.pendingReceiverOrganisationId, cast.carrier.id);

    // The carrier receives and, before that is anchored, ships on to the shop: both in its wallet, queued.
    const receiving = prepared(
      await cast.carrier.api.post(`/api/v1/containers/${sscc}/events`, eventBody("receiving")),
      "container_event",
      "prepare the carrier's receiving",
    );
    await submit(cast.carrier, wallets.carrier, receiving, "the carrier receives");
    const shipping = prepared(
      await cast.carrier.api.post(
        `/api/v1/containers/${sscc}/events`,
        eventBody("shipping", { receiver: cast.shop.id, occurredAt: "2026-04-21T12:00:00+08:00" }),
      ),
      "container_event",
      "prepare the carrier's shipping",
    );
    await submit(cast.carrier, wallets.carrier, shipping, "the carrier ships to the shop");
    await settle();
    const shipped = await assertOnChain(sscc);
    assert.deepEqual(
      shipped.steps.map((step) => step.action),
      ["packing", "receiving", "shipping"],
    );
    assert.equal(shipped.state, "in_transit");
    assert.equal(shipped.custodianOrganisationId, cast.carrier.id);
    assert.equal(shipped.pendingReceiverOrganisationId, cast.shop.id);

    // The shop (custodial key) receives it from the own-wallet carrier.
    expectStatus(
      await cast.shop.api.post(
        `/api/v1/containers/${sscc}/events`,
        eventBody("receiving", { occurredAt: "2026-04-22T09:00:00+08:00" }),
      ),
      202,
      "the shop receives",
    );
    await settle();
    const received = await assertOnChain(sscc);
    assert.equal(received.state, "packed");
    assert.equal(received.custodianOrganisationId, cast.shop.id);

    // An item of the case, verified against the chain as the scan page does, wallet-signed steps and all.
    const lines: string[] = [];
    const outcome = await verifyLink(`${server.url}/01/${DEMO_GTIN}/10/${LOT}/21/${serials[2] ?? ""}`, {
      rpc: node.rpcUrl,
      print: (line) => lines.push(line),
    });
    assert.deepEqual(outcome, { kind: "verdict", verdict: "verified", findingCodes: [] }, lines.join("\n"));
    assert.ok(lines.includes("ok   containers: 1 containers"), lines.join("\n"));
  });

  it("refuses at submission a request whose container or items changed meanwhile, storing nothing", async () => {
    // A custodial step accepted meanwhile: the cooperative despatches a case to the carrier, the
    // carrier prepares its receiving, the cooperative redirects the case to the shop.
    const sscc = nextSscc();
    const coopBatch = await registerDemoBatch(cast.cooperative.api, "OWN-B", { quantityKg: "5", itemCount: 4 });
    await settle();
    const coopSerials = (await listItemSerials(server.ctx.db, coopBatch)).sort();
    expectStatus(
      await cast.cooperative.api.post("/api/v1/containers", {
        sscc,
        items: [{ gtin: DEMO_GTIN, lot: "OWN-B", serials: coopSerials.slice(0, 2) }],
        occurredAt: "2026-04-20T09:00:00+08:00",
        shipTo: cast.carrier.id,
      }),
      202,
      "the cooperative despatches a case to the carrier",
    );
    await settle();
    const receiving = prepared(
      await cast.carrier.api.post(`/api/v1/containers/${sscc}/events`, eventBody("receiving")),
      "container_event",
      "prepare the carrier's receiving",
    );
    expectStatus(
      await cast.cooperative.api.post(
        `/api/v1/containers/${sscc}/events`,
        eventBody("shipping", { receiver: cast.shop.id, occurredAt: "2026-04-20T12:00:00+08:00" }),
      ),
      202,
      "the cooperative sends the case to the shop instead",
    );
    const signature = await sign(wallets.carrier, receiving);
    const problem = await refusedUnchanged(
      "a receiving signed over the state before the case was redirected",
      () => cast.carrier.api.post(receiving.submitUrl, { signature }),
      409,
      "container.state_conflict",
    );
    assert.equal((problem as Problem & { rule?: string }).rule, "changed_meanwhile");
    assert.equal((await assertOnChain(sscc)).pendingReceiverOrganisationId, cast.shop.id);

    // Items another packing took meanwhile: the container itself is unchanged (still never packed).
    const first = nextSscc();
    const second = nextSscc();
    const later = prepared(
      await cast.processor.api.post("/api/v1/containers", packBody(second, 6, 8)),
      "container_packing",
      "prepare a packing of three items",
    );
    const earlier = prepared(
      await cast.processor.api.post("/api/v1/containers", packBody(first, 8, 9)),
      "container_packing",
      "prepare a packing of two items, one of them also in the first",
    );
    await submit(cast.processor, wallets.processor, earlier, "the second prepared is signed first");
    const laterSignature = await sign(wallets.processor, later);
    const taken = await refusedUnchanged(
      "a packing whose item went into another case meanwhile",
      () => cast.processor.api.post(later.submitUrl, { signature: laterSignature }),
      409,
      "container.state_conflict",
    );
    const { rule, refusal } = taken as Problem & { rule?: string; refusal?: string };
    assert.deepEqual({ rule, refusal }, { rule: "changed_meanwhile", refusal: "container.item_in_live_container" });
    assert.equal((await apiClient(server.url).get(`/api/v1/containers/${second}`)).status, 404);
    await settle();
    await assertOnChain(first);
  });

  it("refuses a signature by another key and an expired request, storing nothing; unpacks in the wallet", async () => {
    const sscc = nextSscc();
    await submit(
      cast.processor,
      wallets.processor,
      prepared(
        await cast.processor.api.post("/api/v1/containers", packBody(sscc, 10, 11)),
        "container_packing",
        "prepare",
      ),
      "pack",
    );
    await settle();
    const unpacking = prepared(
      await cast.processor.api.post(
        `/api/v1/containers/${sscc}/events`,
        eventBody("unpacking", { occurredAt: "2026-04-22T09:00:00+08:00" }),
      ),
      "container_event",
      "prepare the unpacking",
    );
    const forged = await sign(wallets.carrier, unpacking);
    await refusedUnchanged(
      "an unpacking signed by another organisation's key",
      () => cast.processor.api.post(unpacking.submitUrl, { signature: forged }),
      400,
      "signature.invalid",
    );
    // The request is not spent by a bad signature: the processor's own one is still taken.
    await submit(cast.processor, wallets.processor, unpacking, "the processor unpacks");
    await settle();
    assert.equal((await assertOnChain(sscc)).state, "empty");

    const expiring = prepared(
      await cast.processor.api.post("/api/v1/containers", packBody(nextSscc(), 12, 13)),
      "container_packing",
      "prepare a packing left unsigned",
    );
    // Its deadline passes (the request's expiry is the signed deadline).
    await server.ctx.db
      .updateTable("signature_requests")
      .set({ expires_at_ms: Date.now() - 1 })
      .where("id", "=", expiring.id)
      .execute();
    const late = await sign(wallets.processor, expiring);
    await refusedUnchanged(
      "a packing signed after its request expired",
      () => cast.processor.api.post(expiring.submitUrl, { signature: late }),
      404,
      "draft.not_found",
    );
  });

  it("refuses an order's despatch by an own-wallet seller after its checks, leaving the order open", async () => {
    const created = expectStatus(
      await cast.processor.api.post<{ order: { id: string; url: string } }>("/api/v1/orders", {
        buyerReference: "own-wallet-1",
        channel: "platform",
        lines: [{ gtin: DEMO_GTIN, lot: LOT, quantity: 1 }],
      }),
      201,
      "order",
    ).order;
    expectStatus(
      await cast.processor.api.post(`/api/v1/orders/${created.id}/items`, {
        codes: [`${server.url}/01/${DEMO_GTIN}/10/${LOT}/21/${serials[14] ?? ""}`],
      }),
      200,
      "scan an item into the order",
    );
    const despatch = { sscc: nextSscc(), shipTo: cast.shop.id, occurredAt: new Date().toISOString() };
    await refusedUnchanged(
      "an order's despatch that the seller's wallet would have to sign",
      () => cast.processor.api.post(`/api/v1/orders/${created.id}/despatch`, despatch),
      409,
      "order.despatch_own_wallet",
    );
    const order = expectStatus(
      await cast.processor.api.get<{ order: { status: string; despatch: unknown } }>(`/api/v1/orders/${created.id}`),
      200,
      "read the order",
    ).order;
    assert.notEqual(order.status, "despatched");
    assert.equal(order.despatch, null);
  });
});
