/**
 * Cases packed and shipped straight on the registry, signed by an organisation's own key
 * and sent by the relayer, without the server: how a forged aggregation gets on the ledger.
 * The chain sees only roots and counts (docs/aggregation.md), so a document that lists one
 * item in two cases is accepted; the audit is what finds it. Each payload document is a
 * real EPCIS AggregationEvent stored in the server's content store under its CID.
 */
import { Contract, JsonRpcProvider, TypedDataEncoder, Wallet, ZeroAddress, hexlify, type Provider } from "ethers";

import { gtinCheckDigit } from "../../server/src/domain/gs1.ts";
import {
  CONTAINER_ACTIONS,
  containerTypesFor,
  domainFor,
  type ContainerType,
} from "../../server/src/domain/typed-data.ts";
import type { ContentStore } from "../../server/src/ipfs/content-store.ts";
import { traceRegistryArtifact } from "../../server/src/ledger/registry-artifact.ts";
import {
  containerKeyOf,
  containerRootOf,
  leafOfEpc,
  stateHashOf,
  type ContainerLeaf,
  type ContainerStateFields,
} from "../../server/src/services/audit/containers.ts";

const ZERO_WORD = `0x${"0".repeat(64)}`;
const NEVER_PACKED: ContainerStateFields = {
  childrenRoot: ZERO_WORD,
  custodian: ZeroAddress,
  pendingReceiver: ZeroAddress,
  link: ZERO_WORD,
};

/** An SSCC with its check digit: extension 0, company prefix 6901234, the serial reference `n`. */
export function testSscc(n: number): string {
  const body = `06901234${String(n).padStart(9, "0")}`;
  return `${body}${String(gtinCheckDigit(body))}`;
}

export interface DirectStack {
  rpcUrl: string;
  registry: string;
  relayerKey: string;
  content: ContentStore;
}

export interface DirectPacking {
  sscc: string;
  /** The items' Digital Links, as the document's `childEPCs` name them. */
  items: readonly string[];
  /** The root signed (default: the root of `items`): a lie here is a root the document does not give. */
  rootOf?: readonly string[];
  /** Ship it to this signer in the same request (a despatch). */
  shipTo?: string;
  bizTransactions?: { type: string; bizTransaction: string }[];
}

export interface PackedCase {
  sscc: string;
  containerKey: string;
  state: ContainerStateFields;
}

function leavesOf(epcs: readonly string[]): ContainerLeaf[] {
  return epcs.map((epc) => {
    const leaf = leafOfEpc(epc);
    if (leaf === null) throw new Error(`not an item's Digital Link: ${epc}`);
    return leaf;
  });
}

async function storeDocument(content: ContentStore, events: object[]): Promise<string> {
  const document = {
    "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
    type: "EPCISDocument",
    schemaVersion: "2.0",
    creationDate: new Date().toISOString(),
    epcisBody: { eventList: events },
  };
  const { cid } = await content.add([new TextEncoder().encode(JSON.stringify(document))]);
  return hexlify(cid.bytes);
}

async function chainSeconds(provider: Provider): Promise<bigint> {
  const block = await provider.getBlock("latest");
  return BigInt(block?.timestamp ?? Math.floor(Date.now() / 1000));
}

function sign(
  actor: Wallet,
  chainId: bigint,
  registry: string,
  primaryType: ContainerType,
  value: Record<string, unknown>,
): Promise<{ signature: string; digest: string }> {
  const domain = domainFor(chainId, registry);
  const types = containerTypesFor(primaryType);
  return actor
    .signTypedData(domain, types, value)
    .then((signature) => ({ signature, digest: TypedDataEncoder.hash(domain, types, value) }));
}

/** Packs each case (one transaction), signed by `actor` (a key of the organisation holding the batches). */
export async function packDirectly(
  stack: DirectStack,
  actor: Wallet,
  custodian: string,
  packings: readonly DirectPacking[],
): Promise<PackedCase[]> {
  const provider = new JsonRpcProvider(stack.rpcUrl);
  try {
    const relayer = new Wallet(stack.relayerKey, provider);
    const registry = new Contract(stack.registry, traceRegistryArtifact().abi, relayer);
    const { chainId } = await provider.getNetwork();
    const now = await chainSeconds(provider);
    const requests: object[] = [];
    const cases: PackedCase[] = [];
    for (const packing of packings) {
      const leaves = leavesOf(packing.items);
      const childrenRoot = containerRootOf(leavesOf(packing.rootOf ?? packing.items)) ?? ZERO_WORD;
      const batchIds = [...new Set(leaves.map((l) => (l.type === "item" ? l.batchId : "")))];
      const occurredAt = now - 120n;
      const events: object[] = [
        {
          type: "AggregationEvent",
          eventTime: new Date(Number(occurredAt) * 1000).toISOString(),
          eventTimeZoneOffset: "+08:00",
          parentID: `https://id.gs1.org/00/${packing.sscc}`,
          childEPCs: packing.items,
          action: "ADD",
          bizStep: "packing",
          ...(packing.bizTransactions === undefined ? {} : { bizTransactionList: packing.bizTransactions }),
        },
      ];
      const containerKey = containerKeyOf(packing.sscc);
      const value = {
        actor: actor.address,
        containerKey,
        childrenRoot,
        childCount: BigInt(leaves.length),
        batchIds,
        childContainers: [],
        occurredAt,
        payloadCid: await storeDocument(stack.content, events),
        counterparty: packing.shipTo ?? ZeroAddress,
        previous: ZERO_WORD,
        deadline: now + 86_400n,
      };
      const { signature, digest } = await sign(actor, chainId, stack.registry, "ContainerPacking", value);
      requests.push({ ...value, signature, current: NEVER_PACKED, childStates: [] });
      cases.push({
        sscc: packing.sscc,
        containerKey,
        state: { childrenRoot, custodian, pendingReceiver: packing.shipTo ?? ZeroAddress, link: digest },
      });
    }
    const tx = (await registry.getFunction("packContainers").send(requests)) as { wait: () => Promise<unknown> };
    await tx.wait();
    return cases;
  } finally {
    provider.destroy();
  }
}

/** Ships (or unpacks, receives) a packed case, signed by `actor`; returns its state after. */
export async function containerEventDirectly(
  stack: DirectStack,
  actor: Wallet,
  packed: PackedCase,
  action: (typeof CONTAINER_ACTIONS)[number],
  after: { custodian: string; pendingReceiver: string },
  counterparty = ZeroAddress,
): Promise<PackedCase> {
  const provider = new JsonRpcProvider(stack.rpcUrl);
  try {
    const relayer = new Wallet(stack.relayerKey, provider);
    const registry = new Contract(stack.registry, traceRegistryArtifact().abi, relayer);
    const { chainId } = await provider.getNetwork();
    const now = await chainSeconds(provider);
    const value = {
      actor: actor.address,
      containerKey: packed.containerKey,
      action: BigInt(CONTAINER_ACTIONS.indexOf(action)),
      occurredAt: now - 60n,
      payloadCid: await storeDocument(stack.content, [
        {
          type: "ObjectEvent",
          eventTime: new Date(Number(now - 60n) * 1000).toISOString(),
          eventTimeZoneOffset: "+08:00",
          epcList: [`https://id.gs1.org/00/${packed.sscc}`],
          action: "OBSERVE",
          bizStep: action,
        },
      ]),
      counterparty,
      previous: stateHashOf(packed.state),
      deadline: now + 86_400n,
    };
    const { signature, digest } = await sign(actor, chainId, stack.registry, "ContainerEvent", value);
    const tx = (await registry
      .getFunction("recordContainerEvents")
      .send([{ ...value, signature, current: packed.state }])) as { wait: () => Promise<unknown> };
    await tx.wait();
    return {
      ...packed,
      state: {
        childrenRoot: action === "unpacking" ? ZERO_WORD : packed.state.childrenRoot,
        custodian: after.custodian,
        pendingReceiver: after.pendingReceiver,
        link: digest,
      },
    };
  } finally {
    provider.destroy();
  }
}
