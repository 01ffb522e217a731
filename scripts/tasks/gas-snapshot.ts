/**
 * `npm run gas-snapshot`: records the gas of each registry write again (`.gas-snapshot` and
 * `snapshots/`), for a change that moves gas on purpose; commit both files with it.
 */
import { runCommand } from "../lib/run-command.ts";
import { GAS_TESTS } from "../lib/test-steps.ts";

const result = await runCommand("hardhat", ["test", "solidity", "--snapshot", GAS_TESTS]);
process.exitCode = result.code;
