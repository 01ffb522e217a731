/**
 * `npm run demo`: the whole system on one machine with demo data. Starts a Hardhat node
 * in its own process, deploys the registry, starts the server (SQLite, embedded IPFS) on
 * it, and enters a tea cooperative's harvest through the HTTP API as its users would:
 * onboarding, plot, certificate, planting video, a 1,000-item batch, and its lifecycle
 * from planting to the shop. Waits until everything is anchored, then prints where to
 * look. Keeps running until Ctrl-C (`--exit` stops after seeding).
 *
 * On a phone: `--host 0.0.0.0` (or HOST=0.0.0.0) listens on every interface and takes
 * http://<this machine's LAN address>:<port> as the public origin (unless PUBLIC_ORIGIN says
 * otherwise), so the printed link and its QR code open on a phone on the same network. The
 * chain node stays on loopback: the page reads the chain through the server's own /rpc.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

import { choosePort, startChainNode } from "../lib/chain-node.ts";
import { journeyLines, seedDemoJourneys, waitUntilCasesAnchored } from "../lib/demo-journeys.ts";
import { seedDemoSystem, waitUntilAnchored } from "../lib/demo-system.ts";
import { deployLocalRegistry } from "../lib/local-stack.ts";
import { runCommand } from "../lib/run-command.ts";
import { serveStaticSite, type StaticSite } from "../lib/static-site.ts";
import { buildVerifier } from "./build-verifier.ts";
import { buildWebAssets } from "../lib/web-assets.ts";
import { apiClient } from "../lib/api-client.ts";
import { loadConfig } from "../../server/src/config.ts";
import { deriveVerificationCode } from "../../server/src/domain/serials.ts";
import { CURRENT_TYPED_DATA_VERSION } from "../../server/src/domain/typed-data.ts";
import { qrTerminal } from "../../server/src/labels/qr.ts";
import { startServer, type RunningServer } from "../../server/src/server.ts";

const { values: flags } = parseArgs({
  options: { exit: { type: "boolean", default: false }, host: { type: "string" } },
  strict: true,
});
const exitAfterSeeding = flags.exit;
const projectRoot = process.cwd();
// DEMO_STATE_DIR lets a test run the demo without touching a developer's own .data/demo.
const stateDir = path.resolve(process.env.DEMO_STATE_DIR ?? path.join(projectRoot, ".data", "demo"));
const host = flags.host ?? process.env.HOST ?? "127.0.0.1";
const listensEverywhere = host === "0.0.0.0" || host === "::";

/** The first non-internal IPv4 address: what a phone on the same network can reach. */
function lanAddress(): string | null {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === "IPv4" && !address.internal) return address.address;
    }
  }
  return null;
}
const demoVideo = path.join(projectRoot, "scripts", "demo-assets", "planting.mp4");

console.log("[demo] building the scan page and consoles");
await buildWebAssets();

console.log("[demo] compiling contracts");
// The contracts only, as the test command's build step: the demo deploys no Solidity test, and
// compiling them took a fresh clone's demo over a minute and a half more.
const build = await runCommand("hardhat", ["build", "--quiet", "--no-tests"]);
if (build.code !== 0) throw new Error("contract compilation failed");

const chainPort = await choosePort(Number(process.env.DEMO_CHAIN_PORT ?? 8545));
console.log(`[demo] starting a Hardhat node on 127.0.0.1:${chainPort}`);
const node = await startChainNode({ port: chainPort, projectRoot });
let server: RunningServer | null = null;
let verifierSite: StaticSite | null = null;
const shutdown = async (): Promise<void> => {
  await verifierSite?.close();
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
  const httpPort = await choosePort(Number(process.env.PORT ?? process.env.DEMO_HTTP_PORT ?? 8080));
  const lan = listensEverywhere ? lanAddress() : null;
  if (listensEverywhere && lan === null) console.log("[demo] no LAN address found: the links name localhost");
  const publicOrigin = (
    process.env.PUBLIC_ORIGIN ??
    `http://${lan ?? (listensEverywhere || host === "127.0.0.1" ? "localhost" : hostForUrl(host))}:${httpPort}`
  ).replace(/\/$/, "");
  // The independent verifier, pinned to this deployment and served from another origin (its
  // own port). Its one endpoint is the demo's node, on loopback: it verifies on this machine.
  const verifier = await buildVerifier(
    {
      chainId: deployment.chainId.toString(),
      registry: deployment.registry,
      typedDataVersion: CURRENT_TYPED_DATA_VERSION,
      deploymentBlock: String(deployment.deployedAtBlock),
      endpoints: [node.rpcUrl],
      quorum: 1,
    },
    { outDir: path.join(stateDir, "verifier") },
  );
  const verifierPort = await choosePort(Number(process.env.DEMO_VERIFIER_PORT ?? httpPort + 1));
  verifierSite = await serveStaticSite(verifier.outDir, { host, port: verifierPort });
  const verifierUrl = `http://${lan ?? (listensEverywhere || host === "127.0.0.1" ? "localhost" : hostForUrl(host))}:${verifierPort}/`;
  const env = {
    ...deployment.env,
    VERIFIER_URL: verifierUrl,
    HOST: host,
    PORT: String(httpPort),
    PUBLIC_ORIGIN: publicOrigin,
    DATA_DIR: path.join(stateDir, "server"),
    LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
  };
  // `npm start` picks these up when nothing else is configured (development only).
  writeFileSync(path.join(stateDir, "server.env.json"), JSON.stringify(env, null, 2), { mode: 0o600 });

  server = await startServer(loadConfig(env));
  // Seeded over loopback whatever the server listens on (0.0.0.0 is not an address to call).
  const localUrl = listensEverywhere ? `http://127.0.0.1:${httpPort}` : server.url;
  console.log(
    `[demo] server listening on ${host}:${httpPort}, public origin ${publicOrigin}; entering the demo harvest through its API`,
  );
  const video = existsSync(demoVideo) ? { bytes: readFileSync(demoVideo), contentType: "video/mp4" } : null;
  const summary = await seedDemoSystem(localUrl, deployment.env.ADMIN_TOKEN ?? "", { video });
  // Queued behind the batch's own writes: the ledger writer sends them in order, so nothing waits twice.
  console.log("[demo] splitting the batch into cases: the Shanghai shop's, an online order's, a live-stream order's");
  const journeys = await seedDemoJourneys(localUrl, summary);
  console.log("[demo] waiting for the batch, its 9 events and its 3 cases to be anchored on the chain");
  await waitUntilAnchored(localUrl, summary.batch.batchId, summary.eventIds.length);
  await waitUntilCasesAnchored(localUrl, summary.organisations.cooperative.token, journeys.ssccs);
  writeFileSync(path.join(stateDir, "summary.json"), JSON.stringify({ ...summary, journeys }, null, 2), {
    mode: 0o600,
  });

  const origin = publicOrigin;
  const coop = apiClient(localUrl, summary.organisations.cooperative.token);
  const items = (
    await coop.get<{ items: { uri: string; serial: string }[] }>(
      `/api/v1/batches/${summary.batch.batchId}/items?limit=8`,
    )
  ).body.items;
  const sample = items[7] ?? items[0];
  if (sample === undefined) throw new Error("the demo batch has no items");
  const resolution = (await apiClient(localUrl).get<{ proof: string[] }>(new URL(sample.uri).pathname)).body;
  const labelLink = (await coop.post<{ url: string }>(`/api/v1/batches/${summary.batch.batchId}/label-links`, {})).body
    .url;
  const hiddenCode = deriveVerificationCode(server.ctx.secrets.hiddenCodePepper, summary.batch.batchId, sample.serial);

  console.log(`
[demo] done. What is running now:
  chain            ${node.rpcUrl} (chain id ${deployment.chainId.toString()}), TraceRegistry ${deployment.registry}
  server           ${origin}   (API: ${origin}/api/v1/openapi.json)
  batch            西湖龙井 明前特级, GTIN ${summary.batch.gtin}, lot ${summary.batch.lot}, ${summary.batch.itemCount} items, anchored
  planting video   ${summary.videoCid === null ? "(none)" : `${origin}/ipfs/${summary.videoCid}`}
  verifier         ${verifierUrl}   (independent: another origin, pinned to this registry; IPFS CID ${verifier.release.cid})

Scan one item (open on this machine, or scan the code below):
  ${sample.uri}
  (the hidden code under its scratch-off is ${hiddenCode}: enter it on the page to claim the item)
${await qrTerminal(sample.uri)}
${journeyLines(journeys, origin, summary.batch.gtin, summary.batch.lot)}

Label sheet of the whole batch (A4 PDF, link valid for an hour):
  ${labelLink}
Consoles (demo tokens; each organisation's others are in ${path.relative(projectRoot, stateDir)}/summary.json):
  cooperative      ${origin}/console/cooperative   token ${summary.organisations.cooperative.token}
  carrier          ${origin}/console/field         token ${summary.organisations.logistics.token}
  testing centre   ${origin}/console/field         token ${summary.organisations.inspector.token}
  regulator        ${origin}/console/regulator     token ${summary.organisations.regulator.token}
  operator         ${origin}/console/operator      token: ADMIN_TOKEN in ${path.relative(projectRoot, stateDir)}/server.env.json
A new cooperative applies to join at ${origin}/apply; the district's regulator reviews it in its console.

Verify that item yourself, trusting only the chain:
  npm run cli -- verify-item --rpc ${node.rpcUrl} --registry ${deployment.registry} \\
    --gtin ${summary.batch.gtin} --lot ${summary.batch.lot} --serial ${sample.serial} \\
    --proof ${resolution.proof.join(",")}
Or in the independent verifier, which trusts none of the server's answer (chain read from ${node.rpcUrl}):
  ${verifierUrl}?link=${encodeURIComponent(sample.uri)}
  npm run cli -- check-verifier --url ${verifierUrl} --release ${path.relative(projectRoot, path.join(verifier.outDir, "release.json"))}
Re-verify the whole batch (signatures, event hash chain):
  npm run cli -- verify-batch --rpc ${node.rpcUrl} --registry ${deployment.registry} --gtin ${summary.batch.gtin} --lot ${summary.batch.lot} \\
    --gateway ${origin}

Tokens: ${path.relative(projectRoot, stateDir)}/summary.json (organisations) and ${path.relative(projectRoot, stateDir)}/server.env.json (ADMIN_TOKEN).${
    listensEverywhere
      ? `\n\nOn a phone on the same network: open ${origin} links or scan the code above (the server listens on ${host}).`
      : ""
  }`);
} catch (error) {
  await shutdown();
  throw error;
}

/** An IPv6 literal goes in brackets in a URL. */
function hostForUrl(name: string): string {
  return name.includes(":") ? `[${name}]` : name;
}

if (exitAfterSeeding) {
  await shutdown();
} else {
  console.log("\n[demo] running; press Ctrl-C to stop.");
}
