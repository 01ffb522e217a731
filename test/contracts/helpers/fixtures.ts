/**
 * A deployed registry with its roles granted and a few organisations registered, plus
 * builders for batches and events that sign what they build. Every test starts from
 * `loadFixture(deployRegistry)`, so each one sees the same fresh chain state.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { hexlify, id, toUtf8Bytes, Wallet } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { NetworkConnection } from "hardhat/types/network";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { create as createDigest } from "multiformats/hashes/digest";
import { sha256 as sha256Hasher } from "multiformats/hashes/sha2";

import { domainFor, type BatchAttestationValue, type TraceEventValue } from "../../../server/src/domain/typed-data.ts";
import type { TraceRegistry } from "../../../types/ethers-contracts/index.ts";
import { signedAttestation, signedEvent, type BatchAttestationRequest, type EventRequest } from "./signing.ts";

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

/** A valid attestation of a fresh batch by `attester`, harvested yesterday, signable for an hour. */
export async function batchValue(
  ctx: RegistryContext,
  attester: string,
  overrides: Partial<BatchAttestationValue> = {},
): Promise<BatchAttestationValue> {
  const now = await latestTime(ctx);
  const lot = overrides.lot ?? freshLot();
  return {
    attester,
    gtin: 6_901_234_567_892n,
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
    bizStep: 5n,
    occurredAt: now - ONE_HOUR_S,
    payloadCid: cidOf(`event payload ${nonce}`),
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
