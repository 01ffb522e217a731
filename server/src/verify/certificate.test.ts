/**
 * The lineage rules of `verifyCertificate`, offline (no chain): certificates signed here with
 * random keys, in a registry domain that exists only in this test. Signatures, ids and
 * hashes are the real ones (ethers signs, the verifier recovers with @noble).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { TypedDataEncoder, Wallet } from "ethers";

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
  fields: { milli: string; batchIds: string[]; parents?: string[] },
): Promise<PublicCertificate> {
  const document: CertificateDocument = {
    type: "oioc.quality-certificate",
    version: 1,
    serial: crypto.randomUUID(),
    product: { gtin: "06901234567892", name: { zh: "西湖龙井", en: null } },
    quantity: { milli: fields.milli, unit: "KGM" },
    origin: { regionCode: "330106", place: "西湖区" },
    issuedOn: "2026-04-16",
    issuer: { signer: wallet.address, name: { zh: "测试", en: null }, phone: "0571-8888 1234" },
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
      signerAddress: wallet.address,
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
