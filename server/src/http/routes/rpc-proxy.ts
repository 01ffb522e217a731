/**
 * The read-only JSON-RPC proxy (`POST /rpc`) the scan page reads the chain through.
 *
 * Anything a caller sends reaches the node only as we rebuilt it from what we validated:
 * `eth_call` on the registry with a bounded call object and a block tag (no state override,
 * no unknown fields, gas always capped), `eth_getLogs` of the registry over a bounded block
 * range, `eth_getProof` of the registry with a few keys, a block's header (without its
 * transactions: an independent verifier's quorum compares headers, so the platform's proxy can
 * be one of its endpoints), and the chain's id and height.
 * A caller's calls count against a per-address budget, and only a few requests are in
 * flight towards the node at once: the excess is answered at once, never queued for ever,
 * so one client hammering the proxy cannot stall the node the ledger writer needs.
 */
import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from "express";
import { ipKeyGenerator, MemoryStore, rateLimit } from "express-rate-limit";
import { z } from "zod";

import type { RpcProxyLimits } from "../../config.ts";
import { sendJsonCompressed } from "../compressed-json.ts";
import { sendProblem } from "../problem.ts";
import { AppError } from "../../errors/app-error.ts";

export const RPC_PATH = "/rpc";

export interface RpcProxyOptions extends RpcProxyLimits {
  /** The chain node's JSON-RPC URL (never given to callers). */
  upstreamUrl: string;
  registry: string;
  /** Bytes of one request body; a batch of 20 page reads is about 3 KiB. */
  bodyLimitBytes?: number;
}

export const MAX_BATCH = 20;
const MAX_LOG_TOPIC_ALTERNATIVES = 8;
const MAX_PROOF_KEYS = 8;
/** How long a request waits for a free slot towards the node before it is told to come back. */
const SLOT_WAIT_MS = 1_000;
/** How long a learnt chain height is used to bound `eth_getLogs` ranges given as tags. */
const HEAD_CACHE_MS = 1_000;

const hex = /^0x[0-9a-fA-F]*$/;
const quantity = z.string().regex(/^0x(0|[1-9a-fA-F][0-9a-fA-F]{0,15})$/, "a hex quantity");
const hash32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "a 32-byte hex value");
const addressText = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "an address");
const namedTag = z.enum(["latest", "safe", "finalized", "earliest"]);
const blockTag = z.union([
  namedTag,
  quantity,
  z.strictObject({ blockHash: hash32, requireCanonical: z.boolean().optional() }),
  z.strictObject({ blockNumber: quantity }),
]);
type BlockTag = z.infer<typeof blockTag>;

const envelope = z.object({
  jsonrpc: z.literal("2.0"),
  id: z.union([z.string().max(64), z.number(), z.null()]),
  method: z.string().max(64),
  params: z.array(z.unknown()).max(4).default([]),
});

type Id = string | number | null;

interface Forward {
  method: string;
  params: unknown[];
}

/** A call's refusal: a JSON-RPC error, answered without asking the node. */
interface Refusal {
  code: number;
  message: string;
}

/** `indexed`: the filter names values of an indexed argument, so it may span `maxIndexedLogBlockRange`. */
type Checked = { forward: Forward; range?: { from: Bound; to: Bound }; indexed?: true } | { refusal: Refusal };
type Bound = number | "head";

/** `isValidSignature(bytes32,bytes)`'s selector (ERC-1271). */
const IS_VALID_SIGNATURE = "0x1626ba7e";
const NOT_OFFERED = -32601;
const INVALID_PARAMS = -32602;
const INVALID_REQUEST = -32600;

function sameAddress(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function invalid(error: z.ZodError): Refusal {
  const issue = error.issues[0];
  return {
    code: INVALID_PARAMS,
    message: `invalid params: ${issue === undefined ? "" : `${issue.path.join(".") || "(params)"}: ${issue.message}`}`,
  };
}

function noParams(method: string, params: unknown[]): Checked {
  return params.length === 0
    ? { forward: { method, params: [] } }
    : { refusal: { code: INVALID_PARAMS, message: `${method} takes no params` } };
}

function boundOf(tag: string | undefined): Bound {
  if (tag === undefined || tag === "latest" || tag === "safe" || tag === "finalized") return "head";
  if (tag === "earliest") return 0;
  return Number.parseInt(tag.slice(2), 16);
}

/** Checks one call and rebuilds what may be forwarded, or says why not. */
export function checkCall(call: { method: string; params: unknown[] }, options: RpcProxyOptions): Checked {
  const { method, params } = call;
  switch (method) {
    case "eth_chainId":
    case "net_version":
    case "eth_blockNumber":
      return noParams(method, params);
    case "eth_call": {
      const callObject = z.strictObject({
        to: addressText,
        data: z
          .string()
          .regex(hex, "0x-hex")
          .refine((d) => d.length % 2 === 0, "whole bytes")
          .refine((d) => (d.length - 2) / 2 <= options.maxCallDataBytes, `at most ${options.maxCallDataBytes} bytes`),
        from: addressText.optional(),
        gas: quantity.refine((g) => BigInt(g) <= BigInt(options.gasCap), `at most ${options.gasCap} gas`).optional(),
      });
      const parsed = z.tuple([callObject, blockTag.optional()]).safeParse(params);
      if (!parsed.success) return { refusal: invalid(parsed.error) };
      const [object, tag] = parsed.data;
      // Elsewhere only ERC-1271's `isValidSignature`: the verifier asks an organisation's
      // contract wallet (a Safe) whether it agrees with a signature, as the registry does.
      if (!sameAddress(object.to, options.registry) && !object.data.toLowerCase().startsWith(IS_VALID_SIGNATURE)) {
        return { refusal: { code: NOT_OFFERED, message: "eth_call is allowed on the registry only" } };
      }
      const rebuilt = {
        to: object.to,
        data: object.data,
        ...(object.from === undefined ? {} : { from: object.from }),
        gas: object.gas ?? `0x${options.gasCap.toString(16)}`,
      };
      return { forward: { method, params: [rebuilt, tag ?? "latest"] } };
    }
    case "eth_getLogs": {
      const registryAddress = addressText.refine((a) => sameAddress(a, options.registry), "the registry only");
      const topic = z.union([hash32, z.null()]);
      const filter = z.strictObject({
        address: z.union([registryAddress, z.tuple([registryAddress])]),
        topics: z
          .array(z.union([topic, z.array(hash32).min(1).max(MAX_LOG_TOPIC_ALTERNATIVES)]))
          .max(4)
          .optional(),
        fromBlock: z.union([namedTag, quantity]).optional(),
        toBlock: z.union([namedTag, quantity]).optional(),
        blockHash: hash32.optional(),
      });
      const parsed = z.tuple([filter]).safeParse(params);
      if (!parsed.success) {
        const notRegistry = parsed.error.issues.some((issue) => issue.message === "the registry only");
        return notRegistry
          ? { refusal: { code: NOT_OFFERED, message: "eth_getLogs is allowed on the registry only" } }
          : { refusal: invalid(parsed.error) };
      }
      const [f] = parsed.data;
      const address = typeof f.address === "string" ? f.address : f.address[0];
      const topics = f.topics === undefined ? {} : { topics: f.topics };
      if (f.blockHash !== undefined) {
        if (f.fromBlock !== undefined || f.toBlock !== undefined) {
          return { refusal: { code: INVALID_PARAMS, message: "blockHash excludes fromBlock and toBlock" } };
        }
        return { forward: { method, params: [{ address, ...topics, blockHash: f.blockHash }] } };
      }
      const fromBlock = f.fromBlock ?? "latest";
      const toBlock = f.toBlock ?? "latest";
      const second = f.topics?.[1];
      return {
        forward: { method, params: [{ address, ...topics, fromBlock, toBlock }] },
        range: { from: boundOf(fromBlock), to: boundOf(toBlock) },
        ...(second === undefined || second === null ? {} : { indexed: true as const }),
      };
    }
    case "eth_getBlockByNumber": {
      // `false` only: a block's full transactions could be megabytes, and no verifier needs them.
      const parsed = z.tuple([z.union([namedTag, quantity]), z.literal(false)]).safeParse(params);
      if (!parsed.success) return { refusal: invalid(parsed.error) };
      return { forward: { method, params: [parsed.data[0], false] } };
    }
    case "eth_getProof": {
      const parsed = z.tuple([addressText, z.array(hash32).max(MAX_PROOF_KEYS), blockTag]).safeParse(params);
      if (!parsed.success) return { refusal: invalid(parsed.error) };
      const [address, keys, tag] = parsed.data;
      if (!sameAddress(address, options.registry)) {
        return { refusal: { code: NOT_OFFERED, message: "eth_getProof is allowed on the registry only" } };
      }
      return { forward: { method, params: [address, keys, tag satisfies BlockTag] } };
    }
    default:
      return { refusal: { code: NOT_OFFERED, message: `method ${method} is not offered by this read-only proxy` } };
  }
}

/**
 * A counting semaphore with a short, bounded wait: at most `permits` holders, at most
 * `permits` more waiting, each for at most `waitMs`. Whoever cannot get in is refused.
 */
export function createSemaphore(permits: number, waitMs: number) {
  let held = 0;
  const waiting: (() => void)[] = [];
  const release = (): void => {
    const next = waiting.shift();
    if (next === undefined) held--;
    else next();
  };
  return {
    get held(): number {
      return held;
    },
    /** A release function, or null when no slot came free in time. */
    async acquire(): Promise<(() => void) | null> {
      if (held < permits) {
        held++;
        return once(release);
      }
      if (waiting.length >= permits) return null;
      return new Promise((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          resolve(once(release));
        };
        const timer = setTimeout(() => {
          const index = waiting.indexOf(wake);
          if (index >= 0) waiting.splice(index, 1);
          resolve(null);
        }, waitMs);
        waiting.push(wake);
      });
    },
  };
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (!done) {
      done = true;
      fn();
    }
  };
}

const upstreamAnswer = z.object({
  id: z.number(),
  result: z.unknown().optional(),
  error: z.object({ code: z.number(), message: z.string(), data: z.unknown().optional() }).optional(),
});

interface Answer {
  jsonrpc: "2.0";
  id: Id;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

export function rpcProxyRouter(options: RpcProxyOptions): Router {
  const router = Router();
  const slots = createSemaphore(options.maxConcurrent, SLOT_WAIT_MS);
  let head: { number: number; atMs: number } | null = null;

  /** One upstream request; null when the node does not answer in time or answers nonsense. */
  async function upstream(body: unknown): Promise<unknown> {
    const response = await fetch(options.upstreamUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.upstreamTimeoutMs),
    }).catch(() => null);
    if (response === null || !response.ok) return null;
    return (await response.json().catch(() => null)) as unknown;
  }

  async function chainHead(): Promise<number | null> {
    if (head !== null && Date.now() - head.atMs < HEAD_CACHE_MS) return head.number;
    const answer = upstreamAnswer.safeParse(
      await upstream({ jsonrpc: "2.0", id: 0, method: "eth_blockNumber", params: [] }),
    );
    const result = answer.success ? answer.data.result : undefined;
    if (typeof result !== "string" || !hex.test(result)) return null;
    head = { number: Number.parseInt(result.slice(2), 16), atMs: Date.now() };
    return head.number;
  }

  // A per-address budget in calls, not requests: a batch of 20 spends 20.
  const store = new MemoryStore();
  const keyOf = (req: Request): string => ipKeyGenerator(req.ip ?? "");
  const budget = rateLimit({
    windowMs: 60_000,
    limit: options.callsPerMinute,
    store,
    keyGenerator: keyOf,
    standardHeaders: "draft-8",
    legacyHeaders: false,
    validate: { xForwardedForHeader: false },
    handler: (req, res) => {
      sendProblem(res, new AppError("request.rate_limited"), req.originalUrl);
    },
  });
  // The request itself was counted before its body was read (a client over budget is
  // refused without parsing anything); a batch then spends one more per further call.
  const spendBatch: RequestHandler = (req, res, next) => {
    const extra = Array.isArray(req.body) ? Math.min(req.body.length, MAX_BATCH + 1) - 1 : 0;
    const spend = async (): Promise<void> => {
      let hits = 0;
      let resetTime: Date | undefined;
      for (let i = 0; i < extra; i++) ({ totalHits: hits, resetTime } = await store.increment(keyOf(req)));
      if (hits > options.callsPerMinute) {
        const seconds = resetTime === undefined ? 60 : Math.ceil((resetTime.getTime() - Date.now()) / 1_000);
        res.setHeader("Retry-After", String(Math.max(1, seconds)));
        const detail = `This batch would exceed ${String(options.callsPerMinute)} calls a minute from your address.`;
        throw new AppError("request.rate_limited", {}, { detail });
      }
    };
    spend().then(() => {
      next();
    }, next);
  };

  const cors = (res: Response): void => {
    res.setHeader("Access-Control-Allow-Origin", "*");
  };

  router.options(RPC_PATH, (_req, res) => {
    cors(res);
    res.setHeader("Access-Control-Allow-Methods", "POST, OPTIONS");
    res.setHeader("Access-Control-Allow-Headers", "Content-Type");
    res.setHeader("Access-Control-Max-Age", "600");
    res.status(204).end();
  });

  router.post(
    RPC_PATH,
    (_req: Request, res: Response, next: NextFunction) => {
      cors(res);
      next();
    },
    budget,
    express.json({ limit: options.bodyLimitBytes ?? 16_384 }),
    spendBatch,
    async (req, res) => {
      const batch = Array.isArray(req.body);
      const calls: unknown[] = batch ? (req.body as unknown[]) : [req.body];
      if (calls.length === 0 || calls.length > MAX_BATCH) {
        throw new AppError("request.invalid", {}, { detail: `A batch holds 1 to ${MAX_BATCH} calls.` });
      }
      const answers: Answer[] = [];
      const forwarded: { index: number; forward: Forward; range?: { from: Bound; to: Bound }; indexed?: true }[] = [];
      calls.forEach((raw, index) => {
        const parsed = envelope.safeParse(raw);
        if (!parsed.success) {
          answers[index] = {
            jsonrpc: "2.0",
            id: (raw as { id?: unknown } | null)?.id === undefined ? null : safeId(raw),
            error: { code: INVALID_REQUEST, message: "not a JSON-RPC 2.0 call" },
          };
          return;
        }
        const checked = checkCall(parsed.data, options);
        if ("refusal" in checked) answers[index] = { jsonrpc: "2.0", id: parsed.data.id, error: checked.refusal };
        else {
          answers[index] = { jsonrpc: "2.0", id: parsed.data.id };
          forwarded.push({ index, ...checked });
        }
      });

      if (forwarded.length > 0) {
        const release = await slots.acquire();
        if (release === null) {
          res.setHeader("Retry-After", "1");
          throw new AppError("chain.busy");
        }
        try {
          if (forwarded.some((f) => f.range !== undefined && (f.range.from === "head" || f.range.to === "head"))) {
            const number = await chainHead();
            if (number === null) throw new AppError("chain.unavailable");
            for (const f of forwarded) {
              if (f.range === undefined) continue;
              f.range = {
                from: f.range.from === "head" ? number : f.range.from,
                to: f.range.to === "head" ? number : f.range.to,
              };
            }
          }
          const sendable = forwarded.filter((f) => {
            const from = f.range?.from;
            const to = f.range?.to;
            const limit =
              f.indexed === true
                ? (options.maxIndexedLogBlockRange ?? options.maxLogBlockRange)
                : options.maxLogBlockRange;
            if (typeof from === "number" && typeof to === "number" && to - from + 1 > limit) {
              const answer = answers[f.index];
              if (answer !== undefined) {
                answer.error = { code: INVALID_PARAMS, message: `eth_getLogs spans at most ${limit} blocks` };
              }
              return false;
            }
            return true;
          });
          if (sendable.length > 0) {
            // Our own ids upstream: callers' ids may repeat or be odd; answers are matched back by ours.
            const reply = await upstream(
              sendable.map((f, n) => ({ jsonrpc: "2.0", id: n, method: f.forward.method, params: f.forward.params })),
            );
            const parsed = z.array(upstreamAnswer).safeParse(reply);
            if (!parsed.success) throw new AppError("chain.unavailable");
            for (const item of parsed.data) {
              const f = sendable[item.id];
              const answer = f === undefined ? undefined : answers[f.index];
              if (answer === undefined) continue;
              if (item.error !== undefined) answer.error = item.error;
              else answer.result = item.result ?? null;
            }
            for (const f of sendable) {
              const answer = answers[f.index];
              if (answer !== undefined && answer.result === undefined && answer.error === undefined) {
                throw new AppError("chain.unavailable");
              }
            }
          }
        } finally {
          release();
        }
      }
      sendJsonCompressed(req, res, batch ? answers : answers[0]);
    },
  );
  return router;
}

function safeId(raw: unknown): Id {
  const id = (raw as { id?: unknown }).id;
  return (typeof id === "string" && id.length <= 64) || (typeof id === "number" && Number.isFinite(id)) ? id : null;
}
