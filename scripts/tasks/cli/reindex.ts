/** reindex: the server's query store rebuilt from the chain and IPFS alone. */
import { loadConfig } from "../../../server/src/config.ts";
import { demoEnvironment } from "../../../server/src/main.ts";
import { reindex } from "../../../server/src/reindex.ts";
import { countRows } from "../../../server/src/storage/database.ts";

export async function reindexCommand(): Promise<boolean> {
  const fallback = process.env.REGISTRY_ADDRESS === undefined ? demoEnvironment() : {};
  const config = loadConfig({ ...fallback, ...process.env, WORKERS: "off" });
  const started = performance.now();
  const result = await reindex(config);
  try {
    const count = (table: "organisations" | "batches" | "items" | "events") => countRows(result.db, table);
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
