/**
 * `npm run cli -- <command> [options]`: the command line for cooperatives, regulators
 * and operators. Every command validates its input and says plainly what was wrong.
 */
import { createWriteStream, writeFileSync } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";

import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { JsonRpcProvider, Wallet, isAddress, isHexString, type Contract } from "ethers";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";
import { equals } from "multiformats/bytes";
import { z } from "zod";

import { deployTraceRegistry, traceRegistryAt } from "../../server/src/ledger/deploy.ts";
import { readAttestation, readBatch, readEvents, recomputeEventHead } from "../../server/src/ledger/chain-reader.ts";
import type { SigningDomain } from "../../server/src/ledger/signing.ts";
import { loadConfig } from "../../server/src/config.ts";
import { demoEnvironment } from "../../server/src/main.ts";
import { reindex } from "../../server/src/reindex.ts";
import { renderAuditHtml } from "../../server/src/services/audit/report.ts";
import { cidTextFromHex } from "../../server/src/services/documents.ts";
import { renderErrorCatalogue } from "../lib/error-catalogue.ts";
import { AuditSourceError, remoteAudit } from "../lib/remote-audit.ts";
import { verifyLink } from "../lib/verify-link.ts";

class UsageError extends Error {}

/** Exit status of verify-item and verify-batch for a batch that verifies but has been recalled. */
const EXIT_RECALLED = 3;

/** What a verification found: verified, recalled (genuine but withdrawn) or not verified. */
type Verdict = boolean | "recalled";

const USAGE = `usage: npm run cli -- <command> [options]

commands:
  verify-item   --rpc URL --registry ADDRESS --gtin GTIN14 --lot LOT --serial SERIAL --proof HEX[,HEX...]
                Checks on chain that the item belongs to the batch (Merkle proof against the root).
  verify-link   --url LINK [--rpc URL] [--registry ADDRESS] [--chain-id N]
                Verifies the item behind a scanned link as the scan page does: authenticity against the
                chain, then safety findings (excursion, certificate, failed test, recall); exits 0 only
                when it is verified.
  verify-batch  --rpc URL --registry ADDRESS --gtin GTIN14 --lot LOT [--from-block N] [--gateway URL]
                Re-verifies the attestation signature, every event signature and the event hash chain.
                A recalled batch is RECALLED, with who recalled it and the reason (its document fetched
                from --gateway, an IPFS path gateway such as the platform's, and checked against its CID).
  audit         --rpc URL --registry ADDRESS --batch BATCH_ID --server URL (token in REGULATOR_TOKEN)
                [--gateway URL] [--from-block N] [--html FILE] [--json FILE]
                Audits a batch from sources you choose: the chain over your JSON-RPC endpoint, every file
                from an IPFS gateway (default: the platform's) re-hashed here; exits 1 on a critical finding.
  labels        --server URL --batch BATCH_ID --out FILE.pdf [--columns N --rows N --margin-mm N --gap-mm N]
                Downloads the batch's A4 label sheet (token in COOPERATIVE_TOKEN), streamed to FILE.
  deploy        --rpc URL --relayer ADDRESS [--regulator ADDRESS ...]
                Deploys the registry with the key in DEPLOYER_PRIVATE_KEY (which becomes its admin)
                and prints the server's settings for it.
  reindex       Rebuilds the server's query store from the chain and IPFS alone (configured as for
                \`npm start\`: environment variables, or the local demo's settings); run it on an empty database.
  error-codes   Rewrites docs/error-codes.md from the error catalogues.

exit status: 0 verified (or done); 1 not verified: unknown, not in the batch, a bad signature or
             hash chain, a critical audit finding; 2 usage or source error; 3 RECALLED (verify-item,
             verify-batch): the records are genuine, but the batch has been recalled.
`;

function required(values: Record<string, string | undefined>, name: string): string {
  const value = values[name];
  if (value === undefined || value === "") throw new UsageError(`--${name} is required`);
  return value;
}

function parseGtin(text: string): bigint {
  if (!/^\d{14}$/.test(text)) throw new UsageError(`--gtin must be 14 digits, got "${text}"`);
  return BigInt(text);
}

async function connect(values: Record<string, string | undefined>) {
  const rpc = required(values, "rpc");
  const registryAddress = required(values, "registry");
  const addressValid: boolean = isAddress(registryAddress);
  if (!addressValid) throw new UsageError(`--registry is not an address: "${registryAddress}"`);
  const provider = new JsonRpcProvider(rpc, undefined, { staticNetwork: true });
  const network = await provider.getNetwork().catch((cause: unknown) => {
    throw new UsageError(`cannot reach the JSON-RPC endpoint ${rpc}: ${String(cause)}`);
  });
  const registry = traceRegistryAt(registryAddress, provider);
  const domain: SigningDomain = { chainId: network.chainId, verifyingContract: registryAddress };
  return { provider, registry, domain };
}

async function verifyItem(values: Record<string, string | undefined>): Promise<Verdict> {
  const gtin = parseGtin(required(values, "gtin"));
  const lot = required(values, "lot");
  const serial = required(values, "serial");
  const proof = required(values, "proof").split(",");
  for (const node of proof) {
    if (!isHexString(node, 32)) throw new UsageError(`--proof has an entry that is not 32 bytes of hex: "${node}"`);
  }
  const { provider, registry } = await connect(values);
  try {
    const batchId = (await registry.getFunction("batchIdOf")(gtin, lot)) as string;
    const batch = await readBatch(registry, batchId);
    if (batch.status === "none") {
      console.log(`UNKNOWN: no batch GTIN ${values.gtin ?? ""} lot ${lot} on this registry`);
      return false;
    }
    const onChain = (await registry.getFunction("verifyItem")(batchId, serial, proof)) as boolean;
    const offChain = StandardMerkleTree.verify(batch.itemsRoot, ["string"], [serial], proof);
    console.log(`batch ${batchId}: ${batch.itemCount} items, status ${batch.status}, root ${batch.itemsRoot}`);
    console.log(`on-chain proof check:  ${onChain ? "valid" : "INVALID"}`);
    console.log(`off-chain proof check: ${offChain ? "valid" : "INVALID"}`);
    const verdict = onChain && offChain ? (batch.status === "recalled" ? "RECALLED" : "VERIFIED") : "NOT IN BATCH";
    console.log(`verdict: ${verdict}`);
    if (verdict === "RECALLED") return "recalled";
    return onChain && offChain;
  } finally {
    provider.destroy();
  }
}

interface RecallFromLog {
  recalledBy: string;
  block: number;
  reasonCid: string;
}

/** The batch's BatchRecalled log: who recalled it and the CID of the reason document. */
async function readRecall(registry: Contract, batchId: string, fromBlock: number): Promise<RecallFromLog | null> {
  const logs = await registry.queryFilter(registry.filters.BatchRecalled?.(batchId) ?? "BatchRecalled", fromBlock);
  const last = logs.at(-1);
  if (last === undefined || !("args" in last)) return null;
  const args = last.args as unknown as { recalledBy: string; reasonCid: string };
  return { recalledBy: args.recalledBy, block: last.blockNumber, reasonCid: cidTextFromHex(args.reasonCid) };
}

/** The reason document from an IPFS path gateway, kept only if its bytes hash to the CID. */
async function fetchReason(gateway: string, cidText: string): Promise<{ zh: string; en: string | null } | string> {
  const cid = CID.parse(cidText);
  let bytes: Uint8Array;
  try {
    const response = await fetch(`${gateway.replace(/\/$/, "")}/ipfs/${cidText}`, {
      signal: AbortSignal.timeout(15_000),
    });
    if (!response.ok) return `the gateway answered ${String(response.status)}`;
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    return `the gateway could not be reached (${error instanceof Error ? error.message : String(error)})`;
  }
  const digest = await sha256.digest(bytes);
  if (cid.code !== raw.code || !equals(digest.bytes, cid.multihash.bytes)) {
    return "the gateway's bytes do not match the CID";
  }
  const parsed = reasonDocumentShape.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
  return parsed.success ? parsed.data.reason : "the document is not a recall reason";
}

const reasonDocumentShape = z.object({ reason: z.object({ zh: z.string(), en: z.string().nullable() }) });

async function verifyBatch(values: Record<string, string | undefined>): Promise<Verdict> {
  const gtin = parseGtin(required(values, "gtin"));
  const lot = required(values, "lot");
  const fromBlock = Number(values["from-block"] ?? 0);
  if (!Number.isSafeInteger(fromBlock) || fromBlock < 0) throw new UsageError("--from-block must be a block number");
  const { provider, registry, domain } = await connect(values);
  try {
    const batchId = (await registry.getFunction("batchIdOf")(gtin, lot)) as string;
    const batch = await readBatch(registry, batchId);
    if (batch.status === "none") {
      console.log(`UNKNOWN: no batch GTIN ${values.gtin ?? ""} lot ${lot} on this registry`);
      return false;
    }
    const attestation = await readAttestation(registry, domain, batchId, fromBlock);
    const events = await readEvents(registry, domain, batchId, fromBlock);
    const head = recomputeEventHead(events.map((e) => e.digest));
    const findings: string[] = [];
    if (!attestation) findings.push("no BatchAttested log found");
    else if (!attestation.signatureValid) findings.push("the attestation signature does not match the attester");
    else if (attestation.value.itemsRoot !== batch.itemsRoot) findings.push("attested root differs from stored root");
    events.forEach((e, i) => {
      if (!e.signatureValid) findings.push(`event ${i} (${e.bizStep}): signature does not match ${e.value.actor}`);
    });
    if (head !== batch.eventHead)
      findings.push(`event hash chain from logs ${head} != head on chain ${batch.eventHead}`);
    console.log(`batch ${batchId}: status ${batch.status}, ${batch.itemCount} items, ${events.length} events`);
    for (const e of events) {
      console.log(
        `  ${new Date(Number(e.value.occurredAt) * 1000).toISOString()}  ${e.bizStep.padEnd(18)} by ${e.value.actor}  signature ${e.signatureValid ? "ok" : "BAD"}`,
      );
    }
    console.log(`event head on chain ${batch.eventHead}; recomputed from logs ${head}`);
    if (findings.length > 0) {
      console.log(`verdict: FAILED\n  - ${findings.join("\n  - ")}`);
      return false;
    }
    if (batch.status !== "recalled") {
      console.log("verdict: VERIFIED");
      return true;
    }
    // Every signature holds, but the batch was withdrawn: say so, never "VERIFIED".
    console.log("verdict: RECALLED (the records are genuine; the batch has been recalled)");
    const recall = await readRecall(registry, batchId, fromBlock);
    if (recall === null) {
      console.log("  no BatchRecalled log found from the given block");
    } else {
      console.log(`  recalled by ${recall.recalledBy} in block ${String(recall.block)}`);
      console.log(`  reason document ${recall.reasonCid}`);
      const gateway = values.gateway;
      if (gateway === undefined) {
        console.log("  (pass --gateway URL to fetch and check the reason)");
      } else {
        const reason = await fetchReason(gateway, recall.reasonCid);
        if (typeof reason === "string") console.log(`  reason: not shown: ${reason}`);
        else console.log(`  reason: ${reason.zh}${reason.en === null ? "" : `\n          ${reason.en}`}`);
      }
    }
    return "recalled";
  } finally {
    provider.destroy();
  }
}

async function auditCommand(values: {
  rpc?: string;
  registry?: string;
  batch?: string;
  server?: string;
  gateway?: string;
  "from-block"?: string;
  html?: string;
  json?: string;
}): Promise<boolean> {
  const token = process.env.REGULATOR_TOKEN;
  if (token === undefined || token === "") throw new UsageError("REGULATOR_TOKEN must hold a regulator's API token");
  const registry = required({ registry: values.registry }, "registry");
  if (!isAddress(registry)) throw new UsageError("--registry is not an address");
  const batchId = required({ batch: values.batch }, "batch");
  if (!isHexString(batchId, 32)) throw new UsageError("--batch is a 32-byte hex batch id");
  const server = required({ server: values.server }, "server");
  const report = await remoteAudit(batchId, {
    rpcUrl: required({ rpc: values.rpc }, "rpc"),
    registry,
    fromBlock: Number(values["from-block"] ?? "0"),
    gateway: values.gateway ?? server,
    server,
    token,
  });
  if (values.html !== undefined) writeFileSync(values.html, renderAuditHtml(report));
  if (values.json !== undefined) writeFileSync(values.json, JSON.stringify(report, null, 2));
  console.log(`audit of ${report.gtin ?? "?"} / ${report.lot ?? "?"} (${batchId})`);
  console.log(`checked: ${report.checked.join(", ")}`);
  for (const f of report.findings)
    console.log(`  [${f.severity}] ${f.code}: ${f.zh} / ${f.en} ${JSON.stringify(f.evidence)}`);
  console.log(report.findings.length === 0 ? "no findings" : `${report.findings.length} finding(s)`);
  return !report.findings.some((f) => f.severity === "critical");
}

async function labelsCommand(values: {
  server?: string;
  batch?: string;
  out?: string;
  columns?: string;
  rows?: string;
  "margin-mm"?: string;
  "gap-mm"?: string;
}): Promise<boolean> {
  const token = process.env.COOPERATIVE_TOKEN;
  if (token === undefined || token === "")
    throw new UsageError("COOPERATIVE_TOKEN must hold the cooperative's API token");
  const batchId = required({ batch: values.batch }, "batch");
  if (!isHexString(batchId, 32)) throw new UsageError("--batch is a 32-byte hex batch id");
  const out = required({ out: values.out }, "out");
  const query = new URLSearchParams();
  for (const [flag, name] of [
    ["columns", "columns"],
    ["rows", "rows"],
    ["margin-mm", "marginMm"],
    ["gap-mm", "gapMm"],
  ] as const) {
    const value = values[flag];
    if (value !== undefined) query.set(name, value);
  }
  const url = `${required({ server: values.server }, "server").replace(/\/$/, "")}/api/v1/batches/${batchId}/labels.pdf?${query.toString()}`;
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok || response.body === null) {
    const problem = (await response.json().catch(() => null)) as { message?: { zh?: string; en?: string } } | null;
    console.error(`error ${String(response.status)}: ${problem?.message?.en ?? ""} ${problem?.message?.zh ?? ""}`);
    return false;
  }
  // fetch's stream type and node:stream/web's differ in the DOM typings; they are the same object at run time.
  await pipeline(
    Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>),
    createWriteStream(out),
  );
  console.log(`wrote ${out}`);
  return true;
}

async function deployCommand(values: { rpc?: string; relayer?: string; regulator?: string[] }): Promise<boolean> {
  const key = process.env.DEPLOYER_PRIVATE_KEY;
  if (key === undefined || !/^0x[0-9a-fA-F]{64}$/.test(key)) {
    throw new UsageError("DEPLOYER_PRIVATE_KEY must hold the admin's 0x-prefixed private key");
  }
  const rpc = required({ rpc: values.rpc }, "rpc");
  const relayer = required({ relayer: values.relayer }, "relayer");
  if (!isAddress(relayer)) throw new UsageError("--relayer is not an address");
  const regulators = values.regulator ?? [];
  for (const r of regulators) if (!isAddress(r)) throw new UsageError("a --regulator is not an address");
  const provider = new JsonRpcProvider(rpc);
  try {
    const admin = new Wallet(key, provider);
    const deployment = await deployTraceRegistry(admin, { admin: admin.address, regulators, relayers: [relayer] });
    console.log(`TraceRegistry deployed at ${deployment.address} on chain ${deployment.chainId.toString()}, block ${deployment.deployedAtBlock}
Server settings (see .env.example):
  CHAIN_RPC_URL=${rpc}
  CHAIN_ID=${deployment.chainId.toString()}
  REGISTRY_ADDRESS=${deployment.address}
  REGISTRY_DEPLOYED_AT_BLOCK=${deployment.deployedAtBlock}`);
    return true;
  } finally {
    provider.destroy();
  }
}

async function reindexCommand(): Promise<boolean> {
  const fallback = process.env.REGISTRY_ADDRESS === undefined ? demoEnvironment() : {};
  const config = loadConfig({ ...fallback, ...process.env, WORKERS: "off" });
  const started = performance.now();
  const result = await reindex(config);
  try {
    const count = async (table: "organisations" | "batches" | "items" | "events") =>
      Number(
        (
          await result.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number | string>().as("n"))
            .executeTakeFirstOrThrow()
        ).n,
      );
    console.log(
      `reindexed to block ${result.lastBlock} in ${((performance.now() - started) / 1000).toFixed(1)} s: ` +
        `${await count("organisations")} organisations, ${await count("batches")} batches, ` +
        `${await count("items")} items, ${await count("events")} events`,
    );
  } finally {
    await result.close();
  }
  return true;
}

const [command, ...rest] = process.argv.slice(2);
if (command === "help" || command === "--help" || command === "-h") {
  console.log(USAGE);
  process.exit(0);
}
try {
  const { values } = parseArgs({
    args: rest,
    options: {
      rpc: { type: "string" },
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
    },
    strict: true,
  });
  const { regulator: _regulators, ...single } = values;
  let ok: Verdict;
  switch (command) {
    case "verify-item":
      ok = await verifyItem(single);
      break;
    case "verify-batch":
      ok = await verifyBatch(single);
      break;
    case "verify-link": {
      const link = required(single, "url");
      if (!URL.canParse(link)) throw new UsageError(`--url is not a URL: "${link}"`);
      const { rpc, registry, "chain-id": chainId } = single;
      const outcome = await verifyLink(link, { rpc, registry, chainId });
      ok = outcome.kind === "verdict" && outcome.verdict === "verified";
      break;
    }
    case "reindex":
      ok = await reindexCommand();
      break;
    case "audit":
      ok = await auditCommand(values);
      break;
    case "labels":
      ok = await labelsCommand(values);
      break;
    case "deploy":
      ok = await deployCommand(values);
      break;
    case "error-codes":
      writeFileSync("docs/error-codes.md", renderErrorCatalogue());
      console.log("wrote docs/error-codes.md");
      ok = true;
      break;
    case undefined:
    default:
      throw new UsageError(command === undefined ? "a command is required" : `unknown command "${command}"`);
  }
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
