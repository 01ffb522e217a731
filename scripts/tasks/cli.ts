/**
 * `npm run cli -- <command> [options]`: the command line for cooperatives, regulators
 * and operators. Every command validates its input and says plainly what was wrong;
 * each lives in its own module under cli/, and this file only dispatches.
 */
import { parseArgs } from "node:util";

import { AuditSourceError } from "../lib/remote-audit.ts";
import { auditCommand } from "./cli/audit.ts";
import { checkVerifierCommand } from "./cli/check-verifier.ts";
import { deployCommand } from "./cli/deploy.ts";
import { errorCodesCommand } from "./cli/error-codes.ts";
import { labelsCommand } from "./cli/labels.ts";
import { reindexCommand } from "./cli/reindex.ts";
import { unboundProductsCommand } from "./cli/unbound-products.ts";
import { EXIT_RECALLED, USAGE, UsageError, type Options, type Verdict } from "./cli/usage.ts";
import { verifyBatch } from "./cli/verify-batch.ts";
import { verifyItem } from "./cli/verify-item.ts";
import { verifyLinkCommand } from "./cli/verify-link.ts";
import { verifyCertificateCommand } from "./cli/verify-certificate.ts";

/** Each command from its single-valued options, the repeatable --regulator and the repeatable --rpc. */
const COMMANDS: Record<
  string,
  (values: Options, regulators: readonly string[], rpcs: readonly string[]) => Promise<Verdict> | Verdict
> = {
  "verify-item": verifyItem,
  "verify-batch": verifyBatch,
  "verify-link": verifyLinkCommand,
  "verify-certificate": verifyCertificateCommand,
  reindex: reindexCommand,
  "unbound-products": unboundProductsCommand,
  audit: auditCommand,
  labels: labelsCommand,
  deploy: deployCommand,
  "error-codes": errorCodesCommand,
  "check-verifier": checkVerifierCommand,
};

/** Commands that read through several endpoints when --rpc is given more than once. */
const SEVERAL_RPC: ReadonlySet<string> = new Set(["verify-link", "verify-item", "verify-batch", "audit"]);

const [command, ...rest] = process.argv.slice(2);
if (command === "help" || command === "--help" || command === "-h") {
  console.log(USAGE);
  process.exit(0);
}
try {
  const { values } = parseArgs({
    args: rest,
    options: {
      rpc: { type: "string", multiple: true },
      quorum: { type: "string" },
      "max-block-age": { type: "string" },
      validators: { type: "string" },
      "typed-data-version": { type: "string" },
      registry: { type: "string" },
      gtin: { type: "string" },
      lot: { type: "string" },
      serial: { type: "string" },
      proof: { type: "string" },
      "from-block": { type: "string" },
      relayer: { type: "string" },
      batch: { type: "string" },
      out: { type: "string" },
      columns: { type: "string" },
      rows: { type: "string" },
      "margin-mm": { type: "string" },
      "gap-mm": { type: "string" },
      server: { type: "string" },
      gateway: { type: "string" },
      html: { type: "string" },
      json: { type: "string" },
      regulator: { type: "string", multiple: true },
      url: { type: "string" },
      "chain-id": { type: "string" },
      cid: { type: "string" },
      release: { type: "string" },
      issuer: { type: "string" },
    },
    strict: true,
  });
  const { regulator: regulators = [], rpc: rpcs = [], ...singleValued } = values;
  const run = command !== undefined && Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (run === undefined) {
    throw new UsageError(command === undefined ? "a command is required" : `unknown command "${command}"`);
  }
  if (rpcs.length > 1 && !SEVERAL_RPC.has(command ?? "")) throw new UsageError(`${command ?? ""} takes one --rpc`);
  // Commands that read one endpoint see it as before; those that take several read `rpcs`.
  const single: Options = { ...singleValued, rpc: rpcs[0] };
  const ok = await run(single, regulators, rpcs);
  process.exitCode = ok === "recalled" ? EXIT_RECALLED : ok ? 0 : 1;
} catch (error) {
  if (error instanceof UsageError || (error instanceof TypeError && "code" in error)) {
    console.error(`error: ${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else if (error instanceof AuditSourceError) {
    console.error(`error: ${error.message}`);
    process.exitCode = 2;
  } else {
    throw error;
  }
}
