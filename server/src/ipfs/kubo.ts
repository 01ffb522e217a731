/**
 * The content store over a Kubo node's RPC API (kubo-rpc-client), for deployments that run
 * Kubo or a Kubo cluster instead of the embedded store. Adds use the same import parameters
 * as the embedded store (IMPORT_PARAMETERS), so a file gets the same CID on either, and
 * every add pins.
 *
 * Every call is bounded in time: Kubo being down, slow or unreachable is `unavailable`
 * (HTTP 503) within `timeoutMs`, never a hang and never an error of another kind. Streams
 * (add, cat) use an idle timeout instead, reset on every chunk, so a long video over a slow
 * link is not cut off while it is still moving. kubo-rpc-client's own `timeout` option is
 * not used: in version 7.1 it never arms (`isNaN(timeout)` guards it), so we abort ourselves.
 */
import type { KuboRPCClient } from "kubo-rpc-client";
import type { CID } from "multiformats/cid";

import {
  ContentError,
  IMPORT_PARAMETERS,
  isContentError,
  meterSource,
  type AbortOptions,
  type AddOptions,
  type AddResult,
  type CatOptions,
  type ContentStat,
  type ContentStore,
} from "./content-store.ts";

export interface KuboStoreOptions {
  /** The RPC API, e.g. `http://127.0.0.1:5001` (never expose it publicly). */
  url: string;
  /** Longest wait for a reply, or between two chunks of a stream (default 10 s). */
  timeoutMs?: number;
  /** Longest wait for `pin` (default 60 s): Kubo answers only once the whole DAG is walked. */
  pinTimeoutMs?: number;
  /**
   * Answer only from the node's own blocks (default true), as the embedded store does.
   * Off, an unknown CID makes Kubo search the network until the timeout, so a 404 becomes a
   * slow 503; turn it off only when several Kubo nodes share content without a cluster.
   */
  offline?: boolean;
}

/**
 * Kubo's RPC names for IMPORT_PARAMETERS. `max-file-links` needs Kubo 0.35 or later; an
 * older Kubo fails the add loudly rather than silently building a different DAG.
 */
const KUBO_ADD_PARAMETERS = {
  cidVersion: IMPORT_PARAMETERS.cidVersion,
  rawLeaves: IMPORT_PARAMETERS.rawLeaves,
  chunker: `size-${IMPORT_PARAMETERS.chunkSizeBytes}`,
  hashAlg: "sha2-256",
  trickle: false,
  wrapWithDirectory: false,
};
/** Not in kubo-rpc-client's option types; it passes them through, kebab-cased. */
const KUBO_ADD_EXTRA_PARAMETERS = { maxFileLinks: IMPORT_PARAMETERS.maxLinksPerNode, inline: false };

export async function createKuboContentStore(options: KuboStoreOptions): Promise<ContentStore> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const pinTimeoutMs = options.pinTimeoutMs ?? 60_000;
  const offline = options.offline ?? true;
  let url: URL;
  try {
    url = new URL(options.url);
  } catch (cause) {
    throw new ContentError("unavailable", "the Kubo RPC URL is not a URL", { cause });
  }
  // Loaded only when configured: the embedded default should not pay for this client.
  const { create } = await import("kubo-rpc-client");
  const client: KuboRPCClient = create({ url });
  let closed = false;

  /**
   * `offline` is a global Kubo RPC option that kubo-rpc-client's types do not list; it passes
   * unknown options through as query parameters. Returned from a function so the option
   * types' excess-property check, which only looks at object literals, lets it through.
   */
  function readOptions(signal: AbortSignal): { signal: AbortSignal; offline: boolean } {
    return { signal, offline };
  }

  function ensureOpen(): void {
    if (closed) throw new ContentError("unavailable", "the content store is closed");
  }

  /** Runs one request-reply call with a deadline and maps every failure to a ContentError. */
  async function call<T>(
    cid: CID | undefined,
    signal: AbortSignal | undefined,
    limitMs: number,
    run: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    ensureOpen();
    const timer = idleTimer(limitMs, signal);
    try {
      return await run(timer.signal);
    } catch (error) {
      throw toContentError(error, cid, timer, signal);
    } finally {
      timer.clear();
    }
  }

  async function stat(cid: CID, statOptions: AbortOptions = {}): Promise<ContentStat | null> {
    try {
      const result = await call(cid, statOptions.signal, timeoutMs, (signal) =>
        client.files.stat(`/ipfs/${cid.toString()}`, readOptions(signal)),
      );
      if (result.type !== "file") throw new ContentError("not_a_file", `this CID names a ${result.type}`, { cid });
      return { sizeBytes: checkedSize(result.size, cid) };
    } catch (error) {
      if (isContentError(error, "not_found")) return null;
      throw error;
    }
  }

  return {
    async add(
      source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
      addOptions: AddOptions = {},
    ): Promise<AddResult> {
      ensureOpen();
      const metered = meterSource(source, addOptions.maxBytes, addOptions.signal);
      const timer = idleTimer(timeoutMs, addOptions.signal);
      // Set by `feed` when the source itself fails (an object, so the catch below sees it).
      const sourceFailure: { error?: unknown } = {};
      const feed = async function* (): AsyncGenerator<Uint8Array, void, undefined> {
        try {
          for await (const chunk of metered) {
            timer.reset();
            yield chunk;
          }
          timer.reset();
        } catch (error) {
          // kubo-rpc-client swallows a failing body and aborts the request instead.
          sourceFailure.error = error;
          throw error;
        }
      };
      try {
        const result = await client.add(
          { content: feed() },
          { ...KUBO_ADD_PARAMETERS, ...KUBO_ADD_EXTRA_PARAMETERS, pin: addOptions.pin ?? true, signal: timer.signal },
        );
        if (result.cid.version !== IMPORT_PARAMETERS.cidVersion) {
          throw new ContentError("unavailable", `Kubo answered a CIDv${result.cid.version}`, { cid: result.cid });
        }
        return { cid: result.cid, sizeBytes: metered.bytesSoFar() };
      } catch (error) {
        if ("error" in sourceFailure) throw sourceFailure.error;
        throw toContentError(error, undefined, timer, addOptions.signal);
      } finally {
        timer.clear();
      }
    },

    stat,

    async *cat(cid: CID, catOptions: CatOptions = {}): AsyncGenerator<Uint8Array, void, undefined> {
      ensureOpen();
      const { offset, length } = catOptions;
      if (offset !== undefined && (!Number.isSafeInteger(offset) || offset < 0)) {
        throw new ContentError("invalid_argument", `offset ${offset} is not a non-negative integer`, { cid });
      }
      if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) {
        throw new ContentError("invalid_argument", `length ${length} is not a non-negative integer`, { cid });
      }
      if (length === 0) {
        // Kubo reads `length=0` as "no limit"; an empty range only has to exist.
        if ((await stat(cid, catOptions)) === null) throw new ContentError("not_found", "not stored here", { cid });
        return;
      }
      const timer = idleTimer(timeoutMs, catOptions.signal);
      try {
        const chunks = client.cat(cid, { ...readOptions(timer.signal), offset, length });
        for await (const chunk of chunks) {
          timer.reset();
          yield chunk;
        }
      } catch (error) {
        throw toContentError(error, cid, timer, catOptions.signal);
      } finally {
        timer.clear();
      }
    },

    async has(cid: CID, hasOptions: AbortOptions = {}): Promise<boolean> {
      try {
        await call(cid, hasOptions.signal, timeoutMs, (signal) => client.block.stat(cid, readOptions(signal)));
        return true;
      } catch (error) {
        if (isContentError(error, "not_found")) return false;
        throw error;
      }
    },

    async pin(cid: CID, pinOptions: AbortOptions = {}): Promise<void> {
      await call(cid, pinOptions.signal, pinTimeoutMs, (signal) =>
        client.pin.add(cid, { ...readOptions(signal), recursive: true }),
      );
    },

    async isPinned(cid: CID, pinnedOptions: AbortOptions = {}): Promise<boolean> {
      try {
        return await call(cid, pinnedOptions.signal, timeoutMs, async (signal) => {
          // Any pin type counts: content inside a pinned DAG (indirect) is kept too.
          for await (const pin of client.pin.ls({ ...readOptions(signal), paths: [cid] })) {
            if (pin.cid.multihash.bytes.length > 0) return true;
          }
          return false;
        });
      } catch (error) {
        if (isContentError(error, "not_found")) return false;
        throw error;
      }
    },

    close(): Promise<void> {
      closed = true;
      return Promise.resolve();
    },
  };
}

interface IdleTimer {
  signal: AbortSignal;
  /** Pushes the deadline back by the full interval (a chunk arrived). */
  reset(): void;
  clear(): void;
  timedOut(): boolean;
}

/** An abort signal that fires after `ms` without a `reset`, or when `parent` aborts. */
function idleTimer(ms: number, parent: AbortSignal | undefined): IdleTimer {
  const controller = new AbortController();
  let expired = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      expired = true;
      controller.abort(new ContentError("unavailable", `Kubo did not answer within ${ms} ms`));
    }, ms);
  };
  arm();
  return {
    signal: parent === undefined ? controller.signal : AbortSignal.any([controller.signal, parent]),
    reset: arm,
    clear: () => {
      clearTimeout(timer);
    },
    timedOut: () => expired,
  };
}

/**
 * Maps whatever the client threw to a ContentError. Kubo reports most failures as HTTP 500
 * with a message, so the kind is read from the message; anything unrecognised, and every
 * transport failure (refused, reset, DNS, our own timeout), is `unavailable`.
 */
function toContentError(
  error: unknown,
  cid: CID | undefined,
  timer: IdleTimer,
  callerSignal: AbortSignal | undefined,
): unknown {
  if (isContentError(error)) return error;
  // The caller gave up: that is theirs to handle, not a store failure.
  if (callerSignal?.aborted === true && !timer.timedOut()) return callerSignal.reason;
  if (timer.timedOut()) return new ContentError("unavailable", "Kubo did not answer in time", { cid, cause: error });
  const message = error instanceof Error ? error.message : String(error);
  if (isHttpError(error)) {
    if (/not pinned/i.test(message)) return new ContentError("not_found", "not pinned", { cid, cause: error });
    if (/not found|could not find|no link named/i.test(message)) {
      return new ContentError("not_found", "Kubo does not have this content", { cid, cause: error });
    }
    if (/directory|not a file|unsupported|not unixfs|cannot decode|unknown node type/i.test(message)) {
      return new ContentError("not_a_file", `Kubo cannot read this as a file: ${message}`, { cid, cause: error });
    }
    if (/offset.*past the end|invalid.*offset/i.test(message)) {
      return new ContentError("invalid_argument", message, { cid, cause: error });
    }
  }
  return new ContentError("unavailable", `Kubo RPC failed: ${message}`, { cid, cause: error });
}

function isHttpError(error: unknown): boolean {
  return error instanceof Error && error.name === "HTTPError";
}

function checkedSize(size: unknown, cid: CID): number {
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    throw new ContentError("unavailable", "Kubo reported an impossible file size", { cid });
  }
  return size;
}
