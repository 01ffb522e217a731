/**
 * Gas of cases (issue #14, docs/aggregation.md): the processor that holds a batch packs its
 * items into 24-item cases and ships them to a retailer, ten cases to a transaction each way,
 * as the writer batches events. Every figure is a receipt's `gasUsed` (intrinsic and calldata
 * included) over what the transaction carried, like the registry's other rows.
 */
import { AbiCoder, TypedDataEncoder, ZeroAddress, hexlify, keccak256 } from "ethers";

import {
  CONTAINER_ACTIONS,
  containerTypesFor,
  domainFor,
  type ContainerType,
} from "../../../server/src/domain/typed-data.ts";
import { attest, chainNow, handOver, setUp, type Bench, type RegistryParties } from "./registry.ts";
import { documentCid, gasUsedBy, perUnit } from "./support.ts";

export const ITEMS_PER_CASE = 24;
const CASES_PER_TX = 10;
const DAY_SECONDS = 86_400n;
const ZERO_WORD = `0x${"0".repeat(64)}`;
const abi = AbiCoder.defaultAbiCoder();

export interface ContainerGas {
  /** gas per 24-item case packed, ten per transaction */
  packPerCase: number;
  /** gas per case shipped, ten per transaction */
  shipPerCase: number;
  /** the two together, per case and per packed item */
  packAndShipPerCase: number;
  packAndShipPerItem: number;
  /** one signed request that packs a case and ships it (a despatch), ten per transaction */
  despatchPerCase: number;
  despatchPerItem: number;
}

interface ContainerState {
  childrenRoot: string;
  custodian: string;
  pendingReceiver: string;
  link: string;
}

const NEVER_PACKED: ContainerState = {
  childrenRoot: ZERO_WORD,
  custodian: ZeroAddress,
  pendingReceiver: ZeroAddress,
  link: ZERO_WORD,
};

function stateHash(state: ContainerState): string {
  return keccak256(
    abi.encode(
      ["bytes32", "address", "address", "bytes32"],
      [state.childrenRoot, state.custodian, state.pendingReceiver, state.link],
    ),
  );
}

/** A case's key as the registry names containers: `keccak256(abi.encode(uint64 sscc))`. */
function caseKey(sequence: number): string {
  return keccak256(abi.encode(["uint64"], [106_141_410_000_000_000n + BigInt(sequence)]));
}

/** The processor's signature of `value`, and the digest it signed (the new state's link). */
async function signContainer(
  bench: Bench,
  primaryType: ContainerType,
  value: Record<string, unknown>,
): Promise<{ signature: string; digest: string }> {
  const domain = domainFor(bench.domain.chainId, bench.domain.verifyingContract);
  const types = containerTypesFor(primaryType);
  const signature = await bench.actor.wallet.signTypedData(domain, types, value);
  return { signature, digest: TypedDataEncoder.hash(domain, types, value) };
}

/** Packs ten cases from `first` on; each is also shipped to `receiver` unless it is the zero address. */
async function packCases(
  bench: Bench,
  batchId: string,
  first: number,
  receiver: string,
): Promise<{ gas: bigint; states: ContainerState[] }> {
  const now = await chainNow(bench.provider);
  const requests: object[] = [];
  const states: ContainerState[] = [];
  for (let i = first; i < first + CASES_PER_TX; i++) {
    const childrenRoot = keccak256(abi.encode(["string", "uint256"], ["case", i]));
    const value = {
      actor: bench.actor.wallet.address,
      containerKey: caseKey(i),
      childrenRoot,
      childCount: BigInt(ITEMS_PER_CASE),
      batchIds: [batchId],
      childContainers: [],
      occurredAt: now - 60n,
      payloadCid: hexlify(await documentCid({ packed: i })),
      counterparty: receiver,
      previous: ZERO_WORD,
      deadline: now + DAY_SECONDS,
    };
    const { signature, digest } = await signContainer(bench, "ContainerPacking", value);
    requests.push({ ...value, signature, current: NEVER_PACKED, childStates: [] });
    states.push({ childrenRoot, custodian: bench.actor.wallet.address, pendingReceiver: receiver, link: digest });
  }
  const gas = await gasUsedBy(bench.asRelayer.getFunction("packContainers").send(requests));
  return { gas, states };
}

async function shipCases(bench: Bench, first: number, states: readonly ContainerState[]): Promise<bigint> {
  const now = await chainNow(bench.provider);
  const requests: object[] = [];
  for (const [offset, current] of states.entries()) {
    const value = {
      actor: bench.actor.wallet.address,
      containerKey: caseKey(first + offset),
      action: BigInt(CONTAINER_ACTIONS.indexOf("shipping")),
      occurredAt: now - 60n,
      payloadCid: hexlify(await documentCid({ shipped: first + offset })),
      counterparty: bench.retailer,
      previous: stateHash(current),
      deadline: now + DAY_SECONDS,
    };
    const { signature } = await signContainer(bench, "ContainerEvent", value);
    requests.push({ ...value, signature, current });
  }
  return gasUsedBy(bench.asRelayer.getFunction("recordContainerEvents").send(requests));
}

export async function measureContainers(parties: RegistryParties): Promise<ContainerGas> {
  const bench = await setUp(parties);
  const { batchIds } = await attest(bench, 1);
  const [batchId] = batchIds;
  if (batchId === undefined) throw new Error("no batch to pack");
  await handOver(bench, [batchId]);

  const rounds = 3;
  let packGas = 0n;
  let shipGas = 0n;
  for (let round = 0; round < rounds; round++) {
    const first = round * CASES_PER_TX;
    const packed = await packCases(bench, batchId, first, ZeroAddress);
    packGas += packed.gas;
    shipGas += await shipCases(bench, first, packed.states);
  }
  let despatchGas = 0n;
  for (let round = rounds; round < 2 * rounds; round++) {
    despatchGas += (await packCases(bench, batchId, round * CASES_PER_TX, bench.retailer)).gas;
  }
  const cases = rounds * CASES_PER_TX;
  return {
    packPerCase: perUnit(packGas, cases),
    shipPerCase: perUnit(shipGas, cases),
    packAndShipPerCase: perUnit(packGas + shipGas, cases),
    packAndShipPerItem: perUnit(packGas + shipGas, cases * ITEMS_PER_CASE),
    despatchPerCase: perUnit(despatchGas, cases),
    despatchPerItem: perUnit(despatchGas, cases * ITEMS_PER_CASE),
  };
}
