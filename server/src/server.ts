/**
 * The composition root: reads nothing itself, but builds every adapter from a
 * `ServerConfig` (database, content store, chain), wires them into the services and the
 * HTTP app, and runs the ledger writer and indexer. `npm start`, the demo and the
 * integration tests all start the server through `startServer`, the same way.
 */
import { randomUUID } from "node:crypto";
import { createServer as createHttpServer, type Server } from "node:http";
import { once } from "node:events";
import path from "node:path";

import { JsonRpcProvider, Wallet } from "ethers";
import { pino, type Logger } from "pino";

import type { ServerConfig } from "./config.ts";
import { CURRENT_TYPED_DATA_VERSION } from "./domain/typed-data.ts";
import { createApp } from "./http/app.ts";
import { authenticate } from "./http/auth.ts";
import { refuseSuspendedWriters } from "./http/suspended-writers.ts";
import { batchesRouter } from "./http/routes/batches.ts";
import { eventsRouter } from "./http/routes/events.ts";
import { containersRouter } from "./http/routes/containers.ts";
import { certificatesRouter } from "./http/routes/certificates.ts";
import { ordersRouter } from "./http/routes/orders.ts";
import { epcisRouter } from "./http/routes/epcis.ts";
import { mediaRouter } from "./http/routes/media.ts";
import { productsRouter } from "./http/routes/products.ts";
import { entitlementsRouter } from "./http/routes/entitlements.ts";
import { recallsRouter } from "./http/routes/recalls.ts";
import { signatureRequestsRouter } from "./http/routes/signature-requests.ts";
import { auditsRouter } from "./http/routes/audits.ts";
import { exportsRouter } from "./http/routes/exports.ts";
import { labelsRouter } from "./http/routes/labels.ts";
import { organisationsRouter } from "./http/routes/organisations.ts";
import { operatorRouter } from "./http/routes/operator.ts";
import { applicationsRouter, LICENCE_PATH } from "./http/routes/applications.ts";
import { membersRouter } from "./http/routes/members.ts";
import { publicLimits } from "./http/routes/public-limits.ts";
import { resolverRouter } from "./http/routes/resolver.ts";
import { RPC_PATH, rpcProxyRouter } from "./http/routes/rpc-proxy.ts";
import { webAssetsRouter } from "./http/routes/web-assets.ts";
import { systemRouter } from "./http/routes/system.ts";
import type { ContentStore } from "./ipfs/content-store.ts";
import { openEmbeddedContentStore } from "./ipfs/embedded.ts";
import { createIpfsGatewayRouter } from "./ipfs/gateway.ts";
import { createKuboContentStore } from "./ipfs/kubo.ts";
import { contractSignatureChecker } from "./ledger/contract-signatures.ts";
import { createIndexer, type Indexer } from "./ledger/indexer.ts";
import { createKeyRing } from "./ledger/keystore.ts";
import { OUTBOX_KINDS } from "./ledger/outbox-kinds.ts";
import { traceRegistryInterface } from "./ledger/registry-artifact.ts";
import { createLedgerWriter, type LedgerWriter } from "./ledger/writer.ts";
import type { ServiceContext } from "./services/context.ts";
import { queueUnanchoredBindings } from "./services/entitlement.ts";
import { createProjection } from "./services/projection.ts";
import { openDatabase, type OpenedDatabase } from "./storage/database.ts";
import { createIndexerStore } from "./storage/indexer-store.ts";
import { acquireLease, releaseLease } from "./storage/lease.ts";
import { pruneIdempotencyKeys } from "./storage/idempotency.ts";
import { getMedia } from "./storage/media.ts";
import { migrateToLatest } from "./storage/migrate.ts";
import { createOutboxPort } from "./storage/outbox.ts";
import { flushScans, pruneClaimGuards } from "./storage/scans.ts";
import { sweepExpiredUploadSessions } from "./services/upload-sessions.ts";

export interface RunningServer {
  url: string;
  ctx: ServiceContext;
  /** The Express application answering at `url`: its router stack is what the security test checks for coverage. */
  app: import("express").Express;
  /** One pass of the ledger writer and indexer, for tests and the reindex command. */
  workOnce: () => Promise<void>;
  close: () => Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Extra routers mounted before the built-in ones (the scan path mounts itself here). */
  extraRouters?: (ctx: ServiceContext) => import("express").Router[];
}

const WORKER_LEASE = "ledger-worker";
const IDEMPOTENCY_PRUNE_EVERY_MS = 3_600_000;

export async function openContentStore(config: ServerConfig, logger: Logger): Promise<ContentStore> {
  return config.ipfs.kind === "embedded"
    ? openEmbeddedContentStore({
        dataDir: config.ipfs.directory,
        onGarbageCollected: (report) => {
          if (report.skipped !== null) {
            logger.warn(report, "content store: unpinned blocks not collected");
          } else if (report.blocksRemoved + report.temporaryFilesRemoved > 0) {
            logger.info(report, "content store: removed what failed or abandoned uploads left");
          }
        },
      })
    : createKuboContentStore({ url: config.ipfs.rpcUrl });
}

export async function buildContext(
  config: ServerConfig,
  logger: Logger,
): Promise<{ ctx: ServiceContext; database: OpenedDatabase; provider: JsonRpcProvider }> {
  const database = await openDatabase(config.database, {
    onIdleError: (error) => {
      logger.warn({ err: error }, "database connection dropped");
    },
  });
  await migrateToLatest(database.db);
  const content = await openContentStore(config, logger);
  const provider = new JsonRpcProvider(config.chain.rpcUrl, undefined, {
    staticNetwork: config.chain.expectedChainId === undefined ? undefined : true,
    pollingInterval: config.chain.pollMs,
    cacheTimeout: -1,
  });
  const chainId = config.chain.expectedChainId ?? (await provider.getNetwork()).chainId;
  const ctx: ServiceContext = {
    db: database.db,
    content,
    keyRing: createKeyRing(config.secrets.keystoreSecret),
    domain: { chainId, verifyingContract: config.chain.registryAddress, version: CURRENT_TYPED_DATA_VERSION },
    publicOrigin: config.http.publicOrigin,
    publicRpcUrl: config.chain.publicRpcUrl,
    ...(config.chain.verifierUrl === undefined ? {} : { verifierUrl: config.chain.verifierUrl }),
    registryDeployedAtBlock: config.chain.deployedAtBlock,
    secrets: {
      keystoreSecret: config.secrets.keystoreSecret,
      hiddenCodePepper: new TextEncoder().encode(config.secrets.hiddenCodePepper.padEnd(32, "\u0000")),
    },
    keysDir: path.join(config.dataDir, "keys"),
    signatureTtlSeconds: config.chain.signatureTtlSeconds,
    mediaLimitBytes: config.http.mediaLimitBytes,
    uploadsDir: path.join(config.dataDir, "uploads"),
    maxItemsPerBatch: config.http.batchMaxItems,
    cloneThresholds: config.cloneThresholds,
    contractSignatures: contractSignatureChecker(provider),
    logger,
    now: Date.now,
    idempotencyLeaseMs: config.idempotency.leaseMs,
    ...(config.platformPrefix === undefined ? {} : { platformPrefix: config.platformPrefix }),
  };
  // Bindings migration 0011 made for existing products reach the chain like any other.
  await queueUnanchoredBindings(ctx);
  return { ctx, database, provider };
}

export function buildWorkers(
  config: ServerConfig,
  ctx: ServiceContext,
  provider: JsonRpcProvider,
  holder: string,
): { writer: LedgerWriter; indexer: Indexer } {
  const contractInterface = traceRegistryInterface();
  const senders = {
    relayer: new Wallet(config.chain.relayerPrivateKey, provider),
    ...(config.chain.adminPrivateKey === undefined
      ? {}
      : { admin: new Wallet(config.chain.adminPrivateKey, provider) }),
    ...(config.chain.regulatorPrivateKey === undefined
      ? {}
      : { regulator: new Wallet(config.chain.regulatorPrivateKey, provider) }),
  };
  const writer = createLedgerWriter({
    provider,
    contractInterface,
    registryAddress: config.chain.registryAddress,
    senders,
    outbox: createOutboxPort(ctx.db, { holder }),
    specs: OUTBOX_KINDS,
    confirmations: config.chain.confirmations,
    batchSize: config.chain.batchSize,
    maxWaitMs: config.chain.maxWaitMs,
    logger: ctx.logger.child({ worker: "ledger-writer" }),
  });
  const projection = createProjection({
    content: ctx.content,
    domain: ctx.domain,
    keysDir: ctx.keysDir,
    keystoreSecret: ctx.secrets.keystoreSecret,
    logger: ctx.logger.child({ worker: "projection" }),
    ...(config.platformPrefix === undefined ? {} : { platformPrefix: config.platformPrefix.prefix }),
  });
  const indexer = createIndexer({
    provider,
    contractInterface,
    registryAddress: config.chain.registryAddress,
    deployedAtBlock: config.chain.deployedAtBlock,
    confirmations: config.chain.confirmations,
    store: createIndexerStore(ctx.db, {
      chainId: ctx.domain.chainId.toString(),
      contractAddress: config.chain.registryAddress.toLowerCase(),
      project: projection.prepare,
      onRollback: projection.onRollback,
    }),
    logger: ctx.logger.child({ worker: "indexer" }),
  });
  return { writer, indexer };
}

export async function startServer(config: ServerConfig, options: StartOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? pino({ level: config.logLevel });
  const { ctx, database, provider } = await buildContext(config, logger);
  const holder = `${process.pid}-${randomUUID()}`;
  const { writer, indexer } = buildWorkers(config, ctx, provider, holder);

  const app = createApp({
    logger,
    bodyLimitBytes: config.http.bodyLimitBytes,
    rateLimitPerMinute: config.rateLimitPerMinute,
    connectSources: /^https?:\/\//.test(config.chain.publicRpcUrl) ? [new URL(config.chain.publicRpcUrl).origin] : [],
    servedOverHttps: config.http.publicOrigin.startsWith("https:"),
    publicRouters: [resolverRouter(ctx), webAssetsRouter()],
    routers: [
      systemRouter(ctx),
      createIpfsGatewayRouter({
        store: ctx.content,
        contentType: async (cid) => (await getMedia(ctx.db, cid.toV1().toString()))?.contentType,
      }),
      rpcProxyRouter({
        ...config.rpcProxy,
        upstreamUrl: config.chain.rpcUrl,
        registry: config.chain.registryAddress,
      }),
      ...(options.extraRouters?.(ctx) ?? []),
      applicationsRouter(ctx, publicLimits(config.rateLimitPerMinute)),
      membersRouter(ctx, publicLimits(config.rateLimitPerMinute)),
      organisationsRouter(ctx),
      productsRouter(ctx),
      entitlementsRouter(ctx),
      mediaRouter(ctx),
      batchesRouter(ctx),
      eventsRouter(ctx),
      containersRouter(ctx),
      certificatesRouter(ctx),
      ordersRouter(ctx),
      epcisRouter(ctx),
      recallsRouter(ctx),
      signatureRequestsRouter(ctx),
      exportsRouter(ctx),
      labelsRouter(ctx),
      auditsRouter(ctx, { provider, fromBlock: config.chain.deployedAtBlock }),
      operatorRouter(ctx, {
        provider,
        // Addresses only: the keys themselves stay with the writer.
        keys: {
          relayer: new Wallet(config.chain.relayerPrivateKey).address,
          admin: config.chain.adminPrivateKey === undefined ? null : new Wallet(config.chain.adminPrivateKey).address,
          regulator:
            config.chain.regulatorPrivateKey === undefined
              ? null
              : new Wallet(config.chain.regulatorPrivateKey).address,
        },
        relayerBalanceWarnWei: config.chain.relayerBalanceWarnWei,
        confirmations: config.chain.confirmations,
      }),
    ],
    beforeRoutes: [authenticate({ db: ctx.db, adminToken: config.secrets.adminToken }), refuseSuspendedWriters(ctx)],
    trustProxy: config.http.trustProxy,
    bodyTimeoutMs: config.http.bodyTimeoutMs,
    // These routes parse their own (small) bodies: the global parser's larger limit must not read them first.
    // Media uploads stream the body, whatever its type (a JSON document is a file like any other).
    ownBodyParsers: [RPC_PATH, "/api/v1/claims/", "/api/v1/media", LICENCE_PATH],
  });

  let working = Promise.resolve();
  let stopped = false;
  const pass = async (): Promise<void> => {
    const held = await acquireLease(ctx.db, {
      name: WORKER_LEASE,
      holder,
      ttlMs: Math.max(15_000, config.chain.pollMs * 10),
      nowMs: Date.now(),
    });
    if (!held) return;
    await writer.tick();
    await indexer.sync();
  };
  // One pass at a time in this process: the loop and a caller (a test, the reindex) share the writer's state.
  let queue: Promise<void> = Promise.resolve();
  const workOnce = (): Promise<void> => {
    const next = queue.then(pass);
    queue = next.catch(() => undefined);
    return next;
  };
  const loop = async (): Promise<void> => {
    while (!stopped) {
      try {
        await workOnce();
      } catch (error) {
        logger.warn({ err: error }, "ledger worker pass failed; retrying");
      }
      await new Promise((resolve) => setTimeout(resolve, config.chain.pollMs));
    }
  };
  if (config.chain.workers) working = loop();

  // Answered keys are only worth keeping while a client may still retry; every replica
  // prunes (the delete is idempotent), so no election is needed.
  const prune = (): void => {
    pruneIdempotencyKeys(ctx.db, Date.now() - config.idempotency.retentionMs)
      .then((removed) => {
        if (removed > 0) logger.info({ removed }, "idempotency keys pruned");
      })
      .catch((error: unknown) => {
        logger.warn({ err: error }, "idempotency keys not pruned; retrying at the next hour");
      });
    // Guessing-limit guards outlive their windows (an hour; a client's hash changes daily) by a day.
    pruneClaimGuards(ctx.db, Date.now() - 2 * 86_400_000).catch((error: unknown) => {
      logger.warn({ err: error }, "claim guards not pruned; retrying at the next hour");
    });
    // Upload sessions abandoned for a day, and the bytes they held (docs/media-uploads.md).
    sweepExpiredUploadSessions(ctx).catch((error: unknown) => {
      logger.warn({ err: error }, "expired upload sessions not removed; retrying at the next hour");
    });
  };
  prune();
  const pruning = setInterval(prune, IDEMPOTENCY_PRUNE_EVERY_MS);
  pruning.unref();

  // The long request budget is for media uploads; every other body is cut at bodyTimeoutMs
  // (createApp). Node checks the header and request budgets on an interval: a second, so a
  // slow sender is cut close to its budget rather than up to 30 s (Node's default) later.
  const server: Server = createHttpServer(
    {
      requestTimeout: config.http.requestTimeoutMs,
      headersTimeout: Math.min(config.http.headersTimeoutMs, config.http.requestTimeoutMs),
      connectionsCheckingInterval: 1_000,
    },
    app,
  );
  server.timeout = config.http.idleTimeoutMs;
  server.listen(config.http.port, config.http.host);
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : config.http.port;
  const url = `http://${config.http.host}:${port}`;
  logger.info(
    { url, database: database.engine, ipfs: config.ipfs.kind, chainId: ctx.domain.chainId.toString() },
    "listening",
  );

  return {
    url,
    ctx,
    app,
    workOnce,
    async close() {
      stopped = true;
      clearInterval(pruning);
      server.closeAllConnections();
      await new Promise<void>((resolve) =>
        server.close(() => {
          resolve();
        }),
      );
      await working;
      await releaseLease(ctx.db, WORKER_LEASE, holder).catch(() => undefined);
      provider.destroy();
      await ctx.content.close();
      // Page views wait a few milliseconds to be written together; the last group goes now.
      await flushScans(ctx.db).catch((error: unknown) => {
        logger.warn({ err: error }, "scans not written at shutdown");
      });
      await database.close();
    },
  };
}
