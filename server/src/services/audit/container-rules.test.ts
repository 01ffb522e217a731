import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { batchIdOf } from "../../verify/batch-id.ts";
import { auditContainers, lotPacking, packedOverRegistered, type ContainerContext } from "./container-rules.ts";
import {
  containerKeyOf,
  containerRootOf,
  leafOfEpc,
  readContainerDocument,
  type ContainerLeaf,
  type ContainerStepEvidence,
  type GatheredContainer,
  type GatheredContainers,
} from "./containers.ts";

const GTIN = "06901234567892";
const LOT = "L1";
const BATCH = batchIdOf(GTIN, LOT);
const ZERO = `0x${"0".repeat(64)}`;
const ZERO_ADDRESS = `0x${"0".repeat(40)}`;
const COOP = "0x1111111111111111111111111111111111111111";
const SHOP = "0x2222222222222222222222222222222222222222";
const ISSUED = ["S1", "S2", "S3", "S4", "S5", "S6"];
const NO_CLAIMS: ContainerContext = { claims: new Map() };

const itemUri = (serial: string, lot = LOT): string => `https://example.org/01/${GTIN}/10/${lot}/21/${serial}`;
const ssccOf = (n: number): string => `0690123400000000${String(n)}`.slice(0, 17) + "0";

function leaves(epcs: readonly string[]): ContainerLeaf[] {
  return epcs.map((epc) => {
    const leaf = leafOfEpc(epc);
    assert.ok(leaf !== null, epc);
    return leaf;
  });
}

let block = 10;

/** One step in the registry's order (each in its own block), valid unless told otherwise. */
function step(
  action: ContainerStepEvidence["action"],
  options: Partial<ContainerStepEvidence> = {},
): ContainerStepEvidence {
  block += 1;
  return {
    action,
    containerKey: ZERO,
    actor: COOP,
    occurredAt: 1_777_000_000 + block * 60,
    payloadCid: `bafy${String(block)}`,
    counterparty: ZERO_ADDRESS,
    previous: ZERO,
    blockNumber: block,
    logIndex: 0,
    transactionHash: `0x${String(block).padStart(64, "0")}`,
    state: { childrenRoot: ZERO, custodian: COOP, pendingReceiver: ZERO_ADDRESS, link: ZERO },
    stateHash: ZERO,
    signatureValid: true,
    stateValid: true,
    bizTransactions: [],
    packing: null,
    ...options,
  };
}

function packing(
  items: readonly string[],
  options: { root?: string; count?: number; batchIds?: string[]; children?: number[]; shipTo?: string } = {},
): ContainerStepEvidence {
  const childLeaves = (options.children ?? []).map((n) => `https://id.gs1.org/00/${ssccOf(n)}`);
  const all = leaves([...items, ...childLeaves]);
  const root = containerRootOf(all) ?? ZERO;
  return step("packing", {
    state: {
      childrenRoot: options.root ?? root,
      custodian: COOP,
      pendingReceiver: options.shipTo ?? ZERO_ADDRESS,
      link: ZERO,
    },
    packing: {
      childrenRoot: options.root ?? root,
      childCount: options.count ?? all.length,
      batchIds: options.batchIds ?? (items.length === 0 ? [] : [BATCH]),
      childContainers: (options.children ?? []).map((n) => containerKeyOf(ssccOf(n))),
      leaves: all,
      unreadable: [],
      recomputedRoot: root,
      sscc: null,
    },
  });
}

function container(n: number, steps: ContainerStepEvidence[]): GatheredContainer {
  const key = containerKeyOf(ssccOf(n));
  return { containerKey: key, sscc: ssccOf(n), steps: steps.map((s) => ({ ...s, containerKey: key })) };
}

function gathered(...containers: GatheredContainer[]): GatheredContainers {
  return { containers, issued: { [BATCH]: ISSUED }, contents: [] };
}

const codes = (findings: { code: string }[]): string[] => findings.map((f) => f.code);

void describe("the audit of cases and pallets", () => {
  void it("finds nothing in honest cases, and counts the lot's items packed", () => {
    const evidence = gathered(
      container(1, [packing([itemUri("S1"), itemUri("S2")])]),
      container(2, [packing([itemUri("S3")]), step("shipping", { counterparty: SHOP })]),
    );
    assert.deepEqual(auditContainers(evidence, [BATCH], NO_CLAIMS), []);
    const lot = lotPacking(evidence, BATCH, 6);
    assert.equal(lot.packedLive, 3);
    assert.equal(lot.packedEver, 3);
    assert.deepEqual(packedOverRegistered(lot), []);
  });

  void it("finds an item in two live cases, but not in a case packed after the first was unpacked", () => {
    const forged = gathered(
      container(1, [packing([itemUri("S1"), itemUri("S2")])]),
      container(2, [packing([itemUri("S2"), itemUri("S3")])]),
    );
    const findings = auditContainers(forged, [BATCH], NO_CLAIMS);
    assert.deepEqual(codes(findings), ["container.item_in_two_live"]);
    assert.equal(findings[0]?.evidence.item, itemUri("S2"));
    assert.deepEqual(
      (findings[0].evidence.containers as { sscc: string }[]).map((c) => c.sscc),
      [ssccOf(1), ssccOf(2)],
    );
    // The item counted in both cases: 4 of 6 registered, within; of a 3-item lot, an over-packing.
    assert.equal(lotPacking(forged, BATCH, 6).packedLive, 4);
    assert.deepEqual(codes(packedOverRegistered(lotPacking(forged, BATCH, 3))), ["lot.packed_over_registered"]);

    const repacked = gathered(
      container(1, [packing([itemUri("S1"), itemUri("S2")]), step("unpacking")]),
      container(2, [packing([itemUri("S2"), itemUri("S3")])]),
    );
    assert.deepEqual(auditContainers(repacked, [BATCH], NO_CLAIMS), []);
    assert.equal(lotPacking(repacked, BATCH, 6).packedLive, 2);
    assert.equal(lotPacking(repacked, BATCH, 6).packedEver, 3);
  });

  void it("finds a document whose leaves do not give the root or the count, a batch not listed, a serial never issued", () => {
    const other = batchIdOf(GTIN, "L2");
    const findings = auditContainers(
      gathered(
        container(1, [packing([itemUri("S1")], { root: `0x${"ab".repeat(32)}` })]),
        container(2, [packing([itemUri("S2")], { count: 24 })]),
        container(3, [packing([itemUri("S3"), itemUri("S9", "L2")], { batchIds: [BATCH] })]),
        container(4, [packing([itemUri("S99")])]),
      ),
      [BATCH, other],
      NO_CLAIMS,
    );
    assert.deepEqual(
      findings.map((f) => [f.code, f.evidence.sscc, f.evidence.reason]),
      [
        ["container.root_mismatch", ssccOf(1), "root"],
        ["container.root_mismatch", ssccOf(2), "count"],
        ["container.root_mismatch", ssccOf(3), "batch_not_listed"],
        ["container.root_mismatch", ssccOf(4), "serial_not_issued"],
      ],
    );
  });

  void it("finds a request not signed by its actor and a state that does not follow", () => {
    const findings = auditContainers(
      gathered(
        container(1, [packing([itemUri("S1")]), step("shipping", { signatureValid: false, stateValid: false })]),
      ),
      [BATCH],
      NO_CLAIMS,
    );
    assert.deepEqual(codes(findings), ["container.signature", "container.state_chain"]);
  });

  void it("finds a case shipped after an item in it was sold, through its pallet too; a sale after the shipping is fine", () => {
    const pack = packing([itemUri("S1"), itemUri("S2")]);
    const ship = step("shipping", { counterparty: SHOP });
    const soldBefore: ContainerContext = { claims: new Map([[`${BATCH}/S2`, (ship.occurredAt - 30) * 1000]]) };
    const soldAfter: ContainerContext = { claims: new Map([[`${BATCH}/S2`, (ship.occurredAt + 30) * 1000]]) };
    const evidence = gathered(container(1, [pack, ship]));
    const findings = auditContainers(evidence, [BATCH], soldBefore);
    assert.deepEqual(codes(findings), ["container.shipped_after_sold"]);
    assert.equal(findings[0]?.evidence.item, itemUri("S2"));
    assert.deepEqual(auditContainers(evidence, [BATCH], soldAfter), []);

    // The case inside a pallet: the pallet's shipping carries the sold item.
    const casePack = packing([itemUri("S3")]);
    const palletPack = packing([], { children: [5] });
    const palletShip = step("shipping", { counterparty: SHOP });
    const nested = gathered(container(5, [casePack]), container(6, [palletPack, palletShip]));
    const sold: ContainerContext = { claims: new Map([[`${BATCH}/S3`, (palletShip.occurredAt - 30) * 1000]]) };
    assert.deepEqual(codes(auditContainers(nested, [BATCH], sold)), ["container.shipped_after_sold"]);
  });

  void it("warns of a case shipped alone out of its live pallet, not once the pallet is unpacked", () => {
    const casePack = packing([itemUri("S1")]);
    const palletPack = packing([], { children: [7] });
    const caseShip = step("shipping", { counterparty: SHOP });
    const findings = auditContainers(
      gathered(container(7, [casePack, caseShip]), container(8, [palletPack])),
      [BATCH],
      NO_CLAIMS,
    );
    assert.deepEqual(codes(findings), ["container.case_shipped_alone"]);
    assert.equal(findings[0]?.severity, "warning");

    const palletUnpack = step("unpacking");
    const laterShip = step("shipping", { counterparty: SHOP });
    assert.deepEqual(
      auditContainers(
        gathered(container(7, [casePack, laterShip]), container(8, [palletPack, palletUnpack])),
        [BATCH],
        NO_CLAIMS,
      ),
      [],
    );
  });

  void it("reads a payload document's leaves, parent and business transactions", () => {
    const document = {
      type: "EPCISDocument",
      epcisBody: {
        eventList: [
          {
            type: "AggregationEvent",
            action: "ADD",
            parentID: `https://id.gs1.org/00/${ssccOf(1)}`,
            childEPCs: [itemUri("S1"), `https://id.gs1.org/00/${ssccOf(2)}`, "urn:epc:id:grai:1.2.3"],
            bizTransactionList: [{ type: "po", bizTransaction: "urn:example:po:42" }],
          },
          {
            type: "ObjectEvent",
            action: "OBSERVE",
            epcList: [`https://id.gs1.org/00/${ssccOf(1)}`],
            bizTransactionList: [
              { type: "https://ref.gs1.org/cbv/BTT-desadv", bizTransaction: "urn:example:desadv:7" },
              { type: "po", bizTransaction: "urn:example:po:42" },
            ],
          },
        ],
      },
    };
    const read = readContainerDocument(document);
    assert.equal(read.sscc, ssccOf(1));
    assert.deepEqual(
      read.leaves.map((l) => (l.type === "item" ? [l.type, l.batchId, l.serial] : [l.type, l.sscc])),
      [
        ["item", BATCH, "S1"],
        ["container", ssccOf(2)],
      ],
    );
    assert.deepEqual(read.unreadable, ["urn:epc:id:grai:1.2.3"]);
    assert.deepEqual(read.bizTransactions, [
      { type: "po", id: "urn:example:po:42" },
      { type: "desadv", id: "urn:example:desadv:7" },
    ]);
  });
});
