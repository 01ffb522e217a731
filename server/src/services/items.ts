/** A batch's items as their cooperative (and regulators) see them: serials and Digital Link URIs. */
import { buildDigitalLink } from "../domain/gs1.ts";
import { deriveVerificationCode } from "../domain/serials.ts";
import { AppError } from "../errors/app-error.ts";
import type { LabelItem, LabelSheetHeading } from "../labels/sheet/types.ts";
import { getItem, listItemsAfter, listItemsPage, type Batch, type Item } from "../storage/batches.ts";
import { getProduct } from "../storage/catalogue.ts";
import type { ServiceContext } from "./context.ts";
import { memoised } from "./memoise.ts";

export interface ItemLink {
  serial: string;
  leafIndex: number;
  uri: string;
}

/** Scheme and host of a public origin, parsed once (every scan's answer names its item's link). */
const originOf = memoised((publicOrigin: string) => {
  const origin = new URL(publicOrigin);
  return { scheme: origin.protocol === "http:" ? ("http" as const) : ("https" as const), host: origin.host };
}, 16);

/** The Digital Link of one item on the configured public origin. */
export function itemUri(ctx: ServiceContext, gtin: string, lot: string, serial: string): string {
  const { scheme, host } = originOf(ctx.publicOrigin);
  return buildDigitalLink({
    scheme,
    host,
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
  const items = await listItemsPage(ctx.db, batch.batchId, page);
  return items.map((item) => ({ ...item, uri: itemUri(ctx, batch.gtin, batch.lot, item.serial) }));
}

export async function requireItem(ctx: ServiceContext, batch: Batch, serial: string): Promise<Item> {
  const item = await getItem(ctx.db, batch.batchId, serial);
  if (item === null) throw new AppError("item.not_found");
  return item;
}

/** Rows read at a time while a label sheet streams: a few milliseconds of SQLite each. */
const LABEL_PAGE_ROWS = 2_000;

/**
 * What a batch's label sheet prints: its heading, and its items a page of rows at a time,
 * each with the hidden code derived for its box, so a million-item sheet never sits in memory.
 */
export async function labelSheetOf(
  ctx: ServiceContext,
  batch: Batch,
): Promise<{ heading: LabelSheetHeading; items: AsyncGenerator<LabelItem> }> {
  const product = await getProduct(ctx.db, batch.gtin);
  return {
    heading: {
      productName: { zh: product?.nameZh ?? batch.gtin, en: product?.nameEn ?? null },
      gtin: batch.gtin,
      lot: batch.lot,
      complianceCertificateNumber: batch.certificateNumber,
    },
    items: labelItems(ctx, batch),
  };
}

async function* labelItems(ctx: ServiceContext, batch: Batch): AsyncGenerator<LabelItem> {
  for (let after = -1; ;) {
    const items = await listItemsAfter(ctx.db, batch.batchId, after, LABEL_PAGE_ROWS);
    for (const item of items) {
      const hasHiddenCode = item.hiddenCodeHmac !== null;
      yield {
        uri: itemUri(ctx, batch.gtin, batch.lot, item.serial),
        serial: item.serial,
        hasHiddenCode,
        ...(hasHiddenCode
          ? { hiddenCode: deriveVerificationCode(ctx.secrets.hiddenCodePepper, batch.batchId, item.serial) }
          : {}),
      };
    }
    const last = items.at(-1);
    if (last === undefined || items.length < LABEL_PAGE_ROWS) return;
    after = last.leafIndex;
  }
}
