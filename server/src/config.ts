/**
 * Every setting of the server, read from environment variables through one zod schema.
 * Secrets have no defaults: a server without them refuses to start and says which one is
 * missing. `.env.example` documents each variable; keep the two in step.
 */
import { isIP } from "node:net";
import path from "node:path";

import { z } from "zod";

const hexPrivateKey = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be a 0x-prefixed 32-byte hex private key");
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 0x-prefixed 20-byte address");
const secret = z.string().min(16, "must be at least 16 characters");
const positiveInt = z.coerce.number().int().positive();

/** Express's trust-proxy value: false (the socket address is the client), a hop count, or addresses/CIDRs. */
export type TrustProxy = false | number | string[];

/** What the read-only JSON-RPC proxy lets a caller do (see http/routes/rpc-proxy.ts). */
export interface RpcProxyLimits {
  /** The gas every `eth_call` is run with at most; sent upstream on every call. */
  gasCap: number;
  maxCallDataBytes: number;
  maxLogBlockRange: number;
  /**
   * Blocks an `eth_getLogs` may span when it filters on an indexed value (a second topic): the
   * node answers it from its log blooms, and the scan page reads a batch's history since the
   * registry's deployment this way. Absent: the same as `maxLogBlockRange`.
   */
  maxIndexedLogBlockRange?: number;
  callsPerMinute: number;
  maxConcurrent: number;
  upstreamTimeoutMs: number;
}

/** Subnet names Express (proxy-addr) knows besides addresses and CIDRs. */
const TRUST_PROXY_NAMES = new Set(["loopback", "linklocal", "uniquelocal"]);

function isAddressOrCidr(entry: string): boolean {
  if (TRUST_PROXY_NAMES.has(entry)) return true;
  const [ip, bits, ...rest] = entry.split("/");
  const family = isIP(ip ?? "");
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  // A prefix length, or (IPv4) a dotted netmask as proxy-addr accepts.
  if (/^\d{1,3}$/.test(bits)) return Number(bits) <= (family === 4 ? 32 : 128);
  return family === 4 && isIP(bits) === 4;
}

/**
 * `TRUST_PROXY`: unset or "false" trusts no proxy; a number trusts that many hops; otherwise a
 * comma-separated list of addresses, CIDRs or loopback/linklocal/uniquelocal. "true" (trust
 * every hop) is refused: it would let any client name its own address in X-Forwarded-For.
 */
const trustProxy = z
  .string()
  .default("false")
  .transform((value, context): TrustProxy => {
    const text = value.trim();
    if (text === "" || text === "false") return false;
    if (/^\d+$/.test(text)) return Number(text);
    const entries = text.split(",").map((entry) => entry.trim());
    const bad = entries.filter((entry) => !isAddressOrCidr(entry));
    if (bad.length > 0) {
      context.addIssue({
        code: "custom",
        message: `must be false, a hop count, or addresses/CIDRs/loopback/linklocal/uniquelocal separated by commas (not ${bad.join(", ")})`,
      });
      return z.NEVER;
    }
    return entries;
  });

const DEFAULT_MEDIA_MAX_BYTES = 2 * 1024 ** 3;

const envSchema = z.object({
  HOST: z.string().default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
  PUBLIC_ORIGIN: z.url().optional(),
  DATA_DIR: z.string().default(".data/server"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),

  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
    .optional(),

  IPFS_KUBO_RPC_URL: z.url().optional(),

  CHAIN_RPC_URL: z.url().default("http://127.0.0.1:8545"),
  CHAIN_ID: z.coerce.bigint().optional(),
  REGISTRY_ADDRESS: address,
  REGISTRY_DEPLOYED_AT_BLOCK: z.coerce.number().int().min(0).default(0),
  RELAYER_PRIVATE_KEY: hexPrivateKey,
  /** The registry admin's key, for registering onboarded organisations; without it they wait for the admin to act. */
  LEDGER_ADMIN_PRIVATE_KEY: hexPrivateKey.optional(),
  /** A key with REGULATOR_ROLE, for regulator actions (suspend, reinstate, recall) taken through the API. */
  LEDGER_REGULATOR_PRIVATE_KEY: hexPrivateKey.optional(),
  /** The JSON-RPC URL the scan page reads the chain from; default: this server's read-only proxy. */
  PUBLIC_RPC_URL: z.string().min(1).optional(),
  /** An independent verifier's page (another origin, `npm run cli -- check-verifier`): the scan page links to it. */
  VERIFIER_URL: z.url().optional(),
  SIGNATURE_TTL_SECONDS: positiveInt.max(365 * 86_400).default(30 * 86_400),
  /** Run the ledger writer and indexer in this process (they elect one holder among replicas). */
  WORKERS: z.enum(["on", "off"]).default("on"),
  CONFIRMATIONS: z.coerce.number().int().min(0).max(1_000).default(2),
  LEDGER_BATCH_SIZE: positiveInt.max(200).default(10),
  LEDGER_MAX_WAIT_MS: positiveInt.default(2_000),
  LEDGER_POLL_MS: positiveInt.default(500),
  /**
   * The operator console warns when the relayer's native balance falls below this many wei
   * (it pays the gas of every relayed write). Default 0.1 of the chain's coin (10^17 wei).
   */
  RELAYER_BALANCE_WARN_WEI: z
    .string()
    .regex(/^\d{1,78}$/, "must be a whole number of wei")
    .default("100000000000000000")
    .transform((value) => BigInt(value)),

  /**
   * The operator's own GS1 company prefix, from which a cooperative without GS1 membership is
   * given a prefix of its own (`POST /api/v1/organisations/{id}/company-prefixes {allocate: true}`):
   * this prefix followed by `PLATFORM_PREFIX_EXTRA_DIGITS` digits. Unset: nothing is allocated.
   */
  PLATFORM_COMPANY_PREFIX: z
    .string()
    .regex(/^[0-9]{6,11}$/, "must be a GS1 company prefix of 6 to 11 digits")
    .optional(),
  PLATFORM_PREFIX_EXTRA_DIGITS: z.coerce.number().int().min(1).max(6).default(3),

  KEYSTORE_SECRET: secret,
  HIDDEN_CODE_PEPPER: secret,
  ADMIN_TOKEN: secret,

  /** Clone signals on the scan page: scans of one code in 24 h / 7 days, distinct phones in 7 days. */
  // Clone signals (services/resolve.ts): a genuine buyer scans about 3 times a day from 2-3
  // addresses (shop, home, claim); a copied code on many phones shows more of both.
  CLONE_SCANS_PER_DAY: positiveInt.default(6),
  CLONE_SCANS_PER_WEEK: positiveInt.default(10),
  CLONE_ADDRESSES_PER_DAY: positiveInt.default(4),

  BODY_LIMIT_BYTES: positiveInt.default(1_048_576),
  /**
   * The largest media upload (a planting video): refused with 413 from the declared length,
   * or as soon as the streamed bytes pass it. 2 GiB holds an hour of 1080p phone video.
   * `MEDIA_LIMIT_BYTES` is the former name, still read when this one is unset.
   */
  MEDIA_MAX_BYTES: positiveInt.optional(),
  MEDIA_LIMIT_BYTES: positiveInt.optional(),
  /** Items one batch registration may issue; larger lots are registered as several. */
  BATCH_MAX_ITEMS: positiveInt.max(10_000_000).default(1_000_000),
  /**
   * The longest a request may take to arrive. Node's default (5 minutes) would cut a planting
   * video uploaded over a rural uplink: 2 GB at 2 Mbit/s takes over two hours. Kept under a
   * day, the age at which the block store collects what unfinished uploads left behind.
   */
  REQUEST_TIMEOUT_SECONDS: positiveInt.max(12 * 3_600).default(6 * 3_600),
  /** A connection that sends nothing for this long is closed: a phone gone out of coverage, a stalled client. */
  IDLE_TIMEOUT_SECONDS: positiveInt.max(3_600).default(120),
  /**
   * Every request but a media upload must have sent its whole body this long after its
   * headers, or it is answered 408 and its connection closed: slow anonymous bodies cannot
   * hold sockets for the upload budget above.
   */
  BODY_TIMEOUT_SECONDS: positiveInt.max(600).default(20),
  /** The longest a client may take to send a request's headers (Node's `headersTimeout`). */
  HEADERS_TIMEOUT_SECONDS: positiveInt.max(600).default(20),
  RATE_LIMIT_PER_MINUTE: positiveInt.default(600),
  /** How long an idempotency key stays held by a request that stopped renewing it (a crashed server) before a retry takes it over. */
  IDEMPOTENCY_LEASE_SECONDS: z.coerce.number().positive().default(30),
  /** How long answered idempotency keys are kept for retries; older ones are pruned hourly. */
  IDEMPOTENCY_RETENTION_HOURS: positiveInt.default(72),
  TRUST_PROXY: trustProxy,

  /** The read-only JSON-RPC proxy (`/rpc`): what one call may cost the chain node, and how many. */
  RPC_GAS_CAP: positiveInt.max(100_000_000).default(1_000_000),
  RPC_MAX_CALL_DATA_BYTES: positiveInt.max(131_072).default(4_096),
  RPC_MAX_LOG_BLOCK_RANGE: positiveInt.default(50_000),
  RPC_MAX_INDEXED_LOG_BLOCK_RANGE: positiveInt.default(100_000_000),
  RPC_CALLS_PER_MINUTE: positiveInt.default(600),
  RPC_MAX_CONCURRENT: positiveInt.max(256).default(4),
  RPC_UPSTREAM_TIMEOUT_SECONDS: positiveInt.max(120).default(5),
});

export type Env = z.infer<typeof envSchema>;

export interface ServerConfig {
  http: {
    host: string;
    port: number;
    publicOrigin: string;
    bodyLimitBytes: number;
    mediaLimitBytes: number;
    batchMaxItems: number;
    requestTimeoutMs: number;
    idleTimeoutMs: number;
    bodyTimeoutMs: number;
    headersTimeoutMs: number;
    trustProxy: TrustProxy;
  };
  rateLimitPerMinute: number;
  idempotency: { leaseMs: number; retentionMs: number };
  rpcProxy: RpcProxyLimits;
  cloneThresholds: { scansPerDay: number; scansPerWeek: number; distinctAddressesPerDay: number };
  logLevel: Env["LOG_LEVEL"];
  dataDir: string;
  database: { kind: "sqlite"; path: string } | { kind: "postgres"; url: string };
  ipfs: { kind: "embedded"; directory: string } | { kind: "kubo"; rpcUrl: string };
  chain: {
    rpcUrl: string;
    expectedChainId: bigint | undefined;
    registryAddress: string;
    deployedAtBlock: number;
    relayerPrivateKey: string;
    adminPrivateKey: string | undefined;
    regulatorPrivateKey: string | undefined;
    publicRpcUrl: string;
    /** The independent verifier the scan page links to (`VERIFIER_URL`); undefined: no link. */
    verifierUrl: string | undefined;
    signatureTtlSeconds: number;
    workers: boolean;
    confirmations: number;
    batchSize: number;
    maxWaitMs: number;
    pollMs: number;
    /** Below this relayer balance (wei) the operator console warns (`RELAYER_BALANCE_WARN_WEI`). */
    relayerBalanceWarnWei: bigint;
  };
  /** The operator's GS1 prefix that cooperatives' prefixes are allocated from; undefined when none. */
  platformPrefix: { prefix: string; extraDigits: number } | undefined;
  secrets: { keystoreSecret: string; hiddenCodePepper: string; adminToken: string };
}

export class ConfigError extends Error {
  readonly issues: string[];

  constructor(issues: string[]) {
    super(`invalid configuration:\n  - ${issues.join("\n  - ")}`);
    this.name = "ConfigError";
    this.issues = issues;
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`));
  }
  const e = parsed.data;
  if (
    e.PLATFORM_COMPANY_PREFIX !== undefined &&
    e.PLATFORM_COMPANY_PREFIX.length + e.PLATFORM_PREFIX_EXTRA_DIGITS > 12
  ) {
    throw new ConfigError([
      "PLATFORM_PREFIX_EXTRA_DIGITS: the platform prefix and its extra digits make more than 12 digits, longer than a GS1 company prefix",
    ]);
  }
  const dataDir = path.resolve(e.DATA_DIR);
  return {
    http: {
      host: e.HOST,
      port: e.PORT,
      publicOrigin: (e.PUBLIC_ORIGIN ?? `http://localhost:${e.PORT}`).replace(/\/$/, ""),
      bodyLimitBytes: e.BODY_LIMIT_BYTES,
      mediaLimitBytes: e.MEDIA_MAX_BYTES ?? e.MEDIA_LIMIT_BYTES ?? DEFAULT_MEDIA_MAX_BYTES,
      batchMaxItems: e.BATCH_MAX_ITEMS,
      requestTimeoutMs: e.REQUEST_TIMEOUT_SECONDS * 1_000,
      idleTimeoutMs: e.IDLE_TIMEOUT_SECONDS * 1_000,
      bodyTimeoutMs: e.BODY_TIMEOUT_SECONDS * 1_000,
      headersTimeoutMs: e.HEADERS_TIMEOUT_SECONDS * 1_000,
      trustProxy: e.TRUST_PROXY,
    },
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    idempotency: {
      leaseMs: Math.round(e.IDEMPOTENCY_LEASE_SECONDS * 1_000),
      retentionMs: e.IDEMPOTENCY_RETENTION_HOURS * 3_600_000,
    },
    rpcProxy: {
      gasCap: e.RPC_GAS_CAP,
      maxCallDataBytes: e.RPC_MAX_CALL_DATA_BYTES,
      maxLogBlockRange: e.RPC_MAX_LOG_BLOCK_RANGE,
      maxIndexedLogBlockRange: e.RPC_MAX_INDEXED_LOG_BLOCK_RANGE,
      callsPerMinute: e.RPC_CALLS_PER_MINUTE,
      maxConcurrent: e.RPC_MAX_CONCURRENT,
      upstreamTimeoutMs: e.RPC_UPSTREAM_TIMEOUT_SECONDS * 1_000,
    },
    cloneThresholds: {
      scansPerDay: e.CLONE_SCANS_PER_DAY,
      scansPerWeek: e.CLONE_SCANS_PER_WEEK,
      distinctAddressesPerDay: e.CLONE_ADDRESSES_PER_DAY,
    },
    logLevel: e.LOG_LEVEL,
    dataDir,
    database:
      e.DATABASE_URL === undefined
        ? { kind: "sqlite", path: path.join(dataDir, "trace.db") }
        : { kind: "postgres", url: e.DATABASE_URL },
    ipfs:
      e.IPFS_KUBO_RPC_URL === undefined
        ? { kind: "embedded", directory: path.join(dataDir, "ipfs") }
        : { kind: "kubo", rpcUrl: e.IPFS_KUBO_RPC_URL },
    chain: {
      rpcUrl: e.CHAIN_RPC_URL,
      expectedChainId: e.CHAIN_ID,
      registryAddress: e.REGISTRY_ADDRESS,
      deployedAtBlock: e.REGISTRY_DEPLOYED_AT_BLOCK,
      relayerPrivateKey: e.RELAYER_PRIVATE_KEY,
      adminPrivateKey: e.LEDGER_ADMIN_PRIVATE_KEY,
      regulatorPrivateKey: e.LEDGER_REGULATOR_PRIVATE_KEY,
      publicRpcUrl: e.PUBLIC_RPC_URL ?? "/rpc",
      verifierUrl: e.VERIFIER_URL,
      signatureTtlSeconds: e.SIGNATURE_TTL_SECONDS,
      workers: e.WORKERS === "on",
      confirmations: e.CONFIRMATIONS,
      batchSize: e.LEDGER_BATCH_SIZE,
      maxWaitMs: e.LEDGER_MAX_WAIT_MS,
      pollMs: e.LEDGER_POLL_MS,
      relayerBalanceWarnWei: e.RELAYER_BALANCE_WARN_WEI,
    },
    platformPrefix:
      e.PLATFORM_COMPANY_PREFIX === undefined
        ? undefined
        : { prefix: e.PLATFORM_COMPANY_PREFIX, extraDigits: e.PLATFORM_PREFIX_EXTRA_DIGITS },
    secrets: { keystoreSecret: e.KEYSTORE_SECRET, hiddenCodePepper: e.HIDDEN_CODE_PEPPER, adminToken: e.ADMIN_TOKEN },
  };
}
