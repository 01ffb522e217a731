/**
 * `npm run demo`: the whole system on one machine with demo data. Starts a Hardhat node
 * in its own process, deploys the registry, starts the server (SQLite, embedded IPFS) on
 * it, and enters a tea cooperative's harvest through the HTTP API as its users would:
 * onboarding, plot, certificate, planting video, a 1,000-item batch, and its lifecycle
 * from planting to the shop. Waits until everything is anchored, then prints where to
 * look. Keeps running until Ctrl-C (`--exit` stops after seeding).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

import { choosePort, startChainNode } from "../lib/chain-node.ts";
import { seedDemoSystem, waitUntilAnchored } from "../lib/demo-system.ts";
import { deployLocalRegistry } from "../lib/local-stack.ts";
import { runCommand } from "../lib/run-command.ts";
import { buildWebAssets } from "../lib/web-assets.ts";
import { apiClient } from "../lib/api-client.ts";
import { loadConfig } from "../../server/src/config.ts";
import { deriveVerificationCode } from "../../server/src/domain/serials.ts";
import { qrTerminal } from "../../server/src/labels/qr.ts";
import { startServer, type RunningServer } from "../../server/src/server.ts";

const exitAfterSeeding = process.argv.includes("--exit");
const projectRoot = process.cwd();
const stateDir = path.join(projectRoot, ".data", "demo");
const demoVideo = path.join(projectRoot, "scripts", "demo-assets", "planting.mp4");

console.log("[demo] building the scan page and consoles");
await buildWebAssets();

console.log("[demo] compiling contracts");
const build = await runCommand("hardhat", ["build", "--quiet"]);
if (build.code !== 0) throw new Error("contract compilation failed");

const chainPort = await choosePort(Number(process.env.DEMO_CHAIN_PORT ?? 8545));
console.log(`[demo] starting a Hardhat node on 127.0.0.1:${chainPort}`);
const node = await startChainNode({ port: chainPort, projectRoot });
let server: RunningServer | null = null;
const shutdown = async (): Promise<void> => {
  await server?.close();
  await node.stop();
};
process.once("SIGINT", () => {
  void shutdown().then(() => process.exit(0));
});
process.once("SIGTERM", () => {
  void shutdown().then(() => process.exit(0));
});

try {
  console.log("[demo] deploying the registry");
  const deployment = await deployLocalRegistry(node.rpcUrl);
  // A new chain every run: yesterday's database would point at blocks that no longer exist.
  rmSync(stateDir, { recursive: true, force: true });
  mkdirSync(stateDir, { recursive: true });
  const httpPort = await choosePort(Number(process.env.DEMO_HTTP_PORT ?? 8080));
  const env = {
    ...deployment.env,
    PORT: String(httpPort),
    PUBLIC_ORIGIN: `http://localhost:${httpPort}`,
    DATA_DIR: path.join(stateDir, "server"),
    LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
  };
  // `npm start` picks these up when nothing else is configured (development only).
  writeFileSync(path.join(stateDir, "server.env.json"), JSON.stringify(env, null, 2), { mode: 0o600 });

  server = await startServer(loadConfig(env));
  console.log(`[demo] server on ${server.url}; entering the demo harvest through its API`);
  const video = existsSync(demoVideo) ? { bytes: readFileSync(demoVideo), contentType: "video/mp4" } : null;
  const summary = await seedDemoSystem(server.url, deployment.env.ADMIN_TOKEN ?? "", { video });
  console.log("[demo] waiting for the batch and its 9 events to be anchored on the chain");
  await waitUntilAnchored(server.url, summary.batch.batchId, summary.eventIds.length);
  writeFileSync(path.join(stateDir, "summary.json"), JSON.stringify(summary, null, 2), { mode: 0o600 });

  const origin = `http://localhost:${httpPort}`;
  const coop = apiClient(server.url, summary.organisations.cooperative.token);
  const items = (
    await coop.get<{ items: { uri: string; serial: string }[] }>(
      `/api/v1/batches/${summary.batch.batchId}/items?limit=8`,
    )
  ).body.items;
  const sample = items[7] ?? items[0];
  if (sample === undefined) throw new Error("the demo batch has no items");
  const resolution = (await apiClient(server.url).get<{ proof: string[] }>(new URL(sample.uri).pathname)).body;
  const labelLink = (await coop.post<{ url: string }>(`/api/v1/batches/${summary.batch.batchId}/label-links`, {})).body
    .url;
  const hiddenCode = deriveVerificationCode(server.ctx.secrets.hiddenCodePepper, summary.batch.batchId, sample.serial);

  console.log(`
[demo] done. What is running now:
  chain            ${node.rpcUrl} (chain id ${deployment.chainId.toString()}), TraceRegistry ${deployment.registry}
  server           ${origin}   (API: ${origin}/api/v1/openapi.json)
  batch            西湖龙井 明前特级, GTIN ${summary.batch.gtin}, lot ${summary.batch.lot}, ${summary.batch.itemCount} items, anchored
  planting video   ${summary.videoCid === null ? "(none)" : `${origin}/ipfs/${summary.videoCid}`}

Scan one item (open on this machine, or scan the code below):
  ${sample.uri}
  (the hidden code under its scratch-off is ${hiddenCode}: enter it on the page to claim the item)
${await qrTerminal(sample.uri)}
Label sheet of the whole batch (A4 PDF, link valid for an hour):
  ${labelLink}
Consoles (demo tokens; each organisation's others are in .data/demo/summary.json):
  cooperative      ${origin}/console/cooperative   token ${summary.organisations.cooperative.token}
  regulator        ${origin}/console/regulator     token ${summary.organisations.regulator.token}

Verify that item yourself, trusting only the chain:
  npm run cli -- verify-item --rpc ${node.rpcUrl} --registry ${deployment.registry} \\
    --gtin ${summary.batch.gtin} --lot ${summary.batch.lot} --serial ${sample.serial} \\
    --proof ${resolution.proof.join(",")}
Re-verify the whole batch (signatures, event hash chain):
  npm run cli -- verify-batch --rpc ${node.rpcUrl} --registry ${deployment.registry} --gtin ${summary.batch.gtin} --lot ${summary.batch.lot}

Tokens: .data/demo/summary.json (organisations) and .data/demo/server.env.json (ADMIN_TOKEN).`);
} catch (error) {
  await shutdown();
  throw error;
}

if (exitAfterSeeding) {
  await shutdown();
} else {
  console.log("\n[demo] running; press Ctrl-C to stop.");
}
