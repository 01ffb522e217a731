/**
 * A server process started ahead of need, for the keyed crash cycles (keyed-crash.ts): it reads the
 * code now and starts the server (`main`, as `npm start` does) only when a line arrives
 * on its stdin, the moment the previous process has been killed.
 */
import { enableCompileCache } from "node:module";

// As `npm start` does (scripts/tasks/start.ts): the code compiled by an earlier start is read
// from Node's compile cache, so each of the hundreds of standbys costs less of the machine.
enableCompileCache();
const { Wallet } = await import("ethers");
const { traceRegistryInterface } = await import("../../server/src/ledger/registry-artifact.ts");
const { main } = await import("../../server/src/main.ts");

// What any process pays once, on first use, and that holds no state: the registry's parsed ABI
// and the curve's precomputed tables (a restart's median went from 88 to 59 ms on an idle
// machine, and these took half a second of it under heavy load). Paid now, a restart costs what
// opening the store, the chain and the port cost.
traceRegistryInterface();
new Wallet(`0x${"11".repeat(32)}`);

process.stdin.once("data", () => {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
});
process.stdout.write("standby-ready\n");
