/**
 * For the tests that stream large files: bytes made on demand (nothing held, nothing
 * deduplicates), and a process's resident memory sampled while the work runs.
 */
import { createCipheriv, type Hash } from "node:crypto";
import { readFileSync } from "node:fs";

/**
 * `sizeBytes` of fresh, non-repeating bytes, the same for the same seed, in pieces of
 * `pieceBytes`; each piece also goes into `digest` when one is given.
 */
export function* generatedBytes(
  sizeBytes: number,
  seed: number,
  options: { pieceBytes?: number; digest?: Hash } = {},
): Generator<Buffer> {
  const cipher = createCipheriv("chacha20", Buffer.alloc(32, seed), Buffer.alloc(16));
  const zeros = Buffer.alloc(options.pieceBytes ?? 256 * 1024);
  for (let left = sizeBytes; left > 0; left -= zeros.length) {
    const piece = cipher.update(zeros.subarray(0, Math.min(left, zeros.length)));
    options.digest?.update(piece);
    yield piece;
  }
}

/** This process's resident memory. */
export function ownResidentBytes(): number {
  return process.memoryUsage().rss;
}

/** Another process's resident memory, from /proc. */
export function residentBytesOf(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (match === null) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

/** Runs `work` while reading `resident` every 10 ms; the reading at the start and the peak (the end included). */
export async function residentPeak<T>(
  resident: () => number,
  work: () => Promise<T>,
): Promise<{ result: T; startBytes: number; peakBytes: number }> {
  const startBytes = resident();
  let peakBytes = startBytes;
  const sampler = setInterval(() => {
    peakBytes = Math.max(peakBytes, resident());
  }, 10);
  try {
    const result = await work();
    return { result, startBytes, peakBytes: Math.max(peakBytes, resident()) };
  } finally {
    clearInterval(sampler);
  }
}
