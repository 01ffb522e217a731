/**
 * Writes made without a connection wait here, in the browser's storage, and are sent when
 * the phone is back online. Each keeps the Idempotency-Key it was given when the user
 * pressed the button, so a write that did reach the server before the connection dropped
 * is not made twice. Refusals (bad input, a suspended organisation) are not retried: they
 * move to a list the user sees with the server's message. Files cannot wait here (storage
 * is small): a video is uploaded while online, and the batch that refers to it may wait.
 */
import { NetworkFailure, ProblemFailure, type Api, type ProblemBody } from "./api.ts";

export interface QueuedWrite {
  key: string;
  path: string;
  body: unknown;
  /** What the user did, in both languages, for the list of waiting writes. */
  label: { zh: string; en: string };
  queuedAtMs: number;
}

export interface RefusedWrite extends QueuedWrite {
  problem: ProblemBody;
}

interface Stored {
  waiting: QueuedWrite[];
  refused: RefusedWrite[];
}

/**
 * Answers that say "not now" rather than "no": the server or a proxy is down, too many
 * requests, or the same key is still being handled (a queued write's key and body never
 * change, so a conflict on it can only mean the first attempt is in flight).
 */
function retryLater(problem: ProblemBody): boolean {
  return problem.status >= 500 || problem.status === 429 || problem.code === "idempotency.conflict";
}

export class OfflineQueue {
  private readonly storageKey: string;
  private flushing: Promise<number> | null = null;

  constructor(
    owner: string,
    private readonly onChange: () => void,
  ) {
    this.storageKey = `oioc.console.queue.${owner}`;
  }

  private read(): Stored {
    try {
      const parsed: unknown = JSON.parse(localStorage.getItem(this.storageKey) ?? "null");
      if (typeof parsed === "object" && parsed !== null && "waiting" in parsed && "refused" in parsed) {
        return parsed as Stored;
      }
    } catch {
      // Unreadable storage is an empty queue: nothing in it can be trusted to send.
    }
    return { waiting: [], refused: [] };
  }

  private write(stored: Stored): void {
    localStorage.setItem(this.storageKey, JSON.stringify(stored));
    this.onChange();
  }

  waiting(): QueuedWrite[] {
    return this.read().waiting;
  }

  refused(): RefusedWrite[] {
    return this.read().refused;
  }

  add(write: QueuedWrite): void {
    const stored = this.read();
    if (!stored.waiting.some((w) => w.key === write.key)) stored.waiting.push(write);
    this.write(stored);
  }

  dismissRefused(key: string): void {
    const stored = this.read();
    this.write({ ...stored, refused: stored.refused.filter((w) => w.key !== key) });
  }

  /** Sends what waits, oldest first; stops at the first write that cannot reach the server. Returns how many were sent. */
  flush(api: Api): Promise<number> {
    this.flushing ??= this.sendAll(api).finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async sendAll(api: Api): Promise<number> {
    let sent = 0;
    for (;;) {
      const next = this.read().waiting[0];
      if (next === undefined) return sent;
      try {
        await api.json(next.path, { method: "POST", body: next.body, idempotencyKey: next.key });
        sent++;
        const stored = this.read();
        this.write({ ...stored, waiting: stored.waiting.filter((w) => w.key !== next.key) });
      } catch (error) {
        if (error instanceof NetworkFailure) return sent;
        if (error instanceof ProblemFailure && retryLater(error.problem)) return sent;
        const problem =
          error instanceof ProblemFailure
            ? error.problem
            : { code: "console.error", status: 0, message: { zh: String(error), en: String(error) } };
        const stored = this.read();
        this.write({
          waiting: stored.waiting.filter((w) => w.key !== next.key),
          refused: [...stored.refused, { ...next, problem }],
        });
      }
    }
  }
}
