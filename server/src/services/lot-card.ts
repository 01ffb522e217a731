/**
 * The live-stream lot card (issue 14, part 4): what `/01/{gtin}/10/{lot}` shows a viewer who
 * scans it from a streamer's screen. The batch's signed attestation and metadata document (the
 * page verifies them against the chain), the 合格证 issued for it, and how much of it is still
 * unsold by the mass balance. Nothing here decides "verified".
 */
import { buildDigitalLinkPath } from "../domain/gs1.ts";
import { regionName } from "../domain/region-names.ts";
import { formatQuantityMilli } from "../domain/units.ts";
import { getBatchByLot, type Batch } from "../storage/batches.ts";
import type { LotCard } from "../domain/lot-card.ts";
import { batchRecords } from "./batch-records.ts";
import { certificatePageUrl, certificatesOfBatch } from "./certificates.ts";
import type { ServiceContext } from "./context.ts";
import { inlineDocuments } from "./inline-documents.ts";
import { findProduct } from "./lookups.ts";
import { lotBalance } from "./mass-balance.ts";
import { memoised } from "./memoise.ts";
import { attestationJson, resolvedChain } from "./resolved-batch.ts";

const regionNameOf = memoised(regionName);

/** The lot's path on this origin (`/01/{gtin}/10/{lot}`, the lot percent-encoded as Digital Link wants). */
export function lotPath(gtin: string, lot: string): string {
  return buildDigitalLinkPath({ gtin, lot });
}

/** The oEmbed endpoint's address for a lot page. */
export function oembedUrl(ctx: ServiceContext, pageUrl: string): string {
  return `${ctx.publicOrigin}/oembed?url=${encodeURIComponent(pageUrl)}&format=json`;
}

function cardLinks(ctx: ServiceContext, gtin: string, lot: string): LotCard["links"] {
  const page = `${ctx.publicOrigin}${lotPath(gtin, lot)}`;
  return { page, embed: `${page}?embed=1`, image: `${page}/card.png`, oembed: oembedUrl(ctx, page) };
}

async function buildCard(ctx: ServiceContext, batch: Batch): Promise<LotCard> {
  const [records, product, certificates, balance, documents] = await Promise.all([
    batchRecords(ctx, batch),
    findProduct(ctx, batch.gtin),
    certificatesOfBatch(ctx, batch.batchId),
    lotBalance(ctx, batch.batchId),
    inlineDocuments(ctx, [batch.metadataCid]),
  ]);
  const { cooperative, plot } = records;
  return {
    type: "oioc.lot-card",
    version: 1,
    uri: `${ctx.publicOrigin}${lotPath(batch.gtin, batch.lot)}`,
    gtin: batch.gtin,
    lot: batch.lot,
    product: { name: { zh: product?.nameZh ?? "", en: product?.nameEn ?? null } },
    chain: resolvedChain(ctx, batch),
    batch: {
      batchId: batch.batchId,
      attestation: attestationJson(batch),
      signature: batch.attestation.signature,
      metadataCid: batch.metadataCid,
      ledgerState: batch.ledger.state,
      status: batch.status,
      recall: batch.recall === null ? null : { atMs: batch.recall.atMs, reason: null },
    },
    ipfsGateway: "/ipfs/",
    documents,
    display: {
      cooperative: cooperative === null ? null : { zh: cooperative.nameZh, en: cooperative.nameEn },
      regionName: cooperative === null ? null : regionNameOf(cooperative.regionCode),
      plotRegionName: plot === null ? null : regionNameOf(plot.regionCode),
      certificateNumber: batch.certificateNumber,
    },
    certificates: certificates.map((summary) => ({
      id: summary.id,
      url: certificatePageUrl(ctx, summary.id),
      issuedOn: summary.issuedOn,
      quantity: { value: formatQuantityMilli(summary.quantityMilli), unit: summary.unit },
      mixed: summary.mixed,
    })),
    balance: {
      registered: balance.registered,
      ordered: balance.ordered,
      remaining: balance.remaining,
      soldOut: balance.soldOut,
    },
    links: cardLinks(ctx, batch.gtin, batch.lot),
  };
}

/** The lot's card, or null when no batch of that GTIN and lot was registered. */
export async function lotCardOf(ctx: ServiceContext, gtin: string, lot: string): Promise<LotCard | null> {
  const batch = await getBatchByLot(ctx.db, gtin, lot);
  return batch === null ? null : buildCard(ctx, batch);
}
