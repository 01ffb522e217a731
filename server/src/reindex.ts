/**
 * Rebuilds the query store from the chain and IPFS alone: reads every registry log from
 * the deployment block and lets the projection restore organisations, batches (with their
 * items, from the encrypted archive), events and recalls. Run it on an empty database
 * (`npm run cli -- reindex`), e.g. after the database was lost.
 */
import { randomUUID } from "node:crypto";

import type { Kysely } from "kysely";
import { pino, type Logger } from "pino";

import type { ServerConfig } from "./config.ts";
import { buildContext, buildWorkers } from "./server.ts";
import type { Database } from "./storage/schema.ts";

export interface Reindexed {
  db: Kysely<Database>;
  lastBlock: number;
  close: () => Promise<void>;
}

export async function reindex(config: ServerConfig, options: { logger?: Logger } = {}): Promise<Reindexed> {
  const logger = options.logger ?? pino({ level: config.logLevel });
  const { ctx, database, provider } = await buildContext(config, logger);
  try {
    const { indexer } = buildWorkers(config, ctx, provider, `reindex-${randomUUID()}`);
    const lastBlock = await indexer.sync();
    return {
      db: ctx.db,
      lastBlock,
      async close() {
        provider.destroy();
        await ctx.content.close();
        await database.close();
      },
    };
  } catch (error) {
    provider.destroy();
    await ctx.content.close();
    await database.close();
    throw error;
  }
}
