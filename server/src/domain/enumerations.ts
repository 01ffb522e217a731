/**
 * The closed sets of values the system's records take: who an organisation is, where a
 * signed write stands on the ledger, what a credential may do. They are rules of the
 * domain, not of a table: the API validates against them, storage checks rows against them
 * when it reads, and the consoles offer them.
 */

export const ORGANISATION_KINDS = [
  "cooperative",
  "processor",
  "logistics",
  "retailer",
  "inspector",
  "regulator",
] as const;
export type OrganisationKind = (typeof ORGANISATION_KINDS)[number];

export const ORGANISATION_STATUSES = ["active", "suspended"] as const;
export type OrganisationStatus = (typeof ORGANISATION_STATUSES)[number];

/** Where a signed write stands on the ledger; the outbox entry that carries it moves the same way. */
export const LEDGER_STATES = ["pending", "submitted", "anchored", "failed"] as const;
export type LedgerState = (typeof LEDGER_STATES)[number];

export const BATCH_STATUSES = ["active", "recalled"] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

export const CERTIFICATION_KINDS = ["pollution_free", "green_food", "organic", "geographical_indication"] as const;
export type CertificationKind = (typeof CERTIFICATION_KINDS)[number];

/** What a caller may do: the operator's admin token, or an organisation's credential. */
export const ROLES = ["admin", "regulator", "cooperative", "actor"] as const;
export type Role = (typeof ROLES)[number];

/** Which typed data an organisation holding its own key is asked to sign, and which record it completes. */
export const SIGNATURE_REQUEST_KINDS = [
  "attestation",
  "event",
  "recall",
  "inspection_request",
  "gtin_grant",
  "container_packing",
  "container_event",
  "quality_certificate",
] as const;
export type SignatureRequestKind = (typeof SIGNATURE_REQUEST_KINDS)[number];

/** Where an order was taken (issue 14, part 3). */
export const ORDER_CHANNELS = ["shop", "live_stream", "platform", "wholesale"] as const;
export type OrderChannel = (typeof ORDER_CHANNELS)[number];

/** An order's stored status; `received` is read from its despatched case, never stored. */
export const ORDER_STORED_STATUSES = ["open", "packing", "despatched", "cancelled"] as const;
export type OrderStoredStatus = (typeof ORDER_STORED_STATUSES)[number];
