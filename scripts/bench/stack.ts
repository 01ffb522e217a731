/**
 * A whole local stack for the benches that need one: a Hardhat node in its own process,
 * the registry, the server (in this process, or in its own), and the demo data.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { pino } from "pino";

import { freePort, startChainNode, type ChainNode } from "../lib/chain-node.ts";
import { seedDemoSystem, waitUntilAnchored, type DemoSystemSummary } from "../lib/demo-system.ts";
import { deployLocalRegistry, type LocalDeployment } from "../lib/local-stack.ts";
import { startServerProcess, type ServerProcess } from "../lib/server-process.ts";
import { loadConfig } from "../../server/src/config.ts";
import { startServer, type RunningServer } from "../../server/src/server.ts";

export interface BenchStack {
  node: ChainNode;
  deployment: LocalDeployment;
  server: RunningServer;
  demo: DemoSystemSummary;
  close: () => Promise<void>;
}

export async function startBenchStack(
  options: { itemCount?: number; env?: Record<string, string> } = {},
): Promise<BenchStack> {
  const node = await startChainNode();
  const dataDir = mkdtempSync(path.join(tmpdir(), "bench-stack-"));
  const deployment = await deployLocalRegistry(node.rpcUrl);
  const server = await startServer(
    loadConfig({
      ...deployment.env,
      PORT: "0",
      DATA_DIR: dataDir,
      RATE_LIMIT_PER_MINUTE: "100000000",
      LEDGER_MAX_WAIT_MS: "300",
      ...options.env,
    }),
    { logger: pino({ level: "warn" }) },
  );
  const video = readFileSync(path.join(process.cwd(), "scripts", "demo-assets", "planting.mp4"));
  const demo = await seedDemoSystem(server.url, deployment.env.ADMIN_TOKEN ?? "", {
    itemCount: options.itemCount ?? 1_000,
    video: { bytes: video, contentType: "video/mp4" },
  });
  await waitUntilAnchored(server.url, demo.batch.batchId, demo.eventIds.length, 300_000);
  return {
    node,
    deployment,
    server,
    demo,
    async close() {
      await server.close();
      await node.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ProcessBenchStack {
  node: ChainNode;
  deployment: LocalDeployment;
  dataDir: string;
  /** The server's environment, to start it again on the same data. */
  env: Record<string, string>;
  /** The server in its own process; a bench that restarts it puts the new one here. */
  server: ServerProcess;
  demo: DemoSystemSummary;
  close: (signal?: NodeJS.Signals) => Promise<void>;
}

/**
 * The stack with the server in its own process (so a bench can kill it, or load it without
 * sharing this process's event loop), the global per-address limit lifted, and the demo
 * seeded; anchored first unless `anchored` is false.
 */
export async function startProcessBenchStack(options: {
  name: string;
  itemCount: number;
  env?: Record<string, string>;
  anchored?: boolean;
}): Promise<ProcessBenchStack> {
  const node = await startChainNode();
  const dataDir = mkdtempSync(path.join(tmpdir(), `bench-${options.name}-`));
  const deployment = await deployLocalRegistry(node.rpcUrl);
  const env = {
    ...deployment.env,
    PORT: String(await freePort()),
    DATA_DIR: dataDir,
    LOG_LEVEL: "warn",
    RATE_LIMIT_PER_MINUTE: "100000000",
    ...options.env,
  };
  const server = await startServerProcess(env);
  const stop = async (running: ServerProcess, signal?: NodeJS.Signals): Promise<void> => {
    await running.kill(signal);
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  let demo: DemoSystemSummary;
  try {
    demo = await seedDemoSystem(server.url, deployment.env.ADMIN_TOKEN ?? "", { itemCount: options.itemCount });
    if (options.anchored !== false) await waitUntilAnchored(server.url, demo.batch.batchId, demo.eventIds.length);
  } catch (error) {
    await stop(server, "SIGKILL");
    throw error;
  }
  const stack: ProcessBenchStack = {
    node,
    deployment,
    dataDir,
    env,
    server,
    demo,
    close: (signal) => stop(stack.server, signal),
  };
  return stack;
}
