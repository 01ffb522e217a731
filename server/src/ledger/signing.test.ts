/**
 * A 合格证's `QualityCertificate` struct signed two ways: by a custodial key (`signTyped`, as the
 * server signs for an organisation without a wallet) and by a wallet given the typed data a
 * signature request hands out (the value through its JSON codec, `typesFor`). Both must be the
 * same signature over the same digest, the certificate's id, or a wallet-signed certificate
 * would not verify as a custodial one does.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { TypedDataEncoder, Wallet } from "ethers";

import { DOMAIN_NAME, OFF_CHAIN_TYPES, decodeTyped, encodeTyped, typesFor } from "../domain/typed-data.ts";
import { recoverSigner, structDigest } from "../verify/eip712.ts";
import { signTyped } from "./signing.ts";

describe("a 合格证 signed by a custodial key and by a wallet from its signature request", () => {
  const wallet = new Wallet(Wallet.createRandom().privateKey);
  const domain = {
    chainId: 31337n,
    verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    version: "2" as const,
  };
  const value = {
    issuer: wallet.address,
    gtin: 6901234567892n,
    quantityMilli: 60_000n,
    unit: "KGM",
    issuedOn: 20_260_416n,
    documentHash: `0x${"ab".repeat(32)}`,
  };

  it("is the same signature, over the certificate's id", async () => {
    const custodial = await signTyped(wallet, domain, "QualityCertificate", value);
    // What the request stores (bigints) and hands the wallet (decimal text), as describeRequest does.
    const message = encodeTyped(decodeTyped("QualityCertificate", value));
    assert.deepEqual(message, {
      issuer: wallet.address,
      gtin: "6901234567892",
      quantityMilli: "60000",
      unit: "KGM",
      issuedOn: "20260416",
      documentHash: value.documentHash,
    });
    const requestDomain = {
      name: DOMAIN_NAME,
      version: domain.version,
      chainId: domain.chainId.toString(),
      verifyingContract: domain.verifyingContract,
    };
    const types = typesFor("QualityCertificate", domain.version);
    const fromRequest = await wallet.signTypedData(requestDomain, types, message);
    assert.equal(fromRequest, custodial);

    const id = structDigest(domain, "QualityCertificate", OFF_CHAIN_TYPES.QualityCertificate, { ...message });
    assert.equal(id, TypedDataEncoder.hash(requestDomain, types, message));
    assert.equal(recoverSigner(id, fromRequest), wallet.address);
  });

  it("has the same fields in every version of the domain", () => {
    const fields = { QualityCertificate: [...OFF_CHAIN_TYPES.QualityCertificate] };
    assert.deepEqual(typesFor("QualityCertificate", "1"), fields);
    assert.deepEqual(typesFor("QualityCertificate", "2"), fields);
  });

  it("decodes only what its types allow", () => {
    assert.throws(
      () => decodeTyped("QualityCertificate", { ...value, issuedOn: 2n ** 32n }),
      /issuedOn is not a uint32/,
    );
    assert.throws(() => decodeTyped("QualityCertificate", { ...value, documentHash: "0x12" }), /documentHash/);
  });
});
