/**
 * `npm run bench`: every figure DESIGN.md calls "fast", measured on this machine.
 *
 *   npm run bench                    header naming the machine, then one table
 *   npm run bench -- --json          only the JSON array of rows on stdout (logs on stderr)
 *   npm run bench -- --only <suite>  one suite (see scripts/bench/index.ts)
 *
 * Suites run one after another; a failing suite is reported and the others still run,
 * and the exit code is then non-zero.
 */
import { readFileSync } from "node:fs";
import os from "node:os";

import { suites } from "../bench/index.ts";
import type { BenchRow } from "../bench/types.ts";

const USAGE = `usage: npm run bench -- [--json] [--only <suite>]
suites: ${suites.map((suite) => suite.name).join(", ")}`;

interface Options {
  json: boolean;
  only: string | null;
}

function parseArgs(args: readonly string[]): Options | string {
  const options: Options = { json: false, only: null };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "--json") options.json = true;
    else if (arg === "--only") {
      const name = args[++i];
      if (name === undefined) return "--only needs a suite name";
      options.only = name;
    } else if (arg.startsWith("--only=")) options.only = arg.slice("--only=".length);
    else return `unknown argument ${arg}`;
  }
  if (options.only !== null && !suites.some((suite) => suite.name === options.only)) {
    return `unknown suite ${options.only}`;
  }
  return options;
}

function operatingSystem(): string {
  try {
    const release = readFileSync("/etc/os-release", "utf8");
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(release)?.[1];
    if (pretty !== undefined) return `${pretty}, ${os.type()} ${os.release()} ${os.arch()}`;
  } catch {
    // Not every system has /etc/os-release; the kernel's own name is enough then.
  }
  return `${os.type()} ${os.release()} ${os.arch()}`;
}

function machineHeader(): string[] {
  const cpus = os.cpus();
  const memoryGiB = os.totalmem() / 1024 ** 3;
  return [
    `machine: ${cpus[0]?.model.trim() ?? "unknown CPU"}, ${os.availableParallelism()} cores, ${memoryGiB.toFixed(1)} GiB memory`,
    `os:      ${operatingSystem()}`,
    `node:    ${process.version}`,
    `date:    ${new Date().toISOString()}`,
  ];
}

function formatValue(value: number): string {
  // Ratios such as 0.001364 keep their digits; gas figures keep at most one decimal anyway.
  return value.toLocaleString(
    "en-US",
    Math.abs(value) < 1 ? { maximumSignificantDigits: 4 } : { maximumFractionDigits: 4 },
  );
}

/** A Markdown table, so the output pastes as is into a report. */
function table(rows: readonly BenchRow[]): string[] {
  const cells = rows.map((row) => [row.metric, formatValue(row.value), row.unit] as const);
  const width = (column: 0 | 1 | 2, title: string): number =>
    Math.max(title.length, ...cells.map((cell) => cell[column].length));
  const widths = [width(0, "metric"), width(1, "value"), width(2, "unit")] as const;
  const line = (metric: string, value: string, unit: string): string =>
    `| ${metric.padEnd(widths[0])} | ${value.padStart(widths[1])} | ${unit.padEnd(widths[2])} |`;
  return [
    line("metric", "value", "unit"),
    `| ${"-".repeat(widths[0])} | ${"-".repeat(widths[1] - 1)}: | ${"-".repeat(widths[2])} |`,
    ...cells.map(([metric, value, unit]) => line(metric, value, unit)),
  ];
}

const parsed = parseArgs(process.argv.slice(2));
if (typeof parsed === "string") {
  console.error(`${parsed}\n${USAGE}`);
  process.exit(2);
}

// stdout carries the result and nothing else (with --json, only the JSON array):
// whatever a suite or a library prints while running goes to stderr.
const writeStdout = process.stdout.write.bind(process.stdout);
process.stdout.write = process.stderr.write.bind(process.stderr);

const header = machineHeader();
if (parsed.json) for (const line of header) console.error(line);

const rows: BenchRow[] = [];
const failed: string[] = [];
for (const suite of suites) {
  if (parsed.only !== null && suite.name !== parsed.only) continue;
  const started = performance.now();
  console.error(`[bench] ${suite.name}: running`);
  try {
    const suiteRows = await suite.run();
    rows.push(...suiteRows);
    console.error(
      `[bench] ${suite.name}: ${suiteRows.length} rows in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  } catch (error) {
    failed.push(suite.name);
    console.error(`[bench] ${suite.name}: failed`, error);
  }
}

process.stdout.write = writeStdout;
if (parsed.json) console.log(JSON.stringify(rows, null, 2));
else console.log([...header, "", ...table(rows)].join("\n"));
if (failed.length > 0) {
  console.error(`[bench] failed suites: ${failed.join(", ")}`);
  process.exitCode = 1;
}
