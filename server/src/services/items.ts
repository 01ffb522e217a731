/** A batch's items as their cooperative (and regulators) see them: serials and Digital Link URIs. */
import { buildDigitalLink } from "../domain/gs1.ts";
import type { Batch } from "../storage/batches.ts";
import type { ServiceContext } from "./context.ts";

export interface ItemLink {
  serial: string;
  leafIndex: number;
  uri: string;
}

/** The Digital Link of one item on the configured public origin. */
export function itemUri(ctx: ServiceContext, gtin: string, lot: string, serial: string): string {
  const origin = new URL(ctx.publicOrigin);
  return buildDigitalLink({
    scheme: origin.protocol === "http:" ? "http" : "https",
    host: origin.host,
    gtin,
    lot,
    serial,
  });
}

export async function listItemLinks(
  ctx: ServiceContext,
  batch: Batch,
  page: { offset: number; limit: number },
): Promise<ItemLink[]> {
  const rows = await ctx.db
    .selectFrom("items")
    .select(["serial", "leaf_index"])
    .where("batch_id", "=", batch.batchId)
    .orderBy("leaf_index")
    .offset(page.offset)
    .limit(page.limit)
    .execute();
  return rows.map((row) => ({
    serial: row.serial,
    leafIndex: row.leaf_index,
    uri: itemUri(ctx, batch.gtin, batch.lot, row.serial),
  }));
}
