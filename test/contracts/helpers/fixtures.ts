/**
 * A deployed registry with its roles granted and a few organisations registered, plus
 * builders for batches and events that sign what they build. Every test starts from
 * `loadFixture(deployRegistry)`, so each one sees the same fresh chain state.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { hexlify, id, toUtf8Bytes, Wallet, ZeroAddress } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { NetworkConnection } from "hardhat/types/network";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { create as createDigest } from "multiformats/hashes/digest";
import { sha256 as sha256Hasher } from "multiformats/hashes/sha2";

import { domainFor, type BatchAttestationValue, type TraceEventValue } from "../../../server/src/domain/typed-data.ts";
import type { TraceRegistry } from "../../../types/ethers-contracts/index.ts";
import {
  signedAttestation,
  signedEvent,
  signedGtinGrant,
  type BatchAttestationRequest,
  type EventRequest,
  type GtinGrantRequest,
} from "./signing.ts";

/** Mirrors `ITraceRegistry.OrgKind`. */
export const OrgKind = {
  None: 0n,
  Cooperative: 1n,
  Processor: 2n,
  Logistics: 3n,
  Retailer: 4n,
  Inspector: 5n,
} as const;
/** Mirrors `ITraceRegistry.OrgStatus`. */
export const OrgStatus = { None: 0n, Active: 1n, Suspended: 2n } as const;
/** Mirrors `ITraceRegistry.BatchStatus`. */
export const BatchStatus = { None: 0n, Active: 1n, Recalled: 2n } as const;

/** Mirrors `ITraceRegistry.BizStep` (the order of `BIZ_STEPS`). */
export const BizStep = {
  Planting: 0n,
  InputApplication: 1n,
  Harvesting: 2n,
  Cooling: 3n,
  Transforming: 4n,
  Packing: 5n,
  Shipping: 6n,
  Receiving: 7n,
  Inspecting: 8n,
  Certifying: 9n,
  RetailSelling: 10n,
  Recalling: 11n,
} as const;

/** The cooperative's GS1 company prefix "6901234", bound to it by the fixture. */
export const COMPANY_PREFIX = { value: 6_901_234n, digits: 7n } as const;
/** A GTIN-14 under `COMPANY_PREFIX`, the one the cooperative's batches use unless told otherwise. */
export const GTIN = 6_901_234_567_892n;
/** The other cooperative's prefix "6909876" and its GTIN, so each attests its own products. */
export const OTHER_COMPANY_PREFIX = { value: 6_909_876n, digits: 7n } as const;
export const OTHER_GTIN = 6_909_876_543_213n;

/** GB/T 2260 code of Wuhua district, Kunming. */
export const REGION_CODE = 530102n;
export const ZERO_BYTES32 = `0x${"0".repeat(64)}`;
export const ONE_HOUR_S = 3600n;
export const ONE_DAY_S = 86_400n;

/** A real CIDv1 (raw codec, sha2-256) of `label`, as the bytes the contract stores. */
export function cidOf(label: string): string {
  const digest = createDigest(sha256Hasher.code, sha256(toUtf8Bytes(label)));
  return hexlify(CID.createV1(raw.code, digest).bytes);
}

/** A key made from a name, so failures name the same address on every run. */
export function walletNamed(name: string): Wallet {
  return new Wallet(id(`one-item-one-code test key: ${name}`));
}

export function itemTree(serials: readonly string[]): StandardMerkleTree<[string]> {
  return StandardMerkleTree.of(
    serials.map((serial): [string] => [serial]),
    ["string"],
  );
}

export const DEFAULT_SERIALS = ["Q7KX2M9PR4TD", "H3VN8CJ5WL2B", "Z6YF1RB7KQ9M", "P2TG5XN8DJ4W", "M9LC3WK6VH1R"];

let lastNonce = 0n;
let lastLot = 0;

/** Nonces only need to be unused on the current chain; a counter is simplest. */
export function freshNonce(): bigint {
  lastNonce += 1n;
  return lastNonce;
}

export function freshLot(): string {
  lastLot += 1;
  return `L2025-${String(lastLot).padStart(4, "0")}`;
}

export async function deployRegistry(connection: NetworkConnection) {
  const { ethers, networkHelpers } = connection;
  const [admin, regulator, relayer, outsider] = (await ethers.getSigners()) as [
    HardhatEthersSigner,
    HardhatEthersSigner,
    HardhatEthersSigner,
    HardhatEthersSigner,
  ];
  const registry = await ethers.deployContract("TraceRegistry", [admin.address], admin);
  await registry.connect(admin).grantRole(await registry.REGULATOR_ROLE(), regulator.address);
  await registry.connect(admin).grantRole(await registry.RELAYER_ROLE(), relayer.address);

  const chainId = (await ethers.provider.getNetwork()).chainId;
  const domain = domainFor(chainId, await registry.getAddress());

  const cooperative = walletNamed("cooperative");
  const otherCooperative = walletNamed("other cooperative");
  const processor = walletNamed("processor");
  const retailer = walletNamed("retailer");
  const stranger = walletNamed("stranger, never registered");
  await registerOrganisation(registry, admin, cooperative.address, OrgKind.Cooperative, "cooperative profile");
  await registerOrganisation(registry, admin, otherCooperative.address, OrgKind.Cooperative, "other cooperative");
  await registerOrganisation(registry, admin, processor.address, OrgKind.Processor, "processor profile");
  await registerOrganisation(registry, admin, retailer.address, OrgKind.Retailer, "retailer profile");
  await (
    await registry.connect(admin).bindCompanyPrefix(COMPANY_PREFIX.value, COMPANY_PREFIX.digits, cooperative.address)
  ).wait();
  await (
    await registry
      .connect(admin)
      .bindCompanyPrefix(OTHER_COMPANY_PREFIX.value, OTHER_COMPANY_PREFIX.digits, otherCooperative.address)
  ).wait();

  return {
    ethers,
    networkHelpers,
    registry,
    admin,
    regulator,
    relayer,
    outsider,
    cooperative,
    otherCooperative,
    processor,
    retailer,
    stranger,
    chainId,
    domain,
  };
}

export type RegistryContext = Awaited<ReturnType<typeof deployRegistry>>;

export async function registerOrganisation(
  registry: TraceRegistry,
  admin: HardhatEthersSigner,
  signer: string,
  kind: bigint,
  profile: string,
): Promise<void> {
  await (await registry.connect(admin).registerOrganisation(signer, kind, REGION_CODE, cidOf(profile))).wait();
}

export async function latestTime(ctx: RegistryContext): Promise<bigint> {
  return BigInt(await ctx.networkHelpers.time.latest());
}

/**
 * A valid attestation of a fresh batch by `attester`, harvested yesterday, signable for an
 * hour, of a GTIN it is entitled to (the other cooperative's own, else the cooperative's).
 */
export async function batchValue(
  ctx: RegistryContext,
  attester: string,
  overrides: Partial<BatchAttestationValue> = {},
): Promise<BatchAttestationValue> {
  const now = await latestTime(ctx);
  const lot = overrides.lot ?? freshLot();
  return {
    attester,
    gtin: attester === ctx.otherCooperative.address ? OTHER_GTIN : GTIN,
    lot,
    itemsRoot: itemTree(DEFAULT_SERIALS).root,
    itemCount: BigInt(DEFAULT_SERIALS.length),
    quantityMilli: 1_250_000n,
    unit: "KGM",
    harvestedAt: now - ONE_DAY_S,
    metadataCid: cidOf(`batch metadata ${lot}`),
    nonce: freshNonce(),
    deadline: now + ONE_HOUR_S,
    ...overrides,
  };
}

/** Signs and submits an attestation through the relayer; returns the batch id. */
export async function attestBatch(
  ctx: RegistryContext,
  signer: Wallet = ctx.cooperative,
  overrides: Partial<BatchAttestationValue> = {},
): Promise<{ batchId: string; request: BatchAttestationRequest }> {
  const request = await signedAttestation(
    signer,
    ctx.domain,
    await batchValue(ctx, overrides.attester ?? signer.address, overrides),
  );
  await (await ctx.registry.connect(ctx.relayer).attestBatches([request])).wait();
  return { batchId: await ctx.registry.batchIdOf(request.gtin, request.lot), request };
}

/** A valid event of `actor` on `batchId`, an hour ago, signable for an hour. */
export async function eventValue(
  ctx: RegistryContext,
  actor: string,
  batchId: string,
  overrides: Partial<TraceEventValue> = {},
): Promise<TraceEventValue> {
  const now = await latestTime(ctx);
  const nonce = overrides.nonce ?? freshNonce();
  return {
    actor,
    batchId,
    bizStep: BizStep.Packing,
    occurredAt: now - ONE_HOUR_S,
    payloadCid: cidOf(`event payload ${nonce}`),
    counterparty: ZeroAddress,
    nonce,
    deadline: now + ONE_HOUR_S,
    ...overrides,
  };
}

export async function signEvent(
  ctx: RegistryContext,
  signer: Wallet,
  batchId: string,
  overrides: Partial<TraceEventValue> = {},
): Promise<EventRequest> {
  return signedEvent(signer, ctx.domain, await eventValue(ctx, overrides.actor ?? signer.address, batchId, overrides));
}

/**
 * Hands `batchId` over to `receiver`: its custodian (the cooperative unless told) records a
 * shipping naming the receiver, and the receiver records its receiving.
 */
export async function handOver(
  ctx: RegistryContext,
  batchId: string,
  receiver: Wallet,
  from: Wallet = ctx.cooperative,
): Promise<void> {
  const shipping = await signEvent(ctx, from, batchId, { bizStep: BizStep.Shipping, counterparty: receiver.address });
  const receiving = await signEvent(ctx, receiver, batchId, { bizStep: BizStep.Receiving });
  await (await ctx.registry.connect(ctx.relayer).recordEvents([shipping, receiving])).wait();
}

/** `owner`'s signed grant (or, with `granted` false, withdrawal) of `gtin` to `grantee`. */
export async function signGtinGrant(
  ctx: RegistryContext,
  owner: Wallet,
  gtin: bigint,
  grantee: string,
  granted = true,
): Promise<GtinGrantRequest> {
  const now = await latestTime(ctx);
  return signedGtinGrant(owner, ctx.domain, {
    owner: owner.address,
    gtin,
    grantee,
    granted,
    nonce: freshNonce(),
    deadline: now + ONE_HOUR_S,
  });
}

/** Grants `gtin` from `owner` to `grantee` through the relayer. */
export async function grantGtin(ctx: RegistryContext, owner: Wallet, gtin: bigint, grantee: string): Promise<void> {
  const request = await signGtinGrant(ctx, owner, gtin, grantee);
  await (await ctx.registry.connect(ctx.relayer).changeGtinGrants([request])).wait();
}
