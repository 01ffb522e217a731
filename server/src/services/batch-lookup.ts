/** A batch named in a request: the one check every service that acts on a batch starts with. */
import { AppError } from "../errors/app-error.ts";
import { getBatch, type Batch } from "../storage/batches.ts";
import type { ServiceContext } from "./context.ts";

/** The batch with this id; an id that is not 32 bytes of hex is refused as unknown without a query. */
export async function requireBatch(ctx: ServiceContext, batchId: string): Promise<Batch> {
  if (!/^0x[0-9a-fA-F]{64}$/.test(batchId)) throw new AppError("batch.not_found");
  const batch = await getBatch(ctx.db, batchId);
  if (batch === null) throw new AppError("batch.not_found");
  return batch;
}
