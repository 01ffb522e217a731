/**
 * The server in its own process (`scripts/tasks/start.ts`), as production runs it: for
 * tests that kill it with SIGKILL mid-work and start it again on the same data.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import path from "node:path";

export interface ServerProcess {
  url: string;
  process: ChildProcess;
  /** Output so far (pino JSON lines and anything else the process printed). */
  output: () => string;
  kill: (signal?: NodeJS.Signals) => Promise<void>;
}

export async function startServerProcess(
  env: Record<string, string>,
  options: { projectRoot?: string; startupTimeoutMs?: number } = {},
): Promise<ServerProcess> {
  const projectRoot = options.projectRoot ?? process.cwd();
  const port = env.PORT;
  if (port === undefined || port === "0") throw new Error("a server process needs a fixed PORT to be restarted on");
  const child = spawn(process.execPath, [path.join(projectRoot, "scripts", "tasks", "start.ts")], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-200_000);
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startupTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}):\n${output}`);
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`server did not answer on ${url} in time:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    process: child,
    output: () => output,
    async kill(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, "exit");
      child.kill(signal);
      await exited;
    },
  };
}
