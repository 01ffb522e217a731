/**
 * Merkle tree of a batch's item serials, with every item's proof (what a label sheet
 * needs): our tree (`server/src/domain/merkle.ts`) beside `@openzeppelin/merkle-tree`'s
 * `StandardMerkleTree.of` + `getProof` for every leaf, on the same serials. The roots are
 * compared first, so the two figures always describe the same tree.
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";

import { buildItemTree } from "../../server/src/domain/merkle.ts";
import { generateSerials } from "../../server/src/domain/serials.ts";
import type { BenchRow, BenchSuite } from "./types.ts";

const SIZES = [10_000, 100_000] as const;
/** Ours runs in about a second, so take the median of a few runs; theirs runs once per size. */
const OUR_RUNS = 3;

function ours(serials: readonly string[]): { ms: number; root: string } {
  const started = performance.now();
  const tree = buildItemTree(serials);
  let proofElements = 0;
  for (let i = 0; i < tree.size; i++) proofElements += tree.proofAt(i).length;
  const ms = performance.now() - started;
  if (proofElements === 0 && tree.size > 1) throw new Error("no proofs were built");
  return { ms, root: tree.root };
}

function openZeppelin(serials: readonly string[]): { ms: number; root: string } {
  const started = performance.now();
  const tree = StandardMerkleTree.of(
    serials.map((serial) => [serial]),
    ["string"],
  );
  let proofElements = 0;
  for (let i = 0; i < serials.length; i++) proofElements += tree.getProof(i).length;
  const ms = performance.now() - started;
  if (proofElements === 0 && serials.length > 1) throw new Error("no proofs were built");
  return { ms, root: tree.root };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function label(count: number): string {
  return count.toLocaleString("en-US");
}

export const merkleSuite: BenchSuite = {
  name: "merkle",
  run: () => {
    const rows: BenchRow[] = [];
    // Warm both code paths up so neither pays for compilation in the figures.
    const warmUp = generateSerials(2_000);
    ours(warmUp);
    openZeppelin(warmUp);
    for (const count of SIZES) {
      const serials = generateSerials(count);
      const ourRuns = Array.from({ length: OUR_RUNS }, () => ours(serials));
      const theirs = openZeppelin(serials);
      if (ourRuns.some((run) => run.root !== theirs.root)) {
        throw new Error(`merkle bench: roots differ for ${label(count)} items`);
      }
      const oursMs = median(ourRuns.map((run) => run.ms));
      rows.push(
        { metric: `merkle tree + all proofs, ${label(count)} items (ours)`, value: Math.round(oursMs), unit: "ms" },
        {
          metric: `merkle tree + all proofs, ${label(count)} items (@openzeppelin/merkle-tree)`,
          value: Math.round(theirs.ms),
          unit: "ms",
        },
        {
          metric: `merkle speed-up over @openzeppelin/merkle-tree, ${label(count)} items`,
          value: Math.round((theirs.ms / oursMs) * 10) / 10,
          unit: "×",
        },
      );
    }
    return Promise.resolve(rows);
  },
};
