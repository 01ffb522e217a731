/**
 * What a relayer, an outsider or a replay cannot do with organisations' EIP-712
 * signatures: move them to another chain, contract or time, reuse a nonce, alter what
 * was signed, sign for someone else, or outlive a suspension or key rotation.
 */
import { expect } from "chai";
import { concat, getBytes, Signature, toBeHex, type TypedDataDomain } from "ethers";
import { network } from "hardhat";

import { domainFor, type BatchAttestationValue } from "../../server/src/domain/typed-data.ts";
import {
  attestBatch,
  batchValue,
  BatchStatus,
  BizStep,
  cidOf,
  COMPANY_PREFIX,
  deployRegistry,
  freshNonce,
  GTIN,
  grantGtin,
  handOver,
  itemTree,
  latestTime,
  ONE_HOUR_S,
  OrgKind,
  REGION_CODE,
  signEvent,
  walletNamed,
  ZERO_BYTES32,
  type RegistryContext,
} from "./helpers/fixtures.ts";
import {
  signedAttestation,
  signedEvent,
  signedRecall,
  signTyped,
  typedDigest,
  type BatchAttestationRequest,
} from "./helpers/signing.ts";

const { networkHelpers } = await network.create();

/** Order of the secp256k1 group: `s` and `n - s` both verify under plain ECDSA. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

describe("TraceRegistry signatures", function () {
  let ctx: RegistryContext;

  beforeEach(async function () {
    ctx = await networkHelpers.loadFixture(deployRegistry);
  });

  async function attestationSignedWith(domain: TypedDataDomain): Promise<BatchAttestationRequest> {
    const value = await batchValue(ctx, ctx.cooperative.address);
    return { ...value, signature: await signTyped(ctx.cooperative, domain, "BatchAttestation", value) };
  }

  async function expectRefusedSignature(request: BatchAttestationRequest, registry = ctx.registry): Promise<void> {
    const { signature: _signature, ...value } = request;
    const chainId = (await ctx.ethers.provider.getNetwork()).chainId;
    const digest = typedDigest(domainFor(chainId, await registry.getAddress()), "BatchAttestation", value);
    await expect(registry.connect(ctx.relayer).attestBatches([request]))
      .to.be.revertedWithCustomError(registry, "RegistrySignatureInvalid")
      .withArgs(request.attester, digest);
  }

  async function secondRegistry() {
    const registry = await ctx.ethers.deployContract("TraceRegistry", [ctx.admin.address], ctx.admin);
    await registry.connect(ctx.admin).grantRole(await registry.RELAYER_ROLE(), ctx.relayer.address);
    await registry
      .connect(ctx.admin)
      .registerOrganisation(ctx.cooperative.address, OrgKind.Cooperative, REGION_CODE, cidOf("cooperative profile"));
    await registry
      .connect(ctx.admin)
      .bindCompanyPrefix(COMPANY_PREFIX.value, COMPANY_PREFIX.digits, ctx.cooperative.address);
    return registry;
  }

  describe("domain binding", function () {
    it("accepts a signature made for this chain and this contract", async function () {
      const request = await attestationSignedWith(ctx.domain);
      await expect(ctx.registry.connect(ctx.relayer).attestBatches([request])).to.emit(ctx.registry, "BatchAttested");
    });

    it("refuses a signature replayed on another chain", async function () {
      const otherChain = domainFor(ctx.chainId + 1n, await ctx.registry.getAddress());
      await expectRefusedSignature(await attestationSignedWith(otherChain));
    });

    it("refuses a signature made for another deployment of the registry", async function () {
      const other = await secondRegistry();
      await expectRefusedSignature(await attestationSignedWith(domainFor(ctx.chainId, await other.getAddress())));
    });

    it("refuses on a second deployment a signature the first one accepted", async function () {
      const other = await secondRegistry();
      const request = await attestationSignedWith(ctx.domain);
      await ctx.registry.connect(ctx.relayer).attestBatches([request]);
      await expectRefusedSignature(request, other);
    });

    it("refuses a signature made under another version of the domain", async function () {
      const otherVersion = { ...ctx.domain, version: "1" };
      await expectRefusedSignature(await attestationSignedWith(otherVersion));
    });

    it("refuses an event and a recall replayed on another chain", async function () {
      const { batchId } = await attestBatch(ctx);
      const otherChain = domainFor(ctx.chainId + 1n, await ctx.registry.getAddress());
      const now = await latestTime(ctx);
      const event = await signedEvent(ctx.cooperative, otherChain, {
        actor: ctx.cooperative.address,
        batchId,
        bizStep: BizStep.Shipping,
        occurredAt: now,
        payloadCid: cidOf("shipping"),
        counterparty: ctx.processor.address,
        nonce: freshNonce(),
        deadline: now + ONE_HOUR_S,
      });
      const { signature: _e, ...eventValue } = event;
      await expect(ctx.registry.connect(ctx.relayer).recordEvents([event]))
        .to.be.revertedWithCustomError(ctx.registry, "RegistrySignatureInvalid")
        .withArgs(ctx.cooperative.address, typedDigest(ctx.domain, "TraceEvent", eventValue));

      const recall = await signedRecall(ctx.cooperative, otherChain, {
        attester: ctx.cooperative.address,
        batchId,
        reasonCid: cidOf("reason"),
        nonce: freshNonce(),
        deadline: now + ONE_HOUR_S,
      });
      const { signature: _r, ...recallValue } = recall;
      await expect(ctx.registry.connect(ctx.relayer).recallBatch(recall))
        .to.be.revertedWithCustomError(ctx.registry, "RegistrySignatureInvalid")
        .withArgs(ctx.cooperative.address, typedDigest(ctx.domain, "Recall", recallValue));
    });
  });

  describe("nonces", function () {
    it("refuses a used nonce, even under a different attestation", async function () {
      const { request: first } = await attestBatch(ctx);
      const second = await signedAttestation(
        ctx.cooperative,
        ctx.domain,
        await batchValue(ctx, ctx.cooperative.address, { nonce: first.nonce }),
      );
      await expect(ctx.registry.connect(ctx.relayer).attestBatches([second]))
        .to.be.revertedWithCustomError(ctx.registry, "RegistryNonceAlreadyUsed")
        .withArgs(ctx.cooperative.address, first.nonce);
    });

    it("refuses the same event submitted twice", async function () {
      const { batchId } = await attestBatch(ctx);
      await handOver(ctx, batchId, ctx.processor);
      const event = await signEvent(ctx, ctx.processor, batchId);
      await ctx.registry.connect(ctx.relayer).recordEvents([event]);
      await expect(ctx.registry.connect(ctx.relayer).recordEvents([event]))
        .to.be.revertedWithCustomError(ctx.registry, "RegistryNonceAlreadyUsed")
        .withArgs(ctx.processor.address, event.nonce);
    });

    it("refuses one event twice within the same submission", async function () {
      const { batchId } = await attestBatch(ctx);
      await handOver(ctx, batchId, ctx.processor);
      const event = await signEvent(ctx, ctx.processor, batchId);
      await expect(ctx.registry.connect(ctx.relayer).recordEvents([event, event]))
        .to.be.revertedWithCustomError(ctx.registry, "RegistryNonceAlreadyUsed")
        .withArgs(ctx.processor.address, event.nonce);
    });

    it("refuses the same recall submitted twice before the batch state is looked at", async function () {
      const { batchId } = await attestBatch(ctx);
      const now = await latestTime(ctx);
      const recall = await signedRecall(ctx.cooperative, ctx.domain, {
        attester: ctx.cooperative.address,
        batchId,
        reasonCid: cidOf("reason"),
        nonce: freshNonce(),
        deadline: now + ONE_HOUR_S,
      });
      await ctx.registry.connect(ctx.relayer).recallBatch(recall);
      await expect(ctx.registry.connect(ctx.relayer).recallBatch(recall))
        .to.be.revertedWithCustomError(ctx.registry, "RegistryNonceAlreadyUsed")
        .withArgs(ctx.cooperative.address, recall.nonce);
    });

    it("accepts nonces in any order, a gap never blocking the ones after it", async function () {
      for (const nonce of [1_000n, 3n, 257n, 2n ** 255n]) {
        await attestBatch(ctx, ctx.cooperative, { nonce });
        expect(await ctx.registry.nonceUsed(ctx.cooperative.address, nonce)).to.equal(true);
      }
    });
  });

  describe("deadlines", function () {
    it("accepts a signature in the very second of its deadline", async function () {
      const request = await attestationSignedWith(ctx.domain);
      await networkHelpers.time.setNextBlockTimestamp(request.deadline);
      await expect(ctx.registry.connect(ctx.relayer).attestBatches([request])).to.emit(ctx.registry, "BatchAttested");
    });

    it("refuses a signature once its deadline has passed", async function () {
      const request = await attestationSignedWith(ctx.domain);
      await networkHelpers.time.increaseTo(request.deadline);
      await networkHelpers.time.setNextBlockTimestamp(request.deadline + 1n);
      await expect(ctx.registry.connect(ctx.relayer).attestBatches([request]))
        .to.be.revertedWithCustomError(ctx.registry, "RegistrySignatureExpired")
        .withArgs(request.deadline, request.deadline + 1n);
    });

    it("refuses an expired event", async function () {
      const { batchId } = await attestBatch(ctx);
      await handOver(ctx, batchId, ctx.processor);
      const event = await signEvent(ctx, ctx.processor, batchId);
      await networkHelpers.time.increase(ONE_HOUR_S * 2n);
      await expect(ctx.registry.connect(ctx.relayer).recordEvents([event])).to.be.revertedWithCustomError(
        ctx.registry,
        "RegistrySignatureExpired",
      );
    });
  });

  describe("who signed", function () {
    it("refuses an attester no organisation holds", async function () {
      const request = await signedAttestation(ctx.stranger, ctx.domain, await batchValue(ctx, ctx.stranger.address));
      await expect(ctx.registry.connect(ctx.relayer).attestBatches([request]))
        .to.be.revertedWithCustomError(ctx.registry, "RegistryOrganisationUnknown")
        .withArgs(ctx.stranger.address);
    });

    it("refuses a cooperative's attestation signed by an unregistered key", async function () {
      const value = await batchValue(ctx, ctx.cooperative.address);
      await expectRefusedSignature(await signedAttestation(ctx.stranger, ctx.domain, value));
    });

    it("refuses an attestation the relayer signed itself in a cooperative's name", async function () {
      const value = await batchValue(ctx, ctx.cooperative.address);
      await expectRefusedSignature(await signedAttestation(ctx.relayer, ctx.domain, value));
    });

    it("refuses an event the relayer attributes to a cooperative that did not sign it", async function () {
      const { batchId } = await attestBatch(ctx);
      const event = await signEvent(ctx, ctx.processor, batchId, { actor: ctx.cooperative.address });
      const { signature: _signature, ...value } = event;
      await expect(ctx.registry.connect(ctx.relayer).recordEvents([event]))
        .to.be.revertedWithCustomError(ctx.registry, "RegistrySignatureInvalid")
        .withArgs(ctx.cooperative.address, typedDigest(ctx.domain, "TraceEvent", value));
    });

    it("refuses a suspended key, and accepts the same signature once reinstated", async function () {
      const request = await attestationSignedWith(ctx.domain);
      await ctx.registry.connect(ctx.regulator).suspendOrganisation(ctx.cooperative.address, cidOf("reason"));
      await expect(ctx.registry.connect(ctx.relayer).attestBatches([request]))
        .to.be.revertedWithCustomError(ctx.registry, "RegistryOrganisationSuspended")
        .withArgs(ctx.cooperative.address);
      await ctx.registry.connect(ctx.regulator).reinstateOrganisation(ctx.cooperative.address, cidOf("reinstated"));
      await expect(ctx.registry.connect(ctx.relayer).attestBatches([request])).to.emit(ctx.registry, "BatchAttested");
    });

    it("refuses events of a suspended organisation", async function () {
      const { batchId } = await attestBatch(ctx);
      await ctx.registry.connect(ctx.regulator).suspendOrganisation(ctx.processor.address, cidOf("reason"));
      await expect(ctx.registry.connect(ctx.relayer).recordEvents([await signEvent(ctx, ctx.processor, batchId)]))
        .to.be.revertedWithCustomError(ctx.registry, "RegistryOrganisationSuspended")
        .withArgs(ctx.processor.address);
    });

    it("refuses a validly signed attestation submitted by anyone but a relayer, the cooperative included", async function () {
      const request = await attestationSignedWith(ctx.domain);
      const cooperativeAccount = ctx.cooperative.connect(ctx.ethers.provider);
      await networkHelpers.setBalance(cooperativeAccount.address, 10n ** 18n);
      const relayerRole = await ctx.registry.RELAYER_ROLE();
      for (const caller of [ctx.outsider, cooperativeAccount]) {
        await expect(ctx.registry.connect(caller).attestBatches([request]))
          .to.be.revertedWithCustomError(ctx.registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, relayerRole);
      }
    });

    it("refuses a malleable twin of a valid signature", async function () {
      const request = await attestationSignedWith(ctx.domain);
      const signature = Signature.from(request.signature);
      const twin = concat([
        signature.r,
        toBeHex(SECP256K1_N - BigInt(signature.s), 32),
        toBeHex(signature.v === 27 ? 28 : 27, 1),
      ]);
      await expectRefusedSignature({ ...request, signature: twin });
    });

    it("refuses a signature that is not 65 bytes", async function () {
      const request = await attestationSignedWith(ctx.domain);
      await expectRefusedSignature({ ...request, signature: request.signature.slice(0, -2) });
      await expectRefusedSignature({ ...request, signature: "0x" });
    });
  });

  describe("what was signed", function () {
    const alterations: { field: keyof BatchAttestationValue; alter: (v: BatchAttestationValue) => unknown }[] = [
      { field: "gtin", alter: (v) => v.gtin + 1n },
      { field: "lot", alter: (v) => `${v.lot}X` },
      { field: "itemsRoot", alter: () => itemTree(["FORGED-SERIAL-1", "FORGED-SERIAL-2"]).root },
      { field: "itemCount", alter: (v) => v.itemCount * 10n },
      { field: "quantityMilli", alter: (v) => v.quantityMilli * 2n },
      { field: "unit", alter: () => "H87" },
      { field: "harvestedAt", alter: (v) => v.harvestedAt - 1n },
      { field: "metadataCid", alter: () => cidOf("forged metadata") },
      { field: "nonce", alter: (v) => v.nonce + 1n },
      { field: "deadline", alter: (v) => v.deadline + ONE_HOUR_S },
    ];
    for (const { field, alter } of alterations) {
      it(`refuses an attestation whose ${field} the relayer changed after signing`, async function () {
        const request = await attestationSignedWith(ctx.domain);
        await expectRefusedSignature({ ...request, [field]: alter(request) });
      });
    }

    it("refuses an event moved to another batch, step, time or payload after signing", async function () {
      const { batchId } = await attestBatch(ctx);
      const { batchId: otherBatchId } = await attestBatch(ctx, ctx.otherCooperative);
      // The processor holds both batches, so only the signature can tell the moves apart.
      await handOver(ctx, batchId, ctx.processor);
      await handOver(ctx, otherBatchId, ctx.processor, ctx.otherCooperative);
      const event = await signEvent(ctx, ctx.processor, batchId);
      for (const altered of [
        { ...event, batchId: otherBatchId },
        { ...event, bizStep: BizStep.Transforming },
        { ...event, occurredAt: event.occurredAt - 1n },
        { ...event, payloadCid: cidOf("forged payload") },
      ]) {
        const { signature: _signature, ...value } = altered;
        await expect(ctx.registry.connect(ctx.relayer).recordEvents([altered]))
          .to.be.revertedWithCustomError(ctx.registry, "RegistrySignatureInvalid")
          .withArgs(ctx.processor.address, typedDigest(ctx.domain, "TraceEvent", value));
      }
    });

    it("refuses a recall whose reason the relayer changed after signing", async function () {
      const { batchId } = await attestBatch(ctx);
      const now = await latestTime(ctx);
      const recall = await signedRecall(ctx.cooperative, ctx.domain, {
        attester: ctx.cooperative.address,
        batchId,
        reasonCid: cidOf("reason"),
        nonce: freshNonce(),
        deadline: now + ONE_HOUR_S,
      });
      const altered = { ...recall, reasonCid: cidOf("forged reason") };
      const { signature: _signature, ...value } = altered;
      await expect(ctx.registry.connect(ctx.relayer).recallBatch(altered))
        .to.be.revertedWithCustomError(ctx.registry, "RegistrySignatureInvalid")
        .withArgs(ctx.cooperative.address, typedDigest(ctx.domain, "Recall", value));
      expect((await ctx.registry.batch(batchId)).status).to.equal(BatchStatus.Active);
    });
  });

  describe("key rotation", function () {
    it("refuses the old key and accepts the new one", async function () {
      const signedBeforeRotation = await attestationSignedWith(ctx.domain);
      const newKey = walletNamed("cooperative, new key");
      await ctx.registry.connect(ctx.admin).rotateSigner(ctx.cooperative.address, newKey.address);

      await expect(ctx.registry.connect(ctx.relayer).attestBatches([signedBeforeRotation]))
        .to.be.revertedWithCustomError(ctx.registry, "RegistryOrganisationUnknown")
        .withArgs(ctx.cooperative.address);
      const { batchId } = await attestBatch(ctx, newKey);
      expect((await ctx.registry.batch(batchId)).attester).to.equal(newKey.address);
    });

    it("gives the new key a nonce space of its own", async function () {
      const { request } = await attestBatch(ctx);
      const newKey = walletNamed("cooperative, new key");
      await ctx.registry.connect(ctx.admin).rotateSigner(ctx.cooperative.address, newKey.address);
      await attestBatch(ctx, newKey, { nonce: request.nonce });
      expect(await ctx.registry.nonceUsed(newKey.address, request.nonce)).to.equal(true);
    });

    it("refuses a signature of the new key that claims the old key as attester", async function () {
      const newKey = walletNamed("cooperative, new key");
      const value = await batchValue(ctx, ctx.cooperative.address);
      const request = await signedAttestation(newKey, ctx.domain, value);
      await ctx.registry.connect(ctx.admin).rotateSigner(ctx.cooperative.address, newKey.address);
      await expect(ctx.registry.connect(ctx.relayer).attestBatches([request]))
        .to.be.revertedWithCustomError(ctx.registry, "RegistryOrganisationUnknown")
        .withArgs(ctx.cooperative.address);
    });
  });

  describe("ERC-1271 contract wallets", function () {
    async function walletCooperative() {
      const owner = walletNamed("wallet owner");
      const wallet = await ctx.ethers.deployContract("OwnerSignedWallet", [owner.address], ctx.admin);
      const walletAddress = await wallet.getAddress();
      await ctx.registry
        .connect(ctx.admin)
        .registerOrganisation(walletAddress, OrgKind.Cooperative, REGION_CODE, cidOf("wallet cooperative"));
      // A contract packer of the cooperative's product: batchValue attests GTIN.
      await grantGtin(ctx, ctx.cooperative, GTIN, walletAddress);
      return { owner, walletAddress };
    }

    it("accepts an attestation and an event the wallet's owner signed", async function () {
      const { owner, walletAddress } = await walletCooperative();
      const request = await signedAttestation(owner, ctx.domain, await batchValue(ctx, walletAddress));
      await expect(ctx.registry.connect(ctx.relayer).attestBatches([request]))
        .to.emit(ctx.registry, "BatchAttested")
        .withArgs(
          await ctx.registry.batchIdOf(request.gtin, request.lot),
          walletAddress,
          request.gtin,
          request.lot,
          request.itemsRoot,
          request.itemCount,
          request.quantityMilli,
          request.unit,
          request.harvestedAt,
          request.metadataCid,
          request.nonce,
          request.deadline,
          request.signature,
        );
      const batchId = await ctx.registry.batchIdOf(request.gtin, request.lot);
      const event = await signEvent(ctx, owner, batchId, { actor: walletAddress });
      await expect(ctx.registry.connect(ctx.relayer).recordEvents([event])).to.emit(ctx.registry, "EventRecorded");
      expect(await ctx.registry.nonceUsed(walletAddress, event.nonce)).to.equal(true);
    });

    it("refuses what the wallet refuses: a signature by a key that does not own it", async function () {
      const { walletAddress } = await walletCooperative();
      const value = await batchValue(ctx, walletAddress);
      await expectRefusedSignature(await signedAttestation(ctx.stranger, ctx.domain, value));
    });

    it("refuses a wallet owner's signature made for another chain", async function () {
      const { owner, walletAddress } = await walletCooperative();
      const value = await batchValue(ctx, walletAddress);
      const otherChain = domainFor(ctx.chainId + 1n, await ctx.registry.getAddress());
      await expectRefusedSignature(await signedAttestation(owner, otherChain, value));
    });

    it("answers the ERC-1271 magic value only for its owner's signatures", async function () {
      const owner = walletNamed("wallet owner");
      const wallet = await ctx.ethers.deployContract("OwnerSignedWallet", [owner.address], ctx.admin);
      const digest = typedDigest(ctx.domain, "Recall", {
        attester: await wallet.getAddress(),
        batchId: ZERO_BYTES32,
        reasonCid: cidOf("reason"),
        nonce: 1n,
        deadline: 1n,
      });
      const bySigner = (key: typeof owner) => key.signingKey.sign(getBytes(digest)).serialized;
      expect(await wallet.owner()).to.equal(owner.address);
      expect(await wallet.isValidSignature(digest, bySigner(owner))).to.equal("0x1626ba7e");
      expect(await wallet.isValidSignature(digest, bySigner(ctx.stranger))).to.equal("0xffffffff");
    });
  });
});
