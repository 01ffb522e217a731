/**
 * What every service function needs, built once by the composition root (main.ts): the
 * query store, the content store, the signing domain of the deployed registry, secrets,
 * and a clock. Services take it as their first argument; nothing is global.
 */
import type { Kysely } from "kysely";
import type { Logger } from "pino";

import type { Role } from "../domain/enumerations.ts";
import type { Capability } from "../domain/members.ts";
import type { TypedDataVersion } from "../domain/typed-data.ts";
import type { ContentStore } from "../ipfs/content-store.ts";
import type { ContractSignatureChecker } from "../ledger/contract-signatures.ts";
import type { KeyRing } from "../ledger/keystore.ts";
import type { SigningDomain } from "../ledger/signing.ts";
import type { Database } from "../storage/schema.ts";

export interface ServiceContext {
  db: Kysely<Database>;
  content: ContentStore;
  keyRing: KeyRing;
  domain: SigningDomain & { version: TypedDataVersion };
  /** Public origin printed into Digital Link URIs, e.g. https://trace.example.cn */
  publicOrigin: string;
  /** JSON-RPC endpoint the scan page reads the chain from (the read-only proxy by default). */
  publicRpcUrl: string;
  /** An independent verifier the scan page links to (`VERIFIER_URL`). */
  verifierUrl?: string;
  secrets: { keystoreSecret: string; hiddenCodePepper: Uint8Array };
  /** Where custodial keystores are also kept as files, so a lost database does not lose keys. */
  keysDir: string;
  /** Seconds a signature stays valid: long enough to outlast a chain outage. */
  signatureTtlSeconds: number;
  mediaLimitBytes: number;
  /** Where the bytes of resumable uploads wait until the last one is in (services/upload-sessions.ts). */
  uploadsDir: string;
  /** How long an upload session is kept; 24 hours when unset. */
  uploadSessionTtlMs?: number;
  /** The block the registry was deployed at: verifiers read its logs from there (`REGISTRY_DEPLOYED_AT_BLOCK`). */
  registryDeployedAtBlock?: number;
  /** The operator's GS1 prefix that cooperatives' prefixes are allocated from (`PLATFORM_COMPANY_PREFIX`). */
  platformPrefix?: { prefix: string; extraDigits: number };
  /** Items one batch registration may issue (`BATCH_MAX_ITEMS`); 1,000,000 when unset. */
  maxItemsPerBatch?: number;
  /** When a code's scans look like a copied code (see services/resolve.ts). */
  cloneThresholds: { scansPerDay: number; scansPerWeek: number; distinctAddressesPerDay: number };
  /** Asks a smart-contract wallet (ERC-1271) whether it accepts a signature. */
  contractSignatures: ContractSignatureChecker;
  logger: Logger;
  now: () => number;
  /** How long an idempotency key stays held without renewal before a retry may take it over (services/idempotent-writes.ts). */
  idempotencyLeaseMs?: number;
}

/** Who is asking: an organisation's credential, or the operator's admin token. */
export interface Principal {
  organisationId: string | null;
  credentialId: string | null;
  roles: readonly Role[];
  /** The person a device session belongs to; absent or null for an API token or the admin. */
  memberId?: string | null;
  /** What that person may do; absent or null: everything the roles allow (an API token). */
  capabilities?: readonly Capability[] | null;
}

export const ANONYMOUS: Principal = { organisationId: null, credentialId: null, roles: [] };
