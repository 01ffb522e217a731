import assert from "node:assert/strict";
import { describe, it } from "node:test";

import type { TraceEventValue } from "../domain/typed-data.ts";
import { OUTBOX_KINDS, outboxEntry } from "./outbox-kinds.ts";

const event: TraceEventValue = {
  actor: "0x00000000000000000000000000000000000000a1",
  batchId: `0x${"cd".repeat(32)}`,
  bizStep: 5n,
  occurredAt: 1_760_000_000n,
  payloadCid: "0x01551220",
  counterparty: "0x0000000000000000000000000000000000000000",
  nonce: 9n,
  deadline: 1_760_003_600n,
};

/** An event entry as services wrote it by hand before the codecs, and as databases hold it. */
const storedEvent = {
  actor: event.actor,
  batchId: event.batchId,
  bizStep: 5,
  occurredAt: "1760000000",
  payloadCid: "0x01551220",
  counterparty: "0x0000000000000000000000000000000000000000",
  nonce: "9",
  deadline: "1760003600",
  signature: "0x1234",
};

describe("outbox kinds", () => {
  it("stores a signed value in the JSON shape entries have always had", () => {
    const entry = outboxEntry("event", "event-1", { value: event, signature: "0x1234" });
    assert.deepEqual(entry, { kind: "event", referenceId: "event-1", payload: storedEvent });
    assert.equal(JSON.stringify(entry.payload), JSON.stringify(storedEvent));
  });

  it("turns stored entries into the contract call, integers as bigints", () => {
    const spec = OUTBOX_KINDS.find((s) => s.kind === "event");
    assert.ok(spec);
    assert.deepEqual(spec.encode([storedEvent]), {
      functionName: "recordEvents",
      args: [[{ ...event, signature: "0x1234" }]],
    });
    assert.throws(() => spec.encode([{ ...storedEvent, nonce: "nine" }]), /TraceEvent\.nonce/);
    assert.deepEqual(
      OUTBOX_KINDS.map((s) => s.kind),
      [
        "organisation",
        "company_prefix",
        "gtin_binding",
        "gtin_grant",
        "attestation",
        "inspection_request",
        "regulator_inspection_request",
        "event",
        "container_packing",
        "container_event",
        "suspension",
        "reinstatement",
        "regulator_recall",
        "recall",
      ],
    );
  });

  it("stores a container packing with its bytes32[] fields and the states it applies to", () => {
    const word = (byte: string) => `0x${byte.repeat(32)}`;
    const state = {
      childrenRoot: word("00"),
      custodian: event.counterparty,
      pendingReceiver: event.counterparty,
      link: word("00"),
    };
    const value = {
      actor: event.actor,
      containerKey: word("aa"),
      childrenRoot: word("bb"),
      childCount: 2n,
      batchIds: [word("cc"), word("dd")],
      childContainers: [],
      occurredAt: 1_760_000_000n,
      payloadCid: "0x01551220",
      counterparty: event.counterparty,
      previous: word("00"),
      deadline: 1_760_003_600n,
    };
    const entry = outboxEntry("container_packing", word("ee"), {
      value,
      signature: "0x1234",
      current: state,
      childStates: [],
    });
    const stored: unknown = JSON.parse(JSON.stringify(entry.payload));
    assert.deepEqual((stored as { batchIds: unknown }).batchIds, [word("cc"), word("dd")]);
    const spec = OUTBOX_KINDS.find((s) => s.kind === "container_packing");
    assert.ok(spec);
    assert.deepEqual(spec.encode([stored]), {
      functionName: "packContainers",
      args: [[{ ...value, signature: "0x1234", current: state, childStates: [] }]],
    });
    assert.throws(
      () => spec.encode([{ ...(stored as object), batchIds: ["0x12"] }]),
      /ContainerPacking\.batchIds\[0\]/,
    );
  });

  it("refuses an attestation whose text breaks the contract's limits before building a call", () => {
    const spec = OUTBOX_KINDS.find((s) => s.kind === "attestation");
    assert.ok(spec);
    const stored = {
      attester: event.actor,
      gtin: "6901234567892",
      lot: "L".repeat(21),
      itemsRoot: event.batchId,
      itemCount: "3",
      quantityMilli: "1000",
      unit: "kg",
      harvestedAt: "1760000000",
      metadataCid: "0x0155",
      nonce: "1",
      deadline: "1760003600",
      signature: "0x1234",
    };
    assert.throws(() => spec.encode([stored]));
    assert.equal(spec.encode([{ ...stored, lot: "LOT-1" }]).functionName, "attestBatches");
  });

  it("binds and releases prefixes and GTINs with the admin's calls, a prefix's length its digits", () => {
    const owner = "0x00000000000000000000000000000000000000b2";
    const prefix = OUTBOX_KINDS.find((s) => s.kind === "company_prefix");
    const gtin = OUTBOX_KINDS.find((s) => s.kind === "gtin_binding");
    assert.ok(prefix && gtin);
    assert.equal(prefix.sender, "admin");
    assert.deepEqual(prefix.encode([{ action: "bind", prefix: "0614141", owner }]), {
      functionName: "bindCompanyPrefix",
      args: [614_141n, 7, owner],
    });
    assert.deepEqual(prefix.encode([{ action: "release", prefix: "0614141", owner }]), {
      functionName: "releaseCompanyPrefix",
      args: [614_141n, 7],
    });
    assert.deepEqual(gtin.encode([{ action: "bind", gtin: "06901234567892", owner }]), {
      functionName: "bindGtin",
      args: [6_901_234_567_892n, owner],
    });
    assert.deepEqual(gtin.encode([{ action: "release", gtin: "06901234567892", owner }]), {
      functionName: "releaseGtin",
      args: [6_901_234_567_892n],
    });
    assert.throws(() => prefix.encode([{ action: "bind", prefix: "12345", owner }]));
    assert.throws(() => gtin.encode([{ action: "grant", gtin: "06901234567892", owner }]));
  });

  it("anchors organisations, bindings, grants and attestations in the order they were accepted", () => {
    const order = ["organisation", "company_prefix", "gtin_binding", "gtin_grant", "attestation"];
    for (const kind of order.slice(1)) {
      const spec = OUTBOX_KINDS.find((s) => s.kind === kind);
      assert.deepEqual([...(spec?.after ?? [])].sort(), order.filter((other) => other !== kind).sort(), kind);
    }
    // Events after their batch, its organisations and the inspection requests accepted before them.
    const event = OUTBOX_KINDS.find((s) => s.kind === "event");
    assert.deepEqual(event?.after, [
      "organisation",
      "attestation",
      "inspection_request",
      "regulator_inspection_request",
    ]);
  });
});
