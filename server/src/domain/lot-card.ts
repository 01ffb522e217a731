/**
 * What the resolver answers for a lot's Digital Link (`/01/{gtin}/10/{lot}`): the live-stream
 * lot card. The batch's signed attestation and metadata CID (checked by `verifyLotCard` in
 * `server/src/verify/verify-lot.ts`), and the platform's display beside them: names, the
 * 合格证 issued for the lot, and how much of it is unsold.
 *
 * Types only: the lot page imports this file without pulling in anything else.
 */
import type { AttestationValueJson, ItemResolution, LedgerStateJson, LocalisedText } from "./resolution.ts";

/** One 合格证 covering the lot, as the platform lists it (each verifies on its own page). */
export interface LotCardCertificate {
  id: string;
  /** The certificate's page (`/c/{id}`), which verifies its signature and lineage. */
  url: string;
  issuedOn: string;
  quantity: { value: string; unit: string };
  mixed: boolean;
}

/** How much of the lot is still unsold, from the platform's mass balance (orders are off chain). */
export interface LotCardBalance {
  registered: number;
  ordered: number;
  remaining: number;
  soldOut: boolean;
}

/** What the lot card shows and what a verifier needs to check it. */
export interface LotCard {
  type: "oioc.lot-card";
  version: 1;
  /** The lot's canonical Digital Link URI (the QR a viewer scans). */
  uri: string;
  gtin: string;
  lot: string;
  product: { name: LocalisedText };
  chain: ItemResolution["chain"];
  batch: {
    batchId: string;
    attestation: AttestationValueJson;
    signature: string;
    metadataCid: string;
    ledgerState: LedgerStateJson;
    status: "active" | "recalled";
    recall: { atMs: number; reason: LocalisedText | null } | null;
  };
  ipfsGateway: string;
  /** Small signed documents by CID (the metadata), hashed against their CIDs like fetched bytes. */
  documents: Record<string, string>;
  display: {
    cooperative: LocalisedText | null;
    regionName: LocalisedText | null;
    plotRegionName: LocalisedText | null;
    /** The 承诺达标合格证 number the cooperative registered with the batch (also in its signed metadata). */
    certificateNumber: string | null;
  };
  certificates: LotCardCertificate[];
  /** The mass balance now: registered items less those orders took (`services/mass-balance.ts`). */
  balance: LotCardBalance;
  links: { page: string; embed: string; image: string; oembed: string };
}
