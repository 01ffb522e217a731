import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { AbiCoder, TypedDataEncoder, Wallet, ZeroAddress, getAddress, hexlify, keccak256 } from "ethers";
import fc from "fast-check";

import { domainFor, typesFor, type BatchAttestationValue, type TraceEventValue } from "../domain/typed-data.ts";
import { AppError } from "../errors/app-error.ts";
import { batchIdOf } from "./batch-id.ts";
import { verifyBatchLogs, verifyBatchLogsAsking, type BatchLogs } from "./batch.ts";
import type { RpcClient } from "./rpc.ts";

const coder = AbiCoder.defaultAbiCoder();

describe("batchIdOf", () => {
  it("equals keccak256(abi.encode(uint64 gtin, string lot)) as ethers encodes it, for a GTIN's digits or its value", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.string({ unit: "grapheme", maxLength: 40 }),
        (gtin, lot) => {
          const expected = keccak256(coder.encode(["uint64", "string"], [gtin, lot]));
          assert.equal(batchIdOf(gtin, lot), expected);
          assert.equal(batchIdOf(gtin.toString().padStart(14, "0"), lot), expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("refuses a GTIN that is not digits or does not fit 64 bits", () => {
    for (const bad of ["", "0x12", "1e3", " 123", "-1", (1n << 64n).toString()]) {
      assert.throws(() => batchIdOf(bad, "L1"), AppError, bad);
    }
    assert.throws(() => batchIdOf(1n << 64n, "L1"), AppError);
    assert.throws(() => batchIdOf(-1n, "L1"), AppError);
  });
});

const chainId = 31337n;
const registry = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const domain = { chainId, verifyingContract: registry };
const cooperative = Wallet.createRandom();
const processor = Wallet.createRandom();
const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => hexlify(bytes));

function attestationOf(itemsRoot: string): BatchAttestationValue {
  return {
    attester: cooperative.address,
    gtin: 6_901_234_567_892n,
    lot: "LOT-2026-04",
    itemsRoot,
    itemCount: 1000n,
    quantityMilli: 500_000n,
    unit: "kg",
    harvestedAt: 1_767_225_600n,
    metadataCid: "0x0155122012345678",
    nonce: 1n,
    deadline: 1_767_312_000n,
  };
}

function eventOf(batchId: string, index: number, actor: { address: string }): TraceEventValue {
  return {
    actor: actor.address,
    batchId,
    bizStep: BigInt(index % 12),
    occurredAt: 1_767_225_600n + BigInt(index) * 3600n,
    payloadCid: `0x01551220${index.toString(16).padStart(64, "0")}`,
    counterparty: ZeroAddress,
    nonce: BigInt(100 + index),
    deadline: 1_767_312_000n,
  };
}

/** A batch as the chain would hold it, signed by ethers' wallets and chained by ethers' ABI encoder. */
async function signedBatch(itemsRoot: string, eventCount: number): Promise<BatchLogs> {
  const attestation = attestationOf(itemsRoot);
  const batchId = batchIdOf(attestation.gtin, attestation.lot);
  const events = [];
  let head = `0x${"00".repeat(32)}`;
  for (let i = 0; i < eventCount; i++) {
    const actor = i % 2 === 0 ? cooperative : processor;
    const value = eventOf(batchId, i, actor);
    const signature = await actor.signTypedData(domainFor(chainId, registry), typesFor("TraceEvent"), value);
    const digest = TypedDataEncoder.hash(domainFor(chainId, registry), typesFor("TraceEvent"), value);
    head = keccak256(coder.encode(["bytes32", "bytes32"], [head, digest]));
    events.push({ value, signature });
  }
  const signature = await cooperative.signTypedData(
    domainFor(chainId, registry),
    typesFor("BatchAttestation"),
    attestation,
  );
  return { domain, record: { itemsRoot, eventHead: head }, attestation: { value: attestation, signature }, events };
}

describe("verifyBatchLogs", () => {
  it("finds nothing wrong in a batch signed and chained as the registry accepts it, with ethers' digests", async () => {
    await fc.assert(
      fc.asyncProperty(bytes32, fc.nat({ max: 5 }), async (root, count) => {
        const logs = await signedBatch(root, count);
        const result = verifyBatchLogs(logs);
        assert.deepEqual(result.findings, []);
        assert.equal(result.attestation?.signatureValid, true);
        assert.equal(result.eventHead.recomputed, logs.record.eventHead);
        assert.deepEqual(
          result.events.map((e) => e.digest),
          logs.events.map((e) => TypedDataEncoder.hash(domainFor(chainId, registry), typesFor("TraceEvent"), e.value)),
        );
        assert.ok(result.events.every((e) => e.signatureValid));
      }),
      { numRuns: 15 },
    );
  });

  it("accepts the record's hex in any letter case", async () => {
    const logs = await signedBatch(hexlify(new Uint8Array(32).fill(0xab)), 2);
    const upper = { itemsRoot: logs.record.itemsRoot.toUpperCase(), eventHead: logs.record.eventHead.toUpperCase() };
    assert.deepEqual(verifyBatchLogs({ ...logs, record: upper }).findings, []);
  });

  it("finds a missing attestation, a signature by another key and a root the chain does not hold", async () => {
    const logs = await signedBatch(hexlify(new Uint8Array(32).fill(1)), 1);
    assert.deepEqual(verifyBatchLogs({ ...logs, attestation: null }).findings, [{ code: "attestation_missing" }]);

    const attestation = logs.attestation;
    assert.ok(attestation !== null);
    const forged = await processor.signTypedData(
      domainFor(chainId, registry),
      typesFor("BatchAttestation"),
      attestation.value,
    );
    const result = verifyBatchLogs({ ...logs, attestation: { ...attestation, signature: forged } });
    assert.equal(result.attestation?.signatureValid, false);
    assert.deepEqual(result.findings, [{ code: "attestation_signature", attester: cooperative.address }]);
    assert.deepEqual(verifyBatchLogs({ ...logs, attestation: { ...attestation, signature: "0x1234" } }).findings, [
      { code: "attestation_signature", attester: cooperative.address },
    ]);

    const otherRoot = hexlify(new Uint8Array(32).fill(2));
    assert.deepEqual(verifyBatchLogs({ ...logs, record: { ...logs.record, itemsRoot: otherRoot } }).findings, [
      { code: "items_root", attested: attestation.value.itemsRoot, onChain: otherRoot },
    ]);
  });

  it("finds a changed event (its signature and the head) and a dropped or reordered one (the head)", async () => {
    const logs = await signedBatch(hexlify(new Uint8Array(32).fill(3)), 3);
    const [first, second, third] = logs.events;
    assert.ok(first !== undefined && second !== undefined && third !== undefined);
    const changed = { ...second, value: { ...second.value, occurredAt: BigInt(second.value.occurredAt) + 1n } };
    const codes = (events: BatchLogs["events"]) => verifyBatchLogs({ ...logs, events }).findings.map((f) => f.code);
    assert.deepEqual(
      verifyBatchLogs({ ...logs, events: [first, changed, third] }).findings.filter((f) => f.code !== "event_head"),
      [{ code: "event_signature", index: 1, actor: getAddress(processor.address) }],
    );
    assert.deepEqual(codes([first, changed, third]), ["event_signature", "event_head"]);
    assert.deepEqual(codes([first, third]), ["event_head"]);
    assert.deepEqual(codes([second, first, third]), ["event_head"]);
    assert.deepEqual(codes([...logs.events, first]), ["event_head"]);
  });
});

describe("verifyBatchLogsAsking (contract wallets, ERC-1271)", () => {
  // The cooperative's address stands for a contract wallet whose owner key is `owner`.
  const owner = Wallet.createRandom();
  const magic = `0x1626ba7e${"0".repeat(56)}`;

  async function walletSigned(): Promise<BatchLogs> {
    const logs = await signedBatch(hexlify(new Uint8Array(32).fill(7)), 1);
    assert.ok(logs.attestation);
    const signature = await owner.signTypedData(
      domainFor(chainId, registry),
      typesFor("BatchAttestation"),
      logs.attestation.value as BatchAttestationValue,
    );
    return { ...logs, attestation: { ...logs.attestation, signature, blockNumber: 12 } };
  }

  /** A node where the cooperative's wallet agrees with its owner's signatures (or with nothing). */
  function node(agrees: boolean): { rpc: RpcClient; blocks: (string | undefined)[] } {
    const blocks: (string | undefined)[] = [];
    return {
      blocks,
      rpc: {
        chainId: () => Promise.resolve(chainId),
        ethCall: (to, _data, block) => {
          blocks.push(block);
          return Promise.resolve(agrees && to.toLowerCase() === cooperative.address.toLowerCase() ? magic : "0x");
        },
      },
    };
  }

  it("takes an attestation the attester's wallet agreed with, asked at its log's block", async () => {
    const logs = await walletSigned();
    assert.deepEqual(
      verifyBatchLogs(logs).findings.map((f) => f.code),
      ["attestation_signature"],
    );
    const { rpc, blocks } = node(true);
    const verified = await verifyBatchLogsAsking(logs, rpc);
    assert.deepEqual(verified.findings, []);
    assert.equal(verified.attestation?.signatureValid, true);
    assert.deepEqual(blocks, ["0xc"], "only the failed signature, at block 12");
  });

  it("refuses it when the wallet does not agree, or when there is no chain to ask", async () => {
    const logs = await walletSigned();
    for (const rpc of [node(false).rpc, undefined]) {
      assert.deepEqual(
        (await verifyBatchLogsAsking(logs, rpc)).findings.map((f) => f.code),
        ["attestation_signature"],
      );
    }
  });

  it("asks nothing when every signature recovers to its signer", async () => {
    const { rpc, blocks } = node(true);
    assert.deepEqual(
      (await verifyBatchLogsAsking(await signedBatch(hexlify(new Uint8Array(32)), 2), rpc)).findings,
      [],
    );
    assert.deepEqual(blocks, []);
  });
});
