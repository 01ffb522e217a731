import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { TYPED_CODECS, decodeTyped, encodeTyped, type BatchAttestationValue } from "./typed-data.ts";

const attestation: BatchAttestationValue = {
  attester: "0x00000000000000000000000000000000000000a1",
  gtin: 6_901_234_567_892n,
  lot: "LOT-1",
  itemsRoot: `0x${"ab".repeat(32)}`,
  itemCount: 1_000_000n,
  quantityMilli: 2n ** 64n - 1n,
  unit: "kg",
  harvestedAt: 1_760_000_000n,
  metadataCid: "0x01551220",
  nonce: 2n ** 200n,
  deadline: 1_760_003_600n,
};

describe("typed value codecs", () => {
  it("round-trips a value through its JSON form, integers wider than a JSON number as decimal text", () => {
    const json = TYPED_CODECS.BatchAttestation.encode(attestation);
    assert.equal(json.quantityMilli, "18446744073709551615");
    assert.equal(json.nonce, (2n ** 200n).toString());
    assert.deepEqual(TYPED_CODECS.BatchAttestation.decode(JSON.parse(JSON.stringify(json))), attestation);
    // Field order is the type table's, whatever order the value was built in.
    assert.deepEqual(Object.keys(json), Object.keys(attestation));
  });

  it("reads the stored forms: outbox steps as JSON numbers, signature request integers as bigints", () => {
    const event = TYPED_CODECS.TraceEvent.decode({
      actor: "0x00000000000000000000000000000000000000a1",
      batchId: `0x${"cd".repeat(32)}`,
      bizStep: 2,
      occurredAt: "1760000000",
      payloadCid: "0x0155",
      counterparty: "0x00000000000000000000000000000000000000b2",
      nonce: 7n,
      deadline: "1760003600",
      signature: "0x12", // beside the fields in an outbox entry; not part of the value
    });
    assert.equal(event.bizStep, 2n);
    assert.equal(event.nonce, 7n);
    assert.equal("signature" in event, false);
    const typed = decodeTyped("TraceEvent", event);
    assert.equal(typed.primaryType, "TraceEvent");
    assert.equal(encodeTyped(typed).bizStep, "2");
    // Version 2 signs the receiver of a shipping; an entry without one is not a version 2 event.
    assert.throws(
      () => TYPED_CODECS.TraceEvent.decode({ ...TYPED_CODECS.TraceEvent.encode(event), counterparty: undefined }),
      /TraceEvent\.counterparty/,
    );
  });

  it("reads inspection requests and GTIN grants, a grant's flag as a JSON boolean or its text", () => {
    const request = TYPED_CODECS.InspectionRequest.decode({
      requester: "0x00000000000000000000000000000000000000a1",
      batchId: `0x${"cd".repeat(32)}`,
      inspector: "0x00000000000000000000000000000000000000c3",
      nonce: "1",
      deadline: "1760003600",
    });
    assert.equal(request.nonce, 1n);
    assert.deepEqual(TYPED_CODECS.InspectionRequest.decode(TYPED_CODECS.InspectionRequest.encode(request)), request);
    const grant = {
      owner: "0x00000000000000000000000000000000000000a1",
      gtin: "6901234567892",
      grantee: "0x00000000000000000000000000000000000000d4",
      nonce: "2",
      deadline: "1760003600",
    };
    assert.equal(TYPED_CODECS.GtinGrant.decode({ ...grant, granted: true }).granted, true);
    assert.equal(TYPED_CODECS.GtinGrant.decode({ ...grant, granted: "false" }).granted, false);
    assert.throws(() => TYPED_CODECS.GtinGrant.decode({ ...grant, granted: "yes" }), /GtinGrant\.granted/);
  });

  it("refuses a field that does not fit its EIP-712 type, naming it", () => {
    const json = TYPED_CODECS.BatchAttestation.encode(attestation);
    const bad: [string, unknown][] = [
      ["attester", "0x1234"],
      ["itemsRoot", "0xabcd"],
      ["metadataCid", "0x015"],
      ["itemCount", "-1"],
      ["itemCount", (2n ** 32n).toString()],
      ["gtin", 1.5],
      ["lot", 12],
      ["nonce", undefined],
    ];
    for (const [field, value] of bad) {
      assert.throws(
        () => TYPED_CODECS.BatchAttestation.decode({ ...json, [field]: value }),
        (error: unknown) => error instanceof TypeError && error.message.startsWith(`BatchAttestation.${field} `),
        `${field} = ${String(value)}`,
      );
    }
    assert.throws(() => TYPED_CODECS.Recall.decode(null), /Recall is not a JSON object/);
  });
});
