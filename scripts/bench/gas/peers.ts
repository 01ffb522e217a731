/**
 * Gas of the peers DESIGN.md compares us with, deployed in the same run on the same EVM:
 * one OpenZeppelin ERC-721 token per item, ERC721A batch minting (npm `erc721a`), and one
 * Ethereum Attestation Service attestation per batch (npm
 * `@ethereum-attestation-service/eas-contracts`, its own compiled artifacts), direct and
 * delegated (signature-based, as ours is).
 *
 * As for our ledger, each peer is warmed up once before measuring (the owner's balance,
 * the attester's EAS nonce are already non-zero), so every side is in steady state.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

import {
  AbiCoder,
  Signature,
  Wallet,
  ZeroAddress,
  ZeroHash,
  solidityPackedKeccak256,
  type BaseWallet,
  type Contract,
  type InterfaceAbi,
  type Provider,
  type Signer,
  type TypedDataField,
} from "ethers";

import { batchFields, ITEMS_PER_BATCH, type BatchFields } from "./batches.ts";
import { TRANSACTION_GAS_CAP, deploy, gasUsedBy, perUnit, sum, type CompiledContract } from "./support.ts";

const DAY_SECONDS = 86_400n;

/** Our batch fields as an EAS schema: what a cooperative would attest there instead. */
export const EAS_BATCH_SCHEMA =
  "uint64 gtin,string lot,bytes32 itemsRoot,uint32 itemCount,uint64 quantityMilli,string unit,uint64 harvestedAt,bytes metadataCid";

const EAS_ATTEST_TYPES: Record<string, TypedDataField[]> = {
  Attest: [
    { name: "attester", type: "address" },
    { name: "schema", type: "bytes32" },
    { name: "recipient", type: "address" },
    { name: "expirationTime", type: "uint64" },
    { name: "revocable", type: "bool" },
    { name: "refUID", type: "bytes32" },
    { name: "data", type: "bytes" },
    { name: "value", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint64" },
  ],
};

export interface PeerGas {
  erc721PerItemOnePerTx: number;
  erc721PerItemLoop: number;
  /** items minted per transaction in the loop run: 1,000 when it fits one transaction */
  erc721LoopSize: number;
  erc721aPerItemBatch: number;
  easAttest: number;
  easMultiAttestTen: number;
  easAttestByDelegation: number;
  easMultiAttestByDelegationTen: number;
}

export interface PeerParties {
  provider: Provider;
  owner: Signer;
  relayer: Signer;
  /** reads a contract compiled from this project, by fully qualified name */
  compiled: (fullyQualifiedName: string) => Promise<CompiledContract>;
}

const require = createRequire(import.meta.url);

function easArtifact(source: string, name: string): CompiledContract {
  const file = require.resolve(
    `@ethereum-attestation-service/eas-contracts/artifacts/contracts/${source}/${name}.json`,
  );
  const parsed = JSON.parse(readFileSync(file, "utf8")) as { abi: InterfaceAbi; bytecode: string };
  return { abi: parsed.abi, bytecode: parsed.bytecode };
}

async function chainNow(provider: Provider): Promise<bigint> {
  const block = await provider.getBlock("latest");
  if (block === null) throw new Error("the chain has no latest block");
  return BigInt(block.timestamp);
}

async function measureErc721(
  parties: PeerParties,
  holder: string,
): Promise<Pick<PeerGas, "erc721PerItemOnePerTx" | "erc721PerItemLoop" | "erc721LoopSize">> {
  const token = await deploy(
    await parties.compiled("contracts/test/bench/BenchERC721.sol:BenchERC721"),
    parties.owner,
    await parties.owner.getAddress(),
  );
  const mint = token.getFunction("mint");
  const mintRange = token.getFunction("mintRange");
  await gasUsedBy(mint.send(holder, 0n)); // warm-up: the holder's balance is non-zero from here on

  const onePerTx: bigint[] = [];
  for (let tokenId = 1; tokenId <= ITEMS_PER_BATCH; tokenId++) {
    onePerTx.push(await gasUsedBy(mint.send(holder, BigInt(tokenId))));
  }

  // 1,000 `_mint`s in one loop need about 25 M gas; since Osaka one transaction may use
  // at most 2^24, so the loop is split into runs of 100 when the whole does not fit.
  let firstTokenId = BigInt(ITEMS_PER_BATCH + 1);
  let loopSize = ITEMS_PER_BATCH;
  try {
    const estimate = await mintRange.estimateGas(holder, firstTokenId, BigInt(ITEMS_PER_BATCH));
    if (estimate > TRANSACTION_GAS_CAP) loopSize = 100;
  } catch {
    loopSize = 100;
  }
  const loops: bigint[] = [];
  for (let minted = 0; minted < ITEMS_PER_BATCH; minted += loopSize) {
    loops.push(await gasUsedBy(mintRange.send(holder, firstTokenId, BigInt(loopSize))));
    firstTokenId += BigInt(loopSize);
  }
  return {
    erc721PerItemOnePerTx: perUnit(sum(onePerTx), onePerTx.length),
    erc721PerItemLoop: perUnit(sum(loops), ITEMS_PER_BATCH),
    erc721LoopSize: loopSize,
  };
}

async function measureErc721a(parties: PeerParties, holder: string): Promise<Pick<PeerGas, "erc721aPerItemBatch">> {
  const token = await deploy(
    await parties.compiled("contracts/test/bench/BenchERC721A.sol:BenchERC721A"),
    parties.owner,
    await parties.owner.getAddress(),
  );
  const mint = token.getFunction("mint");
  await gasUsedBy(mint.send(holder, 1n)); // warm-up: the holder's packed data and the next id are non-zero
  const batch = await gasUsedBy(mint.send(holder, BigInt(ITEMS_PER_BATCH)));
  return { erc721aPerItemBatch: perUnit(batch, ITEMS_PER_BATCH) };
}

interface EasBench {
  eas: Contract;
  schemaUid: string;
  domain: { name: string; version: string; chainId: bigint; verifyingContract: string };
  attester: BaseWallet;
  nextNonce: bigint;
  provider: Provider;
  batchSequence: number;
}

function encodeBatch(fields: BatchFields): string {
  return AbiCoder.defaultAbiCoder().encode(
    ["uint64", "string", "bytes32", "uint32", "uint64", "string", "uint64", "bytes"],
    [
      fields.gtin,
      fields.lot,
      fields.itemsRoot,
      fields.itemCount,
      fields.quantityMilli,
      fields.unit,
      fields.harvestedAt,
      fields.metadataCid,
    ],
  );
}

/** `AttestationRequestData` for `count` fresh batches. */
async function easRequestData(bench: EasBench, count: number): Promise<Record<string, unknown>[]> {
  const now = await chainNow(bench.provider);
  const data: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const fields = await batchFields("EAS-", bench.batchSequence++, now - DAY_SECONDS);
    data.push({
      recipient: ZeroAddress,
      expirationTime: 0n,
      revocable: true,
      refUID: ZeroHash,
      data: encodeBatch(fields),
      value: 0n,
    });
  }
  return data;
}

async function easSignatures(
  bench: EasBench,
  data: readonly Record<string, unknown>[],
  deadline: bigint,
): Promise<{ v: number; r: string; s: string }[]> {
  const signatures: { v: number; r: string; s: string }[] = [];
  for (const item of data) {
    const signed = await bench.attester.signTypedData(bench.domain, EAS_ATTEST_TYPES, {
      attester: bench.attester.address,
      schema: bench.schemaUid,
      ...item,
      nonce: bench.nextNonce,
      deadline,
    });
    bench.nextNonce += 1n;
    const { v, r, s } = Signature.from(signed);
    signatures.push({ v, r, s });
  }
  return signatures;
}

async function easAttest(bench: EasBench): Promise<bigint> {
  const [data] = await easRequestData(bench, 1);
  return gasUsedBy(bench.eas.getFunction("attest").send({ schema: bench.schemaUid, data }));
}

async function easAttestByDelegation(bench: EasBench): Promise<bigint> {
  const data = await easRequestData(bench, 1);
  const deadline = (await chainNow(bench.provider)) + DAY_SECONDS;
  const [signature] = await easSignatures(bench, data, deadline);
  return gasUsedBy(
    bench.eas.getFunction("attestByDelegation").send({
      schema: bench.schemaUid,
      data: data[0],
      signature,
      attester: bench.attester.address,
      deadline,
    }),
  );
}

function eip712Name(fields: unknown, index: number): string {
  if (!Array.isArray(fields) || typeof fields[index] !== "string") throw new Error("EAS returned no EIP-712 domain");
  return fields[index];
}

async function setUpEas(parties: PeerParties): Promise<EasBench> {
  const schemaRegistry = await deploy(easArtifact("SchemaRegistry.sol", "SchemaRegistry"), parties.owner);
  const eas = await deploy(easArtifact("EAS.sol", "EAS"), parties.relayer, await schemaRegistry.getAddress());
  // No resolver; revocable, since a batch can be recalled.
  await gasUsedBy(schemaRegistry.getFunction("register").send(EAS_BATCH_SCHEMA, ZeroAddress, true));
  const schemaUid = solidityPackedKeccak256(["string", "address", "bool"], [EAS_BATCH_SCHEMA, ZeroAddress, true]);
  const domainFields: unknown = await eas.getFunction("eip712Domain").staticCall();
  const network = await parties.provider.getNetwork();
  return {
    eas,
    schemaUid,
    domain: {
      name: eip712Name(domainFields, 1),
      version: eip712Name(domainFields, 2),
      chainId: network.chainId,
      verifyingContract: await eas.getAddress(),
    },
    attester: Wallet.createRandom(),
    nextNonce: 0n,
    provider: parties.provider,
    batchSequence: 0,
  };
}

async function measureEas(
  parties: PeerParties,
): Promise<
  Pick<PeerGas, "easAttest" | "easMultiAttestTen" | "easAttestByDelegation" | "easMultiAttestByDelegationTen">
> {
  const bench = await setUpEas(parties);
  // Warm-up: one of each, so the delegated attester's nonce is non-zero as in steady use.
  await easAttest(bench);
  await easAttestByDelegation(bench);

  const repeats = 3;
  const attest: bigint[] = [];
  const delegated: bigint[] = [];
  for (let i = 0; i < repeats; i++) attest.push(await easAttest(bench));
  for (let i = 0; i < repeats; i++) delegated.push(await easAttestByDelegation(bench));

  const multiData = await easRequestData(bench, 10);
  const multi = await gasUsedBy(
    bench.eas.getFunction("multiAttest").send([{ schema: bench.schemaUid, data: multiData }]),
  );

  const delegatedData = await easRequestData(bench, 10);
  const deadline = (await chainNow(bench.provider)) + DAY_SECONDS;
  const signatures = await easSignatures(bench, delegatedData, deadline);
  const multiDelegated = await gasUsedBy(
    bench.eas
      .getFunction("multiAttestByDelegation")
      .send([{ schema: bench.schemaUid, data: delegatedData, signatures, attester: bench.attester.address, deadline }]),
  );

  return {
    easAttest: perUnit(sum(attest), repeats),
    easMultiAttestTen: perUnit(multi, 10),
    easAttestByDelegation: perUnit(sum(delegated), repeats),
    easMultiAttestByDelegationTen: perUnit(multiDelegated, 10),
  };
}

export async function measurePeers(parties: PeerParties): Promise<PeerGas> {
  // Items go to the cooperative that owns them, not to the account paying for the mint.
  const holder = Wallet.createRandom().address;
  return {
    ...(await measureErc721(parties, holder)),
    ...(await measureErc721a(parties, holder)),
    ...(await measureEas(parties)),
  };
}
