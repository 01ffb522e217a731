import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { stripVTControlCharacters } from "node:util";

import { startPostgres, type PostgresInstance } from "./postgres.ts";
import { runCommand, type CommandResult } from "./run-command.ts";

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
  /** A line to print after the output (a figure the step measured), or null. */
  summarise?: (result: CommandResult) => string | null;
  /** Extra judgement on the result; returns null when satisfied, else why not. */
  verify?: (result: CommandResult) => string | null;
  /** Runs after the command (whether or not it passed): stops what `prepare` started. */
  cleanup?: () => Promise<void>;
  /**
   * Runs in the test command's second lane, beside the other steps, once the step `after` is
   * done (scripts/tasks/test.ts): it writes nothing another step reads, shares no server, port
   * or database with them, and nothing it checks depends on time.
   */
  beside?: { after: string };
}

function sumMatches(output: string, pattern: RegExp): number {
  let total = 0;
  for (const match of output.matchAll(pattern)) total += Number(match[1]);
  return total;
}

/**
 * Mocha ("  12 passing (3s)", "  1 failing") and Hardhat's Solidity test runner use the same
 * words. A plain `hardhat test` running both ends with its own totals over every runner,
 * unindented and broken down ("162 passing (19 solidity, 143 mocha)", "2 failing (1 solidity,
 * 1 mocha)"), after mocha already printed its own lines: when totals are there, count only
 * them, or mocha's tests would count twice.
 */
export function countMochaStyle(output: string): { passed: number; failed: number } | null {
  const text = stripVTControlCharacters(output);
  const totalsPassed = sumMatches(text, /^(\d+) passing \(\d+ [\w-]+(?:, \d+ [\w-]+)*\)$/gm);
  const totalsFailed = sumMatches(text, /^(\d+) failing \(\d+ [\w-]+(?:, \d+ [\w-]+)*\)$/gm);
  if (totalsPassed + totalsFailed > 0) return { passed: totalsPassed, failed: totalsFailed };
  const passed = sumMatches(text, /^\s*(\d+) passing\b/gm);
  const failed = sumMatches(text, /^\s*(\d+) failing\b/gm);
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
      shipped =
        file.includes("contracts/") &&
        !file.includes("node_modules/") &&
        !file.includes("contracts/test/") &&
        !file.endsWith(".t.sol");
    } else if (shipped && line.startsWith("DA:")) {
      const [lineNumber, hits] = line.slice(3).split(",");
      found += 1;
      if (Number(hits) > 0) hit += 1;
      else missing.push(`${file}:${lineNumber ?? "?"}`);
    }
  }
  return found === 0 ? null : { percent: (hit / found) * 100, missing };
}

/** Test sources above this many lines get a coverage compilation job of their own. */
const COVERAGE_JOB_MAX_LINES = 700;

/**
 * The coverage compilation jobs: the shipped sources together, the test helpers together, and
 * the Solidity test files packed up to `COVERAGE_JOB_MAX_LINES` each. Instrumented, all sources
 * in one job run the WebAssembly solc out of memory (`HHE908: memory access out of bounds`);
 * one job per file compiled the registry sixteen times over (about five minutes).
 */
export function coverageJobs(root = "contracts"): string[][] {
  const files = readdirSync(root, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".sol"))
    .sort()
    .map((file) => path.join(root, file));
  const isTestFile = (file: string): boolean => file.endsWith(".t.sol");
  const isTestHelper = (file: string): boolean => file.split(path.sep).includes("test");
  const shipped = files.filter((file) => !isTestFile(file) && !isTestHelper(file));
  const helpers = files.filter((file) => !isTestFile(file) && isTestHelper(file));
  const jobs: string[][] = [shipped, helpers].filter((job) => job.length > 0);
  let packing: string[] = [];
  let lines = 0;
  for (const file of files.filter(isTestFile)) {
    const length = readFileSync(file, "utf8").split("\n").length;
    if (packing.length > 0 && lines + length > COVERAGE_JOB_MAX_LINES) {
      jobs.push(packing);
      packing = [];
      lines = 0;
    }
    packing.push(file);
    lines += length;
  }
  if (packing.length > 0) jobs.push(packing);
  return jobs;
}

/**
 * Compiles the Solidity sources for coverage in a few jobs (`coverageJobs`), so `hardhat test
 * --coverage` then finds every artifact built. With `--coverage`, hardhat.config.ts sends the
 * instrumented artifacts and their cache to `coverage/build/`: the plain build's outputs, which
 * every other step deploys from, are never touched, so nothing has to be kept aside and put back.
 */
export async function buildForCoverage(root = "contracts"): Promise<true | string> {
  // Spawned, not run synchronously: the build takes minutes in the second lane, and a blocked
  // event loop would hold the first lane's next step until it ended (solhint measured 306 s).
  for (const job of coverageJobs(root)) {
    const built = await runCommand("hardhat", ["build", "--coverage", "--no-typechain", ...job], { echo: false });
    if (built.code !== 0) return `coverage build of ${job.join(", ")} failed:\n${built.output}`;
  }
  return true;
}

/** The Solidity tests whose gas is snapshotted; `hardhat test solidity --snapshot <it>` updates both files. */
export const GAS_TESTS = "contracts/TraceRegistry.gas.t.sol";

/**
 * Hardhat fails a snapshot check only when a stored figure changed; a gas test with no
 * stored figure, or a figure whose test is gone, passes silently. The snapshot must list
 * exactly the gas tests that ran.
 */
export function gasSnapshotCovers(output: string, snapshotPath = ".gas-snapshot"): string | null {
  if (!existsSync(snapshotPath)) return `no gas snapshot at ${snapshotPath}`;
  const stored = readFileSync(snapshotPath, "utf8")
    .split("\n")
    .map((line) => /^\w+#(\w+\([^)]*\))/.exec(line)?.[1])
    .filter((name) => name !== undefined)
    .sort();
  const ran = [...stripVTControlCharacters(output).matchAll(/^\s*✔ (\w+\([^)]*\))/gm)].map((m) => m[1] ?? "").sort();
  if (stored.join() === ran.join()) return null;
  return `${snapshotPath} lists ${stored.join(", ") || "nothing"}; the gas tests were ${ran.join(", ") || "none"}: update it with hardhat test solidity --snapshot ${GAS_TESTS}`;
}

const nodeTestArgs = ["--test", "--test-reporter=spec", "--test-concurrency=1"];

/**
 * The server test files that run anything on PostgreSQL: those that read TEST_DATABASE_URL
 * themselves or start their server or database through test/support's helpers, which do. The
 * others (the audit, the resolver, the IPFS gateway, …) are SQLite only, and running them
 * again beside a PostgreSQL cluster would only repeat the server step (about a minute).
 */
/** The hostile-input fuzz and authorisation matrix: a step of its own (see `security:hostile`). */
const HOSTILE_TEST = path.join("test", "security", "hostile.test.ts");

/** Every security test file; the `security` step runs all but the hostile fuzz, which has its own. */
function securityTestFiles(dir = path.join("test", "security")): string[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith(".test.ts"))
    .map((file) => path.join(dir, file))
    .sort();
}

export function postgresTestFiles(dir = "test/server"): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".test.ts"))
    .map((file) => path.join(dir, file))
    .filter((file) =>
      /TEST_DATABASE_URL|from "(?:\.\.\/)+support\/test-(?:server|database)\.ts"/.test(readFileSync(file, "utf8")),
    )
    .sort();
}

/**
 * The server's tests again, with TEST_DATABASE_URL pointing at a throwaway PostgreSQL
 * cluster, so storage is proven on both engines. Where PostgreSQL cannot be had outside
 * CI, `startPostgres` says so loudly and the PostgreSQL suites report themselves skipped.
 */
function postgresStep(name: string, description: string, globs: string[]): TestStep {
  const env: NodeJS.ProcessEnv = {};
  let cluster: PostgresInstance | null = null;
  return {
    name,
    description,
    command: "node",
    args: [...nodeTestArgs, ...globs],
    env,
    count: countNodeTest,
    prepare: async () => {
      try {
        cluster = await startPostgres();
      } catch (error) {
        return `could not start PostgreSQL: ${error instanceof Error ? error.message : String(error)}`;
      }
      if (cluster !== null) env.TEST_DATABASE_URL = cluster.url;
      return true;
    },
    cleanup: async () => {
      await cluster?.stop();
      cluster = null;
    },
  };
}

export function testSteps(): TestStep[] {
  return [
    {
      name: "tree",
      description: "the clone stands alone (no reference outside it) and the run so far changed no tracked file",
      command: "node",
      args: ["scripts/lib/clean-tree.ts"],
    },
    {
      name: "build",
      description: "compile contracts with the pinned solc",
      command: "hardhat",
      // Contracts only: the Solidity tests, all in one job, run the WebAssembly solc out of
      // memory (HHE908); the contracts step compiles them in a few jobs (`coverageJobs`).
      args: ["build", "--quiet", "--no-tests"],
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
      name: "web",
      description: "build the scan page (fails over its 50 KiB gzip budget) and the consoles",
      command: "node",
      args: ["scripts/tasks/web.ts"],
    },
    {
      name: "contracts",
      description: "Solidity unit and fuzz tests, mocha integration tests, line coverage",
      command: "hardhat",
      // No type generation: `types/` is the build step's, and the typecheck may be reading it.
      args: ["test", "--coverage", "--no-typechain"],
      // Hardhat writes coverage/lcov.info only at the end of a run; a report left by an
      // earlier run must not stand in for one this run failed to write.
      prepare: () => {
        rmSync("coverage/lcov.info", { force: true });
        return buildForCoverage();
      },
      beside: { after: "build" },
      count: countMochaStyle,
      summarise: () => {
        const coverage = solidityLineCoverage("coverage/lcov.info");
        return coverage === null
          ? null
          : `Solidity line coverage ${coverage.percent.toFixed(2)} % (minimum ${SOLIDITY_LINE_COVERAGE_MIN} %)`;
      },
      verify: () => {
        const coverage = solidityLineCoverage("coverage/lcov.info");
        if (coverage === null) return "no Solidity coverage report at coverage/lcov.info";
        if (coverage.percent < SOLIDITY_LINE_COVERAGE_MIN) {
          return `Solidity line coverage ${coverage.percent.toFixed(2)} % (minimum ${SOLIDITY_LINE_COVERAGE_MIN} %); lines never run: ${coverage.missing.join(", ")}`;
        }
        return null;
      },
    },
    {
      name: "contracts:gas",
      description: "gas of each registry write against the committed snapshots (.gas-snapshot, snapshots/)",
      command: "hardhat",
      // Coverage instruments the bytecode, so the check runs the gas tests again on their own.
      args: ["test", "solidity", "--snapshot-check", "--no-typechain", GAS_TESTS],
      beside: { after: "build" },
      count: countMochaStyle,
      verify: (result) => gasSnapshotCovers(result.output),
    },
    {
      name: "server",
      description: "server unit and integration tests (node:test)",
      command: "node",
      args: [...nodeTestArgs, "server/src/**/*.test.ts", "test/server/**/*.test.ts"],
      count: countNodeTest,
    },
    {
      ...postgresStep(
        "server:postgres",
        "server tests against a throwaway PostgreSQL cluster (TEST_DATABASE_URL)",
        postgresTestFiles(),
      ),
      // Its own cluster, databases, temporary folders and ports; nothing it checks depends on
      // time (the lease races are forced with gates, test/server/idempotency-race.test.ts). After
      // the contract steps in the second lane, it runs beside the faults and security steps.
      beside: { after: "build" },
    },
    postgresStep("scale", "two server replicas on one PostgreSQL, interval mining, writer fail-over", [
      "test/scale/**/*.test.ts",
    ]),
    {
      name: "faults",
      description:
        "faults: the server SIGKILLed mid-work, chain and IPFS unreachable, a full disk, 1 GiB and trickled uploads",
      command: "node",
      args: [...nodeTestArgs, "test/faults/**/*.test.ts"],
      count: countNodeTest,
    },
    {
      name: "security",
      description:
        "slow bodies and headers cut early, /rpc hammered beside honest readers, serial guessing held to the rate",
      command: "node",
      args: [...nodeTestArgs, ...securityTestFiles().filter((file) => file !== HOSTILE_TEST)],
      count: countNodeTest,
    },
    {
      name: "security:hostile",
      description: "hostile input on every route (fast-check, 10,000 each) and the authorisation matrix",
      command: "node",
      args: [...nodeTestArgs, HOSTILE_TEST],
      count: countNodeTest,
      // Its own chain node, server, data folder and ports; what it checks (no 5xx, nothing
      // changed, heap bounded) does not depend on time. The longest step: after the PostgreSQL
      // tests in the second lane, beside faults and e2e.
      beside: { after: "build" },
    },
    {
      name: "e2e",
      description:
        "end to end in Chromium: the scan page and both consoles against the real server; demo ledger and CLI",
      command: "node",
      args: [...nodeTestArgs, "test/e2e/**/*.test.ts"],
      count: countNodeTest,
    },
  ];
}
