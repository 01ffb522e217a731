/**
 * Writes made without a connection wait here, in the browser's storage, and are sent when
 * the phone is back online. Each keeps the Idempotency-Key it was given when the user
 * pressed the button, so a write that did reach the server before the connection dropped
 * is not made twice. Files (photos, videos, voice notes) wait beside it in IndexedDB
 * (media-queue.ts) and go up resumably, before the write, in its `prepare`.
 *
 * No entry holds the others back: each is sent on its own. One that meets a passing
 * obstacle (no connection to the server, a 5xx, 429, or its key still being handled after
 * a server crash) waits its own time, Retry-After or a growing backoff, while the rest go
 * out. A refusal (bad input, a suspended organisation) is set aside with the server's
 * message, for the user to send again or dismiss.
 *
 * An organisation that holds its own key is answered 201 with a signature request: nothing is
 * recorded until its wallet signs. The queue hands the request to `sign`; a write is done only
 * when the signature was accepted. Without a wallet (or when the person declines) the write is
 * set aside with that reason, never dropped as if sent: sent again, the same key brings back the
 * same request.
 */
import { NetworkFailure, ProblemFailure, type Api, type ProblemBody } from "./api.ts";
import { WalletMissing, type SignatureRequestView } from "./wallet.ts";

export interface QueuedWrite {
  key: string;
  path: string;
  body: unknown;
  /** What the user did, in both languages, for the list of waiting writes. */
  label: { zh: string; en: string };
  queuedAtMs: number;
  /** Attempts that met a passing obstacle; absent before the first. */
  attempts?: number;
  /** Not sent again before this (Retry-After or backoff); absent: at the next pass. */
  nextAttemptAtMs?: number;
  /** Why the last attempt did not go through, to show beside the entry. */
  lastProblem?: ProblemBody;
  /** Files kept on the device (IndexedDB keys) that go up before the write; see the queue's `prepare`. */
  media?: { blobKey: string; name: string; type: string; size?: number }[];
}

export interface RefusedWrite extends QueuedWrite {
  problem: ProblemBody;
}

interface Stored {
  waiting: QueuedWrite[];
  refused: RefusedWrite[];
}

const BACKOFF_FIRST_MS = 2_000;
const BACKOFF_MAX_MS = 5 * 60_000;

/**
 * Answers that say "not now" rather than "no": the server or a proxy is down, too many
 * requests, or the same key is still being handled (a server that died mid-request holds
 * it until its lease lapses; the answer says how long).
 */
export function isPassing(problem: ProblemBody): boolean {
  return problem.status >= 500 || problem.status === 429 || problem.code === "idempotency.in_progress";
}

/** Seconds the server asked us to wait (the problem's `retryAfterSeconds`), if it did. */
function retryAfterMs(problem: ProblemBody): number | null {
  const seconds = (problem as ProblemBody & { retryAfterSeconds?: unknown }).retryAfterSeconds;
  return typeof seconds === "number" && Number.isFinite(seconds) && seconds > 0 ? seconds * 1_000 : null;
}

/** Doubling from 2 s to 5 min, with jitter so that phones back online together do not come back in step. */
function backoffMs(attempts: number): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

const WALLET_NEEDED: ProblemBody = {
  code: "console.wallet_missing",
  status: 0,
  message: {
    zh: "本机构使用自有密钥：此记录需在钱包中签名才会上链。请在装有钱包的浏览器中打开本页，再点“重新发送”。",
    en: "Your organisation holds its own key: this record counts only once your wallet signs it. Open this page in a browser with your wallet, then send it again.",
  },
};

/** Why a wallet did not sign, as the queue shows it (a wallet's own refusal carries its words). */
function walletProblem(error: unknown): ProblemBody {
  if (error instanceof WalletMissing) return { ...WALLET_NEEDED, detail: error.message };
  const detail = error instanceof Error ? error.message : String(error);
  return {
    code: "console.wallet_declined",
    status: 0,
    message: { zh: "钱包未签名，记录尚未上链。", en: "The wallet did not sign; the record is not on the ledger yet." },
    detail,
  };
}

const UNREACHABLE: ProblemBody = {
  code: "console.unreachable",
  status: 0,
  message: { zh: "无法连接服务器。", en: "The server could not be reached." },
};

export class OfflineQueue {
  private readonly storageKey: string;
  private flushing: Promise<number> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  /**
   * @param onChange called whenever what waits or was refused changes (re-render)
   * @param onSent called after a pass that sent something, including the passes the queue schedules itself
   */
  constructor(
    owner: string,
    private readonly onChange: () => void,
    private readonly onSent: (count: number) => void = () => undefined,
    /** Makes the body to send (uploading the entry's files first); a failure counts as the write's. */
    private readonly prepare: (write: QueuedWrite) => Promise<unknown> = (write) => Promise.resolve(write.body),
    /** Signs and submits a signature request in the organisation's wallet; absent: no wallet here. */
    private readonly sign: ((request: SignatureRequestView) => Promise<unknown>) | null = null,
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

  /** Puts a refused write back in line (the user fixed what was wrong, e.g. the organisation was reinstated). */
  retryRefused(key: string): void {
    const stored = this.read();
    const refused = stored.refused.find((w) => w.key === key);
    if (refused === undefined) return;
    const { key: k, path, body, label, queuedAtMs, media } = refused;
    const again: QueuedWrite = { key: k, path, body, label, queuedAtMs, ...(media === undefined ? {} : { media }) };
    this.write({
      waiting: [...stored.waiting.filter((w) => w.key !== key), again],
      refused: stored.refused.filter((w) => w.key !== key),
    });
  }

  /** Stops the queue's own retries (signing out). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * Sends every write that is due, each on its own, oldest first; `now` sends those still
   * waiting out a backoff too (the phone just came back online). Returns how many were sent.
   */
  flush(api: Api, options: { now?: boolean } = {}): Promise<number> {
    this.flushing ??= this.sendDue(api, options.now === true).finally(() => {
      this.flushing = null;
      this.scheduleNext(api);
    });
    return this.flushing;
  }

  private scheduleNext(api: Api): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.stopped) return;
    const due = this.read().waiting.map((w) => w.nextAttemptAtMs ?? 0);
    if (due.length === 0) return;
    const waitMs = Math.max(0, Math.min(...due) - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush(api);
    }, waitMs);
  }

  private update(key: string, change: (stored: Stored) => Stored): void {
    const stored = this.read();
    if (!stored.waiting.some((w) => w.key === key)) return;
    this.write(change(stored));
  }

  /**
   * Null once the wallet signed and the server took the signature; else why not. A network
   * failure or a passing refusal of the submission is thrown, to be retried as the write's.
   */
  private async signRequest(request: SignatureRequestView): Promise<ProblemBody | null> {
    if (this.sign === null) return WALLET_NEEDED;
    try {
      await this.sign(request);
      return null;
    } catch (error) {
      if (error instanceof NetworkFailure || (error instanceof ProblemFailure && isPassing(error.problem))) throw error;
      if (error instanceof ProblemFailure) return error.problem;
      return walletProblem(error);
    }
  }

  private async sendDue(api: Api, ignoreBackoff: boolean): Promise<number> {
    let sent = 0;
    const startedAt = Date.now();
    const due = this.read().waiting.filter((w) => ignoreBackoff || (w.nextAttemptAtMs ?? 0) <= startedAt);
    for (const next of due) {
      if (this.stopped) break;
      // Offline altogether: every other entry would fail the same way; the `online` event resumes.
      if (!navigator.onLine) break;
      try {
        const body = await this.prepare(next);
        const answer = await api.json<{ signatureRequest?: SignatureRequestView } | null>(next.path, {
          method: "POST",
          body,
          idempotencyKey: next.key,
        });
        const request = answer.status === 201 ? answer.body?.signatureRequest : undefined;
        if (request !== undefined) {
          const signed = await this.signRequest(request);
          if (signed !== null) {
            this.update(next.key, (stored) => ({
              waiting: stored.waiting.filter((w) => w.key !== next.key),
              refused: [...stored.refused, { ...next, problem: signed }],
            }));
            continue;
          }
        }
        sent++;
        this.update(next.key, (stored) => ({ ...stored, waiting: stored.waiting.filter((w) => w.key !== next.key) }));
      } catch (error) {
        const passing =
          error instanceof NetworkFailure
            ? UNREACHABLE
            : error instanceof ProblemFailure && isPassing(error.problem)
              ? error.problem
              : null;
        if (passing !== null) {
          const attempts = (next.attempts ?? 0) + 1;
          const waitMs = retryAfterMs(passing) ?? backoffMs(attempts);
          this.update(next.key, (stored) => ({
            ...stored,
            waiting: stored.waiting.map((w) =>
              w.key === next.key ? { ...w, attempts, nextAttemptAtMs: Date.now() + waitMs, lastProblem: passing } : w,
            ),
          }));
          continue;
        }
        const problem =
          error instanceof ProblemFailure
            ? error.problem
            : { code: "console.error", status: 0, message: { zh: String(error), en: String(error) } };
        this.update(next.key, (stored) => ({
          waiting: stored.waiting.filter((w) => w.key !== next.key),
          refused: [...stored.refused, { ...next, problem }],
        }));
      }
    }
    if (sent > 0) this.onSent(sent);
    return sent;
  }
}
