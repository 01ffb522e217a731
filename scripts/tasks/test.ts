/**
 * `npm test`: every check the project has, in one run, ending with one summary line.
 * Steps run in order and all of them run even after a failure, so one red step does
 * not hide another; the exit code is non-zero if any step failed.
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

const only = process.argv.slice(2);
const steps = testSteps().filter((step) => only.length === 0 || only.includes(step.name));
const outcomes: StepOutcome[] = [];

for (const step of steps) {
  console.log(`\n=== ${step.name}: ${step.description}`);
  const started = performance.now();
  const prepared = (await step.prepare?.()) ?? true;
  let result: CommandResult;
  try {
    if (prepared === true) {
      result = await runCommand(step.command, step.args, { env: { ...process.env, ...step.env } });
    } else {
      result = { code: 1, output: prepared };
      console.error(prepared);
    }
  } finally {
    await step.cleanup?.();
  }
  const counts = countFromOutput(step, result);
  const verdict = step.verify?.(result) ?? null;
  if (verdict !== null) console.error(`${step.name}: ${verdict}`);
  const ok = result.code === 0 && counts.failed === 0 && verdict === null;
  outcomes.push({
    name: step.name,
    ok,
    passed: counts.passed,
    failed: ok ? counts.failed : Math.max(counts.failed, 1),
    seconds: (performance.now() - started) / 1000,
  });
}

console.log("\n=== summary");
for (const o of outcomes) {
  console.log(
    `${o.ok ? "ok  " : "FAIL"} ${o.name.padEnd(22)} ${String(o.passed).padStart(5)} passed ${String(o.failed).padStart(3)} failed  ${o.seconds.toFixed(1)} s`,
  );
}
const passed = outcomes.reduce((sum, o) => sum + o.passed, 0);
const failed = outcomes.reduce((sum, o) => sum + o.failed, 0);
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exitCode = outcomes.every((o) => o.ok) ? 0 : 1;
