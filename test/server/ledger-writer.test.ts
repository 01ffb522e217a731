/**
 * The outbox → ledger writer → chain → indexer path against a Hardhat node in its own
 * process and a real SQLite store: accepted work is anchored exactly once, what the
 * contract refuses fails with the contract's own error name, and a restart after a
 * submission that never reached the node sends the same bytes again.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { HDNodeWallet, JsonRpcProvider, Wallet, ZeroAddress, hexlify, type Contract } from "ethers";
import { pino } from "pino";

import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { buildItemTree } from "../../server/src/domain/merkle.ts";
import { generateSerials } from "../../server/src/domain/serials.ts";
import { bizStepIndex } from "../../server/src/domain/typed-data.ts";
import { deployTraceRegistry, traceRegistryAt } from "../../server/src/ledger/deploy.ts";
import { createIndexer } from "../../server/src/ledger/indexer.ts";
import { OUTBOX_KINDS } from "../../server/src/ledger/outbox-kinds.ts";
import { traceRegistryInterface } from "../../server/src/ledger/registry-artifact.ts";
import { signTyped, type SigningDomain } from "../../server/src/ledger/signing.ts";
import { createLedgerWriter, type LedgerWriter, type OutboxPort } from "../../server/src/ledger/writer.ts";
import { openDatabase, type OpenedDatabase } from "../../server/src/storage/database.ts";
import { createIndexerStore } from "../../server/src/storage/indexer-store.ts";
import { migrateToLatest } from "../../server/src/storage/migrate.ts";
import { createOutboxPort, enqueueOutbox, getOutboxEntryFor } from "../../server/src/storage/outbox.ts";

// Hardhat's node funds the accounts of its well-known development mnemonic.
const DEV_MNEMONIC = "test test test test test test test test test test test junk";
const devAccount = (index: number): HDNodeWallet =>
  HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`);

describe("ledger writer and indexer", () => {
  let node: ChainNode;
  let provider: JsonRpcProvider;
  let store: OpenedDatabase;
  let dataDir: string;
  let registry: Contract;
  let domain: SigningDomain;
  let deployedAtBlock: number;
  const admin = devAccount(0);
  const relayer = devAccount(2);
  const cooperative = Wallet.createRandom();
  const logger = pino({ level: "silent" });

  const writerWith = (outbox: OutboxPort): LedgerWriter =>
    createLedgerWriter({
      provider,
      contractInterface: traceRegistryInterface(),
      registryAddress: domain.verifyingContract,
      senders: { admin: admin.connect(provider), relayer: relayer.connect(provider) },
      outbox,
      specs: OUTBOX_KINDS,
      confirmations: 1,
      batchSize: 10,
      maxWaitMs: 0,
      logger,
    });

  async function drain(writer: LedgerWriter, rounds = 10): Promise<void> {
    for (let i = 0; i < rounds; i++) await writer.tick();
  }

  async function signedAttestation(lot: string, nonce: bigint) {
    const serials = generateSerials(50);
    const tree = buildItemTree(serials);
    const value = {
      attester: cooperative.address,
      gtin: 6_901_234_567_892n,
      lot,
      itemsRoot: tree.root,
      itemCount: BigInt(serials.length),
      quantityMilli: 12_500n,
      unit: "KGM",
      harvestedAt: BigInt(Math.floor(Date.now() / 1000) - 86_400),
      metadataCid: hexlify(new Uint8Array([1, 0x55, 0x12, 0x20, ...new Uint8Array(32).fill(7)])),
      nonce,
      deadline: BigInt(Math.floor(Date.now() / 1000) + 3_600),
    };
    const signature = await signTyped(cooperative, domain, "BatchAttestation", value);
    const asText = Object.fromEntries(
      Object.entries(value).map(([key, v]) => [key, typeof v === "bigint" ? v.toString() : v]),
    );
    return { payload: { ...asText, signature }, value };
  }

  before(async () => {
    node = await startChainNode();
    provider = new JsonRpcProvider(node.rpcUrl, undefined, {
      staticNetwork: true,
      pollingInterval: 100,
      cacheTimeout: -1,
    });
    const deployment = await deployTraceRegistry(admin.connect(provider), {
      admin: admin.address,
      regulators: [],
      relayers: [relayer.address],
    });
    deployedAtBlock = deployment.deployedAtBlock;
    domain = { chainId: deployment.chainId, verifyingContract: deployment.address };
    registry = traceRegistryAt(deployment.address, provider);
    dataDir = mkdtempSync(path.join(tmpdir(), "ledger-writer-"));
    store = await openDatabase({ kind: "sqlite", path: path.join(dataDir, "trace.db") });
    await migrateToLatest(store.db);
  });

  after(async () => {
    await store.close();
    provider.destroy();
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("registers the organisation, anchors attestations and events, each exactly once", async () => {
    await enqueueOutbox(store.db, {
      kind: "organisation",
      referenceId: "org-coop",
      payload: {
        signer: cooperative.address,
        kind: 1,
        regionCode: 330106,
        metadataCid: hexlify(new Uint8Array([1, 0x55, 0x12, 0x20, ...new Uint8Array(32).fill(1)])),
      },
    });
    // Its GS1 company prefix, which entitles it to the GTIN it attests.
    await enqueueOutbox(store.db, {
      kind: "company_prefix",
      referenceId: "prefix-coop",
      payload: { action: "bind", prefix: "6901234", owner: cooperative.address },
    });
    const first = await signedAttestation("LOT-A", 0n);
    const second = await signedAttestation("LOT-B", 1n);
    // The event is queued before its batch is on chain: it must wait, not fail.
    const batchId = (await registry.getFunction("batchIdOf").staticCall(first.value.gtin, "LOT-A")) as string;
    const event = {
      actor: cooperative.address,
      batchId,
      bizStep: BigInt(bizStepIndex("harvesting")),
      occurredAt: BigInt(Math.floor(Date.now() / 1000) - 3_600),
      payloadCid: first.value.metadataCid,
      counterparty: ZeroAddress,
      nonce: 2n,
      deadline: first.value.deadline,
    };
    const eventSignature = await signTyped(cooperative, domain, "TraceEvent", event);
    await enqueueOutbox(store.db, {
      kind: "event",
      referenceId: "event-1",
      payload: {
        ...event,
        bizStep: Number(event.bizStep),
        occurredAt: event.occurredAt.toString(),
        nonce: "2",
        deadline: event.deadline.toString(),
        signature: eventSignature,
      },
    });
    await enqueueOutbox(store.db, { kind: "attestation", referenceId: "batch-a", payload: first.payload });
    await enqueueOutbox(store.db, { kind: "attestation", referenceId: "batch-b", payload: second.payload });

    const writer = writerWith(createOutboxPort(store.db, { holder: "test" }));
    for (let round = 0; round < 40; round++) {
      await writer.tick();
      const states = await Promise.all(
        [
          ["organisation", "org-coop"],
          ["company_prefix", "prefix-coop"],
          ["attestation", "batch-a"],
          ["attestation", "batch-b"],
          ["event", "event-1"],
        ].map(async ([kind, ref]) => (await getOutboxEntryFor(store.db, kind ?? "", ref ?? ""))?.state),
      );
      if (states.every((state) => state === "anchored")) break;
      // Waiting entries back off for up to a few seconds; keep the test moving.
      await store.db.updateTable("outbox").set({ next_attempt_at_ms: 0 }).where("state", "=", "pending").execute();
    }
    for (const [kind, ref] of [
      ["organisation", "org-coop"],
      ["company_prefix", "prefix-coop"],
      ["attestation", "batch-a"],
      ["attestation", "batch-b"],
      ["event", "event-1"],
    ] as const) {
      assert.equal((await getOutboxEntryFor(store.db, kind, ref))?.state, "anchored", `${kind} ${ref}`);
    }
    const record = (await registry.getFunction("batch").staticCall(batchId)) as { itemsRoot: string };
    assert.equal(record.itemsRoot, first.value.itemsRoot);

    // More ticks change nothing: nothing is submitted twice.
    const blockBefore = await provider.getBlockNumber();
    await drain(writer, 3);
    assert.equal(await provider.getBlockNumber(), blockBefore);
  });

  it("fails an entry the contract refuses, naming the contract's error", async () => {
    const again = await signedAttestation("LOT-A", 5n); // LOT-A is already registered
    await enqueueOutbox(store.db, { kind: "attestation", referenceId: "batch-a-again", payload: again.payload });
    await drain(writerWith(createOutboxPort(store.db, { holder: "test" })), 3);
    const entry = await getOutboxEntryFor(store.db, "attestation", "batch-a-again");
    assert.equal(entry?.state, "failed");
    assert.match(entry.lastError ?? "", /^RegistryBatchAlreadyRegistered\(0x[0-9a-f]{64}\)$/);
  });

  it("after a crash between recording and broadcasting, sends the same transaction once", async () => {
    const lost = await signedAttestation("LOT-C", 6n);
    await enqueueOutbox(store.db, { kind: "attestation", referenceId: "batch-c", payload: lost.payload });
    const real = createOutboxPort(store.db, { holder: "test" });
    const recorded: { txHash: string | null } = { txHash: null };
    // A writer whose process dies right after the signed transaction is stored.
    const crashing: OutboxPort = {
      ...real,
      markSubmitted: async (ids, tx) => {
        await real.markSubmitted(ids, tx);
        recorded.txHash = tx.txHash;
        throw new Error("process killed");
      },
    };
    await assert.rejects(writerWith(crashing).tick(), /process killed/);
    const recordedHash = recorded.txHash;
    assert.ok(recordedHash !== null, "the signed transaction was recorded");
    assert.equal(await provider.getTransaction(recordedHash), null, "nothing reached the node");

    await drain(writerWith(real), 3);
    const entry = await getOutboxEntryFor(store.db, "attestation", "batch-c");
    assert.equal(entry?.state, "anchored");
    assert.equal(entry.txHash, recordedHash, "the recorded bytes were sent, not new ones");
  });

  it("indexes every registry log into the store, and resumes without duplicating", async () => {
    const indexerStore = createIndexerStore(store.db, {
      chainId: domain.chainId.toString(),
      contractAddress: domain.verifyingContract.toLowerCase(),
    });
    const indexer = createIndexer({
      provider,
      contractInterface: traceRegistryInterface(),
      registryAddress: domain.verifyingContract,
      deployedAtBlock,
      confirmations: 1,
      store: indexerStore,
      logger,
    });
    const head = await indexer.sync();
    assert.equal(head, await provider.getBlockNumber());
    const count = async (name: string): Promise<number> =>
      (await store.db.selectFrom("chain_logs").select("log_index").where("event_name", "=", name).execute()).length;
    assert.equal(await count("OrganisationRegistered"), 1);
    assert.equal(await count("BatchAttested"), 3);
    assert.equal(await count("EventRecorded"), 1);
    assert.equal(await indexer.sync(), head);
    assert.equal(await count("BatchAttested"), 3);
  });

  it("anchors across kinds in the order they were accepted: organisation, grant, attestation, withdrawal", async () => {
    // A contract packer is registered, granted the cooperative's GTIN, attests a lot, loses
    // the grant, then tries another lot. Taken kind by kind (the writer's table order puts
    // grants before attestations), the withdrawal would reach the chain before the first lot.
    const packer = Wallet.createRandom();
    const gtin = 6_901_234_567_892n;
    const deadline = BigInt(Math.floor(Date.now() / 1000) + 3_600);
    const grantPayload = async (granted: boolean, nonce: bigint) => {
      const value = { owner: cooperative.address, gtin, grantee: packer.address, granted, nonce, deadline };
      const signature = await signTyped(cooperative, domain, "GtinGrant", value);
      return {
        ...value,
        gtin: gtin.toString(),
        granted: String(granted),
        nonce: nonce.toString(),
        deadline: deadline.toString(),
        signature,
      };
    };
    const packerAttestation = async (lot: string, nonce: bigint) => {
      const { value } = await signedAttestation(lot, nonce);
      const own = { ...value, attester: packer.address };
      const signature = await signTyped(packer, domain, "BatchAttestation", own);
      return {
        ...Object.fromEntries(Object.entries(own).map(([key, v]) => [key, typeof v === "bigint" ? v.toString() : v])),
        signature,
      };
    };
    const order: [string, string][] = [
      ["organisation", "org-packer"],
      ["gtin_grant", "grant-packer"],
      ["attestation", "packer-1"],
      ["gtin_grant", "grant-packer:release"],
      ["attestation", "packer-2"],
    ];
    await enqueueOutbox(store.db, {
      kind: "organisation",
      referenceId: "org-packer",
      payload: {
        signer: packer.address,
        kind: 1,
        regionCode: 330106,
        metadataCid: hexlify(new Uint8Array([1, 0x55, 0x12, 0x20, ...new Uint8Array(32).fill(2)])),
      },
    });
    await enqueueOutbox(store.db, {
      kind: "gtin_grant",
      referenceId: "grant-packer",
      payload: await grantPayload(true, 10n),
    });
    await enqueueOutbox(store.db, {
      kind: "attestation",
      referenceId: "packer-1",
      payload: await packerAttestation("PACK-1", 0n),
    });
    await enqueueOutbox(store.db, {
      kind: "gtin_grant",
      referenceId: "grant-packer:release",
      payload: await grantPayload(false, 11n),
    });
    await enqueueOutbox(store.db, {
      kind: "attestation",
      referenceId: "packer-2",
      payload: await packerAttestation("PACK-2", 1n),
    });

    const writer = writerWith(createOutboxPort(store.db, { holder: "test" }));
    const settled = async () => Promise.all(order.map(async ([kind, ref]) => getOutboxEntryFor(store.db, kind, ref)));
    for (let round = 0; round < 30; round++) {
      await writer.tick();
      if ((await settled()).every((entry) => entry?.state === "anchored" || entry?.state === "failed")) break;
    }
    const entries = await settled();
    assert.deepEqual(
      entries.map((entry) => entry?.state),
      ["anchored", "anchored", "anchored", "anchored", "failed"],
      JSON.stringify(entries.map((entry) => entry?.lastError)),
    );
    assert.match(entries[4]?.lastError ?? "", /^RegistryGtinNotEntitled\(/, "the lot after the withdrawal");
    const blocks = entries.slice(0, 4).map((entry) => entry?.blockNumber ?? -1);
    for (let i = 1; i < blocks.length; i++) {
      assert.ok(
        (blocks[i] ?? 0) > (blocks[i - 1] ?? 0),
        `${order[i]?.join(" ")} after ${order[i - 1]?.join(" ")}: ${blocks.join(", ")}`,
      );
    }
  });
});
