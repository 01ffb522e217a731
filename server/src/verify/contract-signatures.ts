/**
 * Asking a contract signer (a smart-contract wallet such as a Safe) whether it agrees with a
 * signature, by ERC-1271, as the registry's `SignatureChecker` does: a signature that does not
 * recover to its signer may still be the signer's when the signer is a contract that answers
 * `isValidSignature(hash, signature)` with the magic value. Asked at the block where the chain
 * accepted the record (a Safe's owners may change later), else at the latest block.
 * A key (no code) answers nothing: the signature is then simply not its.
 */
import { bytesToHex, concatBytes, fixedBytes, hexToBytes, sameHex, uintWord } from "./bytes.ts";
import type { ItemResolution } from "../domain/resolution.ts";
import type { RpcClient } from "./rpc.ts";

/**
 * `isValidSignature(bytes32,bytes)`'s selector, which is also the value a willing wallet
 * returns. A constant (the test derives it from the signature): the scan page loads this
 * module only when a signature fails, without Keccak.
 */
export const ERC1271_MAGIC = "0x1626ba7e";

export interface ContractSignature {
  digest: string;
  signature: string;
  /** Who should have signed: a contract wallet, or a key (which then did not sign). */
  signer: string;
  /** The block where the chain accepted the signed record, when known. */
  block?: string | number | bigint | null;
}

export interface ContractVerdict {
  valid: boolean;
  /** Said in the check's text: whom was asked, at which block, what it answered. */
  detail: string;
}

export function encodeIsValidSignature(digest: string, signature: string): string {
  const bytes = hexToBytes(signature);
  const padded = new Uint8Array(Math.ceil(bytes.length / 32) * 32);
  padded.set(bytes);
  return bytesToHex(
    concatBytes(
      hexToBytes(ERC1271_MAGIC),
      fixedBytes(digest, 32),
      uintWord(64n),
      uintWord(BigInt(bytes.length)),
      padded,
    ),
  );
}

/** Whether an answer is the magic value, left-aligned in its word (any other word, or no word, is a refusal). */
export function isMagicAnswer(data: string): boolean {
  return /^0x[0-9a-fA-F]{64,}$/.test(data) && sameHex(data.slice(0, 66), ERC1271_MAGIC.padEnd(66, "0"));
}

const blockTag = (block: ContractSignature["block"]): string | undefined =>
  block === undefined || block === null || block === "" ? undefined : `0x${BigInt(block).toString(16)}`;

/** One signature asked of its signer; never throws. */
export async function askContractSigner(
  rpc: RpcClient | undefined,
  query: ContractSignature,
): Promise<ContractVerdict> {
  const { signer } = query;
  if (rpc === undefined) {
    return {
      valid: false,
      detail: `not signed by ${signer}'s key, and no chain to ask whether it is a contract wallet`,
    };
  }
  let data: string;
  const tag = blockTag(query.block);
  let at = tag === undefined ? "the latest block" : `block ${BigInt(tag).toString()}`;
  try {
    const call = encodeIsValidSignature(query.digest, query.signature);
    try {
      data = await rpc.ethCall(signer, call, tag);
    } catch (error) {
      // A revert is the wallet's answer; anything else at an old block is a node without its state.
      if (tag === undefined || /revert/i.test(error instanceof Error ? error.message : String(error))) throw error;
      data = await rpc.ethCall(signer, call);
      at = `the latest block (the node keeps no state of ${at})`;
    }
  } catch {
    return { valid: false, detail: `not signed by ${signer}: asked as a contract wallet at ${at}, it refused` };
  }
  if (isMagicAnswer(data)) return { valid: true, detail: `contract wallet ${signer} agrees (ERC-1271, at ${at})` };
  return data === "0x"
    ? { valid: false, detail: `not signed by ${signer} (no contract wallet there at ${at})` }
    : { valid: false, detail: `not signed by ${signer}: its contract wallet does not agree at ${at}` };
}

/** A (digest, signature, signer) triple as a key of `contractSigned`'s answer. */
export const signatureKey = (q: Pick<ContractSignature, "digest" | "signature" | "signer">): string =>
  `${q.digest}/${q.signature}/${q.signer}`.toLowerCase();

/** Each query asked of its signer, in parallel (one batch where the client batches). */
export function askContractSigners(
  rpc: RpcClient | undefined,
  queries: readonly ContractSignature[],
): Promise<ContractVerdict[]> {
  return Promise.all(queries.map((q) => askContractSigner(rpc, q)));
}

/**
 * What a pure judgement (`verifyBatchLogs`, `judgeAuthority`) is told of contract wallets, for
 * a signature that does not recover to its signer: whether the signer's wallet agreed with it.
 */
export type WalletCheck = (
  digest: string,
  signature: string,
  signer: string,
  block?: ContractSignature["block"],
) => boolean;

/** The wallets' answers `agreed` (`signatureKey`s) as a check, noting in `asked` each signature it has none for. */
export function walletCheck(agreed: ReadonlySet<string>, asked?: ContractSignature[]): WalletCheck {
  return (digest, signature, signer, block) => {
    const query = { digest, signature, signer, block };
    if (agreed.has(signatureKey(query))) return true;
    asked?.push(query);
    return false;
  };
}

/**
 * Runs a pure judgement; when it `failed` on signatures it could not match, asks their signers'
 * contract wallets (by `ask`, at the blocks noted) and judges again with their answers.
 */
export async function judgeAsking<I, R>(
  ask: (queries: ContractSignature[]) => Promise<ContractVerdict[]>,
  judge: (input: I & { wallet?: WalletCheck }) => R,
  input: I,
  failed: (first: R) => boolean,
): Promise<R> {
  const asked: ContractSignature[] = [];
  const first = judge({ ...input, wallet: walletCheck(new Set(), asked) });
  if (asked.length === 0 || !failed(first)) return first;
  return judge({ ...input, wallet: walletCheck(await contractSigned(ask, asked)) });
}

/** The keys (`signatureKey`) of the queries their wallets agreed with, from `ask`'s verdicts. */
export async function contractSigned(
  ask: (queries: ContractSignature[]) => Promise<ContractVerdict[]>,
  queries: ContractSignature[],
): Promise<Set<string>> {
  const verdicts = queries.length === 0 ? [] : await ask(queries);
  return new Set(queries.filter((_q, i) => verdicts[i]?.valid === true).map(signatureKey));
}

/** The contract wallets' answers about a resolution's signatures that recover to another key. */
export interface ResolutionWallets {
  /** The attestation check's outcome when its attester's wallet was asked. */
  attestation: [boolean, string] | null;
  /** What the first of the events' wallets asked said ("; …"), or "". */
  note: string;
}

/**
 * Asks the attester's and the actors' contract wallets about the signatures that did not
 * recover to them (a wallet's need not even parse as one key's: a Safe's of two owners is 130
 * bytes), and marks the events they agree with as signed. At the latest block: a resolution
 * names no record's block. `attested` is the attestation's digest ("" when it has none), `signer`
 * whom its signature recovers to.
 */
export async function askWallets(
  rpc: RpcClient,
  resolution: ItemResolution,
  attested: string,
  signer: { signer: string } | { error: unknown },
  events: { signatureValid: boolean }[],
  digests: readonly string[],
): Promise<ResolutionWallets> {
  const { batch } = resolution;
  const { attester } = batch.attestation;
  const attestationSigned = "signer" in signer && sameHex(signer.signer, attester);
  const recovered =
    "signer" in signer ? `the signature recovers to ${signer.signer}, not ${attester}` : "the signature does not parse";
  const ask = (digest: string, signature: string, signer: string): Promise<ContractVerdict | null> =>
    askContractSigner(rpc, { digest, signature, signer });
  const [attestation, ...answers] = await Promise.all([
    attestationSigned || attested === "" ? null : ask(attested, batch.signature, attester),
    ...resolution.events.map(({ value, signature }, i) => {
      const digest = digests[i] ?? "";
      return events[i]?.signatureValid !== false || digest === "" || !sameHex(value.batchId, batch.batchId)
        ? null
        : ask(digest, signature, value.actor);
    }),
  ]);
  answers.forEach((verdict, i) => {
    const event = events[i];
    if (event !== undefined && verdict?.valid === true) event.signatureValid = true;
  });
  const said = answers.find((verdict) => verdict !== null)?.detail;
  return {
    attestation:
      attestation === null
        ? null
        : [attestation.valid, attestation.valid ? attestation.detail : `${recovered}; ${attestation.detail}`],
    note: said === undefined ? "" : `; ${said}`,
  };
}
