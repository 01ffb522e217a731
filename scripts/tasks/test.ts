/**
 * `npm test`: every check the project has, in one run, ending with one summary line.
 * Steps run in order and all of them run even after a failure, so one red step does
 * not hide another; the exit code is non-zero if any step failed.
 *
 * Steps marked `beside` (the Solidity steps, the server's tests on PostgreSQL, then the
 * hostile-input fuzz) run in a second lane, one after another, from the end of the step they
 * name (the contract build) while the rest go on: they write no output another step reads, use
 * no server, port or database of the others, and check nothing that depends on time. The
 * compiler keeps one core busy; the PostgreSQL step mostly waits on its database, beside the
 * fault and security steps; the fuzz runs beside the end-to-end tests.
 * Their output is printed in one piece when each ends, and the summary keeps the steps' order.
 * `npm test -- --serial` runs everything in one lane.
 */
import { runCommand, type CommandResult } from "../lib/run-command.ts";
import { testSteps, type TestStep } from "../lib/test-steps.ts";

interface StepOutcome {
  name: string;
  ok: boolean;
  passed: number;
  failed: number;
  seconds: number;
}

function countFromOutput(step: TestStep, result: CommandResult): { passed: number; failed: number } {
  const counts = step.count?.(result.output);
  if (counts) return counts;
  return result.code === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 };
}

/** Where a step's own lines go: straight through, or kept with its output for later. */
interface Sink {
  out: (text: string) => void;
  err: (text: string) => void;
}

async function runStep(step: TestStep, sink: Sink, echo: boolean): Promise<StepOutcome> {
  sink.out(`\n=== ${step.name}: ${step.description}\n`);
  const started = performance.now();
  const prepared = (await step.prepare?.()) ?? true;
  let result: CommandResult;
  try {
    if (prepared === true) {
      result = await runCommand(step.command, step.args, { env: { ...process.env, ...step.env }, echo });
      if (!echo) sink.out(result.output);
    } else {
      result = { code: 1, output: prepared };
      sink.err(`${prepared}\n`);
    }
  } finally {
    await step.cleanup?.();
  }
  const counts = countFromOutput(step, result);
  const summary = step.summarise?.(result) ?? null;
  if (summary !== null) sink.out(`${summary}\n`);
  const verdict = step.verify?.(result) ?? null;
  if (verdict !== null) sink.err(`${step.name}: ${verdict}\n`);
  const ok = result.code === 0 && counts.failed === 0 && verdict === null;
  return {
    name: step.name,
    ok,
    passed: counts.passed,
    failed: ok ? counts.failed : Math.max(counts.failed, 1),
    seconds: (performance.now() - started) / 1000,
  };
}

const direct: Sink = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** A step of the second lane: everything it prints is held and written at once when it ends. */
async function runHeld(step: TestStep): Promise<StepOutcome> {
  let held = "";
  const sink: Sink = {
    out: (text) => (held += text),
    err: (text) => (held += text),
  };
  try {
    return await runStep(step, sink, false);
  } catch (error) {
    // Thrown in the second lane, it must not end the run while the first lane is still going.
    sink.err(`${step.name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return { name: step.name, ok: false, passed: 0, failed: 1, seconds: 0 };
  } finally {
    process.stdout.write(held);
  }
}

const args = process.argv.slice(2);
const serial = args.includes("--serial");
const only = args.filter((arg) => arg !== "--serial");
const steps = testSteps().filter((step) => only.length === 0 || only.includes(step.name));
const outcomes = new Map<string, StepOutcome>();

// The second lane starts once the step its first step names is done (at once if that step is
// not run), and runs its steps in order.
const besideSteps = serial ? [] : steps.filter((step) => step.beside !== undefined);
const mainSteps = steps.filter((step) => !besideSteps.includes(step));
const laneAfter = besideSteps[0]?.beside?.after;
let startLane: () => void = () => undefined;
const laneMayStart = new Promise<void>((resolve) => {
  startLane = resolve;
});
const besideLane = laneMayStart.then(async () => {
  for (const beside of besideSteps) outcomes.set(beside.name, await runHeld(beside));
});
if (!mainSteps.some((step) => step.name === laneAfter)) startLane();
for (const step of mainSteps) {
  outcomes.set(step.name, await runStep(step, direct, true));
  if (step.name === laneAfter) startLane();
}
startLane();
await besideLane;

console.log("\n=== summary");
const ordered = steps.flatMap((step) => outcomes.get(step.name) ?? []);
for (const o of ordered) {
  console.log(
    `${o.ok ? "ok  " : "FAIL"} ${o.name.padEnd(22)} ${String(o.passed).padStart(5)} passed ${String(o.failed).padStart(3)} failed  ${o.seconds.toFixed(1)} s`,
  );
}
const passed = ordered.reduce((sum, o) => sum + o.passed, 0);
const failed = ordered.reduce((sum, o) => sum + o.failed, 0);
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exitCode = ordered.length === steps.length && ordered.every((o) => o.ok) ? 0 : 1;
