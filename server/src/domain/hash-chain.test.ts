import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { AbiCoder, Wallet, keccak256, recoverAddress, toUtf8Bytes } from "ethers";
import fc from "fast-check";

import { isDomainError } from "./errors.ts";
import { ZERO_HEAD, nextEventHead, recomputeEventHead, traceEventDigest, verifyEventHead } from "./hash-chain.ts";
import { domainFor, typesFor, type TraceEventValue } from "./typed-data.ts";

/** keccak256 of two words, by plain byte concatenation: abi.encode(bytes32, bytes32) is exactly that. */
function concatHash(a: string, b: string): string {
  return `0x${bytesToHex(keccak_256(new Uint8Array([...hexToBytes(a.slice(2)), ...hexToBytes(b.slice(2))])))}`;
}

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => `0x${bytesToHex(bytes)}`);

void describe("event hash chain", () => {
  void it("starts from the zero hash", () => {
    assert.equal(ZERO_HEAD, `0x${"00".repeat(32)}`);
    assert.equal(recomputeEventHead([]), ZERO_HEAD);
  });

  void it("links each digest as keccak256(previous ‖ digest), like the registry", () => {
    const d1 = keccak256(toUtf8Bytes("first event"));
    const d2 = keccak256(toUtf8Bytes("second event"));
    const h1 = concatHash(ZERO_HEAD, d1);
    const h2 = concatHash(h1, d2);
    assert.equal(nextEventHead(ZERO_HEAD, d1), h1);
    assert.equal(recomputeEventHead([d1, d2]), h2);
    assert.equal(verifyEventHead(h2, [d1, d2]), true);
    assert.equal(verifyEventHead(h2.toUpperCase().replace("0X", "0x"), [d1, d2]), true);
  });

  void it("detects a dropped, added or reordered event", () => {
    fc.assert(
      fc.property(fc.array(bytes32, { minLength: 2, maxLength: 8 }), bytes32, fc.nat(), (digests, extra, at) => {
        const head = digests.reduce(concatHash, ZERO_HEAD);
        assert.equal(recomputeEventHead(digests), head);
        const position = at % digests.length;
        assert.equal(verifyEventHead(head, digests.toSpliced(position, 1)), false);
        assert.equal(verifyEventHead(head, digests.toSpliced(position, 0, extra)), false);
        const swapped = digests.with(0, digests[1] ?? "").with(1, digests[0] ?? "");
        if (digests[0] !== digests[1]) assert.equal(verifyEventHead(head, swapped), false);
      }),
    );
  });

  void it("refuses anything but 32-byte hex", () => {
    for (const bad of ["0x12", "deadbeef", `0x${"zz".repeat(32)}`, "00".repeat(32)]) {
      assert.throws(
        () => nextEventHead(ZERO_HEAD, bad),
        (error) => isDomainError(error, "hash_chain.bytes32"),
      );
    }
    assert.equal(verifyEventHead("0x12", []), false);
  });
});

void describe("TraceEvent EIP-712 digest", () => {
  const registry = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
  const chainId = 31337n;
  const event: TraceEventValue = {
    actor: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    batchId: keccak256(toUtf8Bytes("batch")),
    bizStep: 6n,
    occurredAt: 1_767_225_600n,
    payloadCid: "0x0155122012345678",
    nonce: 42n,
    deadline: 1_767_312_000n,
  };

  void it("equals the digest computed by hand from the type string and abi.encode", () => {
    const coder = AbiCoder.defaultAbiCoder();
    const domainTypeHash = keccak256(
      toUtf8Bytes("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
    );
    const domainSeparator = keccak256(
      coder.encode(
        ["bytes32", "bytes32", "bytes32", "uint256", "address"],
        [domainTypeHash, keccak256(toUtf8Bytes("OneItemOneCode")), keccak256(toUtf8Bytes("1")), chainId, registry],
      ),
    );
    const typeHash = keccak256(
      toUtf8Bytes(
        "TraceEvent(address actor,bytes32 batchId,uint8 bizStep,uint64 occurredAt,bytes payloadCid,uint256 nonce,uint64 deadline)",
      ),
    );
    const structHash = keccak256(
      coder.encode(
        ["bytes32", "address", "bytes32", "uint8", "uint64", "bytes32", "uint256", "uint64"],
        [
          typeHash,
          event.actor,
          event.batchId,
          event.bizStep,
          event.occurredAt,
          keccak256(event.payloadCid),
          event.nonce,
          event.deadline,
        ],
      ),
    );
    const expected = keccak256(`0x1901${domainSeparator.slice(2)}${structHash.slice(2)}`);
    assert.equal(traceEventDigest({ chainId, registry, event }), expected);
  });

  void it("is what a wallet signs, and changes with the chain, the contract and every field", async () => {
    const wallet = Wallet.createRandom();
    const digest = traceEventDigest({ chainId, registry, event: { ...event, actor: wallet.address } });
    const signature = await wallet.signTypedData(domainFor(chainId, registry), typesFor("TraceEvent"), {
      ...event,
      actor: wallet.address,
    });
    assert.equal(recoverAddress(digest, signature), wallet.address);

    const base = traceEventDigest({ chainId, registry, event });
    assert.notEqual(traceEventDigest({ chainId: 1n, registry, event }), base);
    assert.notEqual(traceEventDigest({ chainId, registry: event.actor, event }), base);
    assert.notEqual(traceEventDigest({ chainId, registry, event: { ...event, bizStep: 7n } }), base);
    assert.notEqual(
      traceEventDigest({ chainId, registry, event: { ...event, payloadCid: "0x0155122012345679" } }),
      base,
    );
    assert.notEqual(traceEventDigest({ chainId, registry, event: { ...event, nonce: 43n } }), base);
  });
});
