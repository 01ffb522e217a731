/**
 * A small pool of worker threads running one module's tasks, so CPU-heavy work (a
 * million serials, their hidden-code HMACs, the item tree, the sealed archive) never
 * holds the event loop that answers health checks and scans. Tasks queue when every
 * worker is busy; a worker that dies fails its task and is replaced on the next one.
 *
 * Idle workers are unref'd so they never keep a process alive on their own; a worker is
 * ref'd while it runs a task, so awaiting one in a script or test keeps the process up.
 */
import { availableParallelism } from "node:os";
import { Worker, type Transferable } from "node:worker_threads";

export interface TaskRequest {
  id: number;
  task: string;
  input: unknown;
}

export type TaskReply = { id: number; ok: true; output: unknown } | { id: number; ok: false; error: unknown };

interface Pending {
  request: TaskRequest;
  transfer: readonly Transferable[];
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface Slot {
  worker: Worker;
  running: Pending | null;
}

export interface WorkerPool {
  /** Runs `task` on a worker; `transfer` lists buffers moved (not copied) to it. */
  run<T>(task: string, input: unknown, transfer?: readonly Transferable[]): Promise<T>;
  /** Terminates every worker; queued tasks fail. */
  close(): Promise<void>;
}

/** One or two workers: the machine's other cores serve requests and the database. */
function defaultPoolSize(): number {
  return Math.max(1, Math.min(2, availableParallelism() - 1));
}

export function createWorkerPool(module: URL, size = defaultPoolSize()): WorkerPool {
  const slots: Slot[] = [];
  const queue: Pending[] = [];
  let nextId = 1;
  let closed = false;

  function spawn(): Slot {
    const slot: Slot = { worker: new Worker(module), running: null };
    slot.worker.unref();
    slot.worker.on("message", (reply: TaskReply) => {
      const pending = slot.running;
      if (pending === null || pending.request.id !== reply.id) return;
      finish(slot);
      if (reply.ok) pending.resolve(reply.output);
      else pending.reject(reviveError(reply.error));
    });
    const fail = (error: unknown): void => {
      const pending = slot.running;
      slots.splice(slots.indexOf(slot), 1);
      if (pending !== null) pending.reject(error);
      dispatch();
    };
    slot.worker.on("error", fail);
    slot.worker.on("exit", (code) => {
      if (slots.includes(slot)) fail(new Error(`worker thread exited with code ${String(code)}`));
    });
    slots.push(slot);
    return slot;
  }

  function finish(slot: Slot): void {
    slot.running = null;
    slot.worker.unref();
    dispatch();
  }

  function dispatch(): void {
    while (!closed && queue.length > 0) {
      let slot = slots.find((candidate) => candidate.running === null);
      if (slot === undefined) {
        if (slots.length >= size) return;
        slot = spawn();
      }
      const pending = queue.shift();
      if (pending === undefined) return;
      slot.running = pending;
      slot.worker.ref();
      slot.worker.postMessage(pending.request, pending.transfer);
    }
  }

  return {
    run<T>(task: string, input: unknown, transfer: readonly Transferable[] = []): Promise<T> {
      if (closed) return Promise.reject(new Error("the worker pool is closed"));
      return new Promise<T>((resolve, reject) => {
        queue.push({
          request: { id: nextId++, task, input },
          transfer,
          resolve: (value) => {
            resolve(value as T);
          },
          reject,
        });
        dispatch();
      });
    },
    async close() {
      closed = true;
      for (const pending of queue.splice(0)) pending.reject(new Error("the worker pool is closed"));
      const all = slots.splice(0);
      for (const slot of all) slot.running?.reject(new Error("the worker pool is closed"));
      await Promise.all(all.map((slot) => slot.worker.terminate()));
    },
  };
}

/** Errors cross threads as plain objects; keep their message, name and domain fields. */
function reviveError(value: unknown): Error {
  if (value instanceof Error) return value;
  const fields = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  const error = new Error(typeof fields.message === "string" ? fields.message : "worker task failed");
  return Object.assign(error, fields);
}
