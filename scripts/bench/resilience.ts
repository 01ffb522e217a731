/**
 * How much abuse the system takes without losing anything: the server SIGKILLed again and
 * again during a load of registrations (every accepted registration must end anchored
 * exactly once, or the suite fails), and fast-check hostile inputs on every endpoint (any
 * 5xx fails the suite). The rows count what was survived.
 */
import { Contract, JsonRpcProvider } from "ethers";

import { apiClient } from "../lib/api-client.ts";
import { DEMO_GTIN, waitUntilAnchored } from "../lib/demo-system.ts";
import { attack, hostileTargets } from "../lib/hostile-inputs.ts";
import { runKeyedCrashCycles } from "../lib/keyed-crash.ts";
import { startPostgres } from "../lib/postgres.ts";
import { startServerProcess } from "../lib/server-process.ts";
import { traceRegistryArtifact } from "../../server/src/ledger/registry-artifact.ts";
import { startProcessBenchStack } from "./stack.ts";
import type { BenchRow, BenchSuite } from "./types.ts";

const CYCLES = 15;
/** Per endpoint, as in the security test. */
const HOSTILE_RUNS = 10_000;
const KEYED_CYCLES = 100;

export const resilienceSuite: BenchSuite = {
  name: "resilience",
  async run(): Promise<BenchRow[]> {
    const stack = await startProcessBenchStack({
      name: "resilience",
      itemCount: 10,
      env: { LEDGER_POLL_MS: "100" },
      anchored: false,
    });
    const { node, deployment, demo, env } = stack;
    const provider = new JsonRpcProvider(node.rpcUrl, undefined, { staticNetwork: true });
    try {
      const accepted: string[] = [];
      let lot = 0;
      const register = async (): Promise<void> => {
        try {
          const response = await apiClient(stack.server.url, demo.organisations.cooperative.token).post<{
            batch: { batchId: string };
          }>("/api/v1/batches", {
            gtin: DEMO_GTIN,
            lot: `K${String(lot++).padStart(5, "0")}`,
            harvestedAt: "2026-05-01T08:00:00+08:00",
            quantity: { value: "1", unit: "kg" },
            itemCount: 10,
          });
          if (response.status === 202) accepted.push(response.body.batch.batchId);
        } catch {
          // killed under the request: nothing was promised
        }
      };
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const before = accepted.length;
        const inFlight = Array.from({ length: 6 }, register);
        while (accepted.length === before) await new Promise((resolve) => setTimeout(resolve, 5));
        await new Promise((resolve) => setTimeout(resolve, (cycle * 37) % 300));
        await stack.server.kill("SIGKILL");
        await Promise.all(inFlight);
        stack.server = await startServerProcess(env);
      }
      for (const id of accepted) await waitUntilAnchored(stack.server.url, id, 0, 300_000);
      const registry = new Contract(deployment.registry, traceRegistryArtifact().abi, provider);
      const logs = await registry.queryFilter("BatchAttested", deployment.deployedAtBlock);
      for (const id of accepted) {
        const count = logs.filter((log) => log.topics[1]?.toLowerCase() === id.toLowerCase()).length;
        if (count !== 1) throw new Error(`batch ${id} anchored ${String(count)} times`);
      }

      const coop = demo.organisations.cooperative;
      const items = (
        await apiClient(stack.server.url, coop.token).get<{ items: { serial: string }[] }>(
          `/api/v1/batches/${demo.batch.batchId}/items?limit=1`,
        )
      ).body.items;
      // Every endpoint, as the security test attacks them (the server here is its own process).
      const targets = hostileTargets({
        adminToken: deployment.env.ADMIN_TOKEN ?? "",
        cooperative: coop,
        logisticsId: demo.organisations.logistics.id,
        regulatorToken: demo.organisations.regulator.token,
        gtin: DEMO_GTIN,
        lot: demo.batch.lot,
        batchId: demo.batch.batchId,
        serial: items[0]?.serial ?? "X",
        // No video in this demo: a well-formed CID nothing has.
        videoCid: demo.videoCid ?? "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
      });
      let tried = 0;
      for (const [index, target] of targets.entries()) {
        const outcome = await attack(stack.server.url, target, HOSTILE_RUNS, 7_000 + index * 1_000_003);
        if (outcome.serverErrors > 0) throw new Error(`${target.name}: 5xx from ${outcome.firstServerError ?? ""}`);
        tried += outcome.tried;
      }
      await stack.server.kill("SIGKILL");
      // Keyed writes of every kind across SIGKILLs, on both engines: any loss, duplicate or stuck key throws.
      const keyed = [await runKeyedCrashCycles({ engine: "sqlite", cycles: KEYED_CYCLES, rpcUrl: node.rpcUrl })];
      const cluster = await startPostgres({ log: () => undefined });
      if (cluster !== null) {
        try {
          keyed.push(
            await runKeyedCrashCycles({
              engine: "postgres",
              cycles: KEYED_CYCLES,
              rpcUrl: node.rpcUrl,
              postgresUrl: cluster.url,
            }),
          );
        } finally {
          await cluster.stop();
        }
      }
      return [
        ...keyed.map((report) => ({
          metric: `SIGKILL cycles under keyed writes on ${report.engine} (${String(report.keys)} keys: registrations, events, uploads, recalls), every key answered, none stuck, each write anchored once`,
          value: report.cycles,
          unit: "cycles",
        })),
        {
          metric: `SIGKILL/restart cycles during registrations, zero loss, each anchored once (${String(accepted.length)} accepted)`,
          value: CYCLES,
          unit: "cycles",
        },
        {
          metric: `hostile inputs with zero 5xx (${String(targets.length)} endpoints, ${String(HOSTILE_RUNS)} each)`,
          value: tried,
          unit: "requests",
        },
      ];
    } finally {
      provider.destroy();
      await stack.close("SIGKILL");
    }
  },
};
