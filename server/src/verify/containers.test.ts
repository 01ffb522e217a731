/**
 * The browser's checks of an item's cases and pallets, against real signatures (ethers signs
 * the container typed data as a wallet would), real OpenZeppelin trees and real CIDs: a
 * genuine path verifies, and each forgery a server could attempt is caught and named.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";

import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { AbiCoder, keccak256, TypedDataEncoder, Wallet, ZeroAddress } from "ethers";

import type { ItemResolution, ResolvedContainer, ResolvedContainerStep } from "../domain/resolution.ts";
import { CONTAINER_ACTIONS, containerTypesFor, domainFor } from "../domain/typed-data.ts";
import { bytesToHex, keccak256 as keccakBytes } from "./bytes.ts";
import { cidTextFromHex } from "./cid.ts";
import { containerHashes, verifyContainers, type ContainerCrypto, type ContainersReport } from "./containers.ts";
import { domainSeparator, recoverSigner, type Eip712Domain } from "./eip712.ts";
import { verifyProof } from "./merkle.ts";
import { fetchDocument } from "./resolution-checks.ts";
import type { RpcClient } from "./rpc.ts";

const crypto: ContainerCrypto = { keccak256: keccakBytes, recoverSigner, domainSeparator, verifyProof };
const hashes = containerHashes(crypto);
const containerKeyOf = hashes.keyOf;

const abi = AbiCoder.defaultAbiCoder();
const CHAIN_ID = 31337n;
const REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const domain: Eip712Domain = { chainId: CHAIN_ID.toString(), verifyingContract: REGISTRY, version: "2" };
const ethersDomain = domainFor(CHAIN_ID, REGISTRY, "2");
const ZERO32 = `0x${"0".repeat(64)}`;

const processor = new Wallet(Wallet.createRandom().privateKey);
const retailer = new Wallet(Wallet.createRandom().privateKey);
const logistics = new Wallet(Wallet.createRandom().privateKey);

const GTIN = "06901234567892";
const LOT = "L1";
const batchId = keccak256(abi.encode(["uint64", "string"], [BigInt(GTIN), LOT]));
const SERIALS = ["A1", "A2", "A3", "A4"];
const uriOf = (serial: string): string => `https://id.example.cn/01/${GTIN}/10/${LOT}/21/${serial}`;

const CASE_1 = "069012340000000017";
const CASE_2 = "069012340000000024";
const PALLET = "069012340000000031";

/** Documents by CID text, as a resolution would inline them. */
const documents: Record<string, string> = {};

function storeDocument(document: unknown): string {
  const text = JSON.stringify(document);
  const digest = createHash("sha256").update(text).digest();
  const cidHex = bytesToHex(Uint8Array.from([0x01, 0x55, 0x12, 0x20, ...digest]));
  documents[cidTextFromHex(cidHex)] = text;
  return cidHex;
}

type State = ResolvedContainerStep["state"];
const party = (wallet: Wallet) => ({
  organisationId: wallet.address,
  signer: wallet.address,
  name: { zh: "某", en: null },
  kind: "processor",
  regionCode: "",
});

function stateHashOf(state: State): string {
  return keccak256(
    abi.encode(
      ["bytes32", "address", "address", "bytes32"],
      [state.childrenRoot, state.custodian, state.pendingReceiver, state.link],
    ),
  );
}

interface Built {
  container: ResolvedContainer;
  /** The stored hash after each step. */
  hashes: string[];
}

/** Signs a container's packing (of `leaves`) and the events after it, as their actors would. */
async function buildContainer(options: {
  sscc: string;
  items?: string[];
  children?: string[];
  proveItem?: string;
  proveChild?: string;
  events: { action: "shipping" | "receiving" | "unpacking"; by: Wallet; to?: Wallet; atS: number }[];
  packer?: Wallet;
  packedAtS?: number;
  /** Ships it in the packing's own signed request. */
  despatchTo?: Wallet;
}): Promise<Built> {
  const packer = options.packer ?? processor;
  const key = containerKeyOf(options.sscc);
  const tree =
    options.items !== undefined
      ? StandardMerkleTree.of(
          options.items.map((serial) => [batchId, serial]),
          ["bytes32", "string"],
        )
      : StandardMerkleTree.of(
          (options.children ?? []).map((sscc) => [containerKeyOf(sscc)]),
          ["bytes32"],
        );
  const proof =
    options.proveItem !== undefined
      ? tree.getProof([batchId, options.proveItem])
      : tree.getProof([containerKeyOf(options.proveChild ?? "")]);
  const childEPCs =
    options.items !== undefined
      ? options.items.map(uriOf)
      : (options.children ?? []).map((sscc) => `https://id.example.cn/00/${sscc}`);
  const packingValue = {
    actor: packer.address,
    containerKey: key,
    childrenRoot: tree.root,
    childCount: String(childEPCs.length),
    batchIds: options.items === undefined ? [] : [batchId],
    childContainers: (options.children ?? []).map((sscc) => containerKeyOf(sscc)),
    occurredAt: String(options.packedAtS ?? 1_800_000_000),
    payloadCid: storeDocument({ type: "AggregationEvent", parentID: options.sscc, childEPCs }),
    counterparty: options.despatchTo?.address ?? ZeroAddress,
    previous: ZERO32,
    deadline: "1900000000",
  };
  const steps: ResolvedContainerStep[] = [];
  const hashes: string[] = [];
  const packingSignature = await packer.signTypedData(
    ethersDomain,
    containerTypesFor("ContainerPacking"),
    packingValue,
  );
  const packingLink = TypedDataEncoder.hash(ethersDomain, containerTypesFor("ContainerPacking"), packingValue);
  let state: State = {
    childrenRoot: tree.root,
    custodian: packer.address,
    pendingReceiver: options.despatchTo?.address ?? ZeroAddress,
    link: packingLink,
  };
  steps.push({
    primaryType: "ContainerPacking",
    action: "packing",
    value: packingValue,
    signature: packingSignature,
    state,
    actor: party(packer),
    counterparty: null,
    ledgerState: "anchored",
  });
  hashes.push(stateHashOf(state));
  for (const event of options.events) {
    const value = {
      actor: event.by.address,
      containerKey: key,
      action: String(CONTAINER_ACTIONS.indexOf(event.action)),
      occurredAt: String(event.atS),
      payloadCid: storeDocument({ type: "ObjectEvent", parentID: options.sscc, bizStep: event.action }),
      counterparty: event.to?.address ?? ZeroAddress,
      previous: hashes.at(-1) ?? ZERO32,
      deadline: "1900000000",
    };
    const signature = await event.by.signTypedData(ethersDomain, containerTypesFor("ContainerEvent"), value);
    const link = TypedDataEncoder.hash(ethersDomain, containerTypesFor("ContainerEvent"), value);
    state =
      event.action === "shipping"
        ? { ...state, pendingReceiver: event.to?.address ?? ZeroAddress, link }
        : event.action === "receiving"
          ? { ...state, custodian: event.by.address, pendingReceiver: ZeroAddress, link }
          : { childrenRoot: ZERO32, custodian: ZeroAddress, pendingReceiver: ZeroAddress, link };
    steps.push({
      primaryType: "ContainerEvent",
      action: event.action,
      value,
      signature,
      state,
      actor: party(event.by),
      counterparty: event.to === undefined ? null : party(event.to),
      ledgerState: "anchored",
    });
    hashes.push(stateHashOf(state));
  }
  const leaf: ResolvedContainer["leaf"] =
    options.proveItem !== undefined ? { type: "item" } : { type: "container", sscc: options.proveChild ?? "" };
  return { container: { sscc: options.sscc, leaf, proof, steps, live: true }, hashes };
}

function resolutionWith(
  containers: ResolvedContainer[],
  serial = "A2",
  claimedAtMs: number | null = null,
): ItemResolution {
  return {
    uri: uriOf(serial),
    item: { gtin: GTIN, lot: LOT, serial, hasHiddenCode: false, claimedAtMs },
    batch: { batchId },
    chain: { registry: REGISTRY },
    containers,
  } as unknown as ItemResolution;
}

const noFetch = (): Promise<Response> => Promise.reject(new Error("no network in this test"));

/**
 * The registry's `containerState` answers for this test's containers: the chain is the
 * input here (the e2e and the resolver's test read a real node).
 */
function registryWith(states: Map<string, string>): RpcClient {
  return {
    chainId: () => Promise.resolve(CHAIN_ID),
    ethCall: (to, data) => {
      const selector = bytesToHex(keccakBytes(new TextEncoder().encode("containerState(bytes32)")).subarray(0, 4));
      assert.equal(to, REGISTRY);
      assert.equal(data.slice(0, 10), selector);
      return Promise.resolve(states.get(`0x${data.slice(10)}`) ?? ZERO32);
    },
  };
}

function check(resolution: ItemResolution, chainStates: string[]): Promise<ContainersReport> {
  const states = new Map((resolution.containers ?? []).map((c, i) => [containerKeyOf(c.sscc), chainStates[i] ?? ""]));
  return verifyContainers({
    resolution,
    domain,
    crypto,
    rpc: registryWith(states),
    load: (cid) => fetchDocument(noFetch, `http://gateway/${cid}`, cid, documents[cid]),
  });
}

const shipAndReceive = [
  { action: "shipping" as const, by: processor, to: retailer, atS: 1_800_000_100 },
  { action: "receiving" as const, by: retailer, atS: 1_800_000_200 },
];

describe("verify/containers: the item's cases and pallets", () => {
  it("hashes keys, states, leaves and digests as the contract and ethers do", async () => {
    assert.equal(containerKeyOf(CASE_1), keccak256(abi.encode(["uint64"], [BigInt(CASE_1)])));
    const { container } = await buildContainer({
      sscc: CASE_1,
      items: SERIALS,
      proveItem: "A2",
      events: shipAndReceive,
    });
    for (const step of container.steps) {
      assert.equal(hashes.stateHash(step.state), stateHashOf(step.state));
      // The packing's bytes32[] lists included: EIP-712 hashes an array as its words side by side.
      assert.equal(hashes.stepDigest(domain, step), step.state.link);
    }
    const items = StandardMerkleTree.of([[batchId, "A2"]], ["bytes32", "string"]);
    assert.equal(hashes.itemLeaf(batchId, "A2"), items.leafHash([batchId, "A2"]));
    const key = containerKeyOf(CASE_1);
    assert.equal(hashes.containerLeaf(key), StandardMerkleTree.of([[key]], ["bytes32"]).leafHash([key]));
  });

  it("verifies a case packed, shipped and received, and its pallet", async () => {
    const box = await buildContainer({ sscc: CASE_1, items: SERIALS, proveItem: "A2", events: shipAndReceive });
    const pallet = await buildContainer({
      sscc: PALLET,
      children: [CASE_1, CASE_2],
      proveChild: CASE_1,
      events: [{ action: "shipping", by: processor, to: logistics, atS: 1_800_000_050 }],
    });
    const report = await check(resolutionWith([box.container, pallet.container]), [
      box.hashes.at(-1) ?? "",
      pallet.hashes.at(-1) ?? "",
    ]);
    assert.equal(report.ok, true, report.detail);
    assert.deepEqual(report.findings, []);
    assert.deepEqual(
      report.containers.map((c) => [c.kind, c.live, c.steps.map((s) => [s.action, s.valid, s.onChain])]),
      [
        [
          "case",
          true,
          [
            ["packing", true, true],
            ["shipping", true, true],
            ["receiving", true, true],
          ],
        ],
        [
          "pallet",
          true,
          [
            ["packing", true, true],
            ["shipping", true, true],
          ],
        ],
      ],
    );
  });

  it("shows steps the chain has not taken yet as pending, and refuses one the server calls anchored", async () => {
    const box = await buildContainer({ sscc: CASE_1, items: SERIALS, proveItem: "A2", events: shipAndReceive });
    const receiving = box.container.steps[2];
    assert.ok(receiving !== undefined);
    receiving.ledgerState = "submitted";
    const pending = await check(resolutionWith([box.container]), [box.hashes[1] ?? ""]);
    assert.equal(pending.ok, true, pending.detail);
    assert.deepEqual(
      pending.containers[0]?.steps.map((s) => s.onChain),
      [true, true, false],
    );
    receiving.ledgerState = "anchored";
    const claimed = await check(resolutionWith([box.container]), [box.hashes[1] ?? ""]);
    assert.equal(claimed.ok, false);
    // Nothing on chain yet: the packing names the state before it (here none).
    box.container.steps.forEach((s) => (s.ledgerState = "pending"));
    const none = await check(resolutionWith([box.container]), [ZERO32]);
    assert.equal(none.ok, true, none.detail);
    assert.deepEqual(
      none.containers[0]?.steps.map((s) => s.onChain),
      [false, false, false],
    );
  });

  it("fails when steps were cut: the chain's state is none of those shown", async () => {
    const box = await buildContainer({ sscc: CASE_1, items: SERIALS, proveItem: "A2", events: shipAndReceive });
    const cut = { ...box.container, steps: box.container.steps.slice(0, 2) };
    const report = await check(resolutionWith([cut]), [box.hashes[2] ?? ""]);
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.findings.map((f) => f.code),
      ["container_chain_mismatch"],
    );
  });

  it("fails a step whose signed value was changed (the genuine steps around it still verify)", async () => {
    const box = await buildContainer({ sscc: CASE_1, items: SERIALS, proveItem: "A2", events: shipAndReceive });
    const shipping = box.container.steps[1];
    assert.ok(shipping !== undefined);
    // Sent to another receiver than the one who signed for it.
    shipping.value = { ...shipping.value, counterparty: logistics.address };
    const report = await check(resolutionWith([box.container]), [box.hashes[2] ?? ""]);
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.containers[0]?.steps.map((s) => s.valid),
      [true, false, true],
    );
    assert.ok(report.findings.some((f) => f.code === "container_forged"));
  });

  it("fails the proof of another item, and a packing document that does not list the item", async () => {
    const box = await buildContainer({ sscc: CASE_1, items: SERIALS, proveItem: "A2", events: [] });
    const other = await check(resolutionWith([box.container], "A3"), [box.hashes[0] ?? ""]);
    assert.equal(other.ok, false);
    assert.deepEqual(
      other.findings.map((f) => f.code),
      ["container_proof_failed"],
    );
    // A tree holding B9 though the signed document lists only A1-A4.
    const sneaky = await buildContainer({ sscc: CASE_2, items: [...SERIALS, "B9"], proveItem: "B9", events: [] });
    const packing = sneaky.container.steps[0];
    assert.ok(packing !== undefined);
    const listed = await check(resolutionWith([sneaky.container], "B9"), [sneaky.hashes[0] ?? ""]);
    assert.equal(listed.ok, true, "the tree and the document both list B9");
    const documentless = { ...sneaky.container };
    const withoutB9 = storeDocument({ type: "AggregationEvent", childEPCs: SERIALS.map(uriOf) });
    assert.notEqual(withoutB9, packing.value.payloadCid);
    // Re-signed honestly over the other document: only the listing is wrong.
    const rebuilt = await buildContainer({ sscc: CASE_2, items: [...SERIALS, "B9"], proveItem: "B9", events: [] });
    const rebuiltPacking = rebuilt.container.steps[0];
    assert.ok(rebuiltPacking !== undefined);
    const value = { ...rebuiltPacking.value, payloadCid: withoutB9 };
    const signature = await processor.signTypedData(ethersDomain, containerTypesFor("ContainerPacking"), value);
    const link = TypedDataEncoder.hash(ethersDomain, containerTypesFor("ContainerPacking"), value);
    const state = { ...rebuiltPacking.state, link };
    documentless.steps = [{ ...rebuiltPacking, value, signature, state }];
    const unlisted = await check(resolutionWith([documentless], "B9"), [stateHashOf(state)]);
    assert.equal(unlisted.ok, false);
    assert.match(unlisted.detail, /does not list/);
  });

  it("names an item in two live cases, and a case shipped after the item was sold", async () => {
    const first = await buildContainer({ sscc: CASE_1, items: SERIALS, proveItem: "A2", events: [] });
    const second = await buildContainer({ sscc: CASE_2, items: ["A2", "Z1"], proveItem: "A2", events: shipAndReceive });
    const two = await check(resolutionWith([first.container, second.container]), [
      first.hashes.at(-1) ?? "",
      second.hashes.at(-1) ?? "",
    ]);
    assert.equal(two.ok, true, "each packing is genuine on its own");
    assert.deepEqual(
      two.findings.map((f) => f.code),
      ["in_two_live_containers"],
    );
    assert.match(two.findings[0]?.en ?? "", new RegExp(`${CASE_1}, ${CASE_2}`));
    assert.match(two.findings[0]?.zh ?? "", new RegExp(`${CASE_1}、${CASE_2}`));

    // Unpacked first: one live case only.
    const unpacked = await buildContainer({
      sscc: CASE_1,
      items: SERIALS,
      proveItem: "A2",
      events: [{ action: "unpacking", by: processor, atS: 1_800_000_010 }],
    });
    const one = await check(resolutionWith([unpacked.container, second.container]), [
      unpacked.hashes.at(-1) ?? "",
      second.hashes.at(-1) ?? "",
    ]);
    assert.deepEqual(one.findings, []);
    assert.equal(one.containers[0]?.live, false);

    // Sold (claimed) before its case was shipped.
    const sold = await check(resolutionWith([second.container], "A2", 1_800_000_050_000), [second.hashes.at(-1) ?? ""]);
    assert.deepEqual(
      sold.findings.map((f) => f.code),
      ["shipped_after_sale"],
    );
    const soldLater = await check(resolutionWith([second.container], "A2", 1_800_000_500_000), [
      second.hashes.at(-1) ?? "",
    ]);
    assert.deepEqual(soldLater.findings, []);
    // A despatch ships in its packing.
    const despatched = await buildContainer({
      sscc: CASE_1,
      items: SERIALS,
      proveItem: "A2",
      events: [],
      despatchTo: retailer,
      packedAtS: 1_800_000_100,
    });
    const soldFirst = await check(resolutionWith([despatched.container], "A2", 1_800_000_050_000), [
      despatched.hashes[0] ?? "",
    ]);
    assert.deepEqual(
      soldFirst.findings.map((f) => f.code),
      ["shipped_after_sale"],
    );
  });

  it("refuses a pallet whose case is not one holding the item", async () => {
    const box = await buildContainer({ sscc: CASE_1, items: SERIALS, proveItem: "A2", events: [] });
    const pallet = await buildContainer({ sscc: PALLET, children: [CASE_2], proveChild: CASE_2, events: [] });
    const report = await check(resolutionWith([box.container, pallet.container]), [
      box.hashes[0] ?? "",
      pallet.hashes[0] ?? "",
    ]);
    assert.equal(report.ok, false);
    assert.equal(report.containers[0]?.problems.length, 0);
    assert.ok((report.containers[1]?.problems.length ?? 0) > 0);
  });
});

describe("verify/containers: a step signed through a contract wallet (ERC-1271)", () => {
  // The retailer's address stands for a contract wallet whose owner key is `owner`.
  const owner = new Wallet(Wallet.createRandom().privateKey);

  async function walletSignedBox(): Promise<{ resolution: ItemResolution; states: Map<string, string> }> {
    const box = await buildContainer({ sscc: CASE_1, items: SERIALS, proveItem: "A2", events: shipAndReceive });
    const receiving = box.container.steps[2];
    assert.ok(receiving !== undefined);
    receiving.signature = await owner.signTypedData(ethersDomain, containerTypesFor("ContainerEvent"), receiving.value);
    const resolution = resolutionWith([box.container]);
    return { resolution, states: new Map([[containerKeyOf(CASE_1), box.hashes.at(-1) ?? ""]]) };
  }

  /** The registry's states, and the retailer's wallet agreeing with its owner's signatures (or with none). */
  function chainWith(states: Map<string, string>, agrees: boolean, asked: string[]): RpcClient {
    const registry = registryWith(states);
    return {
      ...registry,
      ethCall: (to, data, block) => {
        if (!data.startsWith("0x1626ba7e")) return registry.ethCall(to, data, block);
        asked.push(to);
        const magic = `0x1626ba7e${"0".repeat(56)}`;
        return Promise.resolve(agrees && to === retailer.address ? magic : "0x");
      },
    };
  }

  it("verifies the step when the actor's wallet agrees, and names the case forged when it does not", async () => {
    const { resolution, states } = await walletSignedBox();
    const run = (agrees: boolean, asked: string[]) =>
      verifyContainers({
        resolution,
        domain,
        crypto,
        rpc: chainWith(states, agrees, asked),
        load: (cid) => fetchDocument(noFetch, `http://gateway/${cid}`, cid, documents[cid]),
      });
    const asked: string[] = [];
    const agreed = await run(true, asked);
    assert.equal(agreed.ok, true, agreed.detail);
    assert.deepEqual(
      agreed.containers[0]?.steps.map((s) => [s.valid, s.onChain]),
      [
        [true, true],
        [true, true],
        [true, true],
      ],
    );
    assert.deepEqual(asked, [retailer.address], "only the step that did not recover to its actor");
    const refused = await run(false, []);
    assert.equal(refused.ok, false);
    assert.deepEqual(
      refused.findings.map((f) => f.code),
      ["container_forged"],
    );
  });
});
