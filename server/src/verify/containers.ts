/**
 * The item's own path through cases and pallets (docs/aggregation.md), verified without
 * trusting the server: each step's signature recovers its actor; each state links to the
 * digest of the step that made it and each step names the state before it, so the chain's
 * one stored hash per container (`containerState(key)`) vouches for every step up to it;
 * the item's leaf (or, for a pallet, its case's key) is proved under the packing's root; and
 * each step's payload document matches its signed CID, the packing's listing this item.
 */
import type { ItemResolution, ResolvedContainer, ResolvedContainerStep } from "../domain/resolution.ts";
import { CONTAINER_ACTIONS, CONTAINER_TYPES } from "../domain/typed-data.ts";
import {
  abiStringTail,
  addressWord,
  bytesToHex,
  concatBytes,
  fixedBytes,
  hexToBytes,
  parseUint,
  sameHex,
  uintWord,
} from "./bytes.ts";
import { cidTextFromHex } from "./cid.ts";
import { askContractSigners } from "./contract-signatures.ts";
import type { domainSeparator, Eip712Domain, recoverSigner } from "./eip712.ts";
import type { Finding } from "./findings.ts";
import type { verifyProof } from "./merkle.ts";
import type { RpcClient } from "./rpc.ts";

/**
 * The hashing and signature recovery this module needs, handed in by the caller: the scan
 * page loads this module only for items packed in cases, and its own bundle already holds
 * these (Keccak and secp256k1 are most of a phone's download).
 */
export interface ContainerCrypto {
  keccak256: (bytes: Uint8Array) => Uint8Array;
  recoverSigner: typeof recoverSigner;
  domainSeparator: typeof domainSeparator;
  verifyProof: typeof verifyProof;
}

const ZERO = bytesToHex(new Uint8Array(32));

/** The hashes of containers, with `crypto`'s Keccak. */
export function containerHashes(crypto: ContainerCrypto) {
  const { keccak256 } = crypto;
  const hash = (...parts: Uint8Array[]): string => bytesToHex(keccak256(concatBytes(...parts)));
  const address = (value: string): Uint8Array => fixedBytes(`0x${"0".repeat(24)}${value.slice(2)}`, 32);
  /**
   * EIP-712's `encodeData` of a container's request: eip712.ts's encoding of the same atomic
   * types, plus the packing's `bytes32[]` (the hash of its words side by side). Kept here so
   * the page's main script carries none of it.
   */
  const encodeField = (type: string, value: string | string[] | undefined): Uint8Array => {
    if (typeof value === "object") {
      if (type !== "bytes32[]") throw new TypeError(`an array is not a ${type}`);
      return keccak256(concatBytes(...value.map((word) => fixedBytes(word, 32))));
    }
    if (value === undefined) throw new TypeError(`a ${type} is missing`);
    if (type === "address") return addressWord(value);
    if (type === "bytes32") return fixedBytes(value, 32);
    if (type === "bytes") return keccak256(hexToBytes(value));
    return uintWord(parseUint(value, Number(/^uint(\d+)$/.exec(type)?.[1] ?? "0")));
  };
  return {
    /** `keccak256(abi.encode(uint64 sscc))`: the registry's key of a container. */
    keyOf: (sscc: string): string => hash(uintWord(BigInt(sscc))),
    /** `keccak256(abi.encode(state))`: what the registry stores for a container. */
    stateHash: (state: ResolvedContainerStep["state"]): string =>
      hash(
        fixedBytes(state.childrenRoot, 32),
        address(state.custodian),
        address(state.pendingReceiver),
        fixedBytes(state.link, 32),
      ),
    /** The packed item's leaf: `keccak256(keccak256(abi.encode(bytes32 batchId, string serial)))`. */
    itemLeaf: (batchId: string, serial: string): string =>
      hash(keccak256(concatBytes(fixedBytes(batchId, 32), uintWord(64n), abiStringTail(serial)))),
    /** A case's leaf in its pallet: `keccak256(keccak256(abi.encode(bytes32 key)))`. */
    containerLeaf: (key: string): string => hash(keccak256(fixedBytes(key, 32))),
    /** The EIP-712 digest of a step's signed value (also the `link` of the state it makes). */
    stepDigest: (domain: Eip712Domain, step: ResolvedContainerStep): string => {
      const fields = CONTAINER_TYPES[step.primaryType];
      const type = `${step.primaryType}(${fields.map((f) => `${f.type} ${f.name}`).join(",")})`;
      return hash(
        Uint8Array.of(0x19, 0x01),
        crypto.domainSeparator(domain),
        keccak256(
          concatBytes(
            keccak256(new TextEncoder().encode(type)),
            ...fields.map((f) => encodeField(f.type, step.value[f.name])),
          ),
        ),
      );
    },
    /** `containerState(key)`: the stored hash of the container's state (zero for one never packed). */
    readState: async (rpc: RpcClient, registry: string, key: string): Promise<string> => {
      const selector = keccak256(new TextEncoder().encode("containerState(bytes32)")).subarray(0, 4);
      const data = await rpc.ethCall(registry, bytesToHex(concatBytes(selector, fixedBytes(key, 32))));
      return bytesToHex(fixedBytes(data, 32));
    },
  };
}

type Hashes = ReturnType<typeof containerHashes>;

// The scan page loads this module's script only when needed, contract wallets' answers too.
export { askWallets } from "./contract-signatures.ts";

export interface VerifiedContainerStep {
  step: ResolvedContainerStep;
  /** From the signed value, not the server's label. */
  action: string;
  /** Seconds, signed. */
  occurredAt: number;
  /** Signature, link and the state before it all hold. */
  valid: boolean;
  /** Covered by the state the registry stores. */
  onChain: boolean;
}

export interface VerifiedContainer {
  container: ResolvedContainer;
  /** A case holds the item itself; a pallet holds the case it is in. */
  kind: "case" | "pallet";
  steps: VerifiedContainerStep[];
  /** Still holding the item after the steps shown (no unpacking or repacking since). */
  live: boolean;
  problems: string[];
}

export interface ContainersReport {
  containers: VerifiedContainer[];
  /** False when any container failed a check; true otherwise (steps not yet on chain are pending, not failed). */
  ok: boolean;
  detail: string;
  findings: Finding[];
}

/** A document's bytes, when they matched the CID; else why not. */
export type DocumentLoader = (cidText: string) => Promise<{ bytes: Uint8Array | null; problem: string | null }>;

export interface ContainerInputs {
  resolution: ItemResolution;
  domain: Eip712Domain;
  crypto: ContainerCrypto;
  /** Where the registry's stored state of each container is read. */
  rpc: RpcClient;
  load: DocumentLoader;
}

/** A step whose signature recovers to another key than its actor's. */
interface WalletQuery {
  step: ResolvedContainerStep;
  digest: string;
}

function actionOf(step: ResolvedContainerStep): string {
  return step.primaryType === "ContainerPacking" ? "packing" : (CONTAINER_ACTIONS[Number(step.value.action)] ?? "?");
}

/** Every `childEPCs` entry in a payload document (the packing's AggregationEvent). */
function childEpcsOf(bytes: Uint8Array): string[] {
  const out: string[] = [];
  const walk = (node: unknown, depth: number): void => {
    if (depth > 8 || typeof node !== "object" || node === null) return;
    for (const [name, value] of Object.entries(node)) {
      if (name === "childEPCs" && Array.isArray(value)) {
        for (const epc of value) if (typeof epc === "string") out.push(epc);
      } else walk(value, depth + 1);
    }
  };
  try {
    walk(JSON.parse(new TextDecoder().decode(bytes)), 0);
  } catch {
    // Not JSON: it lists nothing.
  }
  return out;
}

/** The path of a Digital Link (its host is the resolver's, which may differ between copies of one URI). */
function linkPath(uri: string): string {
  try {
    return new URL(uri).pathname;
  } catch {
    return uri;
  }
}

/** Whether a signature recovers to `actor` (one that does not parse may still be a contract wallet's). */
function recovers(crypto: ContainerCrypto, digest: string, signature: string, actor: string): boolean {
  try {
    return sameHex(crypto.recoverSigner(digest, signature), actor);
  } catch {
    return false;
  }
}

/** The offline checks of one container: signatures, the state chain, the leaf's proof. */
function chainOfSteps(
  container: ResolvedContainer,
  { resolution, domain, crypto }: ContainerInputs,
  x: Hashes,
  cases: ReadonlySet<string>,
  walletSigned: ReadonlySet<ResolvedContainerStep>,
  misses: WalletQuery[],
): VerifiedContainer {
  const problems: string[] = [];
  const key = x.keyOf(container.sscc);
  const packing = container.steps[0];
  let before: string | null = null;
  let live = true;
  const steps = container.steps.map((step, index): VerifiedContainerStep => {
    let valid = false;
    try {
      const digest = x.stepDigest(domain, step);
      const value = step.value;
      const signed =
        typeof value.actor === "string" &&
        (walletSigned.has(step) || recovers(crypto, digest, step.signature, value.actor));
      if (!signed && typeof value.actor === "string") misses.push({ step, digest });
      valid =
        signed &&
        sameHex(step.state.link, digest) &&
        typeof value.containerKey === "string" &&
        sameHex(value.containerKey, key) &&
        (before === null || (typeof value.previous === "string" && sameHex(value.previous, before)));
      before = x.stateHash(step.state);
    } catch {
      // A malformed step has no digest or state: it and every step after it stay unverified.
      before = "";
    }
    if (!valid) problems.push(`step ${String(index + 1)} of ${container.sscc} is not signed or not linked`);
    const action = actionOf(step);
    if (index > 0 && (action === "unpacking" || action === "packing")) live = false;
    return { step, action, occurredAt: Number(step.value.occurredAt), valid, onChain: false };
  });
  const root = packing?.value.childrenRoot;
  if (
    packing?.primaryType !== "ContainerPacking" ||
    typeof root !== "string" ||
    !sameHex(root, packing.state.childrenRoot)
  ) {
    problems.push(`${container.sscc} does not start with its packing`);
  } else {
    const { leaf } = container;
    const listed = (name: string, word: string): boolean => {
      const list = packing.value[name];
      return Array.isArray(list) && list.some((entry) => sameHex(entry, word));
    };
    const proved =
      leaf.type === "item"
        ? listed("batchIds", resolution.batch.batchId) &&
          crypto.verifyProof(root, x.itemLeaf(resolution.batch.batchId, resolution.item.serial), container.proof)
        : cases.has(leaf.sscc) &&
          listed("childContainers", x.keyOf(leaf.sscc)) &&
          crypto.verifyProof(root, x.containerLeaf(x.keyOf(leaf.sscc)), container.proof);
    if (!proved) problems.push(`the proof that ${container.sscc} holds this item fails`);
  }
  return { container, kind: container.leaf.type === "item" ? "case" : "pallet", steps, live, problems };
}

/**
 * Marks the steps the chain's stored state covers; a problem when that state is none of the
 * steps' (steps changed, cut or hidden) or the server calls a step anchored the chain lacks.
 */
function judgeChainState(verified: VerifiedContainer, chainState: string, x: Hashes): void {
  const { steps } = verified;
  let covered = -1;
  steps.forEach((s, index) => {
    if (s.valid && sameHex(x.stateHash(s.step.state), chainState)) covered = index;
  });
  const previous = steps[0]?.step.value.previous;
  if (covered < 0 && !(typeof previous === "string" && sameHex(previous, chainState)) && chainState !== ZERO) {
    verified.problems.push(`the chain's state of ${verified.container.sscc} is none of the steps shown`);
    return;
  }
  steps.forEach((s, index) => {
    s.onChain = index <= covered;
    if (!s.onChain && s.step.ledgerState === "anchored") {
      verified.problems.push(`the chain lacks a step of ${verified.container.sscc} the server calls anchored`);
    }
  });
}

const FINDING_TEXT = {
  container_forged: {
    zh: "装箱记录有误：箱号 {sscc} 的记录签名无效或前后不衔接，可能被篡改。",
    en: "A packing record is wrong: case {sscc}'s records are not validly signed or do not link up; they may have been altered.",
  },
  container_proof_failed: {
    zh: "无法证明本商品装在箱号 {sscc} 中。",
    en: "Nothing proves this item is in case {sscc}.",
  },
  container_chain_mismatch: {
    zh: "区块链上箱号 {sscc} 的状态与显示的记录不符。",
    en: "The blockchain's state of case {sscc} does not match the records shown.",
  },
  in_two_live_containers: {
    zh: "同一件商品同时装在两个箱中：{sscc}。此码可能被复制。",
    en: "This item is packed in two cases at once: {sscc}. Its code may have been copied.",
  },
  shipped_after_sale: {
    zh: "本商品售出后，其所在的箱 {sscc} 仍被发货：此码可能被复制。",
    en: "Case {sscc} holding this item was shipped after the item was sold: its code may have been copied.",
  },
} as const;

function finding(code: keyof typeof FINDING_TEXT, ...ssccs: string[]): Finding {
  const text = FINDING_TEXT[code];
  // Listed so that a phone can break the line between two (an SSCC is 18 digits, unbreakable).
  const zh = ssccs.join("、");
  const en = ssccs.join(", ");
  return { code, basis: "signed", zh: text.zh.replace("{sscc}", zh), en: text.en.replace("{sscc}", en) };
}

/** Verifies the resolution's containers; the findings name what is wrong or looks copied. */
export async function verifyContainers(inputs: ContainerInputs): Promise<ContainersReport> {
  const { resolution } = inputs;
  const x = containerHashes(inputs.crypto);
  const list = resolution.containers ?? [];
  const cases = new Set(list.filter((c) => c.leaf.type === "item").map((c) => c.sscc));
  // The chain's states first, all in one round trip; the signatures are recovered meanwhile.
  const chainStates = list.map((c) => x.readState(inputs.rpc, resolution.chain.registry, x.keyOf(c.sscc)));
  for (const read of chainStates) read.catch(() => undefined);
  await Promise.resolve();
  const misses: WalletQuery[] = [];
  let verified = list.map((container) => chainOfSteps(container, inputs, x, cases, new Set(), misses));
  // Steps signed by another key: their actors' contract wallets are asked, and the steps judged again.
  if (misses.length > 0) {
    const verdicts = await askContractSigners(
      inputs.rpc,
      misses.map(({ step, digest }) => ({ digest, signature: step.signature, signer: String(step.value.actor) })),
    );
    const walletSigned = new Set(misses.filter((_m, i) => verdicts[i]?.valid === true).map((m) => m.step));
    if (walletSigned.size > 0) verified = list.map((c) => chainOfSteps(c, inputs, x, cases, walletSigned, []));
  }
  const findings: Finding[] = [];
  await Promise.all(
    verified.map(async (v, index) => {
      const failedBefore = v.problems.length;
      try {
        judgeChainState(v, await (chainStates[index] ?? Promise.reject(new Error("no chain read"))), x);
      } catch (error) {
        v.problems.push(`${v.container.sscc}: ${error instanceof Error ? error.message : String(error)}`);
      }
      const chainFailed = v.problems.length > failedBefore;
      for (const [position, s] of v.steps.entries()) {
        const cidText = cidTextFromHex(String(s.step.value.payloadCid));
        const { bytes, problem } = await inputs.load(cidText);
        if (bytes === null) {
          v.problems.push(`payload ${cidText}: ${problem ?? ""}`);
          s.valid = false;
        } else if (position === 0) {
          const wanted = v.container.leaf.type === "item" ? linkPath(resolution.uri) : `/00/${v.container.leaf.sscc}`;
          if (!childEpcsOf(bytes).some((epc) => linkPath(epc).endsWith(wanted))) {
            v.problems.push(`the packing document of ${v.container.sscc} does not list ${wanted}`);
          }
        }
      }
      if (v.steps.some((s) => !s.valid)) findings.push(finding("container_forged", v.container.sscc));
      else if (v.problems.some((p) => p.includes("proof") || p.includes("does not list")))
        findings.push(finding("container_proof_failed", v.container.sscc));
      else if (chainFailed) findings.push(finding("container_chain_mismatch", v.container.sscc));
    }),
  );
  const sound = verified.filter((v) => v.problems.length === 0);
  const liveCases = sound.filter((v) => v.kind === "case" && v.live);
  if (liveCases.length > 1) {
    findings.push(finding("in_two_live_containers", ...liveCases.map((v) => v.container.sscc)));
  }
  // The item's own sale as the platform records it (its hidden code claimed): a case still
  // holding it that is shipped later carries a copy.
  const soldAtMs = resolution.item.claimedAtMs;
  if (soldAtMs !== null) {
    for (const v of sound) {
      // A despatch (a packing that ships at once) ships too.
      const ships = (s: VerifiedContainerStep): boolean =>
        s.action === "shipping" || (s.action === "packing" && !/^0x0{40}$/.test(String(s.step.value.counterparty)));
      if (v.live && v.steps.some((s) => ships(s) && s.occurredAt * 1000 > soldAtMs)) {
        findings.push(finding("shipped_after_sale", v.container.sscc));
      }
    }
  }
  const problems = verified.flatMap((v) => v.problems);
  const pending = verified.reduce((n, v) => n + v.steps.filter((s) => !s.onChain).length, 0);
  return {
    containers: verified,
    ok: problems.length === 0,
    detail:
      problems.length > 0
        ? problems.join("; ")
        : `${String(verified.length)} containers${pending > 0 ? `; ${String(pending)} steps pending` : ""}`,
    findings,
  };
}
