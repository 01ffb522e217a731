/**
 * Demo data written through the contracts: organisations, one tea batch of items, and
 * its lifecycle events, each signed by the organisation that did it and relayed by the
 * platform's relayer key.
 */
import { randomBytes } from "node:crypto";

import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { JsonRpcProvider, Wallet, ZeroAddress, hexlify, type Signer } from "ethers";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";

import { bizStepIndex, type BizStep } from "../../server/src/domain/typed-data.ts";
import { deployTraceRegistry, sendAndWait, traceRegistryAt } from "../../server/src/ledger/deploy.ts";
import { signTyped, type SigningDomain } from "../../server/src/ledger/signing.ts";
import { readVerifiedBatch } from "../../server/src/ledger/chain-reader.ts";

const ORG_KIND = { cooperative: 1, processor: 2, logistics: 3, retailer: 4, inspector: 5 } as const;

export interface DemoLedgerSummary {
  chainId: string;
  registry: string;
  cooperative: { nameZh: string; nameEn: string; signer: string };
  batch: { gtin: string; lot: string; batchId: string; itemsRoot: string; itemCount: number; eventHead: string };
  events: { bizStep: BizStep; actor: string }[];
  sampleItem: { serial: string; proof: string[] };
}

/** The CID Kubo gives a small file (`ipfs add --cid-version=1`: one raw block). */
async function documentCid(document: unknown): Promise<Uint8Array> {
  const bytes = new TextEncoder().encode(JSON.stringify(document));
  return CID.create(1, raw.code, await sha256.digest(bytes)).bytes;
}

/** Crockford base32 serial with 80 bits of randomness. */
function demoSerial(): string {
  const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  const bytes = randomBytes(10);
  let bits = 0n;
  for (const byte of bytes) bits = (bits << 8n) | BigInt(byte);
  let out = "";
  for (let i = 0; i < 16; i++) {
    out = (alphabet[Number(bits & 31n)] ?? "") + out;
    bits >>= 5n;
  }
  return out;
}

export async function seedDemoLedger(rpcUrl: string): Promise<DemoLedgerSummary> {
  const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, pollingInterval: 200 });
  // Hardhat's node unlocks its well-known accounts: admin, regulator and relayer of the demo.
  const admin: Signer = await provider.getSigner(0);
  const regulator: Signer = await provider.getSigner(1);
  const relayer: Signer = await provider.getSigner(2);

  const deployment = await deployTraceRegistry(admin, {
    admin: await admin.getAddress(),
    regulators: [await regulator.getAddress()],
    relayers: [await relayer.getAddress()],
  });
  const asAdmin = traceRegistryAt(deployment.address, admin);
  const asRelayer = traceRegistryAt(deployment.address, relayer);
  const domain: SigningDomain = { chainId: deployment.chainId, verifyingContract: deployment.address };

  // Custodial keys, as the server keeps them for organisations without a wallet.
  const orgs = {
    cooperative: Wallet.createRandom(),
    processor: Wallet.createRandom(),
    logistics: Wallet.createRandom(),
    retailer: Wallet.createRandom(),
    inspector: Wallet.createRandom(),
  };
  const profiles = {
    cooperative: { nameZh: "西湖龙井茶叶专业合作社", nameEn: "West Lake Longjing Tea Cooperative", region: 330106 },
    processor: { nameZh: "杭州茗香茶叶加工厂", nameEn: "Hangzhou Mingxiang Tea Processing", region: 330106 },
    logistics: { nameZh: "浙冷链物流", nameEn: "Zhe Cold-Chain Logistics", region: 330110 },
    retailer: { nameZh: "上海茶韵专卖店", nameEn: "Shanghai Chayun Tea Shop", region: 310101 },
    inspector: {
      nameZh: "杭州市农产品质量检测中心",
      nameEn: "Hangzhou Agricultural Product Testing Centre",
      region: 330100,
    },
  };
  for (const kind of Object.keys(orgs) as (keyof typeof orgs)[]) {
    const profile = profiles[kind];
    const cid = await documentCid({ kind, ...profile });
    await sendAndWait(asAdmin, "registerOrganisation", [orgs[kind].address, ORG_KIND[kind], profile.region, cid]);
  }

  const gtin = 6_901_234_567_892n; // GTIN-14 06901234567892 (check digit 2)
  // The cooperative's GS1 company prefix 6901234 (7 digits): its GTINs are its to attest.
  await sendAndWait(asAdmin, "bindCompanyPrefix", [6_901_234n, 7, orgs.cooperative.address]);
  const lot = "LJ2026-0415A";
  const serials = Array.from({ length: 1_000 }, demoSerial);
  const tree = StandardMerkleTree.of(
    serials.map((serial) => [serial]),
    ["string"],
  );
  const harvestedAt = BigInt(Math.floor(Date.parse("2026-04-15T06:30:00+08:00") / 1000));
  const deadline = BigInt(Math.floor(Date.now() / 1000) + 3_600);
  const metadataCid = await documentCid({
    product: { gtin: "06901234567892", nameZh: "西湖龙井 明前特级", nameEn: "West Lake Longjing, pre-Qingming grade" },
    plot: { id: "XH-07", areaMu: 12.5 },
    quantity: { value: "250", unit: "KGM" },
  });
  const attestation = {
    attester: orgs.cooperative.address,
    gtin,
    lot,
    itemsRoot: tree.root,
    itemCount: BigInt(serials.length),
    quantityMilli: 250_000_000n,
    unit: "KGM",
    harvestedAt,
    metadataCid: hexlify(metadataCid),
    nonce: 0n,
    deadline,
  };
  const attestationSignature = await signTyped(orgs.cooperative, domain, "BatchAttestation", attestation);
  await sendAndWait(asRelayer, "attestBatches", [[{ ...attestation, signature: attestationSignature }]]);
  const batchId = (await asRelayer.getFunction("batchIdOf")(gtin, lot)) as string;

  // The cooperative asks the testing centre to inspect the batch (a signed request), so that
  // the centre may record inspecting; nonce 1 of the cooperative's key.
  const inspectionRequest = {
    requester: orgs.cooperative.address,
    batchId,
    inspector: orgs.inspector.address,
    nonce: 1n,
    deadline,
  };
  await sendAndWait(asRelayer, "requestInspections", [
    [
      {
        ...inspectionRequest,
        signature: await signTyped(orgs.cooperative, domain, "InspectionRequest", inspectionRequest),
      },
    ],
  ]);

  // Each organisation records a step only with custody: whoever holds the batch ships it,
  // naming the receiver (`to`), and the receiver's receiving hands it over.
  type Role = keyof typeof orgs;
  const lifecycle: { bizStep: BizStep; actor: Role; at: string; to?: Role }[] = [
    { bizStep: "planting", actor: "cooperative", at: "2026-03-01T08:00:00+08:00" },
    { bizStep: "input_application", actor: "cooperative", at: "2026-03-20T09:00:00+08:00" },
    { bizStep: "harvesting", actor: "cooperative", at: "2026-04-15T06:30:00+08:00" },
    { bizStep: "shipping", actor: "cooperative", at: "2026-04-15T10:00:00+08:00", to: "processor" },
    { bizStep: "receiving", actor: "processor", at: "2026-04-15T12:00:00+08:00" },
    { bizStep: "transforming", actor: "processor", at: "2026-04-15T14:00:00+08:00" },
    { bizStep: "inspecting", actor: "inspector", at: "2026-04-16T10:00:00+08:00" },
    { bizStep: "packing", actor: "processor", at: "2026-04-17T09:00:00+08:00" },
    { bizStep: "shipping", actor: "processor", at: "2026-04-17T16:00:00+08:00", to: "logistics" },
    { bizStep: "receiving", actor: "logistics", at: "2026-04-17T18:00:00+08:00" },
    { bizStep: "shipping", actor: "logistics", at: "2026-04-18T07:00:00+08:00", to: "retailer" },
    { bizStep: "receiving", actor: "retailer", at: "2026-04-18T18:00:00+08:00" },
    { bizStep: "retail_selling", actor: "retailer", at: "2026-04-20T10:00:00+08:00" },
  ];
  const nonces = new Map<string, bigint>();
  const requests = [];
  for (const step of lifecycle) {
    const actor = orgs[step.actor];
    const nonce = nonces.get(actor.address) ?? (step.actor === "cooperative" ? 2n : 0n);
    nonces.set(actor.address, nonce + 1n);
    const value = {
      actor: actor.address,
      batchId,
      bizStep: BigInt(bizStepIndex(step.bizStep)),
      occurredAt: BigInt(Math.floor(Date.parse(step.at) / 1000)),
      payloadCid: hexlify(await documentCid({ batchId, bizStep: step.bizStep, at: step.at, actor: step.actor })),
      counterparty: step.to === undefined ? ZeroAddress : orgs[step.to].address,
      nonce,
      deadline,
    };
    requests.push({ ...value, signature: await signTyped(actor, domain, "TraceEvent", value) });
  }
  await sendAndWait(asRelayer, "recordEvents", [requests]);

  // Read back and check, as anyone could.
  const { onChain, findings } = await readVerifiedBatch(asRelayer, domain, batchId, deployment.deployedAtBlock);
  if (findings.some((f) => f.code === "event_head")) {
    throw new Error("event hash chain from logs does not match the head on chain");
  }
  if (findings.some((f) => f.code === "event_signature")) throw new Error("an event signature did not verify");

  const sampleIndex = 7;
  const sampleSerial = serials[sampleIndex] ?? "";
  const proof = tree.getProof([sampleSerial]);
  const verified = (await asRelayer.getFunction("verifyItem")(batchId, sampleSerial, proof)) as boolean;
  if (!verified) throw new Error("the sample item did not verify on chain");

  provider.destroy();
  return {
    chainId: deployment.chainId.toString(),
    registry: deployment.address,
    cooperative: {
      nameZh: profiles.cooperative.nameZh,
      nameEn: profiles.cooperative.nameEn,
      signer: orgs.cooperative.address,
    },
    batch: {
      gtin: "06901234567892",
      lot,
      batchId,
      itemsRoot: tree.root,
      itemCount: serials.length,
      eventHead: onChain.eventHead,
    },
    events: lifecycle.map((e) => ({ bizStep: e.bizStep, actor: e.actor })),
    sampleItem: { serial: sampleSerial, proof },
  };
}
