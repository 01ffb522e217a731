/**
 * `npm start`: the production server, configured from environment variables
 * (`.env.example` documents each). Without a chain configured, it joins the local chain
 * that `npm run demo` started, reading what the demo deployed from `.data/demo/`.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

import { ConfigError, loadConfig } from "./config.ts";
import { startServer } from "./server.ts";

/** Settings the demo wrote for a local server (development only; never secrets of a real deployment). */
export function demoEnvironment(root = process.cwd()): Record<string, string> {
  const file = path.join(root, ".data", "demo", "server.env.json");
  if (!existsSync(file)) return {};
  return JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
}

export async function main(): Promise<void> {
  const fallback = process.env.REGISTRY_ADDRESS === undefined ? demoEnvironment() : {};
  if (Object.keys(fallback).length > 0) {
    console.warn("[start] REGISTRY_ADDRESS is not set: using the local demo chain's settings from .data/demo/");
  }
  let config;
  try {
    config = loadConfig({ ...fallback, ...process.env });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`${error.message}\n(see .env.example; or run \`npm run demo\` first for a local chain)`);
      process.exitCode = 2;
      return;
    }
    throw error;
  }
  const server = await startServer(config);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
