/**
 * What a verification checks and the verdicts it can reach: shared by the verifier
 * (verify-resolution.ts) and the safety findings (findings.ts), which depend on each other's
 * results but not on each other.
 */
export type CheckId =
  | "chain_id"
  | "item_identity"
  | "attestation_signature"
  | "attester_registered"
  | "items_root_on_chain"
  | "item_in_batch"
  | "item_count"
  | "metadata_cid"
  | "event_signatures"
  | "event_payloads"
  | "event_head_on_chain"
  | "entitlement"
  | "custody"
  | "status_on_chain"
  | "containers";

/** The order checks run and are listed in. */
export const CHECK_IDS: readonly CheckId[] = [
  "chain_id",
  "item_identity",
  "attestation_signature",
  "attester_registered",
  "items_root_on_chain",
  "item_in_batch",
  // The signed count is compared with the document's, so the document is read first.
  "metadata_cid",
  "item_count",
  "event_signatures",
  "event_payloads",
  "event_head_on_chain",
  // Who was entitled: read from the registry's logs, judged by the domain's rules.
  "entitlement",
  "custody",
  "status_on_chain",
  // The item's cases and pallets: their signatures, state chain, proofs and the chain's state.
  "containers",
];

export interface CheckOutcome {
  id: CheckId;
  /** true passed, false failed, null not checkable yet (the batch is not on chain). */
  ok: boolean | null;
  /** A short English explanation for the details view and logs. */
  detail: string;
}

/** `warning`: the records are authentic, but what they say is a safety problem (see findings.ts). */
export type Verdict = "verified" | "warning" | "recalled" | "suspicious" | "not_verified" | "pending";
