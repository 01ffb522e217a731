/** Whether this replica can serve: its database answers. */
import { pingDatabase } from "../storage/database.ts";
import type { ServiceContext } from "./context.ts";

export async function checkHealth(ctx: ServiceContext): Promise<void> {
  await pingDatabase(ctx.db);
}
