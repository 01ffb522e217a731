/**
 * Compiler warnings fail the contracts' build (scripts/lib/solc-warnings.ts, registered in
 * hardhat.config.ts): checked on what the pinned solc really says about a probe source.
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, it } from "node:test";

import type { CompilerInput, CompilerOutput, CompilerOutputError } from "hardhat/types/solidity";

import { refuseProjectWarnings } from "../../scripts/lib/solc-warnings.ts";

const solc = createRequire(import.meta.url)("solc") as { compile(input: string): string };

const PROBE = `// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

contract Probe {
    function f(uint256 unused) external pure returns (uint256) {
        return 2;
    }
}
`;

function compile(sourceName: string): { input: CompilerInput; output: CompilerOutput } {
  const input: CompilerInput = {
    language: "Solidity",
    sources: { [sourceName]: { content: PROBE } },
    settings: { optimizer: { enabled: false }, outputSelection: { "*": { "*": ["abi"] } } },
  };
  return { input, output: JSON.parse(solc.compile(JSON.stringify(input))) as CompilerOutput };
}

/** What Hardhat counts as a failed compilation (its build system's own test). */
function fatal(errors: CompilerOutputError[] | undefined): CompilerOutputError[] {
  return (errors ?? []).filter((error) => error.type !== "Warning" && error.severity === "error");
}

describe("compiler warnings", () => {
  it("fail the build when they are on the project's own sources", () => {
    const { input, output } = compile("project/contracts/Probe.sol");
    const warnings = (output.errors ?? []).filter((error) => error.severity === "warning");
    assert.equal(warnings.length, 1, "solc warns about the unused parameter");
    assert.equal(fatal(output.errors).length, 0, "a warning alone does not fail Hardhat's build");

    const refused = fatal(refuseProjectWarnings(input, output).errors);
    assert.equal(refused.length, 1);
    assert.match(refused[0]?.message ?? "", /Unused function parameter/);
    assert.match(refused[0]?.formattedMessage ?? "", /^Error \(a compiler warning; warnings fail the build\)/);
  });

  it("stay warnings on a dependency's sources", () => {
    const { input, output } = compile("npm/some-dependency@1.0.0/Probe.sol");
    assert.equal((output.errors ?? []).length, 1);
    assert.equal(fatal(refuseProjectWarnings(input, output).errors).length, 0);
  });

  it("leave an output without warnings as it was", () => {
    const { input, output } = compile("project/contracts/Probe.sol");
    const clean: CompilerOutput = { ...output, errors: [] };
    assert.deepEqual(refuseProjectWarnings(input, clean), clean);
  });

  it("let the size warnings of test files and coverage builds pass, as Hardhat hides them", () => {
    const size = (file: string): CompilerOutputError & { sourceLocation: { file: string } } => ({
      type: "Warning",
      component: "general",
      severity: "warning",
      message: "Contract code size is 30000 bytes and exceeds 24576 bytes (a limit introduced in Spurious Dragon).",
      sourceLocation: { file },
    });
    const { input, output } = compile("project/contracts/Probe.sol");
    const testFile = { ...output, errors: [size("project/contracts/Big.t.sol")] };
    assert.equal(fatal(refuseProjectWarnings(input, testFile).errors).length, 0);

    const shipped = { ...output, errors: [size("project/contracts/Big.sol")] };
    assert.equal(fatal(refuseProjectWarnings(input, shipped).errors).length, 1, "shipped code must fit");
    const coverageInput: CompilerInput = {
      ...input,
      sources: { ...input.sources, "project/__NomicFoundationCoverage-1.sol": { content: "" } },
    };
    assert.equal(fatal(refuseProjectWarnings(coverageInput, shipped).errors).length, 0);
  });
});
