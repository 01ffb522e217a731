/**
 * A ledger for the scan page's end-to-end test: organisations, two batches with real
 * metadata and event payload documents (the shapes of `domain/documents.ts`), their
 * lifecycle events signed by the organisations that did them, and one batch recalled by a
 * regulator, all written through the contracts on a Hardhat node. Unlike `demo-ledger.ts`
 * it keeps everything a resolution needs: the signed values and signatures, the documents'
 * bytes by CID, and the serials with their tree.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";

import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { JsonRpcProvider, Wallet, ZeroAddress, hexlify, type HDNodeWallet, type Signer } from "ethers";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";

import {
  batchMetadataDocument,
  encodeDocument,
  eventPayloadDocument,
  type BatchMetadataDocument,
  type EventPayloadDocument,
} from "../../../server/src/domain/documents.ts";
import type { AttestationValueJson, EventValueJson, ItemResolution } from "../../../server/src/domain/resolution.ts";
import { bizStepIndex, type BizStep } from "../../../server/src/domain/typed-data.ts";
import { deployTraceRegistry, sendAndWait, traceRegistryAt } from "../../../server/src/ledger/deploy.ts";
import { signTyped, type SigningDomain } from "../../../server/src/ledger/signing.ts";

const ORG_KIND = { cooperative: 1, processor: 2, logistics: 3, retailer: 4 } as const;
type OrgRole = keyof typeof ORG_KIND;

const ORG_PROFILES: Record<OrgRole, { zh: string; en: string; region: string }> = {
  cooperative: { zh: "西湖龙井茶叶专业合作社", en: "West Lake Longjing Tea Cooperative", region: "330106" },
  processor: { zh: "杭州茗香茶叶加工厂", en: "Hangzhou Mingxiang Tea Processing", region: "330106" },
  logistics: { zh: "浙冷链物流", en: "Zhe Cold-Chain Logistics", region: "330110" },
  retailer: { zh: "上海茶韵专卖店", en: "Shanghai Chayun Tea Shop", region: "310101" },
};
/** A second cooperative, a contract packer the GTIN's owner granted the GTIN to. */
const PACKER_PROFILE = { zh: "龙坞茶叶代工合作社", en: "Longwu Tea Packing Cooperative", region: "330106" };

export interface SeededBatch {
  gtin: string;
  lot: string;
  batchId: string;
  serials: string[];
  tree: StandardMerkleTree<[string]>;
  attestation: AttestationValueJson;
  signature: string;
  metadataCid: string;
  metadata: BatchMetadataDocument;
  events: ItemResolution["events"];
  recalled: boolean;
}

export interface ScanLedger {
  chainId: string;
  registry: string;
  /** Every document and medium by base32 CID text, as a gateway would serve them. */
  blobs: Map<string, Uint8Array>;
  active: SeededBatch;
  recalled: SeededBatch;
  /** Attested by a packer the GTIN's owner granted the GTIN to (no events). */
  granted: SeededBatch;
  /** Signed by the cooperative but not yet submitted to the chain, no events. */
  pending: SeededBatch;
  videoCid: string;
  /** A second, valid video CID that no signed document names. */
  otherVideoCid: string;
}

async function cidOf(bytes: Uint8Array): Promise<CID> {
  return CID.create(1, raw.code, await sha256.digest(bytes));
}

function serial(): string {
  return randomBytes(10).toString("hex").toUpperCase().slice(0, 13);
}

const seconds = (iso: string): bigint => BigInt(Math.floor(Date.parse(iso) / 1000));

export async function seedScanLedger(rpcUrl: string, projectRoot: string): Promise<ScanLedger> {
  const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, pollingInterval: 100 });
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
  const asRegulator = traceRegistryAt(deployment.address, regulator);
  const domain: SigningDomain = { chainId: deployment.chainId, verifyingContract: deployment.address };
  const blobs = new Map<string, Uint8Array>();
  const put = async (bytes: Uint8Array): Promise<CID> => {
    const cid = await cidOf(bytes);
    blobs.set(cid.toString(), bytes);
    return cid;
  };

  const orgs: Record<OrgRole, HDNodeWallet> = {
    cooperative: Wallet.createRandom(),
    processor: Wallet.createRandom(),
    logistics: Wallet.createRandom(),
    retailer: Wallet.createRandom(),
  };
  for (const role of Object.keys(orgs) as OrgRole[]) {
    const profile = ORG_PROFILES[role];
    const cid = await put(new TextEncoder().encode(JSON.stringify({ name: profile })));
    await sendAndWait(asAdmin, "registerOrganisation", [
      orgs[role].address,
      ORG_KIND[role],
      Number(profile.region),
      cid.bytes,
    ]);
  }
  // The cooperative's GS1 company prefix (6901234, 7 digits) covers every GTIN it attests here.
  await sendAndWait(asAdmin, "bindCompanyPrefix", [6_901_234n, 7, orgs.cooperative.address]);
  const packer = Wallet.createRandom();
  const packerProfile = await put(new TextEncoder().encode(JSON.stringify({ name: PACKER_PROFILE })));
  await sendAndWait(asAdmin, "registerOrganisation", [
    packer.address,
    ORG_KIND.cooperative,
    Number(PACKER_PROFILE.region),
    packerProfile.bytes,
  ]);

  const video = await put(readFileSync(path.join(projectRoot, "scripts", "demo-assets", "planting.mp4")));
  // Another valid CID of real bytes, for the swapped-video case.
  const otherVideo = await put(new TextEncoder().encode("not the planting video"));
  const nonces = new Map<string, bigint>();
  const nextNonce = (address: string): bigint => {
    const nonce = nonces.get(address) ?? 0n;
    nonces.set(address, nonce + 1n);
    return nonce;
  };
  const deadline = BigInt(Math.floor(Date.now() / 1000) + 3_600);

  const seedBatch = async (
    lot: string,
    state: "active" | "recalled" | "unanchored" | "granted",
  ): Promise<SeededBatch> => {
    const gtin = "06901234567892";
    const attester = state === "granted" ? packer : orgs.cooperative;
    const attesterProfile = state === "granted" ? PACKER_PROFILE : ORG_PROFILES.cooperative;
    const serials = Array.from({ length: 64 }, serial);
    const tree = StandardMerkleTree.of(
      serials.map((s) => [s] as [string]),
      ["string"],
    );
    const metadata = batchMetadataDocument.parse({
      type: "oioc.batch-metadata",
      version: 1,
      gtin,
      lot,
      product: {
        name: { zh: "西湖龙井 明前特级", en: "West Lake Longjing, pre-Qingming grade" },
        category: "tea",
        unit: "KGM",
      },
      cooperative: {
        name: { zh: attesterProfile.zh, en: attesterProfile.en },
        uscc: "91330106MA2GL8XQ1D",
        regionCode: "330106",
        signer: attester.address,
      },
      plot: { id: "XH-07", name: "梅家坞 7 号茶园", regionCode: "330106", areaHa: 0.83 },
      harvestedAt: "2026-04-15T06:30:00+08:00",
      quantity: { value: "250", unit: "KGM" },
      itemCount: serials.length,
      complianceCertificateNumber: "HZ-2026-0415-001",
      certifications: [
        {
          kind: "green_food",
          number: "LB-18-2304330106",
          issuer: "中国绿色食品发展中心",
          validFrom: "2024-03-01",
          validTo: "2027-02-28",
          scopeGtins: [gtin],
        },
        {
          kind: "geographical_indication",
          number: "AGI00123",
          issuer: "农业农村部",
          // Valid on the harvest date: one that lapsed before it is a safety finding (a warning).
          validFrom: "2019-01-01",
          validTo: "2029-12-31",
          scopeGtins: [gtin],
        },
      ],
      videoCid: video.toString(),
      photoCids: [],
      description: { zh: "明前手工采摘，一芽一叶。", en: "Hand-picked before Qingming, one bud and one leaf." },
      itemsArchiveCid: otherVideo.toString(),
    });
    const metadataCid = await put(encodeDocument(metadata));
    if (state === "granted") {
      // The GTIN's owner grants it to the packer, signed, before the packer attests.
      const grant = {
        owner: orgs.cooperative.address,
        gtin: BigInt(gtin),
        grantee: packer.address,
        granted: true,
        nonce: nextNonce(orgs.cooperative.address),
        deadline,
      };
      const grantSignature = await signTyped(orgs.cooperative, domain, "GtinGrant", grant);
      await sendAndWait(asRelayer, "changeGtinGrants", [[{ ...grant, signature: grantSignature }]]);
    }
    const attestationValue = {
      attester: attester.address,
      gtin: BigInt(gtin),
      lot,
      itemsRoot: tree.root,
      itemCount: BigInt(serials.length),
      quantityMilli: 250_000_000n,
      unit: "KGM",
      harvestedAt: seconds(metadata.harvestedAt),
      metadataCid: hexlify(metadataCid.bytes),
      nonce: nextNonce(attester.address),
      deadline,
    };
    const signature = await signTyped(attester, domain, "BatchAttestation", attestationValue);
    if (state !== "unanchored") await sendAndWait(asRelayer, "attestBatches", [[{ ...attestationValue, signature }]]);
    const batchId = (await asRelayer.getFunction("batchIdOf")(BigInt(gtin), lot)) as string;

    // Each organisation records a step only with custody: whoever holds the batch ships it,
    // naming the receiver (`to`), and the receiver's receiving hands it over.
    const lifecycle: { step: BizStep; role: OrgRole; at: string; place: string; note?: string; to?: OrgRole }[] =
      state === "unanchored" || state === "granted"
        ? []
        : [
            {
              step: "planting",
              role: "cooperative",
              at: "2026-03-01T08:00:00+08:00",
              place: "梅家坞 7 号茶园",
              note: "春茶开园",
            },
            { step: "harvesting", role: "cooperative", at: "2026-04-15T06:30:00+08:00", place: "梅家坞 7 号茶园" },
            {
              step: "shipping",
              role: "cooperative",
              at: "2026-04-15T12:00:00+08:00",
              place: "梅家坞 7 号茶园",
              to: "processor",
            },
            { step: "receiving", role: "processor", at: "2026-04-15T14:00:00+08:00", place: "茗香加工厂" },
            { step: "packing", role: "processor", at: "2026-04-17T09:00:00+08:00", place: "茗香加工厂" },
            {
              step: "shipping",
              role: "processor",
              at: "2026-04-17T16:00:00+08:00",
              place: "茗香加工厂",
              to: "logistics",
            },
            { step: "receiving", role: "logistics", at: "2026-04-17T18:00:00+08:00", place: "杭州冷链仓" },
            {
              step: "shipping",
              role: "logistics",
              at: "2026-04-18T07:00:00+08:00",
              place: "杭州冷链仓",
              to: "retailer",
            },
            { step: "receiving", role: "retailer", at: "2026-04-18T18:00:00+08:00", place: "茶韵专卖店（南京西路）" },
            {
              step: "retail_selling",
              role: "retailer",
              at: "2026-04-20T10:00:00+08:00",
              place: "茶韵专卖店（南京西路）",
            },
          ];
    const events: ItemResolution["events"] = [];
    const requests = [];
    for (const entry of lifecycle) {
      const actor = orgs[entry.role];
      const profile = ORG_PROFILES[entry.role];
      const payload: EventPayloadDocument = eventPayloadDocument.parse({
        type: "oioc.event-payload",
        version: 1,
        batch: { gtin, lot },
        bizStep: entry.step,
        occurredAt: entry.at,
        actor: { name: { zh: profile.zh, en: profile.en }, regionCode: profile.region, signer: actor.address },
        data: {
          location: { regionCode: profile.region, name: entry.place },
          ...(entry.note === undefined ? {} : { note: { zh: entry.note, en: "Spring harvest opens" } }),
        },
        attachmentCids: [],
      });
      const payloadCid = await put(encodeDocument(payload));
      const value = {
        actor: actor.address,
        batchId,
        bizStep: BigInt(bizStepIndex(entry.step)),
        occurredAt: seconds(entry.at),
        payloadCid: hexlify(payloadCid.bytes),
        counterparty: entry.to === undefined ? ZeroAddress : orgs[entry.to].address,
        nonce: nextNonce(actor.address),
        deadline,
      };
      const eventSignature = await signTyped(actor, domain, "TraceEvent", value);
      requests.push({ ...value, signature: eventSignature });
      events.push({
        value: jsonValue(value) as unknown as EventValueJson,
        signature: eventSignature,
        bizStep: entry.step,
        payloadCid: payloadCid.toString(),
        actor: { name: { zh: profile.zh, en: profile.en }, kind: entry.role, regionCode: profile.region },
        counterparty:
          entry.to === undefined
            ? null
            : {
                organisationId: `org_${entry.to}`,
                signer: orgs[entry.to].address,
                name: { zh: ORG_PROFILES[entry.to].zh, en: ORG_PROFILES[entry.to].en },
                kind: entry.to,
                regionCode: ORG_PROFILES[entry.to].region,
              },
        ledgerState: "anchored",
      });
    }
    if (requests.length > 0) await sendAndWait(asRelayer, "recordEvents", [requests]);
    if (state === "recalled") {
      const reason = await put(
        new TextEncoder().encode(
          JSON.stringify({ reason: { zh: "农药残留超标", en: "Pesticide residue above the limit" } }),
        ),
      );
      await sendAndWait(asRegulator, "recallBatchAsRegulator", [batchId, reason.bytes]);
    }
    return {
      gtin,
      lot,
      batchId,
      serials,
      tree,
      attestation: jsonValue(attestationValue) as unknown as AttestationValueJson,
      signature,
      metadataCid: metadataCid.toString(),
      metadata,
      events,
      recalled: state === "recalled",
    };
  };

  const active = await seedBatch("LJ2026-04", "active");
  const recalled = await seedBatch("LJ2026-05R", "recalled");
  const pending = await seedBatch("LJ2026-06P", "unanchored");
  const granted = await seedBatch("LJ2026-07G", "granted");
  provider.destroy();
  return {
    chainId: deployment.chainId.toString(),
    registry: deployment.address,
    blobs,
    active,
    recalled,
    pending,
    granted,
    videoCid: video.toString(),
    otherVideoCid: otherVideo.toString(),
  };
}

/** A signed value with its bigints as decimal strings, as the resolution carries it. */
function jsonValue(value: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(value).map(([key, field]) => [key, String(field)]));
}

/**
 * The resolution the server would answer for `serial` of `batch`. The proof is the tree's
 * for a serial of the batch, else the proof of the batch's first serial (which cannot prove
 * another serial: that is the point of the not-in-batch case).
 */
export function resolutionFor(ledger: ScanLedger, batch: SeededBatch, serialText: string): ItemResolution {
  const known = batch.serials.includes(serialText);
  const proof = batch.tree.getProof([known ? serialText : (batch.serials[0] ?? "")]);
  return {
    type: "oioc.item-resolution",
    version: 1,
    uri: `/01/${batch.gtin}/10/${batch.lot}/21/${serialText}`,
    item: { gtin: batch.gtin, lot: batch.lot, serial: serialText, hasHiddenCode: true, claimedAtMs: null },
    chain: { chainId: ledger.chainId, registry: ledger.registry, rpcUrl: "/rpc", typedDataVersion: "2" },
    batch: {
      batchId: batch.batchId,
      attestation: batch.attestation,
      signature: batch.signature,
      metadataCid: batch.metadataCid,
      ledgerState: batch === ledger.pending ? "pending" : "anchored",
      txHash: null,
      // What a lying server would say: the page must read the status from the chain.
      status: "active",
      recall: batch.recalled
        ? { atMs: Date.now(), reasonCid: null, reason: { zh: "农药残留超标", en: "Pesticide residue above the limit" } }
        : null,
      inspectionRequests: [],
    },
    proof,
    events: batch.events.map((event) => ({ ...event, value: { ...event.value } })),
    ipfsGateway: "/ipfs/",
    display: {
      regionName: { zh: "浙江省杭州市西湖区", en: "Xihu District, Hangzhou, Zhejiang" },
      plotRegionName: { zh: "西湖区", en: "Xihu District" },
    },
    scans: { count: 1, firstAtMs: Date.now(), signals: [] },
  };
}
