/**
 * Compiler warnings fail the build, as OpenZeppelin's Hardhat config makes them: a warning
 * on our own sources becomes an error before Hardhat judges the compiler's output, so
 * nothing is written (no artifacts, no cache entry that would hide it on the next build).
 * Warnings on dependencies' sources stay warnings: they are not ours to fix.
 */
import type { CompilerInput, CompilerOutput, CompilerOutputError } from "hardhat/types/solidity";
import type { SolidityHooks } from "hardhat/types/hooks";

/** Hardhat's name for what the project itself holds (dependencies are `npm/…`). */
const PROJECT_SOURCE = "project/";

/**
 * Size warnings Hardhat itself hides in Solidity test files and in coverage builds
 * (whose instrumentation inflates the code); they say nothing about the shipped bytecode.
 */
const SIZE_WARNINGS = ["Contract code size is", "Contract initcode size is"];

/** Coverage builds add Hardhat's coverage library to the sources. */
const COVERAGE_LIBRARY = "__NomicFoundationCoverage";

interface SourceLocated {
  sourceLocation?: { file?: string };
}

function refused(error: CompilerOutputError & SourceLocated, coverageBuild: boolean): boolean {
  if (error.severity !== "warning") return false;
  const file = error.sourceLocation?.file;
  if (file === undefined || !file.startsWith(PROJECT_SOURCE)) return false;
  const sizeWarning = SIZE_WARNINGS.some((text) => error.message.includes(text));
  return !(sizeWarning && (coverageBuild || file.endsWith(".t.sol")));
}

/** The compiler's output with every warning on a project source turned into an error. */
export function refuseProjectWarnings(input: CompilerInput, output: CompilerOutput): CompilerOutput {
  if (output.errors === undefined) return output;
  const coverageBuild = Object.keys(input.sources).some((name) => name.includes(COVERAGE_LIBRARY));
  const errors = output.errors.map((error) => {
    if (!refused(error, coverageBuild)) return error;
    return {
      ...error,
      type: "Error",
      severity: "error" as const,
      formattedMessage: (error.formattedMessage ?? error.message).replace(
        /^Warning:/,
        "Error (a compiler warning; warnings fail the build):",
      ),
    };
  });
  return { ...output, errors };
}

export default (): Promise<Partial<SolidityHooks>> =>
  Promise.resolve({
    invokeSolc: async (context, compiler, solcInput, solcConfig, next) =>
      refuseProjectWarnings(solcInput, await next(context, compiler, solcInput, solcConfig)),
  });
