/**
 * Chain reads no single party controls: an `RpcClient` over several independent JSON-RPC
 * endpoints (`TrustRoots.endpoints`) that the verification core uses unchanged.
 *
 * - The block every read is made at is trusted when `quorum` endpoints report the same hash
 *   and state root for it, or, with pinned QBFT validators, when one endpoint's header carries
 *   the seals of two thirds of them (one honest endpoint then suffices).
 * - The registry's `batch`, `organisation` and `originOf` are answered from `eth_getProof`
 *   at that block, each proof checked against its state root: a node that lies about a slot
 *   is caught even when it is the only one asked.
 * - Anything else (other calls, logs) must be answered identically by `quorum` endpoints.
 *
 * Every endpoint's outcome is kept for `trustReport()`: the page and the CLI name the liars.
 */
import { AppError } from "../errors/app-error.ts";
import { sameHex } from "./bytes.ts";
import { qbftHeaderFromRpcBlock, verifyQbftSeals, type QbftSealCheck } from "./qbft-seals.ts";
import {
  answerFromStorage,
  describeView,
  initialSlots,
  registryViewOf,
  type RegistryView,
} from "./registry-storage.ts";
import type { RawLog } from "./registry-logs.ts";
import { createRpcClient, type FetchLike, type JsonRpcTransport, type LogFilter, type RpcClient } from "./rpc.ts";
import { checkAccountProof } from "./storage-proof.ts";
import type { ChainTrustReport, EndpointOutcome, TrustRoots } from "./trust-roots.ts";

export interface TrustedRpcClient extends RpcClient {
  /** What the reads so far rested on: the block, each endpoint's outcome, the seals. */
  trustReport(): ChainTrustReport;
}

export interface TrustedRpcOptions {
  fetch?: FetchLike;
  /** Per request to one endpoint (15 s by default): a silent endpoint counts as unreachable after it. */
  timeoutMs?: number;
  /** The clock `TrustRoots.maxBlockAgeSeconds` is judged by (milliseconds since the epoch). */
  now?: () => number;
}

interface TrustedBlock {
  number: bigint;
  tag: string;
  hash: string;
  stateRoot: string;
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

interface Endpoint {
  url: string;
  rpc: JsonRpcTransport;
  outcome: EndpointOutcome | null;
}

/** A proof read goes at most this many rounds (a long `bytes` value needs a second). */
const PROOF_ROUNDS_MAX = 3;

/** Why an endpoint gave no answer, in plain English ("no connection", "answered HTTP 503", …). */
function messageOf(error: unknown): string {
  if (error instanceof AppError) {
    const { reason, error: rpcError, status } = error.details;
    if (reason === "unreachable") return "no connection";
    if (typeof status === "number") return `answered HTTP ${String(status)}`;
    if (typeof rpcError === "string") return `answered an error: ${rpcError}`;
    if (typeof reason === "string") return `an unusable answer (${reason})`;
    return error.detail ?? error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

function quantity(value: unknown, what: string): bigint {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]+$/.test(value)) {
    throw new AppError("verify.rpc", { method: what, reason: "not a quantity" });
  }
  return BigInt(value);
}

/** JSON with object keys sorted and hex lowercased: two honest nodes' answers compare equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === "string" && /^0x[0-9a-fA-F]*$/.test(v)) return v.toLowerCase();
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}

function validateRoots(roots: TrustRoots): void {
  const n = roots.endpoints.length;
  if (n === 0) throw new AppError("verify.rpc", { reason: "no endpoints configured" });
  if (!Number.isInteger(roots.quorum) || roots.quorum < 1 || roots.quorum > n) {
    throw new AppError("verify.rpc", { reason: `quorum ${String(roots.quorum)} is not between 1 and ${n}` });
  }
  if (!/^\d+$/.test(roots.chainId)) throw new AppError("verify.rpc", { reason: "chain id is not decimal" });
  const age = roots.maxBlockAgeSeconds;
  if (age !== undefined && (!Number.isSafeInteger(age) || age < 1)) {
    throw new AppError("verify.rpc", { reason: "maxBlockAgeSeconds is not a positive whole number" });
  }
}

/** Whether an endpoint's latest block is a QBFT header two thirds of `validators` sealed, hashing to the hash it came with. */
function sealedHead(block: unknown, validators: readonly string[]): boolean {
  try {
    const check = verifyQbftSeals(qbftHeaderFromRpcBlock(block), validators);
    return check.ok && sameHex(check.hash, String((block as { hash?: unknown }).hash));
  } catch {
    return false;
  }
}

export function createTrustedRpcClient(roots: TrustRoots, options: TrustedRpcOptions = {}): TrustedRpcClient {
  validateRoots(roots);
  const now = options.now ?? (() => Date.now());
  const chainId = BigInt(roots.chainId);
  const validators = roots.validators !== undefined && roots.validators.length > 0 ? roots.validators : null;
  const mode: ChainTrustReport["mode"] = validators === null ? "quorum" : "seals";
  const endpoints: Endpoint[] = roots.endpoints.map((url) => ({
    url,
    rpc: createRpcClient(url, {
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    }),
    outcome: null,
  }));
  let trusted: TrustedBlock | null = null;
  /** Each live endpoint's latest block hash when the block was chosen. */
  const heads = new Map<Endpoint, string>();
  let sealedBy: string[] | undefined;

  // An endpoint's worst outcome stays: a liar is never cleared by a later honest answer.
  const lied = (ep: Endpoint, detail: string): void => {
    if (ep.outcome?.status !== "lied") ep.outcome = { endpoint: ep.url, status: "lied", detail };
  };
  const unreachable = (ep: Endpoint, detail: string): void => {
    if (ep.outcome?.status !== "lied") ep.outcome = { endpoint: ep.url, status: "unreachable", detail };
  };
  const agreed = (ep: Endpoint): void => {
    if (ep.outcome === null) ep.outcome = { endpoint: ep.url, status: "agreed" };
  };
  /** The endpoints still answering honestly at the trusted block. */
  const inPlay = (): Endpoint[] => endpoints.filter((ep) => ep.outcome?.status === "agreed");

  const unreachableQuorum = (answered: number): AppError =>
    new AppError("verify.quorum_unreachable", { answered, quorum: roots.quorum, endpoints: endpoints.length });

  async function chooseBlock(): Promise<TrustedBlock> {
    // One round trip usually suffices: each endpoint's latest header comes with its chain id,
    // and when a quorum is at the same height those headers are the ones judged.
    const latestHeads = await Promise.all(
      endpoints.map(async (ep) => {
        try {
          const [id, latest] = await Promise.all([
            ep.rpc.request("eth_chainId", []).then((v) => quantity(v, "eth_chainId")),
            ep.rpc.request("eth_getBlockByNumber", ["latest", false]),
          ]);
          if (id !== chainId) {
            lied(ep, `on chain ${id.toString()}, not ${roots.chainId}`);
            return null;
          }
          const number = quantity((latest as { number?: unknown } | null)?.number, "eth_getBlockByNumber");
          return { ep, number, latest };
        } catch (error) {
          unreachable(ep, messageOf(error));
          return null;
        }
      }),
    );
    const live = latestHeads.filter((h) => h !== null);
    // With seals, a head counts towards the height read at only when its own seals verify: an
    // endpoint claiming a height nobody sealed would otherwise have the block chosen out of
    // the honest endpoints' reach (with quorum 1, one such liar would stop every read).
    const counted = validators === null ? live : live.filter((head) => sealedHead(head.latest, validators));
    for (const { ep, latest } of live) {
      const hash = (latest as { hash?: unknown }).hash;
      if (typeof hash === "string") heads.set(ep, hash.toLowerCase());
    }
    // Seals vouch for a block by themselves; without them a quorum must answer at all.
    const needed = mode === "seals" ? 1 : roots.quorum;
    if (live.length < needed) {
      // Those that answered on the pinned chain said nothing wrong: too few of them is the failure.
      for (const { ep } of live) agreed(ep);
      throw unreachableQuorum(live.length);
    }
    // The highest block a quorum has reached (or, with seals and fewer live, the lowest
    // any live endpoint has): that many can answer at it.
    const numbers = (counted.length > 0 ? counted : live)
      .map((h) => h.number)
      .sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
    const number = numbers[Math.min(roots.quorum, numbers.length) - 1] ?? 0n;
    const tag = `0x${number.toString(16)}`;
    const blocks = await Promise.all(
      live.map(async (head) => {
        const { ep } = head;
        try {
          // Endpoints already past it are asked for it; the others' latest is it.
          const block =
            head.number === number
              ? (head.latest as Record<string, unknown>)
              : ((await ep.rpc.request("eth_getBlockByNumber", [tag, false])) as Record<string, unknown> | null);
          if (block === null || typeof block !== "object") {
            unreachable(ep, `has no block ${number.toString()}`);
            return null;
          }
          if (typeof block.hash !== "string" || typeof block.stateRoot !== "string") {
            lied(ep, `answered a malformed block ${number.toString()}`);
            return null;
          }
          if (quantity(block.number, "eth_getBlockByNumber") !== number) {
            lied(ep, `answered block ${String(block.number)} when asked for ${number.toString()}`);
            return null;
          }
          return { ep, block, hash: block.hash.toLowerCase(), stateRoot: block.stateRoot.toLowerCase() };
        } catch (error) {
          unreachable(ep, messageOf(error));
          return null;
        }
      }),
    );
    const answered = blocks.filter((b) => b !== null);
    let chosen: { hash: string; stateRoot: string } | null = null;
    if (validators !== null) {
      for (const b of answered) {
        let check: QbftSealCheck;
        try {
          check = verifyQbftSeals(qbftHeaderFromRpcBlock(b.block), validators);
        } catch (error) {
          lied(b.ep, `its block ${number.toString()} is not a QBFT header: ${messageOf(error)}`);
          continue;
        }
        if (!check.ok) {
          lied(
            b.ep,
            `block ${number.toString()} is not sealed by two thirds of the pinned validators (${check.reason ?? "seals do not verify"})`,
          );
        } else if (!sameHex(check.hash, b.hash)) {
          lied(b.ep, `answered block hash ${b.hash}, but its header hashes to ${check.hash}`);
        } else if (chosen === null) {
          chosen = { hash: b.hash, stateRoot: b.stateRoot };
          sealedBy = check.sealedBy;
        }
      }
      if (chosen === null) {
        if (answered.length === 0) throw unreachableQuorum(0);
        throw new AppError("verify.quorum_disagreement", { block: number.toString(), reason: "no sealed header" });
      }
    } else {
      const groups = new Map<string, typeof answered>();
      for (const b of answered) {
        const key = `${b.hash}/${b.stateRoot}`;
        groups.set(key, [...(groups.get(key) ?? []), b]);
      }
      const largest = [...groups.values()].sort((x, y) => y.length - x.length)[0] ?? [];
      const first = largest[0];
      if (first === undefined || largest.length < roots.quorum) {
        // Those that answered did not lie to anyone's knowledge: too few agree to tell who did.
        for (const b of answered) agreed(b.ep);
        if (answered.length < roots.quorum) throw unreachableQuorum(answered.length);
        throw new AppError("verify.quorum_disagreement", { block: number.toString(), answers: groups.size });
      }
      chosen = { hash: first.hash, stateRoot: first.stateRoot };
    }
    for (const b of answered) {
      if (b.hash === chosen.hash && b.stateRoot === chosen.stateRoot) agreed(b.ep);
      else
        lied(
          b.ep,
          `answered block ${number.toString()} as ${b.hash} (state root ${b.stateRoot}), not the trusted ${chosen.hash}`,
        );
    }
    // Live endpoints behind the chosen block cannot be asked at it.
    for (const { ep } of live) if (ep.outcome === null) unreachable(ep, `has not reached block ${number.toString()}`);
    // A genuine block can still be an old one: endpoints that agree (or one that serves an
    // old sealed block) could show a batch as it was before its recall.
    if (roots.maxBlockAgeSeconds !== undefined) {
      const trustedHash = chosen.hash;
      const block = answered.find((b) => b.hash === trustedHash)?.block;
      const timestamp = quantity(block?.timestamp, "eth_getBlockByNumber");
      const ageSeconds = Math.floor((now() - Number(timestamp) * 1000) / 1000);
      if (ageSeconds > roots.maxBlockAgeSeconds) {
        throw new AppError("verify.block_stale", {
          block: number.toString(),
          ageSeconds,
          maxBlockAgeSeconds: roots.maxBlockAgeSeconds,
        });
      }
    }
    return { number, tag, ...chosen };
  }

  let choosing: Promise<TrustedBlock> | null = null;
  const trustedBlock = (): Promise<TrustedBlock> => {
    choosing ??= chooseBlock().then((block) => {
      trusted = block;
      return block;
    });
    return choosing;
  };

  /**
   * A read sent at "latest" before the block is trusted, so it leaves in the same round trip
   * as the endpoints' heads (on a phone, a round trip is most of the wait). Each endpoint's
   * answer counts only if its head was the block then trusted, and only as far as the block
   * vouches for it (a proof against its state root; an answer the quorum gives alike); else
   * the read is asked again at the block and judged there. Null once the block is known.
   */
  function early<T>(
    ask: (ep: Endpoint) => Promise<T>,
    of: readonly Endpoint[] = endpoints,
  ): { ep: Endpoint; answer: Promise<Settled<T>> }[] | null {
    if (trusted !== null) return null;
    // The heads first: they and these reads leave in one batch per endpoint.
    void trustedBlock().catch(() => undefined);
    return of.map((ep) => ({
      ep,
      answer: ask(ep).then(
        (value): Settled<T> => ({ ok: true, value }),
        (error: unknown): Settled<T> => ({ ok: false, error }),
      ),
    }));
  }
  /** Whether `ep`'s early answers were made at `block`: its head was that block, and it is still trusted. */
  const atBlock = (ep: Endpoint, block: TrustedBlock): boolean =>
    ep.outcome?.status === "agreed" && heads.get(ep) === block.hash;

  /**
   * One answer that `quorum` endpoints give identically (compared as canonical JSON); the
   * others are liars. `what` names the read in their outcome; `ask` reads at a block tag.
   */
  async function agreedAnswer<T>(what: string, ask: (ep: Endpoint, tag: string) => Promise<T>): Promise<T> {
    const speculative = early((ep) => ask(ep, "latest"));
    const block = await trustedBlock();
    if (speculative !== null) {
      const usable: T[] = [];
      for (const { ep, answer } of speculative) {
        const settled = await answer;
        if (settled.ok && atBlock(ep, block)) usable.push(settled.value);
      }
      const first = usable[0];
      // Taken only when a quorum gave it and nobody said otherwise; anything else is judged at the block.
      if (first !== undefined && usable.length >= roots.quorum && new Set(usable.map(canonical)).size === 1) {
        return first;
      }
    }
    const players = inPlay();
    const answers = await Promise.all(
      players.map(async (ep) => {
        try {
          return { ep, value: await ask(ep, block.tag) };
        } catch (error) {
          unreachable(ep, `${messageOf(error)} for ${what}`);
          return null;
        }
      }),
    );
    const got = answers.filter((a) => a !== null);
    const groups = new Map<string, typeof got>();
    for (const a of got) {
      const key = canonical(a.value);
      groups.set(key, [...(groups.get(key) ?? []), a]);
    }
    const [key, largest] = [...groups.entries()].sort((x, y) => y[1].length - x[1].length)[0] ?? ["", []];
    const first = largest[0];
    if (first === undefined || largest.length < roots.quorum) {
      if (got.length < roots.quorum) throw unreachableQuorum(got.length);
      throw new AppError("verify.quorum_disagreement", { read: what, answers: groups.size });
    }
    for (const a of got)
      if (canonical(a.value) !== key) lied(a.ep, `answered ${what} differently from ${largest.length} others`);
    return first.value;
  }

  const proofKeys = (slots: readonly bigint[]): string[] => slots.map((s) => `0x${s.toString(16).padStart(64, "0")}`);

  /** Each endpoint's proven words of `slots` at `block` (null for one that failed: it is marked). */
  function askProofs(
    eps: readonly Endpoint[],
    block: TrustedBlock,
    slots: readonly bigint[],
    what: string,
  ): Promise<(Map<bigint, bigint> | null)[]> {
    return Promise.all(
      eps.map(async (ep) => {
        let answer: unknown;
        try {
          answer = await ep.rpc.request("eth_getProof", [roots.registry, proofKeys(slots), block.tag]);
        } catch (error) {
          unreachable(ep, `${messageOf(error)} for the proof of ${what}`);
          return null;
        }
        const check = await checkAccountProof(answer, roots.registry, block.stateRoot, slots, () => what);
        if (!check.ok) lied(ep, check.reason);
        return check.ok ? check.values : null;
      }),
    );
  }

  /**
   * The endpoints in the order a proof is asked of them: each view starts with the next one,
   * so every endpoint proves some of the reads (and a liar among them is caught on its
   * share) while each proof crosses the network once, not once per endpoint.
   */
  let turn = 0;
  const rotation = (): Endpoint[] => {
    const start = turn++ % endpoints.length;
    return [...endpoints.slice(start), ...endpoints.slice(0, start)];
  };

  /**
   * A registry view answered from storage proven at the trusted block: asked of one endpoint
   * at a time, the next when a proof fails (that endpoint is a liar) or none comes.
   */
  async function provenView(view: RegistryView): Promise<string> {
    const what = describeView(view);
    const order = rotation();
    let slots = initialSlots(view);
    const firstSlots = slots;
    const first = order[0];
    const speculative =
      first === undefined
        ? null
        : (early(
            (ep) => ep.rpc.request("eth_getProof", [roots.registry, proofKeys(firstSlots), "latest"]),
            [first],
          )?.[0] ?? null);
    const block = await trustedBlock();
    const values = new Map<bigint, bigint>();
    for (let round = 0; round < PROOF_ROUNDS_MAX; round++) {
      let proven: Map<bigint, bigint> | null = null;
      if (round === 0 && speculative !== null) {
        // An early proof counts when it reaches the trusted root; one that reaches another
        // root may be of a newer block, so that endpoint is asked again at the block below.
        const { ep, answer } = speculative;
        const settled = await answer;
        if (settled.ok && atBlock(ep, block)) {
          const check = await checkAccountProof(settled.value, roots.registry, block.stateRoot, slots, () => what);
          if (check.ok) proven = check.values;
          else if (!check.otherRoot) lied(ep, check.reason);
        }
      }
      for (const ep of order) {
        if (proven !== null) break;
        if (ep.outcome?.status !== "agreed") continue;
        [proven = null] = await askProofs([ep], block, slots, what);
      }
      if (proven === null) {
        if (order.some((ep) => ep.outcome?.status === "lied")) {
          throw new AppError("verify.proof_invalid", { read: what, block: block.number.toString() });
        }
        throw unreachableQuorum(0);
      }
      for (const [slot, value] of proven) values.set(slot, value);
      const answer = answerFromStorage(view, values);
      if ("data" in answer) return answer.data;
      slots = answer.need;
    }
    throw new AppError("verify.proof_invalid", { read: what, reason: "too many rounds" });
  }

  return {
    chainId: async () => {
      await trustedBlock();
      return chainId;
    },
    ethCall: async (to, data) => {
      const view = sameHex(to, roots.registry) ? registryViewOf(data) : null;
      if (view !== null) return provenView(view);
      return agreedAnswer(`eth_call to ${to} (${data.slice(0, 10)})`, async (ep, tag) => {
        const result = await ep.rpc.request("eth_call", [{ to, data }, tag]);
        if (typeof result !== "string" || !/^0x[0-9a-fA-F]*$/.test(result)) {
          throw new AppError("verify.rpc", { method: "eth_call", reason: "result is not hex" });
        }
        return result;
      });
    },
    // Logs are not in the state trie: a header alone, even a sealed one, cannot prove them,
    // so in seals mode too they need `quorum` endpoints answering the same (proving them
    // through the receipts trie would lift this).
    getLogs: (filter: LogFilter): Promise<RawLog[]> =>
      agreedAnswer(`eth_getLogs of ${filter.topics.length} topics`, async (ep, tag) => {
        const getLogs = ep.rpc.getLogs;
        if (getLogs === undefined) throw new AppError("verify.rpc", { method: "eth_getLogs", reason: "not offered" });
        // Never past the block read at. Early, the filter goes as asked: the answers kept are
        // those of endpoints whose latest block was the one read at.
        if (tag === "latest") return getLogs(filter);
        const explicit = /^0x[0-9a-fA-F]+$/.test(filter.toBlock) && BigInt(filter.toBlock) <= BigInt(tag);
        return getLogs({ ...filter, toBlock: explicit ? filter.toBlock : tag });
      }),
    trustReport: (): ChainTrustReport => ({
      mode,
      block:
        trusted === null
          ? null
          : { number: trusted.number.toString(), hash: trusted.hash, stateRoot: trusted.stateRoot },
      endpoints: endpoints.map(
        (ep) => ep.outcome ?? { endpoint: ep.url, status: "unreachable", detail: "not asked yet" },
      ),
      ...(sealedBy === undefined ? {} : { sealedBy }),
    }),
  };
}
