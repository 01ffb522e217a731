import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Interface, Wallet, ZeroAddress, getAddress, hexlify, keccak256, toUtf8Bytes } from "ethers";

import { gtinCheckDigit } from "../domain/gs1.ts";
import { domainFor, typesFor, bizStepIndex, type BizStep } from "../domain/typed-data.ts";
import { loadArtifact } from "../ledger/registry-artifact.ts";
import { judgeAuthority, type AuthorityReport } from "./authority.ts";
import { judgeAuthorityAsking } from "./authority-read.ts";
import { sameHex } from "./bytes.ts";
import type { ContractSignature, ContractVerdict } from "./contract-signatures.ts";
import { decodeRegistryLog, LOG_TOPICS, REGULATOR_ROLE, type RegistryLog } from "./registry-logs.ts";

const CHAIN_ID = 31337n;
const REGISTRY = getAddress("0x5fbdb2315678afecb367f032d93f642f64180aa3");
const domain = { chainId: CHAIN_ID, verifyingContract: REGISTRY };
const typedDomain = domainFor(CHAIN_ID, REGISTRY);

const wallet = (): Wallet => Wallet.createRandom() as unknown as Wallet;
const coop = wallet();
const rival = wallet();
const packer = wallet();
const carrier = wallet();
const carrier2 = wallet();
const shop = wallet();
const lab = wallet();
const regulator = wallet();

/** A GTIN-14 under company prefix 6901234 (7 digits), item reference `item`. */
function gtinUnder(prefix: string, item: string): bigint {
  const body = `0${prefix}${item}`.padEnd(13, "0").slice(0, 13);
  return BigInt(`${body}${gtinCheckDigit(body)}`);
}
const PREFIX = 6901234n;
const GTIN = gtinUnder("6901234", "00001");
const OTHER_GTIN = gtinUnder("6909999", "00001");
const batchId = keccak256(toUtf8Bytes("batch-1"));
const lowerOf = (w: Wallet): string => w.address.toLowerCase();

/** A log without its position, of any type. */
type LogBody = RegistryLog extends infer L ? (L extends RegistryLog ? Omit<L, "at"> : never) : never;

/** Builds a batch's logs in chain order, one log per block. */
class Chain {
  readonly logs: RegistryLog[] = [];
  private block = 100;
  private head = ZeroAddress.replace("0x", "0x000000000000000000000000");

  private at() {
    return { blockNumber: this.block++, logIndex: 0 };
  }
  push(log: LogBody): this {
    this.logs.push({ ...log, at: this.at() });
    return this;
  }
  register(w: Wallet, kind: "cooperative" | "logistics" | "retailer" | "inspector"): this {
    return this.push({ type: "OrganisationRegistered", signer: w.address, kind });
  }
  rotate(from: Wallet, to: Wallet): this {
    return this.push({ type: "SignerRotated", previousSigner: from.address, newSigner: to.address });
  }
  bindPrefix(owner: Wallet, prefix = PREFIX, digits = 7): this {
    return this.push({ type: "CompanyPrefixBound", prefix, digits, owner: owner.address });
  }
  releasePrefix(owner: Wallet, prefix = PREFIX, digits = 7): this {
    return this.push({ type: "CompanyPrefixReleased", prefix, digits, owner: owner.address });
  }
  bindGtin(owner: Wallet, gtin = GTIN): this {
    return this.push({ type: "GtinBound", gtin, owner: owner.address });
  }
  async grant(signer: Wallet, owner: Wallet, grantee: Wallet, granted: boolean, gtin = GTIN): Promise<this> {
    const value = { owner: signer.address, gtin, grantee: grantee.address, granted, nonce: 7n, deadline: 2n ** 40n };
    const signature = await signer.signTypedData(typedDomain, typesFor("GtinGrant"), value);
    return this.push({
      type: "GtinGrantChanged",
      gtin,
      owner: owner.address,
      grantee: grantee.address,
      granted,
      nonce: value.nonce,
      deadline: value.deadline,
      signature,
    });
  }
  attest(attester: Wallet, gtin = GTIN): this {
    return this.push({ type: "BatchAttested", batchId, attester: attester.address, gtin });
  }
  event(actor: Wallet, step: BizStep, counterparty: Wallet | null = null): this {
    this.head = keccak256(toUtf8Bytes(`${this.head}${step}`));
    return this.push({
      type: "EventRecorded",
      batchId,
      actor: actor.address,
      bizStep: bizStepIndex(step),
      occurredAt: BigInt(1_767_225_600 + this.block * 60),
      counterparty: counterparty?.address ?? ZeroAddress,
      newHead: this.head,
    });
  }
  transfer(from: Wallet, to: Wallet): this {
    return this.push({ type: "CustodyTransferred", batchId, from: from.address, to: to.address });
  }
  async request(requester: Wallet, inspector: Wallet, signer: Wallet = requester): Promise<this> {
    const value = {
      requester: requester.address,
      batchId,
      inspector: inspector.address,
      nonce: 9n,
      deadline: 2n ** 40n,
    };
    const signature = await signer.signTypedData(typedDomain, typesFor("InspectionRequest"), value);
    return this.push({
      type: "InspectionRequested",
      batchId,
      inspector: inspector.address,
      requestedBy: requester.address,
      nonce: value.nonce,
      deadline: value.deadline,
      signature,
    });
  }
  /** The registry's admin grants (or revokes) `account` the regulator role. */
  regulatorRole(account: Wallet, granted: boolean): this {
    return this.push({
      type: granted ? "RoleGranted" : "RoleRevoked",
      role: REGULATOR_ROLE,
      account: account.address,
      sender: ZeroAddress,
    });
  }
  requestAsRegulator(inspector: Wallet, sender: Wallet = regulator): this {
    return this.push({
      type: "InspectionRequested",
      batchId,
      inspector: inspector.address,
      requestedBy: sender.address,
      nonce: 0n,
      deadline: 0n,
      signature: "0x",
    });
  }
  judge(): AuthorityReport {
    return judgeAuthority({ domain, batchId, logs: this.logs });
  }
}

function cast(): Chain {
  return new Chain()
    .regulatorRole(regulator, true)
    .register(coop, "cooperative")
    .register(rival, "cooperative")
    .register(packer, "cooperative")
    .register(carrier, "logistics")
    .register(carrier2, "logistics")
    .register(shop, "retailer")
    .register(lab, "inspector");
}

const codes = (report: AuthorityReport): string[] => report.findings.map((f) => f.code);

function entitlementOf(report: AuthorityReport): NonNullable<AuthorityReport["entitlement"]> {
  assert.ok(report.entitlement);
  return report.entitlement;
}

function eventAt(report: AuthorityReport, index: number): AuthorityReport["events"][number] {
  const event = report.events[index];
  assert.ok(event);
  return event;
}

describe("registry logs", () => {
  it("decode what ethers encodes with the registry's own ABI, each topic the ABI's", () => {
    const iface = new Interface(loadArtifact("interfaces/ITraceRegistry.sol", "ITraceRegistry").abi);
    // The role events are AccessControl's, which the deployed contract inherits.
    const deployed = new Interface(loadArtifact("TraceRegistry.sol", "TraceRegistry").abi);
    for (const [type, topic] of Object.entries(LOG_TOPICS)) {
      assert.equal((iface.getEvent(type) ?? deployed.getEvent(type))?.topicHash, topic, type);
    }
    assert.deepEqual(
      decodeRegistryLog({
        ...deployed.encodeEventLog("RoleRevoked", [REGULATOR_ROLE, rival.address, coop.address]),
        blockNumber: "0x2a",
        logIndex: "0x3",
      }),
      {
        at: { blockNumber: 42, logIndex: 3 },
        type: "RoleRevoked",
        role: REGULATOR_ROLE,
        account: rival.address,
        sender: coop.address,
      },
    );
    const encode = (name: string, args: unknown[]) => ({
      ...iface.encodeEventLog(name, args),
      blockNumber: "0x2a",
      logIndex: "0x3",
    });
    const sig = hexlify(new Uint8Array(65).fill(5));
    assert.deepEqual(
      decodeRegistryLog(
        encode("EventRecorded", [
          batchId,
          carrier.address,
          6,
          1_767_225_600n,
          "0x0155",
          shop.address,
          12n,
          99n,
          sig,
          keccak256("0x01"),
        ]),
      ),
      {
        at: { blockNumber: 42, logIndex: 3 },
        type: "EventRecorded",
        batchId,
        actor: carrier.address,
        bizStep: 6,
        occurredAt: 1_767_225_600n,
        counterparty: shop.address,
        newHead: keccak256("0x01"),
      },
    );
    const grant = decodeRegistryLog(
      encode("GtinGrantChanged", [GTIN, coop.address, packer.address, true, 7n, 8n, sig]),
    );
    assert.deepEqual(grant, {
      at: { blockNumber: 42, logIndex: 3 },
      type: "GtinGrantChanged",
      gtin: GTIN,
      owner: coop.address,
      grantee: packer.address,
      granted: true,
      nonce: 7n,
      deadline: 8n,
      signature: sig,
    });
    assert.deepEqual(decodeRegistryLog(encode("CompanyPrefixBound", [PREFIX, 7, coop.address])), {
      at: { blockNumber: 42, logIndex: 3 },
      type: "CompanyPrefixBound",
      prefix: PREFIX,
      digits: 7,
      owner: coop.address,
    });
    assert.deepEqual(decodeRegistryLog(encode("OrganisationRegistered", [lab.address, 5, 330106, "0x0155"])), {
      at: { blockNumber: 42, logIndex: 3 },
      type: "OrganisationRegistered",
      signer: lab.address,
      kind: "inspector",
    });
    const request = decodeRegistryLog(
      encode("InspectionRequested", [batchId, lab.address, regulator.address, 0n, 0n, "0x"]),
    );
    assert.equal(request?.type === "InspectionRequested" ? request.signature : null, "0x");
    const attested = decodeRegistryLog(
      encode("BatchAttested", [batchId, coop.address, GTIN, "LOT", batchId, 10, 1000n, "KGM", 5n, "0x01", 1n, 2n, sig]),
    );
    assert.deepEqual(attested, {
      at: { blockNumber: 42, logIndex: 3 },
      type: "BatchAttested",
      batchId,
      attester: coop.address,
      gtin: GTIN,
    });
    assert.equal(decodeRegistryLog({ ...encode("GtinBound", [GTIN, coop.address]), removed: true }), null);
    assert.equal(decodeRegistryLog({ topics: [keccak256("0x02")], data: "0x", blockNumber: 1, index: 0 }), null);
  });
});

describe("entitlement from the logs", () => {
  it("names the owner by company prefix when its cooperative attests", () => {
    const report = cast().bindPrefix(coop).attest(coop).judge();
    assert.deepEqual(report.findings, []);
    assert.equal(entitlementOf(report).basis, "prefix_owner");
    assert.equal(entitlementOf(report).owner, lowerOf(coop));
    assert.deepEqual(entitlementOf(report).prefix, { value: PREFIX, digits: 7 });
  });

  it("lets a GTIN's own binding win over another organisation's prefix", () => {
    const report = cast().bindPrefix(rival).bindGtin(coop).attest(coop).judge();
    assert.equal(entitlementOf(report).basis, "gtin_owner");
    assert.equal(entitlementOf(report).prefix, null);
    assert.deepEqual(codes(report), []);
  });

  it("fails a squatted attestation: a rival cooperative attesting under another's prefix", () => {
    const report = cast().bindPrefix(coop).attest(rival).judge();
    assert.equal(entitlementOf(report).basis, null);
    assert.equal(entitlementOf(report).owner, lowerOf(coop));
    assert.deepEqual(report.findings, [
      { code: "not_entitled", gtin: entitlementOf(report).gtin, attester: rival.address, owner: lowerOf(coop) },
    ]);
  });

  it("fails an attestation of a GTIN bound to nobody, or whose prefix was released before", () => {
    assert.deepEqual(codes(cast().bindPrefix(coop).attest(coop, OTHER_GTIN).judge()), ["not_entitled"]);
    assert.deepEqual(codes(cast().bindPrefix(coop).releasePrefix(coop).attest(coop).judge()), ["not_entitled"]);
    // Released after the attestation: the batch was entitled when it was attested.
    assert.deepEqual(codes(cast().bindPrefix(coop).attest(coop).releasePrefix(coop).judge()), []);
  });

  it("accepts a grantee's attestation under the owner's signed grant", async () => {
    const chain = await cast().bindPrefix(coop).grant(coop, coop, packer, true);
    const report = chain.attest(packer).judge();
    assert.deepEqual(report.findings, []);
    assert.equal(entitlementOf(report).basis, "grantee");
    assert.equal(entitlementOf(report).owner, lowerOf(coop));
    assert.equal(entitlementOf(report).attesterOrigin, lowerOf(packer));
  });

  it("fails an attestation after the grant was withdrawn, and not one withdrawn afterwards", async () => {
    const withdrawn = await (
      await cast().bindPrefix(coop).grant(coop, coop, packer, true)
    ).grant(coop, coop, packer, false);
    assert.deepEqual(codes(withdrawn.attest(packer).judge()), ["not_entitled"]);
    const later = (await cast().bindPrefix(coop).grant(coop, coop, packer, true)).attest(packer);
    assert.deepEqual(codes((await later.grant(coop, coop, packer, false)).judge()), []);
  });

  it("ignores a grant its owner did not sign, and says so", async () => {
    const chain = await cast().bindPrefix(coop).grant(rival, coop, rival, true);
    assert.deepEqual(codes(chain.attest(rival).judge()), ["grant_signature", "not_entitled"]);
  });

  it("follows rotated keys: an owner's grant signed by its new key, an attestation by a rotated grantee", async () => {
    const coopNew = wallet();
    const packerNew = wallet();
    const chain = await cast().bindPrefix(coop).rotate(coop, coopNew).grant(coopNew, coop, packer, true);
    const report = chain.rotate(packer, packerNew).attest(packerNew).judge();
    assert.deepEqual(report.findings, []);
    assert.equal(entitlementOf(report).basis, "grantee");
    assert.equal(entitlementOf(report).attesterOrigin, lowerOf(packer));
  });

  it("reports a missing attestation and judges nothing else", () => {
    const report = cast().bindPrefix(coop).judge();
    assert.deepEqual(codes(report), ["attestation_missing"]);
    assert.equal(report.entitlement, null);
  });
});

describe("custody from the logs", () => {
  const anchored = (): Chain => cast().bindPrefix(coop).attest(coop);

  it("follows a handover chain: cooperative → carrier → shop, each with its basis", () => {
    const report = anchored()
      .event(coop, "harvesting")
      .event(coop, "shipping", carrier)
      .event(carrier, "receiving")
      .transfer(coop, carrier)
      .event(carrier, "cooling")
      .event(carrier, "shipping", shop)
      .event(shop, "receiving")
      .transfer(carrier, shop)
      .event(shop, "retail_selling")
      .judge();
    assert.deepEqual(report.findings, []);
    assert.deepEqual(
      report.events.map((e) => [e.step, e.basis]),
      [
        ["harvesting", "cooperative"],
        ["shipping", "cooperative"],
        ["receiving", "receiver"],
        ["cooling", "custodian"],
        ["shipping", "custodian"],
        ["receiving", "receiver"],
        ["retail_selling", "custodian"],
      ],
    );
    assert.deepEqual(
      report.handovers.map((h) => [h.from, h.to, h.shippedIndex, h.receivedIndex]),
      [
        [lowerOf(coop), lowerOf(carrier), 1, 2],
        [lowerOf(carrier), lowerOf(shop), 4, 5],
      ],
    );
    assert.deepEqual(report.custody, { custodian: lowerOf(shop), pendingReceiver: null });
  });

  it("fails an event by an organisation with no custody (a rival carrier's 'spoiled' shipping)", () => {
    const report = anchored().event(coop, "harvesting").event(carrier2, "shipping", shop).judge();
    assert.deepEqual(report.findings, [
      { code: "no_custody", index: 1, actor: carrier2.address, step: "shipping", reason: "no_custody" },
    ]);
    assert.equal(eventAt(report, 1).basis, null);
    assert.equal(eventAt(report, 1).refusal, "no_custody");
  });

  it("fails a receiving by a carrier the latest shipping no longer names", () => {
    const report = anchored()
      .event(coop, "shipping", carrier)
      .event(coop, "shipping", carrier2)
      .event(carrier, "receiving")
      .judge();
    assert.deepEqual(codes(report), ["no_custody"]);
    assert.deepEqual(report.custody, { custodian: null, pendingReceiver: lowerOf(carrier2) });
  });

  it("fails a step the actor's kind never records, and a counterparty on a step other than shipping", () => {
    const report = anchored().event(shop, "harvesting").event(coop, "packing", carrier).judge();
    assert.deepEqual(
      report.findings.map((f) => (f.code === "no_custody" ? f.reason : f.code)),
      ["step_not_allowed", "counterparty_unexpected"],
    );
  });

  it("says when the registry's custody transfers differ from the handovers the events make", () => {
    const report = anchored().event(coop, "shipping", carrier).event(carrier, "receiving").judge();
    assert.deepEqual(report.findings, [{ code: "custody_transfers", recomputed: 1, logged: 0 }]);
  });

  it("lets an inspector inspect only once the cooperative (signed) or a regulator asked, before the event", async () => {
    assert.deepEqual(codes(anchored().event(lab, "inspecting").judge()), ["no_custody"]);
    const asked = (await anchored().request(coop, lab)).event(lab, "inspecting").judge();
    assert.deepEqual(asked.findings, []);
    assert.equal(eventAt(asked, 0).basis, "requested_inspector");
    assert.equal(eventAt(asked, 0).requestedBy, "cooperative");
    const byRegulator = anchored().requestAsRegulator(lab).event(lab, "certifying").judge();
    assert.equal(eventAt(byRegulator, 0).requestedBy, "regulator");
    // A request recorded after the event does not make it entitled.
    assert.deepEqual(codes((await anchored().event(lab, "inspecting").request(coop, lab)).judge()), ["no_custody"]);
  });

  it("takes an unsigned request as a regulator's only from an account holding the regulator role then", () => {
    // A registry that let anyone call it unsigned: the caller never held the role.
    const stranger = anchored().requestAsRegulator(lab, rival).event(lab, "inspecting").judge();
    assert.deepEqual(stranger.findings, [
      { code: "inspection_request_not_regulator", inspector: lab.address, requestedBy: rival.address },
      { code: "no_custody", index: 0, actor: lab.address, step: "inspecting", reason: "no_custody" },
    ]);
    // Revoked before it asked: not counted; asked before the revocation: counted.
    const revokedFirst = anchored()
      .regulatorRole(regulator, false)
      .requestAsRegulator(lab)
      .event(lab, "inspecting")
      .judge();
    assert.deepEqual(codes(revokedFirst), ["inspection_request_not_regulator", "no_custody"]);
    const revokedAfter = anchored()
      .requestAsRegulator(lab)
      .regulatorRole(regulator, false)
      .event(lab, "inspecting")
      .judge();
    assert.deepEqual(revokedAfter.findings, []);
    assert.equal(eventAt(revokedAfter, 0).requestedBy, "regulator");
    // Granted later than the request: the request was not a regulator's when made.
    const grantedLater = new Chain()
      .register(coop, "cooperative")
      .register(lab, "inspector")
      .bindPrefix(coop)
      .attest(coop)
      .requestAsRegulator(lab, rival)
      .regulatorRole(rival, true)
      .event(lab, "inspecting")
      .judge();
    assert.deepEqual(codes(grantedLater), ["inspection_request_not_regulator", "no_custody"]);
    // Another role's grant is not the regulator's.
    const otherRole = anchored()
      .push({
        type: "RoleGranted",
        role: keccak256(toUtf8Bytes("RELAYER_ROLE")),
        account: rival.address,
        sender: ZeroAddress,
      })
      .requestAsRegulator(lab, rival)
      .event(lab, "inspecting")
      .judge();
    assert.deepEqual(codes(otherRole), ["inspection_request_not_regulator", "no_custody"]);
  });

  it("ignores an inspection request the cooperative did not sign, or made by another cooperative", async () => {
    const forged = (await anchored().request(coop, lab, rival)).event(lab, "inspecting").judge();
    assert.deepEqual(codes(forged), ["inspection_request_signature", "no_custody"]);
    const stranger = (await anchored().request(rival, lab)).event(lab, "inspecting").judge();
    assert.deepEqual(codes(stranger), ["inspection_request_signature", "no_custody"]);
  });

  it("keeps custody across rotations: a shipping names the carrier's old key, its new key receives", () => {
    const carrierNew = wallet();
    const coopNew = wallet();
    const report = anchored()
      .event(coop, "shipping", carrier)
      .rotate(carrier, carrierNew)
      .rotate(coop, coopNew)
      .event(carrierNew, "receiving")
      .transfer(coop, carrier)
      .event(coopNew, "packing")
      .judge();
    assert.deepEqual(report.findings, []);
    assert.deepEqual(
      report.events.map((e) => e.basis),
      ["cooperative", "receiver", "cooperative"],
    );
    assert.deepEqual(report.handovers[0]?.to, lowerOf(carrier));
  });

  it("uses origins known from the registry's view when the rotation logs were not read", () => {
    const carrierNew = wallet();
    const chain = anchored().event(coop, "shipping", carrier).event(carrierNew, "receiving").transfer(coop, carrier);
    assert.deepEqual(codes(chain.judge()), ["no_custody", "custody_transfers"]);
    const report = judgeAuthority({
      domain,
      batchId,
      logs: chain.logs,
      origins: new Map([[carrierNew.address, carrier.address]]),
    });
    assert.deepEqual(report.findings, []);
  });
});

describe("contract wallets (ERC-1271) in the authority judgement", () => {
  // `coop` stands for a contract wallet whose owner key is `rival`: the registry accepted
  // the owner's signature because the wallet agreed; the judgement asks the same.
  const asked: ContractSignature[][] = [];
  const wallet =
    (agrees: boolean) =>
    (queries: ContractSignature[]): Promise<ContractVerdict[]> => {
      asked.push(queries);
      return Promise.resolve(
        queries.map((q) => ({ valid: agrees && sameHex(q.signer, coop.address), detail: "asked" })),
      );
    };

  async function walletGrant(): Promise<Chain> {
    const value = {
      owner: coop.address,
      gtin: GTIN,
      grantee: packer.address,
      granted: true,
      nonce: 7n,
      deadline: 2n ** 40n,
    };
    const signature = await rival.signTypedData(typedDomain, typesFor("GtinGrant"), value);
    return cast().bindPrefix(coop).push({
      type: "GtinGrantChanged",
      gtin: GTIN,
      owner: coop.address,
      grantee: packer.address,
      granted: true,
      nonce: 7n,
      deadline: value.deadline,
      signature,
    });
  }

  it("takes a grant the owner's wallet agreed with, asked at the grant's block, and refuses one it did not", async () => {
    const chain = (await walletGrant()).attest(packer);
    const grantBlock = chain.logs.find((log) => log.type === "GtinGrantChanged")?.at.blockNumber;
    assert.deepEqual(codes(chain.judge()), ["grant_signature", "not_entitled"], "by keys alone");
    asked.length = 0;
    const agreed = await judgeAuthorityAsking(wallet(true), { domain, batchId, logs: chain.logs });
    assert.deepEqual(agreed.findings, []);
    assert.equal(entitlementOf(agreed).basis, "grantee");
    assert.deepEqual(
      asked.flat().map((q) => [q.signer, q.block]),
      [[lowerOf(coop), grantBlock]],
    );
    const refused = await judgeAuthorityAsking(wallet(false), { domain, batchId, logs: chain.logs });
    assert.deepEqual(codes(refused), ["grant_signature", "not_entitled"]);
  });

  it("takes an inspection request the cooperative's wallet agreed with, and asks nothing when every key signed", async () => {
    const chain = (await cast().bindPrefix(coop).attest(coop).request(coop, lab, rival)).event(lab, "inspecting");
    const agreed = await judgeAuthorityAsking(wallet(true), { domain, batchId, logs: chain.logs });
    assert.deepEqual(agreed.findings, []);
    assert.equal(eventAt(agreed, 0).basis, "requested_inspector");
    asked.length = 0;
    const signed = (await cast().bindPrefix(coop).attest(coop).request(coop, lab)).event(lab, "inspecting");
    assert.deepEqual((await judgeAuthorityAsking(wallet(true), { domain, batchId, logs: signed.logs })).findings, []);
    assert.deepEqual(asked, [], "no wallet asked");
  });
});
