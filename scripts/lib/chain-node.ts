/**
 * A Hardhat node in its own process, on loopback: the local EVM the demo and the
 * integration tests talk to over JSON-RPC, exactly as they would talk to any chain.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import path from "node:path";

export interface ChainNode {
  rpcUrl: string;
  port: number;
  process: ChildProcess;
  stop: () => Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  if (address === null || typeof address === "string") throw new Error("could not get a free port");
  return address.port;
}

/** `preferred` when nothing listens there (so the demo's URL is the familiar one), else any free port. */
export async function choosePort(preferred: number): Promise<number> {
  const server = createServer();
  try {
    server.listen(preferred, "127.0.0.1");
    await once(server, "listening");
    return preferred;
  } catch {
    return await freePort();
  } finally {
    server.close();
  }
}

async function rpcReady(rpcUrl: string): Promise<boolean> {
  try {
    const response = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(1_000),
    });
    return response.ok;
  } catch {
    return false;
  }
}

export async function startChainNode(
  options: { port?: number; projectRoot?: string; startupTimeoutMs?: number; log?: (line: string) => void } = {},
): Promise<ChainNode> {
  const port = options.port ?? (await freePort());
  const projectRoot = options.projectRoot ?? process.cwd();
  const hardhatBin = path.join(projectRoot, "node_modules", ".bin", "hardhat");
  const child = spawn(hardhatBin, ["node", "--hostname", "127.0.0.1", "--port", String(port)], {
    cwd: projectRoot,
    stdio: ["ignore", "pipe", "pipe"],
    detached: false,
  });
  let output = "";
  const collect = (chunk: Buffer): void => {
    const text = chunk.toString();
    if (output.length < 20_000) output += text;
    options.log?.(text);
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);

  const rpcUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startupTimeoutMs ?? 60_000);
  while (!(await rpcReady(rpcUrl))) {
    if (child.exitCode !== null) throw new Error(`hardhat node exited (${child.exitCode}):\n${output}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`hardhat node did not answer on ${rpcUrl} in time:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  };
  return { rpcUrl, port, process: child, stop };
}
