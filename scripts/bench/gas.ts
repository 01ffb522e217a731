/**
 * Gas per registered item, per batch and per event on Hardhat's local EVM, next to the
 * peers DESIGN.md names ("What fast means here"), all deployed in the same run. Targets
 * of the issue are rows of their own, with the ratio ours / target beside them: a ratio
 * above 1 misses the target by that factor.
 */
import { measureContainers, ITEMS_PER_CASE, type ContainerGas } from "./gas/containers.ts";
import { measurePeers, type PeerGas } from "./gas/peers.ts";
import { measureRegistry, type RegistryGas } from "./gas/registry.ts";
import { ratio } from "./gas/support.ts";
import type { BenchRow, BenchSuite } from "./types.ts";

/** Targets from the issue. */
export const TARGET_GAS_PER_EVENT = 30_000;
/**
 * Gas per event of a batch receiving 10 events in 1 tx before events were checked for
 * custody (README's table of stop 18): a recorded figure, printed beside today's.
 */
export const RECORDED_GAS_PER_EVENT_BEFORE_CUSTODY = 23_442;
export const TARGET_GAS_PER_ITEM = 100;
/** Issue #14: a 24-item case packed and shipped. */
export const TARGET_GAS_PER_CASE_PACKED_AND_SHIPPED = 60_000;

function log(message: string): void {
  console.error(`[bench:gas] ${message}`);
}

function gasRows(ours: RegistryGas, cases: ContainerGas, peers: PeerGas): BenchRow[] {
  const loop = peers.erc721LoopSize === 1_000 ? "1 loop of 1,000 in 1 tx" : `loops of ${peers.erc721LoopSize} per tx`;
  return [
    { metric: "ours: gas per batch, 1 attestation per tx", value: ours.perBatchOnePerTx, unit: "gas/batch" },
    { metric: "ours: gas per batch, 10 attestations per tx", value: ours.perBatchTenPerTx, unit: "gas/batch" },
    { metric: "ours: gas per batch, 50 attestations per tx", value: ours.perBatchFiftyPerTx, unit: "gas/batch" },
    {
      metric: "ours: gas per item, 1,000-item batches sent 10 per tx",
      value: ours.perItemTenBatchesPerTx,
      unit: "gas/item",
    },
    {
      metric: "target: gas per item, 1,000-item batches sent 10 per tx (max)",
      value: TARGET_GAS_PER_ITEM,
      unit: "gas/item",
    },
    {
      metric: `ours: gas per packed item, ${ITEMS_PER_CASE}-item cases packed and shipped 10 per tx`,
      value: cases.packAndShipPerItem,
      unit: "gas/item",
    },
    {
      metric: `ours: gas per ${ITEMS_PER_CASE}-item case, packed 10 per tx (the processor holding the batch)`,
      value: cases.packPerCase,
      unit: "gas/case",
    },
    { metric: "ours: gas per case, shipped 10 per tx", value: cases.shipPerCase, unit: "gas/case" },
    {
      metric: `ours: gas per ${ITEMS_PER_CASE}-item case, packed and shipped (10 per tx each)`,
      value: cases.packAndShipPerCase,
      unit: "gas/case",
    },
    {
      metric: `ours: gas per ${ITEMS_PER_CASE}-item case, packed and shipped in one signed request (10 per tx)`,
      value: cases.despatchPerCase,
      unit: "gas/case",
    },
    {
      metric: `ours: gas per packed item, ${ITEMS_PER_CASE}-item cases packed and shipped in one request, 10 per tx`,
      value: cases.despatchPerItem,
      unit: "gas/item",
    },
    {
      metric: `target: gas per ${ITEMS_PER_CASE}-item case, packed and shipped (max)`,
      value: TARGET_GAS_PER_CASE_PACKED_AND_SHIPPED,
      unit: "gas/case",
    },
    {
      metric: "ours: gas per event, 1 event per tx (the processor's 1st after the handover)",
      value: ours.firstEventAlone,
      unit: "gas/event",
    },
    {
      metric: "ours: gas per event, 1 event per tx (the processor's 2nd-10th, avg)",
      value: ours.laterEventsAlone,
      unit: "gas/event",
    },
    {
      metric: "ours: gas per event, a batch receiving 10 events in 10 separate txs (avg)",
      value: ours.tenEventsSeparateTxs,
      unit: "gas/event",
    },
    {
      metric: "ours: gas per event, a batch receiving 10 events in 1 tx (custody checked)",
      value: ours.tenEventsOneTxSameBatch,
      unit: "gas/event",
    },
    {
      metric: "recorded: gas per event, a batch receiving 10 events in 1 tx, before custody checks (stop 18)",
      value: RECORDED_GAS_PER_EVENT_BEFORE_CUSTODY,
      unit: "gas/event",
    },
    {
      metric: "ours: gas per event, a fresh batch's first 10 events in 1 tx, its handover included",
      value: ours.tenEventsOneTxWithHandover,
      unit: "gas/event",
    },
    {
      metric: "ours: gas per event, 10 events per tx over 10 different batches (each one's 1st after its handover)",
      value: ours.tenEventsAcrossBatchesFirst,
      unit: "gas/event",
    },
    {
      metric: "ours: gas per event, 10 batches receiving 10 events each, 10 txs of 1 event per batch (avg)",
      value: ours.tenEventsAcrossBatchesLifetime,
      unit: "gas/event",
    },
    {
      metric: "target: gas per event when a batch receives 10 events (max)",
      value: TARGET_GAS_PER_EVENT,
      unit: "gas/event",
    },
    {
      metric: "ERC-721 (OpenZeppelin): gas per item, 1,000 items minted 1 per tx",
      value: peers.erc721PerItemOnePerTx,
      unit: "gas/item",
    },
    {
      metric: `ERC-721 (OpenZeppelin): gas per item, 1,000 items minted in ${loop}`,
      value: peers.erc721PerItemLoop,
      unit: "gas/item",
    },
    {
      metric: "ERC721A: gas per item, 1,000-item batch minted in 1 tx",
      value: peers.erc721aPerItemBatch,
      unit: "gas/item",
    },
    { metric: "EAS: gas per batch, attest (1 per tx)", value: peers.easAttest, unit: "gas/batch" },
    { metric: "EAS: gas per batch, multiAttest (10 per tx)", value: peers.easMultiAttestTen, unit: "gas/batch" },
    {
      metric: "EAS: gas per batch, attestByDelegation (1 per tx, signed)",
      value: peers.easAttestByDelegation,
      unit: "gas/batch",
    },
    {
      metric: "EAS: gas per batch, multiAttestByDelegation (10 per tx, signed)",
      value: peers.easMultiAttestByDelegationTen,
      unit: "gas/batch",
    },
  ];
}

function ratioRows(ours: RegistryGas, cases: ContainerGas, peers: PeerGas): BenchRow[] {
  const row = (metric: string, value: number): BenchRow => ({ metric: `ratio: ${metric}`, value, unit: "ratio" });
  const perItem = ours.perItemTenBatchesPerTx;
  return [
    row("ours / target, gas per item (1,000-item batches, 10 per tx)", ratio(perItem, TARGET_GAS_PER_ITEM)),
    row(
      `ours / target, gas per ${ITEMS_PER_CASE}-item case packed and shipped (10 per tx each)`,
      ratio(cases.packAndShipPerCase, TARGET_GAS_PER_CASE_PACKED_AND_SHIPPED),
    ),
    row(
      `ours / target, gas per ${ITEMS_PER_CASE}-item case packed and shipped in one signed request (10 per tx)`,
      ratio(cases.despatchPerCase, TARGET_GAS_PER_CASE_PACKED_AND_SHIPPED),
    ),
    row(
      "ours / target, gas per event (a batch receiving 10 events in 10 separate txs)",
      ratio(ours.tenEventsSeparateTxs, TARGET_GAS_PER_EVENT),
    ),
    row(
      "ours / target, gas per event (a batch receiving 10 events in 1 tx)",
      ratio(ours.tenEventsOneTxSameBatch, TARGET_GAS_PER_EVENT),
    ),
    row(
      "ours / target, gas per event (10 batches x 10 events, 10 txs of 1 event per batch)",
      ratio(ours.tenEventsAcrossBatchesLifetime, TARGET_GAS_PER_EVENT),
    ),
    row(
      "ours / ERC-721 gas per item (1,000-item batch; ERC-721 minted 1 per tx)",
      ratio(perItem, peers.erc721PerItemOnePerTx),
    ),
    row(
      "ours / ERC-721 gas per item (1,000-item batch; ERC-721 minted in loops)",
      ratio(perItem, peers.erc721PerItemLoop),
    ),
    row("ours / ERC721A gas per item (1,000-item batch)", ratio(perItem, peers.erc721aPerItemBatch)),
    row("ours / EAS gas per batch (1 per tx: attestBatches vs attest)", ratio(ours.perBatchOnePerTx, peers.easAttest)),
    row(
      "ours / EAS gas per batch (1 per tx: attestBatches vs attestByDelegation)",
      ratio(ours.perBatchOnePerTx, peers.easAttestByDelegation),
    ),
    row(
      "ours / EAS gas per batch (10 per tx: attestBatches vs multiAttest)",
      ratio(ours.perBatchTenPerTx, peers.easMultiAttestTen),
    ),
    row(
      "ours / EAS gas per batch (10 per tx: attestBatches vs multiAttestByDelegation)",
      ratio(ours.perBatchTenPerTx, peers.easMultiAttestByDelegationTen),
    ),
  ];
}

async function runGasBench(): Promise<BenchRow[]> {
  // Imported here, not at the top: loading Hardhat reads its config, which suites that
  // do not touch the chain should not pay for.
  const { default: hre } = await import("hardhat");
  log("compiling contracts");
  await hre.tasks.getTask("build").run({ quiet: true, noTests: true });

  const connection = await hre.network.create();
  try {
    const { ethers, networkConfig } = connection;
    const hardfork = "hardfork" in networkConfig ? networkConfig.hardfork : "unknown";
    log(
      `Hardhat ${connection.networkName} network (EDR), hardfork ${hardfork}, solc ${hre.config.solidity.profiles.default?.compilers[0]?.version ?? "?"}`,
    );
    const [admin, relayer] = await ethers.getSigners();
    if (admin === undefined || relayer === undefined) throw new Error("the local network has fewer than two accounts");

    log("measuring TraceRegistry (ours)");
    const ours = await measureRegistry({ provider: ethers.provider, admin, relayer });
    log("measuring TraceRegistry's cases (packed and shipped)");
    const cases = await measureContainers({ provider: ethers.provider, admin, relayer });
    log("measuring peers: ERC-721, ERC721A, EAS");
    const peers = await measurePeers({
      provider: ethers.provider,
      owner: admin,
      relayer,
      compiled: async (name) => {
        const artifact = await hre.artifacts.readArtifact(name);
        return { abi: artifact.abi, bytecode: artifact.bytecode };
      },
    });
    if (peers.erc721LoopSize !== 1_000) {
      log(
        `1,000 ERC-721 mints exceed the 2^24 gas cap of one transaction (EIP-7825); minted ${peers.erc721LoopSize} per tx`,
      );
    }
    return [...gasRows(ours, cases, peers), ...ratioRows(ours, cases, peers)];
  } finally {
    await connection.close();
  }
}

export const gasSuite: BenchSuite = { name: "gas", run: runGasBench };
