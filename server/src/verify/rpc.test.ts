import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { AbiCoder, Interface, Wallet, hexlify } from "ethers";
import fc from "fast-check";

import { VerifyError } from "./errors.ts";
import { decodeBatchRecord, decodeOrganisation, encodeBatchCall, encodeOrganisationCall } from "./rpc.ts";

const registry = new Interface([
  "function batch(bytes32 batchId) view returns (tuple(bytes32 itemsRoot, address attester, uint32 itemCount, uint8 status, bytes32 eventHead))",
  "function organisation(address signer) view returns (tuple(address signer, uint8 kind, uint8 status, uint32 regionCode, bytes metadataCid))",
]);
const word = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => hexlify(bytes));
const address = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((bytes) => hexlify(bytes));

describe("registry view ABI", () => {
  it("encodes calls as ethers' Interface does", () => {
    fc.assert(
      fc.property(word, address, (batchId, signer) => {
        assert.equal(encodeBatchCall(batchId), registry.encodeFunctionData("batch", [batchId]));
        assert.equal(encodeOrganisationCall(signer), registry.encodeFunctionData("organisation", [signer]));
      }),
      { numRuns: 50 },
    );
  });

  it("decodes batch(bytes32) results as ethers encodes them", () => {
    fc.assert(
      fc.property(
        word,
        address,
        fc.nat({ max: 2 ** 32 - 1 }),
        fc.nat({ max: 2 }),
        word,
        (root, attester, count, status, head) => {
          const data = registry.encodeFunctionResult("batch", [[root, attester, count, status, head]]);
          const decoded = decodeBatchRecord(data);
          assert.equal(decoded.itemsRoot, root);
          assert.equal(decoded.attester.toLowerCase(), attester);
          assert.equal(decoded.itemCount, count);
          assert.equal(decoded.status, (["none", "active", "recalled"] as const)[status]);
          assert.equal(decoded.eventHead, head);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("decodes organisation(address) results (a dynamic tuple) as ethers encodes them", () => {
    fc.assert(
      fc.property(
        address,
        fc.nat({ max: 5 }),
        fc.nat({ max: 2 }),
        fc.nat({ max: 999_999 }),
        fc.uint8Array({ maxLength: 70 }),
        (signer, kind, status, region, cid) => {
          const data = registry.encodeFunctionResult("organisation", [[signer, kind, status, region, cid]]);
          const decoded = decodeOrganisation(data);
          assert.equal(decoded.signer.toLowerCase(), signer);
          assert.equal(
            decoded.kind,
            (["none", "cooperative", "processor", "logistics", "retailer", "inspector"] as const)[kind],
          );
          assert.equal(decoded.status, (["none", "active", "suspended"] as const)[status]);
          assert.equal(decoded.regionCode, region);
          assert.equal(decoded.metadataCid, hexlify(cid));
        },
      ),
      { numRuns: 100 },
    );
  });

  it("refuses short data, an out-of-range enum and dirty address words", () => {
    const good = registry.encodeFunctionResult("batch", [
      [hexlify(new Uint8Array(32)), Wallet.createRandom().address, 1, 1, hexlify(new Uint8Array(32))],
    ]);
    assert.throws(() => decodeBatchRecord(good.slice(0, -64)), VerifyError);
    assert.throws(() => decodeBatchRecord("0x"), VerifyError);
    const badStatus = AbiCoder.defaultAbiCoder().encode(
      ["bytes32", "address", "uint32", "uint8", "bytes32"],
      [hexlify(new Uint8Array(32)), Wallet.createRandom().address, 1, 3, hexlify(new Uint8Array(32))],
    );
    assert.throws(() => decodeBatchRecord(badStatus), VerifyError);
    const dirty = good.slice(0, 66) + "ff" + good.slice(68);
    assert.throws(() => decodeBatchRecord(dirty), VerifyError);
  });
});
