import { existsSync, readFileSync } from "node:fs";

import type { CommandResult } from "./run-command.ts";

export interface TestStep {
  name: string;
  description: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Runs before the command; returns true, or a message saying why the step cannot run. */
  prepare?: () => Promise<true | string>;
  /** Reads pass/fail counts from the output; without it the exit code counts as one test. */
  count?: (output: string) => { passed: number; failed: number } | null;
  /** Extra judgement on the result; returns null when satisfied, else why not. */
  verify?: (result: CommandResult) => string | null;
}

function sumMatches(output: string, pattern: RegExp): number {
  let total = 0;
  for (const match of output.matchAll(pattern)) total += Number(match[1]);
  return total;
}

/** Mocha ("12 passing", "1 failing") and Hardhat's Solidity test runner use the same words. */
export function countMochaStyle(output: string): { passed: number; failed: number } | null {
  const passed = sumMatches(output, /^\s*(\d+) passing\b/gm);
  const failed = sumMatches(output, /^\s*(\d+) failing\b/gm);
  return passed + failed === 0 ? null : { passed, failed };
}

/** Node's test runner, spec reporter: "ℹ pass 12" / "ℹ fail 0". */
export function countNodeTest(output: string): { passed: number; failed: number } | null {
  const passed = sumMatches(output, /^ℹ pass (\d+)$/gm);
  const failed = sumMatches(output, /^ℹ fail (\d+)$/gm);
  return passed + failed === 0 ? null : { passed, failed };
}

export const SOLIDITY_LINE_COVERAGE_MIN = 95;

/** Reads line coverage of shipped contracts (test-only contracts excluded) from lcov. */
export function solidityLineCoverage(lcovPath: string): { percent: number; missing: string[] } | null {
  if (!existsSync(lcovPath)) return null;
  let found = 0;
  let hit = 0;
  const missing: string[] = [];
  let file = "";
  let shipped = false;
  for (const line of readFileSync(lcovPath, "utf8").split("\n")) {
    if (line.startsWith("SF:")) {
      file = line.slice(3);
      shipped = file.includes("contracts/") && !file.includes("contracts/test/") && !file.endsWith(".t.sol");
    } else if (shipped && line.startsWith("DA:")) {
      const [lineNumber, hits] = line.slice(3).split(",");
      found += 1;
      if (Number(hits) > 0) hit += 1;
      else missing.push(`${file}:${lineNumber ?? "?"}`);
    }
  }
  return found === 0 ? null : { percent: (hit / found) * 100, missing };
}

const nodeTestArgs = ["--test", "--test-reporter=spec", "--test-concurrency=1"];

export function testSteps(): TestStep[] {
  return [
    {
      name: "build",
      description: "compile contracts with the pinned solc",
      command: "hardhat",
      args: ["build", "--quiet"],
    },
    {
      name: "lint:solidity",
      description: "solhint",
      command: "solhint",
      args: ["--max-warnings", "0", "contracts/**/*.sol"],
    },
    {
      name: "lint:format",
      description: "prettier --check",
      command: "prettier",
      args: ["--check", "."],
    },
    {
      name: "lint:typescript",
      description: "eslint (typescript-eslint, type-checked)",
      command: "eslint",
      args: ["--max-warnings", "0", "."],
    },
    {
      name: "typecheck",
      description: "tsc --noEmit",
      command: "tsc",
      args: ["--noEmit", "-p", "."],
    },
    {
      name: "contracts",
      description: "Solidity unit and fuzz tests, mocha integration tests, line coverage",
      command: "hardhat",
      args: ["test", "--coverage"],
      count: countMochaStyle,
      verify: () => {
        const coverage = solidityLineCoverage("coverage/lcov.info");
        if (coverage === null) return "no Solidity coverage report at coverage/lcov.info";
        const summary = `Solidity line coverage ${coverage.percent.toFixed(2)} % (minimum ${SOLIDITY_LINE_COVERAGE_MIN} %)`;
        console.log(summary);
        if (coverage.percent < SOLIDITY_LINE_COVERAGE_MIN) {
          return `${summary}; lines never run: ${coverage.missing.join(", ")}`;
        }
        return null;
      },
    },
    {
      name: "server",
      description: "server unit and integration tests (node:test)",
      command: "node",
      args: [...nodeTestArgs, "server/src/**/*.test.ts", "test/server/**/*.test.ts"],
      count: countNodeTest,
    },
    {
      name: "e2e",
      description: "end to end: demo ledger and CLI against a Hardhat node in its own process",
      command: "node",
      args: [...nodeTestArgs, "test/e2e/**/*.test.ts"],
      count: countNodeTest,
    },
  ];
}
