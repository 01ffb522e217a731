/**
 * The lineage rules of `verifyCertificate`, offline (no chain): certificates signed here with
 * random keys, in a registry domain that exists only in this test. Signatures, ids and
 * hashes are the real ones (ethers signs, the verifier recovers with @noble).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { AbiCoder, Interface, TypedDataEncoder, Wallet, ZeroHash } from "ethers";

import {
  CERTIFICATE_PROMISE,
  certificateValue,
  certificateValueJson,
  type CertificateDocument,
  type PublicCertificate,
} from "../domain/certificate.ts";
import { DOMAIN_NAME, OFF_CHAIN_TYPES } from "../domain/typed-data.ts";
import { keccak256Hex } from "./bytes.ts";
import { lineageProblems, verifyCertificate } from "./certificate.ts";
import type { RpcClient } from "./rpc.ts";

const domain = {
  name: DOMAIN_NAME,
  version: "2",
  chainId: "31337",
  verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
};
const types = { QualityCertificate: OFF_CHAIN_TYPES.QualityCertificate.map((field) => ({ ...field })) };
const batch = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;

async function certify(
  wallet: Wallet,
  fields: { milli: string; batchIds: string[]; parents?: string[]; issuer?: string },
): Promise<PublicCertificate> {
  // The issuer a contract wallet (`fields.issuer`) whose owner key is `wallet`, or the key itself.
  const issuer = fields.issuer ?? wallet.address;
  const document: CertificateDocument = {
    type: "oioc.quality-certificate",
    version: 1,
    serial: crypto.randomUUID(),
    product: { gtin: "06901234567892", name: { zh: "西湖龙井", en: null } },
    quantity: { milli: fields.milli, unit: "KGM" },
    origin: { regionCode: "330106", place: "西湖区" },
    issuedOn: "2026-04-16",
    issuer: { signer: issuer, name: { zh: "测试", en: null }, phone: "0571-8888 1234" },
    promise: { zh: CERTIFICATE_PROMISE.zh, en: CERTIFICATE_PROMISE.en },
    basis: ["self_test"],
    batchIds: fields.batchIds,
    parents: fields.parents ?? [],
  };
  const text = JSON.stringify(document);
  const value = certificateValue(document, keccak256Hex(new TextEncoder().encode(text)));
  return {
    id: TypedDataEncoder.hash(domain, types, value),
    primaryType: "QualityCertificate",
    domain,
    value: certificateValueJson(value),
    signature: await wallet.signTypedData(domain, types, value),
    document: text,
    issuer: {
      organisationId: "org",
      name: { zh: "测试", en: null },
      kind: "cooperative",
      regionCode: "330106",
      signerAddress: issuer,
      ledgerState: "anchored",
    },
    parents: document.parents,
    batchIds: document.batchIds,
    createdAt: new Date(0).toISOString(),
  };
}

function store(certificates: PublicCertificate[]): (id: string) => Promise<unknown> {
  const byId = new Map(certificates.map((certificate) => [certificate.id, certificate]));
  return (id) => {
    const found = byId.get(id);
    return found === undefined ? Promise.reject(new Error("404")) : Promise.resolve(found);
  };
}

describe("verifyCertificate offline: lineage", () => {
  const producer = new Wallet(Wallet.createRandom().privateKey);
  const buyer = new Wallet(Wallet.createRandom().privateKey);
  const offline = { mode: "offline" as const, issuers: [buyer.address] };

  it("verifies a two-parent mixed lot, the parents' keys not checked", async () => {
    const a = await certify(producer, { milli: "60000", batchIds: [batch(1)] });
    const b = await certify(producer, { milli: "30000", batchIds: [batch(2)] });
    const mixed = await certify(buyer, { milli: "90000", batchIds: [batch(1), batch(2)], parents: [a.id, b.id] });
    const check = await verifyCertificate(mixed.id, { load: store([a, b, mixed]), issuers: offline });
    assert.deepEqual(lineageProblems(check), []);
    assert.equal(check.ok, true);
    assert.deepEqual(
      check.parents.map((parent) => [parent.issuer, parent.signer]),
      [
        ["not_checked", producer.address],
        ["not_checked", producer.address],
      ],
    );
  });

  it("refuses more than the parents together, a parent's batch left out, and a missing parent", async () => {
    const a = await certify(producer, { milli: "60000", batchIds: [batch(1)] });
    const b = await certify(producer, { milli: "30000", batchIds: [batch(2)] });
    const tooMuch = await certify(buyer, { milli: "90001", batchIds: [batch(1), batch(2)], parents: [a.id, b.id] });
    const leftOut = await certify(buyer, { milli: "1000", batchIds: [batch(1)], parents: [a.id, b.id] });
    const orphan = await certify(buyer, { milli: "1000", batchIds: [batch(1)], parents: [batch(99)] });
    const load = store([a, b, tooMuch, leftOut, orphan]);
    assert.deepEqual((await verifyCertificate(tooMuch.id, { load, issuers: offline })).problems, ["parent_quantity"]);
    assert.deepEqual((await verifyCertificate(leftOut.id, { load, issuers: offline })).problems, ["parent_batch"]);
    const missing = await verifyCertificate(orphan.id, { load, issuers: offline });
    assert.equal(missing.ok, false);
    assert.deepEqual(lineageProblems(missing), [{ id: batch(99), problem: "unreachable" }]);
  });

  it("stops at eight levels of parents", async () => {
    const chain: PublicCertificate[] = [await certify(buyer, { milli: "1000", batchIds: [batch(1)] })];
    for (let level = 1; level <= 9; level++) {
      const parent = chain[chain.length - 1];
      assert.ok(parent !== undefined);
      chain.push(await certify(buyer, { milli: "1000", batchIds: [batch(1)], parents: [parent.id] }));
    }
    const load = store(chain);
    const eight = chain[8];
    const nine = chain[9];
    assert.ok(eight !== undefined && nine !== undefined);
    assert.equal((await verifyCertificate(eight.id, { load, issuers: offline })).ok, true);
    const tooDeep = await verifyCertificate(nine.id, { load, issuers: offline });
    assert.equal(tooDeep.ok, false);
    assert.deepEqual(
      lineageProblems(tooDeep).map((problem) => problem.problem),
      ["lineage_too_deep"],
    );
  });
});

describe("verifyCertificate: an issuer holding a contract wallet (ERC-1271)", () => {
  const owner = new Wallet(Wallet.createRandom().privateKey);
  const walletAddress = "0x00000000000000000000000000000000000C0FFE";
  const views = new Interface([
    "function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)",
    "function organisation(address) view returns ((address signer, uint8 kind, uint8 status, uint32 regionCode, bytes metadataCid))",
    "function batch(bytes32) view returns (bytes32, address, uint32, uint8, bytes32, address, address)",
  ]);
  const coder = AbiCoder.defaultAbiCoder();

  /** A chain where the wallet agrees with its owner's signatures (or not), registered and active; its batches active. */
  function ledger(agrees: boolean): RpcClient {
    return {
      chainId: () => Promise.resolve(31337n),
      ethCall: (to, data) => {
        const call = views.parseTransaction({ data });
        if (call?.name === "isValidSignature") {
          const mine = to.toLowerCase() === walletAddress.toLowerCase();
          return Promise.resolve(coder.encode(["bytes4"], [agrees && mine ? "0x1626ba7e" : "0x00000000"]));
        }
        if (call?.name === "organisation") {
          return Promise.resolve(views.encodeFunctionResult("organisation", [[walletAddress, 1, 1, 330106, "0x"]]));
        }
        return Promise.resolve(
          views.encodeFunctionResult("batch", [ZeroHash, walletAddress, 1, 1, ZeroHash, walletAddress, walletAddress]),
        );
      },
    };
  }

  it("verifies a certificate its issuer's wallet agrees with, and refuses it when the wallet does not", async () => {
    const cert = await certify(owner, { milli: "1000", batchIds: [batch(1)], issuer: walletAddress });
    const load = store([cert]);
    const agreed = await verifyCertificate(cert.id, { load, issuers: { mode: "ledger", rpc: ledger(true) } });
    assert.deepEqual(agreed.problems, []);
    assert.equal(agreed.signer, walletAddress);
    assert.equal(agreed.issuer, "registered");
    const refused = await verifyCertificate(cert.id, { load, issuers: { mode: "ledger", rpc: ledger(false) } });
    assert.ok(refused.problems.includes("signature"), refused.problems.join());
    // Offline nothing can be asked: not verified.
    const offline = await verifyCertificate(cert.id, { load, issuers: { mode: "offline", issuers: [walletAddress] } });
    assert.ok(offline.problems.includes("signature"));
  });
});
