/**
 * What every gas measurement shares: sending a transaction and reading what it cost,
 * the CIDs that stand in for IPFS documents, and the protocol's transaction gas cap.
 */
import { Contract, ContractFactory, type ContractTransactionResponse, type InterfaceAbi, type Signer } from "ethers";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";

/**
 * The largest gas limit one transaction may carry since the Osaka hard fork (EIP-7825):
 * 2^24. A mint loop that needs more must be split, whatever the block gas limit is.
 */
export const TRANSACTION_GAS_CAP = 16_777_216n;

export interface CompiledContract {
  abi: InterfaceAbi;
  bytecode: string;
}

/** Waits for a transaction and returns the gas it used; a revert or a missing receipt throws. */
export async function gasUsedBy(sent: Promise<ContractTransactionResponse>): Promise<bigint> {
  const response = await sent;
  const receipt = await response.wait();
  if (receipt?.status !== 1) throw new Error(`transaction ${response.hash} did not succeed`);
  return receipt.gasUsed;
}

export async function deploy(compiled: CompiledContract, deployer: Signer, ...args: unknown[]): Promise<Contract> {
  const factory = new ContractFactory(compiled.abi, compiled.bytecode, deployer);
  const deployed = await factory.deploy(...args);
  await deployed.waitForDeployment();
  return new Contract(await deployed.getAddress(), compiled.abi, deployer);
}

/** The binary CIDv1 (raw codec, sha2-256: 36 bytes) a small JSON document gets on IPFS. */
export async function documentCid(document: unknown): Promise<Uint8Array> {
  const bytes = new TextEncoder().encode(JSON.stringify(document));
  return CID.create(1, raw.code, await sha256.digest(bytes)).bytes;
}

export function sum(values: readonly bigint[]): bigint {
  return values.reduce((total, value) => total + value, 0n);
}

/** `gas / count` as a plain number with one decimal, for rows. */
export function perUnit(gas: bigint, count: number): number {
  return Math.round((Number(gas) / count) * 10) / 10;
}

/** `ours / theirs` to four significant digits: ratios here span 0.001 to 2. */
export function ratio(ours: number, theirs: number): number {
  return Number((ours / theirs).toPrecision(4));
}
