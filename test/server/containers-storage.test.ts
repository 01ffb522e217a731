/**
 * The containers store (storage/containers.ts) on SQLite, and on PostgreSQL when
 * TEST_DATABASE_URL names a server whose role may create databases: steps in acceptance
 * order with the expected state, an item's cases and pallets with proofs that verify under
 * the packing's root, live-container checks, and a failure that fails the later steps and
 * rebuilds the expected state.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { sql } from "kysely";

import {
  buildContainerTree,
  containerStateHash,
  ZERO_ADDRESS,
  ZERO_BYTES32,
  type ContainerLeaf,
  type ContainerStateFields,
} from "../../server/src/domain/container-state.ts";
import { containerKeyOf, ssccFor } from "../../server/src/domain/sscc.ts";
import {
  anchorContainerStep,
  containersOfItem,
  failContainerStepAndLater,
  getContainerBySscc,
  insertContainerStep,
  itemsInLiveContainers,
  liveParentsOf,
  takeSsccReferences,
  type NewContainerStep,
} from "../../server/src/storage/containers.ts";
import { openDatabase, type OpenedDatabase } from "../../server/src/storage/database.ts";
import { migrateToLatest } from "../../server/src/storage/migrate.ts";
import { insertOrganisation } from "../../server/src/storage/organisations.ts";
import { enqueueOutbox, markOutboxFailed } from "../../server/src/storage/outbox.ts";

const hex = (bytes: number) => `0x${randomBytes(bytes).toString("hex")}`;

interface Engine {
  name: string;
  open: () => Promise<{ opened: OpenedDatabase; dispose: () => Promise<void> }>;
}

const ENGINES: Engine[] = [
  {
    name: "sqlite",
    open: async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), "oioc-containers-"));
      const opened = await openDatabase({ kind: "sqlite", path: path.join(dir, "trace.db") });
      return {
        opened,
        dispose: async () => {
          await opened.close();
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  },
];
const adminUrl = process.env["TEST_DATABASE_URL"];
if (adminUrl !== undefined && adminUrl !== "") {
  ENGINES.push({
    name: "postgres",
    open: async () => {
      const name = `containers_test_${randomBytes(6).toString("hex")}`;
      const admin = await openDatabase({ kind: "postgres", url: adminUrl, poolSize: 1 });
      await sql`create database ${sql.id(name)}`.execute(admin.db);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      const opened = await openDatabase({ kind: "postgres", url: url.toString(), poolSize: 4 });
      return {
        opened,
        dispose: async () => {
          await opened.close();
          await sql`drop database if exists ${sql.id(name)} with (force)`.execute(admin.db);
          await admin.close();
        },
      };
    },
  });
}

for (const engine of ENGINES) {
  describe(`containers store (${engine.name})`, () => {
    let opened: OpenedDatabase;
    let dispose: () => Promise<void>;
    const organisationId = `org-${randomBytes(4).toString("hex")}`;
    const signer = hex(20).toLowerCase();
    const batchId = hex(32).toLowerCase();

    before(async () => {
      ({ opened, dispose } = await engine.open());
      await migrateToLatest(opened.db);
      await insertOrganisation(opened.db, {
        id: organisationId,
        kind: "processor",
        nameZh: "青山茶叶加工厂",
        nameEn: "Qingshan Tea Processing",
        uscc: `91330106${randomBytes(5).toString("hex").toUpperCase()}`,
        regionCode: "330106",
        signerAddress: signer,
        custody: { kind: "server", keystoreJson: '{"version":3}' },
        metadataCid: null,
        ledgerState: "pending",
      });
    });
    after(async () => {
      await dispose();
    });

    function packingStep(sscc: string, root: string, previous: string): NewContainerStep & { id: string } {
      const id = hex(32).toLowerCase();
      return {
        id,
        sscc,
        containerKey: containerKeyOf(sscc),
        packingId: id,
        primaryType: "ContainerPacking",
        action: "packing",
        value: { childrenRoot: root, previous, batchIds: [batchId], childContainers: [] },
        signature: hex(65),
        typedDataVersion: "2",
        payloadCid: "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
        state: { childrenRoot: root, custodian: signer, pendingReceiver: ZERO_ADDRESS, link: id },
        actorOrganisationId: organisationId,
        counterpartyOrganisationId: null,
        occurredAtMs: Date.UTC(2026, 5, 1),
        createdBy: "test",
      };
    }

    function eventStep(
      packing: { id: string; sscc: string },
      action: "shipping" | "unpacking",
      state: Omit<ContainerStateFields, "link">,
    ): NewContainerStep {
      const id = hex(32).toLowerCase();
      return {
        ...packingStep(packing.sscc, state.childrenRoot, ZERO_BYTES32),
        id,
        packingId: packing.id,
        primaryType: "ContainerEvent",
        action,
        value: { action },
        state: { ...state, link: id },
      };
    }

    const serials = ["A0001", "A0002", "A0003"];
    const caseSscc = ssccFor(1, "0614141", 1n);
    const otherCase = ssccFor(1, "0614141", 2n);
    const palletSscc = ssccFor(3, "0614141", 3n);

    test("a packing stores its tree; each item's proof verifies under the root", async () => {
      const leaves: ContainerLeaf[] = serials.map((serial) => ({ type: "item", batchId, serial }));
      const tree = buildContainerTree(leaves);
      const reference = StandardMerkleTree.of(
        serials.map((serial) => [batchId, serial]),
        ["bytes32", "string"],
      );
      assert.equal(tree.root, reference.root);
      const step = packingStep(caseSscc, tree.root, ZERO_BYTES32);
      await insertContainerStep(opened.db, step, {
        nodes: tree.nodes,
        leaves: leaves.map((leaf, i) => ({
          ...(leaf as { type: "item"; batchId: string; serial: string }),
          treeIndex: tree.treeIndexes[i] ?? -1,
        })),
      });
      const container = await getContainerBySscc(opened.db, caseSscc);
      assert.ok(container);
      assert.equal(container.containerKey, containerKeyOf(caseSscc));
      assert.equal(container.expectedStateHash, containerStateHash(step.state));
      assert.equal(container.livePacking?.childCount, 3);
      assert.deepEqual(container.livePacking.batchIds, [batchId]);
      const held = await containersOfItem(opened.db, batchId, "A0002");
      assert.equal(held.length, 1);
      const [first] = held;
      assert.ok(first);
      assert.equal(first.sscc, caseSscc);
      assert.equal(first.live, true);
      assert.ok(StandardMerkleTree.verify(tree.root, ["bytes32", "string"], [batchId, "A0002"], first.proof));
      assert.equal(StandardMerkleTree.verify(tree.root, ["bytes32", "string"], [batchId, "A0001"], first.proof), false);
      assert.deepEqual(await containersOfItem(opened.db, batchId, "A0009"), []);
      const live = await itemsInLiveContainers(opened.db, batchId, ["A0001", "A0009"]);
      assert.deepEqual(live, [{ serial: "A0001", sscc: caseSscc }]);
    });

    test("a pallet's tree holds the case; the item reaches the pallet through it", async () => {
      const caseKey = containerKeyOf(caseSscc);
      const tree = buildContainerTree([{ type: "container", containerKey: caseKey }]);
      const reference = StandardMerkleTree.of([[caseKey]], ["bytes32"]);
      assert.equal(tree.root, reference.root);
      const step = packingStep(palletSscc, tree.root, ZERO_BYTES32);
      await insertContainerStep(opened.db, step, {
        nodes: tree.nodes,
        leaves: [{ type: "container", containerKey: caseKey, treeIndex: tree.treeIndexes[0] ?? -1 }],
      });
      assert.deepEqual(await liveParentsOf(opened.db, caseKey), [palletSscc]);
      const held = await containersOfItem(opened.db, batchId, "A0003");
      assert.deepEqual(
        held.map((entry) => [entry.sscc, entry.leaf.type]),
        [
          [caseSscc, "item"],
          [palletSscc, "container"],
        ],
      );
      const [, pallet] = held;
      assert.ok(pallet);
      assert.ok(StandardMerkleTree.verify(tree.root, ["bytes32"], [caseKey], pallet.proof));
    });

    test("a failed step fails the later ones and the expected state falls back", async () => {
      const leaves: ContainerLeaf[] = [{ type: "item", batchId, serial: "B0001" }];
      const tree = buildContainerTree(leaves);
      const packing = packingStep(otherCase, tree.root, ZERO_BYTES32);
      await insertContainerStep(opened.db, packing, {
        nodes: tree.nodes,
        leaves: [{ type: "item", batchId, serial: "B0001", treeIndex: tree.treeIndexes[0] ?? -1 }],
      });
      await anchorContainerStep(opened.db, packing.id, { txHash: hex(32), blockNumber: 5, logIndex: 0 });
      const shipping = eventStep(packing, "shipping", {
        childrenRoot: tree.root,
        custodian: signer,
        pendingReceiver: hex(20),
      });
      await insertContainerStep(opened.db, shipping, null);
      const unpacking = eventStep(packing, "unpacking", {
        childrenRoot: ZERO_BYTES32,
        custodian: ZERO_ADDRESS,
        pendingReceiver: ZERO_ADDRESS,
      });
      await insertContainerStep(opened.db, unpacking, null);
      assert.deepEqual(await itemsInLiveContainers(opened.db, batchId, ["B0001"]), []);
      assert.equal(
        (await getContainerBySscc(opened.db, otherCase))?.expectedStateHash,
        containerStateHash(unpacking.state),
      );

      const failed = await failContainerStepAndLater(opened.db, shipping.id, "container.no_custody");
      assert.deepEqual(new Set(failed), new Set([shipping.id, unpacking.id]));
      const container = await getContainerBySscc(opened.db, otherCase);
      assert.ok(container);
      assert.deepEqual(
        container.steps.map((step) => step.ledgerState),
        ["anchored", "failed", "failed"],
      );
      assert.equal(container.expectedStateHash, containerStateHash(packing.state));
      assert.equal(container.livePacking?.packingId, packing.id);
      assert.deepEqual(await itemsInLiveContainers(opened.db, batchId, ["B0001"]), [
        { serial: "B0001", sscc: otherCase },
      ]);
    });

    test("the chain refusing a step fails its queued successors and their outbox entries", async () => {
      const sscc = ssccFor(1, "0614141", 9n);
      const tree = buildContainerTree([{ type: "item", batchId, serial: "C0001" }]);
      const packing = packingStep(sscc, tree.root, ZERO_BYTES32);
      await insertContainerStep(opened.db, packing, {
        nodes: tree.nodes,
        leaves: [{ type: "item", batchId, serial: "C0001", treeIndex: tree.treeIndexes[0] ?? -1 }],
      });
      const shipping = eventStep(packing, "shipping", {
        childrenRoot: tree.root,
        custodian: signer,
        pendingReceiver: hex(20),
      });
      await insertContainerStep(opened.db, shipping, null);
      const first = await enqueueOutbox(opened.db, { kind: "container_packing", referenceId: packing.id, payload: {} });
      await enqueueOutbox(opened.db, { kind: "container_event", referenceId: shipping.id, payload: {} });
      await markOutboxFailed(opened.db, first.id, "container.no_custody");
      const outbox = await opened.db
        .selectFrom("outbox")
        .select(["reference_id", "state", "last_error"])
        .where("reference_id", "in", [packing.id, shipping.id])
        .orderBy("id")
        .execute();
      assert.deepEqual(
        outbox.map((row) => row.state),
        ["failed", "failed"],
      );
      assert.equal(outbox[1]?.last_error, `after ${packing.id}: container.no_custody`);
      const container = await getContainerBySscc(opened.db, sscc);
      assert.ok(container);
      assert.deepEqual(
        container.steps.map((step) => [step.ledgerState, step.failureReason]),
        [
          ["failed", "container.no_custody"],
          ["failed", `after ${packing.id}: container.no_custody`],
        ],
      );
      // Nothing of it reached the chain: the next packing signs for a container never packed.
      assert.equal(container.expectedStateHash, ZERO_BYTES32);
      assert.equal(container.livePacking, null);
      assert.deepEqual(await itemsInLiveContainers(opened.db, batchId, ["C0001"]), []);
    });

    test("SSCC references are handed out once, also to allocations racing", async () => {
      const firsts = await Promise.all(
        Array.from({ length: 6 }, () => takeSsccReferences(opened.db, "30614141", organisationId, 2)),
      );
      const taken = firsts.flatMap((first) => [first, first + 1n]).map(String);
      assert.equal(new Set(taken).size, 12, taken.join(","));
    });
  });
}
