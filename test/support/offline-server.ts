/**
 * The server in its own process on a fresh data directory, reaching no chain (workers
 * off): for tests of what the HTTP layer does with slow or odd clients.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { freePort } from "../../scripts/lib/chain-node.ts";
import { offlineServerEnv } from "../../scripts/lib/local-stack.ts";
import { startServerProcess, type ServerProcess } from "../../scripts/lib/server-process.ts";

export interface OfflineServerProcess {
  dataDir: string;
  env: Record<string, string>;
  server: ServerProcess;
  stop: () => Promise<void>;
}

export async function startOfflineServerProcess(
  name: string,
  extra: Record<string, string>,
): Promise<OfflineServerProcess> {
  const dataDir = mkdtempSync(path.join(tmpdir(), `${name}-`));
  const env: Record<string, string> = {
    ...offlineServerEnv(dataDir),
    PORT: String(await freePort()),
    LOG_LEVEL: "warn",
    ...extra,
  };
  const server = await startServerProcess(env);
  return {
    dataDir,
    env,
    server,
    async stop() {
      await server.kill();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
