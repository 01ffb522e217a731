import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  AbiCoder,
  Signature,
  TypedDataEncoder,
  Wallet,
  getAddress,
  hexlify,
  keccak256,
  toUtf8Bytes,
  verifyTypedData,
} from "ethers";
import fc from "fast-check";

import type { AttestationValueJson, EventValueJson } from "../domain/resolution.ts";
import { domainFor, typesFor } from "../domain/typed-data.ts";
import { attestationDigest, domainSeparator, eventDigest, recoverSigner, typedDataDigest } from "./eip712.ts";
import { AppError } from "../errors/app-error.ts";

const uint = (bits: number): fc.Arbitrary<string> => fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n }).map(String);
const hexBytes = (min: number, max: number): fc.Arbitrary<string> =>
  fc.uint8Array({ minLength: min, maxLength: max }).map((bytes) => hexlify(bytes));
const address = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((bytes) => getAddress(hexlify(bytes)));
const text = fc.string({ unit: "binary", maxLength: 40 });

const attestationValue: fc.Arbitrary<AttestationValueJson> = fc.record({
  attester: address,
  gtin: uint(64),
  lot: text,
  itemsRoot: hexBytes(32, 32),
  itemCount: uint(32),
  quantityMilli: uint(64),
  unit: text,
  harvestedAt: uint(64),
  metadataCid: hexBytes(0, 80),
  nonce: uint(256),
  deadline: uint(64),
});

const eventValue: fc.Arbitrary<EventValueJson> = fc.record({
  actor: address,
  batchId: hexBytes(32, 32),
  bizStep: uint(8),
  occurredAt: uint(64),
  payloadCid: hexBytes(0, 80),
  counterparty: address,
  nonce: uint(256),
  deadline: uint(64),
});

const domain = fc.record({ chainId: uint(64), verifyingContract: address });

function ethersDigest(
  d: { chainId: string; verifyingContract: string },
  type: "BatchAttestation" | "TraceEvent",
  value: object,
): string {
  return TypedDataEncoder.hash(domainFor(BigInt(d.chainId), d.verifyingContract), typesFor(type), value);
}

describe("EIP-712 digests", () => {
  it("attestationDigest equals ethers' TypedDataEncoder.hash for random values", () => {
    fc.assert(
      fc.property(domain, attestationValue, (d, value) => {
        assert.equal(attestationDigest(d, value), ethersDigest(d, "BatchAttestation", value));
      }),
      { numRuns: 300 },
    );
  });

  it("digests in a domain met before equal ethers' (remembered hashes), and a caller cannot change them", () => {
    const d = { chainId: "31337", verifyingContract: Wallet.createRandom().address };
    domainSeparator(d).fill(0);
    fc.assert(
      fc.property(eventValue, attestationValue, (event, attestation) => {
        assert.equal(eventDigest(d, event), ethersDigest(d, "TraceEvent", event));
        assert.equal(attestationDigest(d, attestation), ethersDigest(d, "BatchAttestation", attestation));
        // The same registry named in another letter case and the chain id as a bigint: the same domain.
        const same = { chainId: 31337n, verifyingContract: d.verifyingContract.toLowerCase() };
        assert.equal(eventDigest(same, event), ethersDigest(d, "TraceEvent", event));
      }),
      { numRuns: 200 },
    );
    assert.equal(hexlify(domainSeparator(d)), TypedDataEncoder.hashDomain(domainFor(31337n, d.verifyingContract)));
  });

  it("eventDigest equals ethers' TypedDataEncoder.hash for random values", () => {
    fc.assert(
      fc.property(domain, eventValue, (d, value) => {
        assert.equal(eventDigest(d, value), ethersDigest(d, "TraceEvent", value));
      }),
      { numRuns: 300 },
    );
  });

  it("the Recall digest equals ethers' too (the third type of the table)", () => {
    const value = {
      attester: Wallet.createRandom().address,
      batchId: hexlify(new Uint8Array(32).fill(7)),
      reasonCid: "0x0155",
      nonce: "3",
      deadline: "99",
    };
    const d = { chainId: "31337", verifyingContract: Wallet.createRandom().address };
    assert.equal(
      typedDataDigest(d, "Recall", value),
      TypedDataEncoder.hash(domainFor(31337n, d.verifyingContract), typesFor("Recall"), value),
    );
  });

  it("any changed field changes the digest", () => {
    fc.assert(
      fc.property(domain, eventValue, (d, value) => {
        const changed = { ...value, occurredAt: String(BigInt(value.occurredAt) ^ 1n) };
        assert.notEqual(eventDigest(d, changed), eventDigest(d, value));
        assert.notEqual(eventDigest({ ...d, chainId: String(BigInt(d.chainId) + 1n) }, value), eventDigest(d, value));
      }),
      { numRuns: 50 },
    );
  });

  it("refuses out-of-range integers, non-decimal integers and malformed hex", () => {
    const d = { chainId: "1", verifyingContract: Wallet.createRandom().address };
    const base: EventValueJson = {
      actor: Wallet.createRandom().address,
      batchId: hexlify(new Uint8Array(32)),
      bizStep: "1",
      occurredAt: "1",
      payloadCid: "0x",
      counterparty: Wallet.createRandom().address,
      nonce: "0",
      deadline: "1",
    };
    assert.throws(() => eventDigest(d, { ...base, bizStep: "256" }), AppError);
    assert.throws(() => eventDigest(d, { ...base, occurredAt: "-1" }), AppError);
    assert.throws(() => eventDigest(d, { ...base, occurredAt: "0x10" }), AppError);
    assert.throws(() => eventDigest(d, { ...base, batchId: "0x1234" }), AppError);
    assert.throws(() => eventDigest(d, { ...base, payloadCid: "0x123" }), AppError);
    assert.throws(() => eventDigest(d, { ...base, actor: "0x1234" }), AppError);
  });
});

describe("version 2's new types", () => {
  it("GtinGrant and InspectionRequest digests equal ethers' for random values", () => {
    const grant = fc.record({
      owner: address,
      gtin: uint(64),
      grantee: address,
      granted: fc.boolean(),
      nonce: uint(256),
      deadline: uint(64),
    });
    const request = fc.record({
      requester: address,
      batchId: hexBytes(32, 32),
      inspector: address,
      nonce: uint(256),
      deadline: uint(64),
    });
    fc.assert(
      fc.property(domain, grant, request, (d, g, r) => {
        const typed = domainFor(BigInt(d.chainId), d.verifyingContract);
        assert.equal(typedDataDigest(d, "GtinGrant", g), TypedDataEncoder.hash(typed, typesFor("GtinGrant"), g));
        assert.equal(
          typedDataDigest(d, "InspectionRequest", r),
          TypedDataEncoder.hash(typed, typesFor("InspectionRequest"), r),
        );
      }),
      { numRuns: 100 },
    );
  });
});

describe("recoverSigner", () => {
  const wallets = Array.from({ length: 4 }, () => Wallet.createRandom());

  it("recovers what ethers' verifyTypedData recovers, for signatures of random values", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...wallets), domain, eventValue, async (wallet, d, value) => {
        const typedDomain = domainFor(BigInt(d.chainId), d.verifyingContract);
        const signature = await wallet.signTypedData(typedDomain, typesFor("TraceEvent"), value);
        const recovered = recoverSigner(eventDigest(d, value), signature);
        assert.equal(recovered, wallet.address);
        assert.equal(recovered, verifyTypedData(typedDomain, typesFor("TraceEvent"), value, signature));
      }),
      { numRuns: 40 },
    );
  });

  it("recovers another address for another digest, and accepts v as 0/1", () => {
    const wallet = wallets[0] ?? Wallet.createRandom();
    const digest = hexlify(new Uint8Array(32).fill(1));
    const signature = Signature.from(wallet.signingKey.sign(digest));
    assert.equal(recoverSigner(digest, signature.serialized), wallet.address);
    assert.notEqual(recoverSigner(hexlify(new Uint8Array(32).fill(2)), signature.serialized), wallet.address);
    const bytes = Uint8Array.from(Buffer.from(signature.serialized.slice(2), "hex"));
    bytes[64] = (bytes[64] ?? 27) - 27;
    assert.equal(recoverSigner(digest, hexlify(bytes)), wallet.address);
  });

  it("refuses the malleable high-s twin of a valid signature, as OpenZeppelin's ECDSA does", () => {
    const wallet = wallets[1] ?? Wallet.createRandom();
    const digest = hexlify(new Uint8Array(32).fill(9));
    const signature = Signature.from(wallet.signingKey.sign(digest));
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const highS = "0x" + (n - BigInt(signature.s)).toString(16).padStart(64, "0");
    const twin = signature.r + highS.slice(2) + (signature.v === 27 ? "1c" : "1b");
    assert.throws(
      () => recoverSigner(digest, twin),
      (error: unknown) => error instanceof AppError && error.code === "verify.signature_format",
    );
  });

  it("refuses signatures of the wrong length, a bad v, or r = 0", () => {
    const digest = hexlify(new Uint8Array(32));
    assert.throws(() => recoverSigner(digest, hexlify(new Uint8Array(64))), AppError);
    const badV = new Uint8Array(65).fill(1);
    badV[64] = 29;
    assert.throws(() => recoverSigner(digest, hexlify(badV)), AppError);
    const zeroR = new Uint8Array(65);
    zeroR[63] = 1;
    zeroR[64] = 27;
    assert.throws(() => recoverSigner(digest, hexlify(zeroR)), AppError);
  });
});

describe("TraceEvent digest from first principles", () => {
  it("equals the digest computed by hand from the type strings and abi.encode, as the registry computes it", () => {
    const registry = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    const chainId = 31337n;
    const event = {
      actor: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
      batchId: keccak256(toUtf8Bytes("batch")),
      bizStep: 6n,
      occurredAt: 1_767_225_600n,
      payloadCid: "0x0155122012345678",
      nonce: 42n,
      deadline: 1_767_312_000n,
    };
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
    // Version "1" (the first deployment's, kept to verify its signatures): no counterparty.
    assert.equal(
      typedDataDigest({ chainId, verifyingContract: registry, version: "1" }, "TraceEvent", event),
      expected,
    );
  });
});
