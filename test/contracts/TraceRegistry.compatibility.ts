/**
 * The registry agrees with the off-chain libraries anyone re-verifying would use:
 * `@openzeppelin/merkle-tree` for item proofs, ethers for EIP-712 signatures. Nothing
 * here is computed by the code under test before it is compared.
 */
import { expect } from "chai";
import { AbiCoder, id, keccak256, verifyTypedData } from "ethers";
import { network } from "hardhat";

import { typesFor, type BatchAttestationValue } from "../../server/src/domain/typed-data.ts";
import {
  attestBatch,
  batchValue,
  deployRegistry,
  itemTree,
  ZERO_BYTES32,
  type RegistryContext,
} from "./helpers/fixtures.ts";
import { signedAttestation } from "./helpers/signing.ts";

const { networkHelpers } = await network.create();

/** Twelve-character serials, different for every seed and index and the same on every run. */
function serials(count: number, seed: string): string[] {
  return Array.from({ length: count }, (_, i) => id(`${seed} ${i}`).slice(2, 14).toUpperCase());
}

describe("TraceRegistry compatibility", function () {
  let ctx: RegistryContext;

  beforeEach(async function () {
    ctx = await networkHelpers.loadFixture(deployRegistry);
  });

  describe("item proofs from @openzeppelin/merkle-tree", function () {
    // 37 leaves: not a power of two, so the tree has uneven depth.
    const items = serials(37, "batch A");
    const tree = itemTree(items);
    let batchId: string;

    beforeEach(async function () {
      ({ batchId } = await attestBatch(ctx, ctx.cooperative, {
        itemsRoot: tree.root,
        itemCount: BigInt(items.length),
      }));
    });

    it("verifies every item's serial and leaf with the library's proof", async function () {
      for (const [index, [serial]] of tree.entries()) {
        const proof = tree.getProof(index);
        expect(await ctx.registry.verifyItem(batchId, serial, proof), serial).to.equal(true);
        expect(await ctx.registry.verifyItemLeaf(batchId, tree.leafHash([serial]), proof), serial).to.equal(true);
      }
    });

    it("refuses a serial that is not in the batch, with any item's proof", async function () {
      const [foreign] = serials(1, "batch B") as [string];
      for (const index of [0, 18, 36]) {
        expect(await ctx.registry.verifyItem(batchId, foreign, tree.getProof(index))).to.equal(false);
      }
    });

    it("refuses a serial with another item's proof", async function () {
      expect(await ctx.registry.verifyItem(batchId, items[0] ?? "", tree.getProof(1))).to.equal(false);
    });

    it("refuses a proof with one node altered, dropped or added", async function () {
      const proof = tree.getProof(5);
      const serial = tree.at(5)?.[0] ?? "";
      const altered = [...proof];
      altered[0] = id("not a node");
      expect(await ctx.registry.verifyItem(batchId, serial, altered)).to.equal(false);
      expect(await ctx.registry.verifyItem(batchId, serial, proof.slice(1))).to.equal(false);
      expect(await ctx.registry.verifyItem(batchId, serial, [...proof, id("extra")])).to.equal(false);
    });

    it("refuses a serial whose case differs from the one committed", async function () {
      const serial = tree.at(3)?.[0] ?? "";
      expect(await ctx.registry.verifyItem(batchId, serial.toLowerCase(), tree.getProof(3))).to.equal(false);
    });

    it("refuses a valid proof presented for another batch", async function () {
      const otherItems = serials(4, "batch C");
      const { batchId: otherBatchId } = await attestBatch(ctx, ctx.cooperative, {
        itemsRoot: itemTree(otherItems).root,
        itemCount: 4n,
      });
      expect(await ctx.registry.verifyItem(otherBatchId, items[0] ?? "", tree.getProof(0))).to.equal(false);
    });

    it("refuses every proof for an unknown batch", async function () {
      const unknown = await ctx.registry.batchIdOf(6_901_234_567_892n, "NEVER-ATTESTED");
      expect(await ctx.registry.verifyItem(unknown, items[0] ?? "", tree.getProof(0))).to.equal(false);
      expect(await ctx.registry.verifyItemLeaf(unknown, ZERO_BYTES32, [])).to.equal(false);
    });
  });

  it("verifies the only item of a one-item batch with an empty proof", async function () {
    const [serial] = serials(1, "single") as [string];
    const tree = itemTree([serial]);
    const { batchId } = await attestBatch(ctx, ctx.cooperative, { itemsRoot: tree.root, itemCount: 1n });
    expect(tree.getProof(0)).to.deep.equal([]);
    expect(await ctx.registry.verifyItem(batchId, serial, [])).to.equal(true);
    expect(await ctx.registry.verifyItem(batchId, `${serial}0`, [])).to.equal(false);
  });

  it("accepts an ethers EIP-712 signature whose signer ethers recovers from the logs alone", async function () {
    const request = await signedAttestation(
      ctx.cooperative,
      ctx.domain,
      await batchValue(ctx, ctx.cooperative.address),
    );
    const receipt = await (await ctx.registry.connect(ctx.relayer).attestBatches([request])).wait();
    const [log] = await ctx.registry.queryFilter(
      ctx.registry.filters.BatchAttested(),
      receipt?.blockNumber,
      receipt?.blockNumber,
    );
    if (log === undefined) throw new Error("no BatchAttested log");
    const { attester, gtin, lot, itemsRoot, itemCount, quantityMilli, unit, harvestedAt, metadataCid } = log.args;
    const signed: BatchAttestationValue = {
      attester,
      gtin,
      lot,
      itemsRoot,
      itemCount,
      quantityMilli,
      unit,
      harvestedAt,
      metadataCid,
      nonce: log.args.nonce,
      deadline: log.args.deadline,
    };
    expect(verifyTypedData(ctx.domain, typesFor("BatchAttestation"), signed, log.args.signature)).to.equal(
      ctx.cooperative.address,
    );
  });

  it("keeps a lot in Chinese characters byte-exact in its batch id", async function () {
    const lot = "云南-2025秋";
    const { batchId } = await attestBatch(ctx, ctx.cooperative, { lot });
    const expected = keccak256(AbiCoder.defaultAbiCoder().encode(["uint64", "string"], [6_901_234_567_892n, lot]));
    expect(batchId).to.equal(expected);
    expect((await ctx.registry.batch(expected)).attester).to.equal(ctx.cooperative.address);
  });
});
