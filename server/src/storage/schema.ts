/**
 * The query store's tables, as Kysely sees them. Column names are snake_case (what a
 * person typing SQL into psql or sqlite3 expects); repositories map rows to camelCase
 * records and never hand raw rows to callers.
 *
 * Type mappings are the same on both engines, so the same query code runs on either:
 * - protocol integers that are signed (quantity in thousandths, nonces, deadlines) are
 *   uint64 / uint256: wider than SQLite's INTEGER and PostgreSQL's BIGINT (both signed
 *   64-bit). They are stored as canonical decimal TEXT and read back as JS bigint;
 * - times are INTEGER / BIGINT milliseconds since the Unix epoch (`*_at_ms`), and block
 *   numbers, log indexes and counts are INTEGER / BIGINT: all below 2^53, read as number;
 * - identifiers that look numeric (GTIN-14, GB/T 2260 region codes) are TEXT, keeping
 *   leading zeros and letting a region prefix select its subdivisions;
 * - JSON is TEXT (not jsonb: nothing queries inside it), parsed with zod when read;
 * - there are no boolean columns: a flag is a nullable time (`revoked_at_ms`) or a state;
 * - a column holding one of a closed set of values (a kind, a status) is TEXT, typed here
 *   with the domain's set (domain/enumerations.ts) so that a write of anything else fails
 *   the type check; repositories still check each row they read against the set.
 */
import type { Generated } from "kysely";

import type {
  BatchStatus,
  CertificationKind,
  LedgerState,
  OrderChannel,
  OrderStoredStatus,
  OrganisationKind,
  OrganisationStatus,
  SignatureRequestKind,
} from "../domain/enumerations.ts";
import type { BizStep } from "../domain/typed-data.ts";

export interface OrganisationsTable {
  id: string;
  kind: OrganisationKind;
  name_zh: string;
  name_en: string | null;
  /** Unified social credit code (统一社会信用代码), 18 characters. */
  uscc: string;
  region_code: string;
  /** Lowercase 0x address of the organisation's signing key. */
  signer_address: string;
  key_custody: string;
  /** Web3 Secret Storage JSON of a server-held key; null when the organisation keeps its own. */
  keystore_json: string | null;
  status: OrganisationStatus;
  metadata_cid: string | null;
  /** On-chain registration; null for organisations the ledger does not register (regulators hold a role instead). */
  ledger_state: LedgerState | null;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface CredentialsTable {
  id: string;
  organisation_id: string;
  /** SHA-256 (hex) of the API token; the token itself is shown once and never stored. */
  token_hash: string;
  /** JSON array of role names. */
  roles_json: string;
  label: string;
  created_at_ms: number;
  expires_at_ms: number | null;
  revoked_at_ms: number | null;
  last_used_at_ms: number | null;
  /** The person a device session belongs to (migration 0017); null for an organisation's API token. */
  member_id: string | null;
}

export interface ProductsTable {
  gtin: string;
  name_zh: string;
  name_en: string | null;
  category: string;
  /** UN/CEFACT Rec 20 code. */
  unit: string;
  cold_chain_min_c: number | null;
  cold_chain_max_c: number | null;
  /** Highest plausible yield in product units per hectare, for mass-balance checks. */
  max_yield_per_ha: number | null;
  /** Net content per item in thousandths of `net_content_unit` (exact decimal, as text); null when not declared. */
  net_content_milli: string | null;
  /** Our mass unit name (g, kg, t); null when no net content is declared. */
  net_content_unit: string | null;
  created_by: string;
  created_at_ms: number;
}

export interface PlotsTable {
  id: string;
  organisation_id: string;
  name: string;
  area: number;
  area_unit: string;
  region_code: string;
  /** Private: shown to the organisation and regulators, never on the public page. */
  latitude: number | null;
  longitude: number | null;
  created_at_ms: number;
}

export interface CertificationsTable {
  id: string;
  organisation_id: string;
  kind: CertificationKind;
  number: string;
  issuer: string;
  valid_from_ms: number;
  valid_to_ms: number;
  /** JSON array of the GTIN-14s the certificate covers. */
  scope_gtins_json: string;
  created_at_ms: number;
}

export interface BatchesTable {
  /** bytes32 hex from the registry's `batchIdOf(gtin, lot)`. */
  batch_id: string;
  gtin: string;
  lot: string;
  organisation_id: string;
  plot_id: string | null;
  harvested_at_ms: number;
  quantity_milli: string;
  unit: string;
  item_count: number;
  items_root: string;
  metadata_cid: string;
  video_cid: string | null;
  photo_cids_json: string;
  /** 承诺达标合格证 number. */
  certificate_number: string | null;
  certification_ids_json: string;
  description_zh: string | null;
  description_en: string | null;
  attester_address: string;
  signature: string;
  nonce: string;
  deadline: string;
  typed_data_version: string;
  ledger_state: LedgerState;
  failure_reason: string | null;
  tx_hash: string | null;
  block_number: number | null;
  status: BatchStatus;
  recall_reason_cid: string | null;
  recalled_at_ms: number | null;
  created_by: string;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface ItemsTable {
  batch_id: string;
  serial: string;
  leaf_index: number;
  /** HMAC of the hidden verification code (see domain/serials.ts); null when none was printed. */
  hidden_code_hmac: string | null;
  claimed_at_ms: number | null;
  claimed_by_client_hash: string | null;
}

export interface EventsTable {
  id: string;
  batch_id: string;
  biz_step: BizStep;
  actor_organisation_id: string;
  actor_address: string;
  occurred_at_ms: number;
  payload_cid: string;
  data_json: string;
  signature: string;
  nonce: string;
  deadline: string;
  /** EIP-712 digest of the signed event: its identity on chain and the link of the hash chain. */
  digest: string;
  typed_data_version: string;
  ledger_state: LedgerState;
  failure_reason: string | null;
  tx_hash: string | null;
  block_number: number | null;
  log_index: number | null;
  /** The batch's event head after this event, as the `EventRecorded` log reported it. */
  event_head: string | null;
  /** A shipping event's signed receiver (its signer), null for other steps and older events. */
  counterparty_address: string | null;
  /** The organisation holding `counterparty_address` when the event was recorded. */
  counterparty_organisation_id: string | null;
  created_by: string;
  created_at_ms: number;
  updated_at_ms: number;
}

/** A batch's cooperative or a regulator asked an inspector to inspect or certify the batch. */
export interface InspectionRequestsTable {
  id: string;
  batch_id: string;
  inspector_organisation_id: string;
  inspector_address: string;
  requested_by: "cooperative" | "regulator";
  requester_organisation_id: string | null;
  requester_address: string;
  nonce: string;
  deadline: string;
  /** The cooperative's signature; null when a regulator asked. */
  signature: string | null;
  typed_data_version: string | null;
  ledger_state: LedgerState;
  failure_reason: string | null;
  tx_hash: string | null;
  block_number: number | null;
  created_by: string;
  created_at_ms: number;
  updated_at_ms: number;
}

/** Where a binding's or a grant's ledger writes stand: its own, then its release's (null until released). */
interface EntitlementLedgerColumns {
  ledger_state: LedgerState;
  failure_reason: string | null;
  tx_hash: string | null;
  block_number: number | null;
  created_by: string;
  created_at_ms: number;
  updated_at_ms: number;
}

/** A GS1 company prefix bound to an organisation (migration 0011). */
export interface CompanyPrefixBindingsTable extends EntitlementLedgerColumns {
  id: string;
  /** Zero-padded digits: the length is the prefix's number of digits. */
  prefix: string;
  organisation_id: string;
  /** `own`: the organisation's GS1 membership; `platform`: allocated from the operator's prefix. */
  origin: "own" | "platform";
  released_at_ms: number | null;
  release_ledger_state: LedgerState | null;
  release_failure_reason: string | null;
}

/** One GTIN bound to an organisation on its own (migration 0011). */
export interface GtinBindingsTable extends EntitlementLedgerColumns {
  id: string;
  gtin: string;
  organisation_id: string;
  /** `operator`: bound through the API; `migration`: an existing product bound to its first registrant. */
  origin: "operator" | "migration";
  released_at_ms: number | null;
  release_ledger_state: LedgerState | null;
  release_failure_reason: string | null;
}

/** A GTIN's owner granted it to another organisation (migration 0011). */
export interface GtinGrantsTable extends EntitlementLedgerColumns {
  id: string;
  gtin: string;
  owner_organisation_id: string;
  grantee_organisation_id: string;
  withdrawn_at_ms: number | null;
  withdraw_ledger_state: LedgerState | null;
  withdraw_failure_reason: string | null;
}

export interface OutboxTable {
  /** Sequential: entries of one kind are submitted in this order (events of a batch must be). */
  id: Generated<number>;
  kind: string;
  /** The row the entry anchors (a batch id, an event id, ...); unique per kind so enqueueing is idempotent. */
  reference_id: string;
  payload_json: string;
  state: LedgerState;
  attempts: number;
  next_attempt_at_ms: number;
  tx_hash: string | null;
  block_number: number | null;
  last_error: string | null;
  /** The writer process working on the entry, until `claimed_until_ms`. */
  claimed_by: string | null;
  claimed_until_ms: number | null;
  created_at_ms: number;
  updated_at_ms: number;
}

/** Signed transactions of the ledger writer, recorded before broadcast so a restart resends the same bytes. */
export interface LedgerTransactionsTable {
  tx_hash: string;
  raw_tx: string;
  sender: string;
  account_nonce: number;
  created_at_ms: number;
}

export interface SignerNoncesTable {
  signer_address: string;
  next_nonce: string;
  updated_at_ms: number;
}

export interface IdempotencyKeysTable {
  organisation_id: string;
  key: string;
  method: string;
  path: string;
  request_hash: string;
  /** Null while the first request with this key is still being handled. */
  response_status: number | null;
  response_body: string | null;
  created_at_ms: number;
  completed_at_ms: number | null;
  /** The holder's random token; only it may write, answer or release the key. */
  lease_token: string | null;
  /** When the holder's lease lapses and a retry may take the key over; null once answered. */
  lease_expires_at_ms: number | null;
  /** JSON {action, target, details} of the write committed under the key, for a retry after a crash. */
  written_ref: string | null;
}

export interface IndexerCursorsTable {
  chain_id: string;
  contract_address: string;
  last_block: number;
  /** JSON array of `{ number, hash }` of the newest applied blocks, oldest first. */
  recent_blocks_json: string;
  updated_at_ms: number;
}

export interface ChainLogsTable {
  chain_id: string;
  contract_address: string;
  block_number: number;
  block_hash: string;
  log_index: number;
  tx_hash: string;
  event_name: string;
  /** The batch the log is about, when it names one: the scan page reads a batch's logs by it. */
  batch_id: string | null;
  args_json: string;
}

export interface ScansTable {
  id: Generated<number>;
  batch_id: string;
  serial: string;
  scanned_at_ms: number;
  /** Region code or city the consumer chose to share; never coordinates. */
  coarse_place: string | null;
  /** Keyed hash of the client (address, user agent): counts distinct scanners without storing who they are. */
  client_hash: string;
  verdict: string;
}

export interface ClaimAttemptsTable {
  id: Generated<number>;
  batch_id: string;
  serial: string;
  client_hash: string;
  attempted_at_ms: number;
  outcome: string;
}

/** A lock row per subject of a hidden-code guessing limit (migration 0006). */
export interface ClaimGuardsTable {
  subject: string;
  touched_at_ms: number;
}

export interface AuditLogTable {
  id: Generated<number>;
  organisation_id: string | null;
  credential_id: string | null;
  action: string;
  target: string;
  at_ms: number;
  details_json: string;
  request_id: string | null;
}

export interface LeasesTable {
  name: string;
  holder: string;
  expires_at_ms: number;
}

export interface MediaTable {
  cid: string;
  content_type: string;
  size_bytes: number;
  file_name: string | null;
  /** Organisation id of the uploader. */
  uploaded_by: string;
  created_at_ms: number;
}

/** A resumable upload under way (services/upload-sessions.ts); its bytes wait in a file. */
export interface UploadSessionsTable {
  id: string;
  organisation_id: string;
  content_type: string;
  file_name: string | null;
  size_bytes: number;
  created_at_ms: number;
  expires_at_ms: number;
  completed_cid: string | null;
}

export interface SignatureRequestsTable {
  id: string;
  organisation_id: string;
  /** Which typed data and which record. */
  kind: SignatureRequestKind;
  signer_address: string;
  /** The EIP-712 value to sign; integers as decimal strings. */
  value_json: string;
  /** What is stored once the signature is in; integers as decimal strings. */
  record_json: string;
  created_at_ms: number;
  expires_at_ms: number;
  completed_at_ms: number | null;
}

/** One EPCIS capture job (migration 0013). */
export interface EpcisCapturesTable {
  id: string;
  organisation_id: string;
  state: "running" | "success" | "failed";
  event_count: number;
  /** SHA-256 of the document as received. */
  document_digest: string;
  /** The per-event outcomes as JSON; null while running. */
  outcomes_json: string | null;
  created_by: string;
  created_at_ms: number;
  finished_at_ms: number | null;
}

/** A 合格证 (migration 0014); `id` is the EIP-712 digest its issuer signed. */
export interface CertificatesTable {
  id: string;
  issuer_organisation_id: string;
  issuer_address: string;
  gtin: string;
  quantity_milli: string;
  unit: string;
  /** China calendar day, YYYY-MM-DD. */
  issued_on: string;
  /** The public document's exact text: its Keccak-256 is the signed `documentHash`. */
  document_text: string;
  /** The signed `documentHash`, as signed. */
  document_hash: string;
  signature: string;
  typed_data_version: string;
  created_by: string;
  created_at_ms: number;
}

/** A batch a certificate covers, with what it counts against the batch's harvest. */
export interface CertificateBatchesTable {
  certificate_id: string;
  batch_id: string;
  quantity_milli: string;
}

export interface CertificateParentsTable {
  certificate_id: string;
  parent_id: string;
  position: number;
  /** What the child takes of this parent's quantity. */
  quantity_milli: string;
}

/** The eventID a partner gave an event we recorded from its capture. */
export interface EpcisEventIdsTable {
  organisation_id: string;
  epcis_event_id: string;
  event_id: string;
  capture_id: string;
}

/** A seller's order; the buyer is known only by a salted hash of the seller's reference for them. */
export interface OrdersTable {
  id: string;
  seller_organisation_id: string;
  /** Public order reference (the EPCIS `po` id); random, not derived from the buyer. */
  reference: string;
  seller_order_number: string | null;
  /** HMAC-SHA-256 (hex) of the buyer reference, keyed by `buyer_reference_salt`. */
  buyer_reference_hash: string;
  buyer_reference_salt: string;
  channel: OrderChannel;
  /** JSON of the live stream the order was taken in (platform, title, time); null for other channels. */
  live_stream_json: string | null;
  status: OrderStoredStatus;
  despatch_sscc: string | null;
  despatch_id: string | null;
  despatched_at_ms: number | null;
  cancelled_at_ms: number | null;
  created_by: string;
  created_at_ms: number;
  updated_at_ms: number;
}

/** A line of an order: a quantity of trade units (items) of one lot. */
export interface OrderLinesTable {
  order_id: string;
  position: number;
  batch_id: string;
  gtin: string;
  lot: string;
  quantity: number;
}

/** An item scanned into an order at packing (one order per item). */
export interface OrderItemsTable {
  batch_id: string;
  serial: string;
  order_id: string;
  position: number;
  /** The case it came in when the case's SSCC was scanned; null for an item scanned alone. */
  case_sscc: string | null;
  scanned_at_ms: number;
}

/** A case or pallet (migration 0015), keyed as the registry keys it. */
export interface ContainersTable {
  container_key: string;
  sscc: string;
  expected_state_hash: string;
  chain_state_hash: string | null;
  chain_children_root: string | null;
  chain_custodian: string | null;
  chain_pending_receiver: string | null;
  chain_link: string | null;
  chain_block_number: number | null;
  created_at_ms: number;
  updated_at_ms: number;
}

/** One signed request of a container (migration 0015); `id` is its EIP-712 digest. */
export interface ContainerStepsTable {
  id: string;
  container_key: string;
  sequence: number;
  packing_id: string;
  primary_type: "ContainerPacking" | "ContainerEvent";
  action: "packing" | "unpacking" | "shipping" | "receiving";
  value_json: string;
  signature: string;
  typed_data_version: string;
  payload_cid: string;
  children_root: string;
  custodian: string;
  pending_receiver: string;
  state_hash: string;
  actor_organisation_id: string;
  counterparty_organisation_id: string | null;
  occurred_at_ms: number;
  ledger_state: LedgerState;
  failure_reason: string | null;
  tx_hash: string | null;
  block_number: number | null;
  log_index: number | null;
  created_by: string;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface ContainerTreesTable {
  packing_id: string;
  nodes_json: string;
  child_count: number;
}

export interface SsccAllocationsTable {
  prefix: string;
  organisation_id: string;
  next_reference: string;
  updated_at_ms: number;
}

export interface ContainerLeavesTable {
  packing_id: string;
  tree_index: number;
  container_key: string;
  batch_id: string | null;
  serial: string | null;
  child_container_key: string | null;
}

/** A licence photo uploaded by an applicant before applying (migration 0017). */
export interface ApplicationLicencesTable {
  cid: string;
  content_type: string;
  size_bytes: number;
  created_at_ms: number;
}

/** An application to join (migration 0017); its contact is personal data, never public. */
export interface ApplicationsTable {
  id: string;
  kind: string;
  name_zh: string;
  name_en: string | null;
  uscc: string;
  region_code: string;
  contact_json: string;
  licence_cid: string | null;
  status: string;
  secret_hash: string;
  refusal_json: string | null;
  organisation_id: string | null;
  decided_by: string | null;
  created_at_ms: number;
  decided_at_ms: number | null;
}

/** A person inside an organisation (migration 0017). */
export interface MembersTable {
  id: string;
  organisation_id: string;
  name: string;
  role: string;
  capabilities_json: string;
  created_at_ms: number;
  removed_at_ms: number | null;
}

/** A one-time sign-in link of a person (migration 0017); only the token's SHA-256 is kept. */
export interface SignInLinksTable {
  id: string;
  member_id: string;
  token_hash: string;
  created_by: string;
  created_at_ms: number;
  expires_at_ms: number;
  used_at_ms: number | null;
  revoked_at_ms: number | null;
  credential_id: string | null;
}

export interface Database {
  organisations: OrganisationsTable;
  credentials: CredentialsTable;
  products: ProductsTable;
  plots: PlotsTable;
  certifications: CertificationsTable;
  batches: BatchesTable;
  items: ItemsTable;
  events: EventsTable;
  outbox: OutboxTable;
  ledger_transactions: LedgerTransactionsTable;
  signer_nonces: SignerNoncesTable;
  idempotency_keys: IdempotencyKeysTable;
  indexer_cursors: IndexerCursorsTable;
  chain_logs: ChainLogsTable;
  scans: ScansTable;
  claim_attempts: ClaimAttemptsTable;
  claim_guards: ClaimGuardsTable;
  audit_log: AuditLogTable;
  leases: LeasesTable;
  media: MediaTable;
  upload_sessions: UploadSessionsTable;
  signature_requests: SignatureRequestsTable;
  company_prefix_bindings: CompanyPrefixBindingsTable;
  gtin_bindings: GtinBindingsTable;
  gtin_grants: GtinGrantsTable;
  inspection_requests: InspectionRequestsTable;
  epcis_captures: EpcisCapturesTable;
  epcis_event_ids: EpcisEventIdsTable;
  certificates: CertificatesTable;
  certificate_batches: CertificateBatchesTable;
  certificate_parents: CertificateParentsTable;
  orders: OrdersTable;
  order_lines: OrderLinesTable;
  order_items: OrderItemsTable;
  containers: ContainersTable;
  container_steps: ContainerStepsTable;
  container_trees: ContainerTreesTable;
  container_leaves: ContainerLeavesTable;
  sscc_allocations: SsccAllocationsTable;
  application_licences: ApplicationLicencesTable;
  applications: ApplicationsTable;
  members: MembersTable;
  sign_in_links: SignInLinksTable;
}
