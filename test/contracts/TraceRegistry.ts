/**
 * TraceRegistry, one external function at a time: every success path, and every refusal
 * with the custom error (and its arguments) a client would decode.
 * Replay and forgery cases live in `TraceRegistry.signatures.ts`; Merkle and EIP-712
 * compatibility with off-chain libraries and the hash-chain property in their own files.
 */
import { expect } from "chai";
import { AbiCoder, id, keccak256, TypedDataEncoder, ZeroAddress } from "ethers";
import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { network } from "hardhat";

import {
  BIZ_STEPS,
  CURRENT_TYPED_DATA_VERSION,
  DOMAIN_NAME,
  typesFor,
  containerTypesFor,
  type BatchAttestationValue,
  type ContainerType,
  type PrimaryType,
} from "../../server/src/domain/typed-data.ts";
import type { TraceRegistry } from "../../types/ethers-contracts/index.ts";
import {
  attestBatch,
  batchValue,
  BatchStatus,
  BizStep,
  cidOf,
  deployRegistry,
  freshNonce,
  grantGtin,
  GTIN,
  handOver,
  signGtinGrant,
  latestTime,
  ONE_HOUR_S,
  OrgKind,
  OrgStatus,
  REGION_CODE,
  signEvent,
  walletNamed,
  ZERO_BYTES32,
  type RegistryContext,
} from "./helpers/fixtures.ts";
import { signedAttestation, signedInspectionRequest, signedRecall, typedDigest } from "./helpers/signing.ts";

const { networkHelpers } = await network.create();

/** The first value too large for a GTIN-14 (10^14). */
const GTIN_LIMIT = 100_000_000_000_000n;

async function organisationOf(registry: TraceRegistry, signer: string) {
  const org = await registry.organisation(signer);
  return {
    signer: org.signer,
    kind: org.kind,
    status: org.status,
    regionCode: org.regionCode,
    metadataCid: org.metadataCid,
  };
}

async function batchOf(registry: TraceRegistry, batchId: string) {
  const record = await registry.batch(batchId);
  return {
    itemsRoot: record.itemsRoot,
    attester: record.attester,
    itemCount: record.itemCount,
    status: record.status,
    eventHead: record.eventHead,
  };
}

describe("TraceRegistry", function () {
  let ctx: RegistryContext;
  let registry: TraceRegistry;
  let adminRole: string;
  let regulatorRole: string;
  let relayerRole: string;

  beforeEach(async function () {
    ctx = await networkHelpers.loadFixture(deployRegistry);
    registry = ctx.registry;
    adminRole = await registry.DEFAULT_ADMIN_ROLE();
    regulatorRole = await registry.REGULATOR_ROLE();
    relayerRole = await registry.RELAYER_ROLE();
  });

  describe("deployment", function () {
    it("gives the admin role to the operating authority and no other role to anyone", async function () {
      expect(await registry.hasRole(adminRole, ctx.admin.address)).to.equal(true);
      expect(await registry.hasRole(adminRole, ctx.regulator.address)).to.equal(false);
      expect(await registry.hasRole(regulatorRole, ctx.admin.address)).to.equal(false);
      expect(await registry.hasRole(relayerRole, ctx.admin.address)).to.equal(false);
      expect(await registry.getRoleAdmin(regulatorRole)).to.equal(adminRole);
      expect(await registry.getRoleAdmin(relayerRole)).to.equal(adminRole);
    });

    it("names the roles by the hash of their names", function () {
      expect(regulatorRole).to.equal(id("REGULATOR_ROLE"));
      expect(relayerRole).to.equal(id("RELAYER_ROLE"));
    });

    it("refuses a zero admin", async function () {
      const factory = await ctx.ethers.getContractFactory("TraceRegistry");
      await expect(factory.deploy(ZeroAddress)).to.be.revertedWithCustomError(factory, "RegistryAdminZero").withArgs();
    });
  });

  describe("typed data", function () {
    const constants: Record<PrimaryType, () => Promise<string>> = {
      BatchAttestation: () => registry.BATCH_ATTESTATION_TYPEHASH(),
      TraceEvent: () => registry.TRACE_EVENT_TYPEHASH(),
      Recall: () => registry.RECALL_TYPEHASH(),
      GtinGrant: () => registry.GTIN_GRANT_TYPEHASH(),
      InspectionRequest: () => registry.INSPECTION_REQUEST_TYPEHASH(),
      ContainerPacking: () => registry.CONTAINER_PACKING_TYPEHASH(),
      ContainerEvent: () => registry.CONTAINER_EVENT_TYPEHASH(),
    };
    for (const primaryType of Object.keys(constants) as PrimaryType[]) {
      it(`has the ${primaryType} typehash of the server's typed-data table`, async function () {
        const encodedType = TypedDataEncoder.from(typesFor(primaryType)).encodeType(primaryType);
        expect(await constants[primaryType]()).to.equal(id(encodedType));
      });
    }

    const containerConstants: Record<ContainerType, () => Promise<string>> = {
      ContainerPacking: () => registry.CONTAINER_PACKING_TYPEHASH(),
      ContainerEvent: () => registry.CONTAINER_EVENT_TYPEHASH(),
    };
    for (const primaryType of Object.keys(containerConstants) as ContainerType[]) {
      it(`has the ${primaryType} typehash of the server's container types`, async function () {
        const encodedType = TypedDataEncoder.from(containerTypesFor(primaryType)).encodeType(primaryType);
        expect(await containerConstants[primaryType]()).to.equal(id(encodedType));
      });
    }

    it("exposes the EIP-712 domain separator of its chain and address", async function () {
      expect(await registry.domainSeparator()).to.equal(TypedDataEncoder.hashDomain(ctx.domain));
    });

    it("describes its domain per EIP-5267 with the table's name and version", async function () {
      const domain = await registry.eip712Domain();
      expect(domain.name).to.equal(DOMAIN_NAME);
      expect(domain.version).to.equal(CURRENT_TYPED_DATA_VERSION);
      expect(domain.chainId).to.equal(ctx.chainId);
      expect(domain.verifyingContract).to.equal(await registry.getAddress());
    });
  });

  describe("registerOrganisation", function () {
    it("registers an active organisation and announces it", async function () {
      const signer = walletNamed("new inspector").address;
      const profile = cidOf("inspector profile");
      await expect(registry.connect(ctx.admin).registerOrganisation(signer, OrgKind.Inspector, REGION_CODE, profile))
        .to.emit(registry, "OrganisationRegistered")
        .withArgs(signer, OrgKind.Inspector, REGION_CODE, profile);
      expect(await organisationOf(registry, signer)).to.deep.equal({
        signer,
        kind: OrgKind.Inspector,
        status: OrgStatus.Active,
        regionCode: REGION_CODE,
        metadataCid: profile,
      });
    });

    it("accepts the lowest and highest six-digit region codes", async function () {
      const low = walletNamed("region low").address;
      const high = walletNamed("region high").address;
      await registry.connect(ctx.admin).registerOrganisation(low, OrgKind.Logistics, 100_000, cidOf("low"));
      await registry.connect(ctx.admin).registerOrganisation(high, OrgKind.Logistics, 999_999, cidOf("high"));
      expect((await registry.organisation(low)).regionCode).to.equal(100_000n);
      expect((await registry.organisation(high)).regionCode).to.equal(999_999n);
    });

    it("refuses every account but the admin", async function () {
      for (const caller of [ctx.outsider, ctx.regulator, ctx.relayer]) {
        await expect(
          registry
            .connect(caller)
            .registerOrganisation(walletNamed("x").address, OrgKind.Cooperative, REGION_CODE, cidOf("x")),
        )
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, adminRole);
      }
    });

    const invalid: {
      field: string;
      why: string;
      override: { signer?: string; kind?: bigint; regionCode?: bigint; metadataCid?: string };
      error: string;
      args: unknown[];
    }[] = [
      {
        field: "signer",
        why: "the zero address",
        override: { signer: ZeroAddress },
        error: "RegistrySignerZero",
        args: [],
      },
      { field: "kind", why: "None", override: { kind: OrgKind.None }, error: "RegistryKindNone", args: [] },
      {
        field: "regionCode",
        why: "five digits",
        override: { regionCode: 99_999n },
        error: "RegistryRegionCodeOutOfRange",
        args: [99_999n, 100_000n, 999_999n],
      },
      {
        field: "regionCode",
        why: "seven digits",
        override: { regionCode: 1_000_000n },
        error: "RegistryRegionCodeOutOfRange",
        args: [1_000_000n, 100_000n, 999_999n],
      },
      {
        field: "metadataCid",
        why: "empty",
        override: { metadataCid: "0x" },
        error: "RegistryMetadataCidEmpty",
        args: [],
      },
    ];
    for (const { field, why, override, error, args } of invalid) {
      it(`refuses an organisation whose ${field} is ${why}`, async function () {
        await expect(
          registry
            .connect(ctx.admin)
            .registerOrganisation(
              override.signer ?? walletNamed("valid").address,
              override.kind ?? OrgKind.Cooperative,
              override.regionCode ?? REGION_CODE,
              override.metadataCid ?? cidOf("valid"),
            ),
        )
          .to.be.revertedWithCustomError(registry, error)
          .withArgs(...args);
      });
    }

    it("refuses a signer that is already registered", async function () {
      await expect(
        registry
          .connect(ctx.admin)
          .registerOrganisation(ctx.cooperative.address, OrgKind.Retailer, REGION_CODE, cidOf("again")),
      )
        .to.be.revertedWithCustomError(registry, "RegistryOrganisationAlreadyRegistered")
        .withArgs(ctx.cooperative.address);
    });

    it("refuses a signer that is registered but suspended", async function () {
      await registry.connect(ctx.regulator).suspendOrganisation(ctx.cooperative.address, cidOf("reason"));
      await expect(
        registry
          .connect(ctx.admin)
          .registerOrganisation(ctx.cooperative.address, OrgKind.Cooperative, REGION_CODE, cidOf("fresh start")),
      )
        .to.be.revertedWithCustomError(registry, "RegistryOrganisationAlreadyRegistered")
        .withArgs(ctx.cooperative.address);
    });
  });

  describe("rotateSigner", function () {
    it("moves the organisation to the new key and forgets the old one", async function () {
      const before = await organisationOf(registry, ctx.cooperative.address);
      const newKey = walletNamed("cooperative, new key").address;
      await expect(registry.connect(ctx.admin).rotateSigner(ctx.cooperative.address, newKey))
        .to.emit(registry, "SignerRotated")
        .withArgs(ctx.cooperative.address, newKey);
      expect(await organisationOf(registry, newKey)).to.deep.equal({ ...before, signer: newKey });
      expect((await registry.organisation(ctx.cooperative.address)).status).to.equal(OrgStatus.None);
    });

    it("keeps a suspended organisation suspended under its new key", async function () {
      await registry.connect(ctx.regulator).suspendOrganisation(ctx.cooperative.address, cidOf("reason"));
      const newKey = walletNamed("cooperative, new key").address;
      await registry.connect(ctx.admin).rotateSigner(ctx.cooperative.address, newKey);
      expect((await registry.organisation(newKey)).status).to.equal(OrgStatus.Suspended);
    });

    it("refuses every account but the admin", async function () {
      for (const caller of [ctx.outsider, ctx.regulator, ctx.relayer]) {
        await expect(registry.connect(caller).rotateSigner(ctx.cooperative.address, walletNamed("new").address))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, adminRole);
      }
    });

    it("refuses a zero new key", async function () {
      await expect(registry.connect(ctx.admin).rotateSigner(ctx.cooperative.address, ZeroAddress))
        .to.be.revertedWithCustomError(registry, "RegistrySignerZero")
        .withArgs();
    });

    it("refuses to rotate a key no organisation holds", async function () {
      await expect(registry.connect(ctx.admin).rotateSigner(ctx.stranger.address, walletNamed("new").address))
        .to.be.revertedWithCustomError(registry, "RegistryOrganisationUnknown")
        .withArgs(ctx.stranger.address);
    });

    it("refuses a new key that another organisation holds", async function () {
      await expect(registry.connect(ctx.admin).rotateSigner(ctx.cooperative.address, ctx.retailer.address))
        .to.be.revertedWithCustomError(registry, "RegistryOrganisationAlreadyRegistered")
        .withArgs(ctx.retailer.address);
    });

    it("retires the old key for good, so no other organisation inherits its batches", async function () {
      const newKey = walletNamed("cooperative, new key").address;
      await registry.connect(ctx.admin).rotateSigner(ctx.cooperative.address, newKey);
      await expect(
        registry
          .connect(ctx.admin)
          .registerOrganisation(ctx.cooperative.address, OrgKind.Cooperative, REGION_CODE, cidOf("someone else")),
      )
        .to.be.revertedWithCustomError(registry, "RegistryOrganisationAlreadyRegistered")
        .withArgs(ctx.cooperative.address);
      await expect(registry.connect(ctx.admin).rotateSigner(ctx.otherCooperative.address, ctx.cooperative.address))
        .to.be.revertedWithCustomError(registry, "RegistryOrganisationAlreadyRegistered")
        .withArgs(ctx.cooperative.address);
      await expect(registry.connect(ctx.admin).rotateSigner(newKey, ctx.cooperative.address))
        .to.be.revertedWithCustomError(registry, "RegistryOrganisationAlreadyRegistered")
        .withArgs(ctx.cooperative.address);
    });

    it("refuses to rotate a key onto itself", async function () {
      await expect(registry.connect(ctx.admin).rotateSigner(ctx.cooperative.address, ctx.cooperative.address))
        .to.be.revertedWithCustomError(registry, "RegistryOrganisationAlreadyRegistered")
        .withArgs(ctx.cooperative.address);
    });
  });

  describe("suspendOrganisation", function () {
    it("suspends an active organisation and names the regulator", async function () {
      const reason = cidOf("inspection report");
      await expect(registry.connect(ctx.regulator).suspendOrganisation(ctx.cooperative.address, reason))
        .to.emit(registry, "OrganisationSuspended")
        .withArgs(ctx.cooperative.address, ctx.regulator.address, reason);
      expect((await registry.organisation(ctx.cooperative.address)).status).to.equal(OrgStatus.Suspended);
    });

    it("leaves already anchored batches as they are", async function () {
      const { batchId } = await attestBatch(ctx);
      const before = await batchOf(registry, batchId);
      await registry.connect(ctx.regulator).suspendOrganisation(ctx.cooperative.address, cidOf("reason"));
      expect(await batchOf(registry, batchId)).to.deep.equal(before);
    });

    it("refuses every account but a regulator, the admin included", async function () {
      for (const caller of [ctx.outsider, ctx.admin, ctx.relayer]) {
        await expect(registry.connect(caller).suspendOrganisation(ctx.cooperative.address, cidOf("reason")))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, regulatorRole);
      }
    });

    it("refuses a suspension without a reason", async function () {
      await expect(registry.connect(ctx.regulator).suspendOrganisation(ctx.cooperative.address, "0x"))
        .to.be.revertedWithCustomError(registry, "RegistryReasonCidEmpty")
        .withArgs();
    });

    it("refuses to suspend an unknown organisation", async function () {
      await expect(registry.connect(ctx.regulator).suspendOrganisation(ctx.stranger.address, cidOf("reason")))
        .to.be.revertedWithCustomError(registry, "RegistryOrganisationUnknown")
        .withArgs(ctx.stranger.address);
    });

    it("refuses to suspend an organisation twice", async function () {
      await registry.connect(ctx.regulator).suspendOrganisation(ctx.cooperative.address, cidOf("reason"));
      await expect(registry.connect(ctx.regulator).suspendOrganisation(ctx.cooperative.address, cidOf("again")))
        .to.be.revertedWithCustomError(registry, "RegistryOrganisationSuspended")
        .withArgs(ctx.cooperative.address);
    });
  });

  describe("reinstateOrganisation", function () {
    beforeEach(async function () {
      await registry.connect(ctx.regulator).suspendOrganisation(ctx.cooperative.address, cidOf("reason"));
    });

    it("reinstates a suspended organisation and names the regulator", async function () {
      const reason = cidOf("corrective action accepted");
      await expect(registry.connect(ctx.regulator).reinstateOrganisation(ctx.cooperative.address, reason))
        .to.emit(registry, "OrganisationReinstated")
        .withArgs(ctx.cooperative.address, ctx.regulator.address, reason);
      expect((await registry.organisation(ctx.cooperative.address)).status).to.equal(OrgStatus.Active);
    });

    it("refuses every account but a regulator, the admin included", async function () {
      for (const caller of [ctx.outsider, ctx.admin, ctx.relayer]) {
        await expect(registry.connect(caller).reinstateOrganisation(ctx.cooperative.address, cidOf("reason")))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, regulatorRole);
      }
    });

    it("refuses a reinstatement without a reason", async function () {
      await expect(registry.connect(ctx.regulator).reinstateOrganisation(ctx.cooperative.address, "0x"))
        .to.be.revertedWithCustomError(registry, "RegistryReasonCidEmpty")
        .withArgs();
    });

    it("refuses to reinstate an unknown organisation", async function () {
      await expect(registry.connect(ctx.regulator).reinstateOrganisation(ctx.stranger.address, cidOf("reason")))
        .to.be.revertedWithCustomError(registry, "RegistryOrganisationUnknown")
        .withArgs(ctx.stranger.address);
    });

    it("refuses to reinstate an organisation that is not suspended", async function () {
      await expect(registry.connect(ctx.regulator).reinstateOrganisation(ctx.retailer.address, cidOf("reason")))
        .to.be.revertedWithCustomError(registry, "RegistryOrganisationNotSuspended")
        .withArgs(ctx.retailer.address);
    });
  });

  describe("attestBatches", function () {
    it("records the batch commitment, marks the nonce used and emits every signed field", async function () {
      const request = await signedAttestation(
        ctx.cooperative,
        ctx.domain,
        await batchValue(ctx, ctx.cooperative.address),
      );
      const batchId = await registry.batchIdOf(request.gtin, request.lot);
      expect(await registry.connect(ctx.relayer).attestBatches.staticCall([request])).to.deep.equal([batchId]);

      await expect(registry.connect(ctx.relayer).attestBatches([request]))
        .to.emit(registry, "BatchAttested")
        .withArgs(
          batchId,
          request.attester,
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
      expect(await batchOf(registry, batchId)).to.deep.equal({
        itemsRoot: request.itemsRoot,
        attester: ctx.cooperative.address,
        itemCount: request.itemCount,
        status: BatchStatus.Active,
        eventHead: ZERO_BYTES32,
      });
      expect(await registry.nonceUsed(ctx.cooperative.address, request.nonce)).to.equal(true);
    });

    it("records many batches of several cooperatives in one transaction, in order", async function () {
      const requests = [
        await signedAttestation(ctx.cooperative, ctx.domain, await batchValue(ctx, ctx.cooperative.address)),
        await signedAttestation(ctx.otherCooperative, ctx.domain, await batchValue(ctx, ctx.otherCooperative.address)),
        await signedAttestation(ctx.cooperative, ctx.domain, await batchValue(ctx, ctx.cooperative.address)),
      ];
      const expectedIds = await Promise.all(requests.map((r) => registry.batchIdOf(r.gtin, r.lot)));
      expect(await registry.connect(ctx.relayer).attestBatches.staticCall(requests)).to.deep.equal(expectedIds);
      await registry.connect(ctx.relayer).attestBatches(requests);
      for (const [i, batchId] of expectedIds.entries()) {
        expect((await registry.batch(batchId)).attester).to.equal(requests[i]?.attester);
      }
    });

    it("accepts the longest lot, the longest unit, the largest GTIN-14 and a harvest at this very second", async function () {
      const now = await latestTime(ctx);
      await networkHelpers.time.setNextBlockTimestamp(now + 1n);
      await (await registry.connect(ctx.admin).bindGtin(99_999_999_999_999n, ctx.cooperative.address)).wait();
      const { batchId, request } = await attestBatch(ctx, ctx.cooperative, {
        lot: "ABCDEFGHIJ0123456789",
        unit: "KGM-LOCL",
        gtin: 99_999_999_999_999n,
        harvestedAt: now + 1n,
      });
      expect((await registry.batch(batchId)).status).to.equal(BatchStatus.Active);
      expect(request.lot).to.have.length(20);
    });

    it("refuses an empty submission", async function () {
      await expect(registry.connect(ctx.relayer).attestBatches([])).to.be.revertedWithCustomError(
        registry,
        "RegistryEmptySubmission",
      );
    });

    it("refuses every account but a relayer", async function () {
      const request = await signedAttestation(
        ctx.cooperative,
        ctx.domain,
        await batchValue(ctx, ctx.cooperative.address),
      );
      for (const caller of [ctx.outsider, ctx.admin, ctx.regulator]) {
        await expect(registry.connect(caller).attestBatches([request]))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, relayerRole);
      }
    });

    const invalidFields: {
      field: string;
      why: string;
      override: () => Promise<Partial<BatchAttestationValue>>;
      error: string;
      args: (value: BatchAttestationValue, now: bigint) => unknown[];
    }[] = [
      {
        field: "gtin",
        why: "zero",
        override: () => Promise.resolve({ gtin: 0n }),
        error: "RegistryGtinOutOfRange",
        args: () => [0n, GTIN_LIMIT],
      },
      {
        field: "gtin",
        why: "15 digits",
        override: () => Promise.resolve({ gtin: GTIN_LIMIT }),
        error: "RegistryGtinOutOfRange",
        args: () => [GTIN_LIMIT, GTIN_LIMIT],
      },
      {
        field: "lot",
        why: "empty",
        override: () => Promise.resolve({ lot: "" }),
        error: "RegistryLotEmpty",
        args: () => [],
      },
      {
        field: "lot",
        why: "21 characters",
        override: () => Promise.resolve({ lot: "ABCDEFGHIJ01234567890" }),
        error: "RegistryLotTooLong",
        args: () => [21n, 20n],
      },
      {
        field: "itemsRoot",
        why: "zero",
        override: () => Promise.resolve({ itemsRoot: ZERO_BYTES32 }),
        error: "RegistryItemsRootZero",
        args: () => [],
      },
      {
        field: "itemCount",
        why: "zero",
        override: () => Promise.resolve({ itemCount: 0n }),
        error: "RegistryItemCountZero",
        args: () => [],
      },
      {
        field: "quantityMilli",
        why: "zero",
        override: () => Promise.resolve({ quantityMilli: 0n }),
        error: "RegistryQuantityMilliZero",
        args: () => [],
      },
      {
        field: "unit",
        why: "empty",
        override: () => Promise.resolve({ unit: "" }),
        error: "RegistryUnitEmpty",
        args: () => [],
      },
      {
        field: "unit",
        why: "9 characters",
        override: () => Promise.resolve({ unit: "KILOGRAMS" }),
        error: "RegistryUnitTooLong",
        args: () => [9n, 8n],
      },
      {
        field: "harvestedAt",
        why: "zero",
        override: () => Promise.resolve({ harvestedAt: 0n }),
        error: "RegistryHarvestedAtZero",
        args: () => [],
      },
      {
        field: "harvestedAt",
        why: "in the future",
        override: async () => ({ harvestedAt: (await latestTime(ctx)) + ONE_HOUR_S }),
        error: "RegistryHarvestedAtInFuture",
        args: (value, now) => [value.harvestedAt, now],
      },
      {
        field: "metadataCid",
        why: "empty",
        override: () => Promise.resolve({ metadataCid: "0x" }),
        error: "RegistryMetadataCidEmpty",
        args: () => [],
      },
    ];
    for (const { field, why, override, error, args } of invalidFields) {
      it(`refuses a correctly signed attestation whose ${field} is ${why}`, async function () {
        const value = await batchValue(ctx, ctx.cooperative.address, await override());
        const request = await signedAttestation(ctx.cooperative, ctx.domain, value);
        // The next block's time is set, so the "now" the registry reports is known.
        const now = (await latestTime(ctx)) + 1n;
        await networkHelpers.time.setNextBlockTimestamp(now);
        await expect(registry.connect(ctx.relayer).attestBatches([request]))
          .to.be.revertedWithCustomError(registry, error)
          .withArgs(...args(value, now));
      });
    }

    it("refuses an attester no organisation holds", async function () {
      const request = await signedAttestation(ctx.stranger, ctx.domain, await batchValue(ctx, ctx.stranger.address));
      await expect(registry.connect(ctx.relayer).attestBatches([request]))
        .to.be.revertedWithCustomError(registry, "RegistryOrganisationUnknown")
        .withArgs(ctx.stranger.address);
    });

    it("refuses an attestation by an organisation that is not a cooperative", async function () {
      for (const [org, kind] of [
        [ctx.processor, OrgKind.Processor],
        [ctx.retailer, OrgKind.Retailer],
      ] as const) {
        const request = await signedAttestation(org, ctx.domain, await batchValue(ctx, org.address));
        await expect(registry.connect(ctx.relayer).attestBatches([request]))
          .to.be.revertedWithCustomError(registry, "RegistryOrganisationKindNotAllowed")
          .withArgs(org.address, kind);
      }
    });

    it("refuses a second attestation of the same GTIN and lot, even by another cooperative", async function () {
      const { batchId, request } = await attestBatch(ctx);
      await grantGtin(ctx, ctx.cooperative, request.gtin, ctx.otherCooperative.address);
      const again = await signedAttestation(
        ctx.otherCooperative,
        ctx.domain,
        await batchValue(ctx, ctx.otherCooperative.address, { gtin: request.gtin, lot: request.lot }),
      );
      await expect(registry.connect(ctx.relayer).attestBatches([again]))
        .to.be.revertedWithCustomError(registry, "RegistryBatchAlreadyRegistered")
        .withArgs(batchId);
    });

    it("is all-or-nothing: one bad entry reverts the good ones before it", async function () {
      const good = await signedAttestation(ctx.cooperative, ctx.domain, await batchValue(ctx, ctx.cooperative.address));
      const bad = await signedAttestation(
        ctx.cooperative,
        ctx.domain,
        await batchValue(ctx, ctx.cooperative.address, { itemCount: 0n }),
      );
      await expect(registry.connect(ctx.relayer).attestBatches([good, bad]))
        .to.be.revertedWithCustomError(registry, "RegistryItemCountZero")
        .withArgs();
      expect((await registry.batch(await registry.batchIdOf(good.gtin, good.lot))).status).to.equal(BatchStatus.None);
      expect(await registry.nonceUsed(ctx.cooperative.address, good.nonce)).to.equal(false);
    });
  });

  describe("recordEvents", function () {
    let batchId: string;

    beforeEach(async function () {
      ({ batchId } = await attestBatch(ctx));
    });

    it("chains the event onto the batch head from zero and emits every signed field", async function () {
      const request = await signEvent(ctx, ctx.cooperative, batchId, {
        bizStep: BizStep.Shipping,
        counterparty: ctx.processor.address,
      });
      const digest = typedDigest(ctx.domain, "TraceEvent", request);
      const newHead = keccak256(AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32"], [ZERO_BYTES32, digest]));
      await expect(registry.connect(ctx.relayer).recordEvents([request]))
        .to.emit(registry, "EventRecorded")
        .withArgs(
          batchId,
          request.actor,
          request.bizStep,
          request.occurredAt,
          request.payloadCid,
          request.counterparty,
          request.nonce,
          request.deadline,
          request.signature,
          newHead,
        );
      expect((await registry.batch(batchId)).eventHead).to.equal(newHead);
      expect(await registry.nonceUsed(ctx.cooperative.address, request.nonce)).to.equal(true);
    });

    it("chains several events of several batches in submission order", async function () {
      const { batchId: otherBatchId } = await attestBatch(ctx, ctx.otherCooperative);
      const requests = [
        await signEvent(ctx, ctx.cooperative, batchId, {
          bizStep: BizStep.Shipping,
          counterparty: ctx.processor.address,
        }),
        await signEvent(ctx, ctx.otherCooperative, otherBatchId, { bizStep: BizStep.Cooling }),
        await signEvent(ctx, ctx.processor, batchId, { bizStep: BizStep.Receiving }),
      ];
      await registry.connect(ctx.relayer).recordEvents(requests);
      const chain = (head: string, digest: string) =>
        keccak256(AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32"], [head, digest]));
      const [first, second, third] = requests.map((r) => typedDigest(ctx.domain, "TraceEvent", r)) as [
        string,
        string,
        string,
      ];
      expect((await registry.batch(batchId)).eventHead).to.equal(chain(chain(ZERO_BYTES32, first), third));
      expect((await registry.batch(otherBatchId)).eventHead).to.equal(chain(ZERO_BYTES32, second));
    });

    it("accepts the events of each organisation in custody, along a chain of handovers", async function () {
      const requests = [
        await signEvent(ctx, ctx.cooperative, batchId),
        await signEvent(ctx, ctx.cooperative, batchId, {
          bizStep: BizStep.Shipping,
          counterparty: ctx.processor.address,
        }),
        await signEvent(ctx, ctx.processor, batchId, { bizStep: BizStep.Receiving }),
        await signEvent(ctx, ctx.processor, batchId, { bizStep: BizStep.Transforming }),
        await signEvent(ctx, ctx.processor, batchId, { bizStep: BizStep.Shipping, counterparty: ctx.retailer.address }),
        await signEvent(ctx, ctx.retailer, batchId, { bizStep: BizStep.Receiving }),
        await signEvent(ctx, ctx.retailer, batchId, { bizStep: BizStep.RetailSelling }),
      ];
      await expect(registry.connect(ctx.relayer).recordEvents(requests)).to.emit(registry, "EventRecorded");
      const record = await registry.batch(batchId);
      expect(record.custodian).to.equal(ctx.retailer.address);
      expect(record.pendingReceiver).to.equal(ZeroAddress);
    });

    it("accepts events after a recall, so recall and disposal can be recorded", async function () {
      await registry.connect(ctx.regulator).recallBatchAsRegulator(batchId, cidOf("recall"));
      const request = await signEvent(ctx, ctx.cooperative, batchId, { bizStep: BizStep.Packing });
      await expect(registry.connect(ctx.relayer).recordEvents([request])).to.emit(registry, "EventRecorded");
    });

    it("refuses an empty submission", async function () {
      await expect(registry.connect(ctx.relayer).recordEvents([])).to.be.revertedWithCustomError(
        registry,
        "RegistryEmptySubmission",
      );
    });

    it("refuses every account but a relayer", async function () {
      const request = await signEvent(ctx, ctx.processor, batchId);
      for (const caller of [ctx.outsider, ctx.admin, ctx.regulator]) {
        await expect(registry.connect(caller).recordEvents([request]))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, relayerRole);
      }
    });

    it("refuses an actor no organisation holds", async function () {
      const request = await signEvent(ctx, ctx.stranger, batchId);
      await expect(registry.connect(ctx.relayer).recordEvents([request]))
        .to.be.revertedWithCustomError(registry, "RegistryOrganisationUnknown")
        .withArgs(ctx.stranger.address);
    });

    it("refuses an event without a time", async function () {
      const request = await signEvent(ctx, ctx.cooperative, batchId, { occurredAt: 0n });
      await expect(registry.connect(ctx.relayer).recordEvents([request]))
        .to.be.revertedWithCustomError(registry, "RegistryOccurredAtZero")
        .withArgs();
    });

    it("refuses an event without a payload", async function () {
      const request = await signEvent(ctx, ctx.cooperative, batchId, { payloadCid: "0x" });
      await expect(registry.connect(ctx.relayer).recordEvents([request]))
        .to.be.revertedWithCustomError(registry, "RegistryPayloadCidEmpty")
        .withArgs();
    });

    it("refuses a business step beyond the last one the contract knows", async function () {
      const request = await signEvent(ctx, ctx.cooperative, batchId, { bizStep: BigInt(BIZ_STEPS.length) });
      await expect(registry.connect(ctx.relayer).recordEvents([request])).to.be.revertedWithoutReason(ctx.ethers);
    });

    it("refuses an event of an unknown batch", async function () {
      const unknownBatch = await registry.batchIdOf(6_901_234_567_892n, "NEVER-ATTESTED");
      const request = await signEvent(ctx, ctx.cooperative, unknownBatch);
      await expect(registry.connect(ctx.relayer).recordEvents([request]))
        .to.be.revertedWithCustomError(registry, "RegistryBatchUnknown")
        .withArgs(unknownBatch);
    });

    it("is all-or-nothing: one bad entry leaves the head where it was", async function () {
      const good = await signEvent(ctx, ctx.cooperative, batchId);
      const bad = await signEvent(ctx, ctx.cooperative, batchId, { payloadCid: "0x" });
      await expect(registry.connect(ctx.relayer).recordEvents([good, bad])).to.be.revertedWithCustomError(
        registry,
        "RegistryPayloadCidEmpty",
      );
      expect((await registry.batch(batchId)).eventHead).to.equal(ZERO_BYTES32);
    });
  });

  describe("recallBatch", function () {
    let batchId: string;

    beforeEach(async function () {
      ({ batchId } = await attestBatch(ctx));
    });

    async function recallBy(attester = ctx.cooperative, overrides: { batchId?: string; reasonCid?: string } = {}) {
      const now = await latestTime(ctx);
      return signedRecall(attester, ctx.domain, {
        attester: attester.address,
        batchId: overrides.batchId ?? batchId,
        reasonCid: overrides.reasonCid ?? cidOf("pesticide residue above limit"),
        nonce: freshNonce(),
        deadline: now + ONE_HOUR_S,
      });
    }

    it("recalls the batch with its cooperative's signature and emits the signature", async function () {
      const request = await recallBy();
      await expect(registry.connect(ctx.relayer).recallBatch(request))
        .to.emit(registry, "BatchRecalled")
        .withArgs(batchId, ctx.cooperative.address, request.reasonCid, request.signature);
      expect((await registry.batch(batchId)).status).to.equal(BatchStatus.Recalled);
      expect(await registry.nonceUsed(ctx.cooperative.address, request.nonce)).to.equal(true);
    });

    it("refuses every account but a relayer", async function () {
      const request = await recallBy();
      for (const caller of [ctx.outsider, ctx.admin, ctx.regulator]) {
        await expect(registry.connect(caller).recallBatch(request))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, relayerRole);
      }
    });

    it("refuses an unknown batch", async function () {
      const unknownBatch = await registry.batchIdOf(6_901_234_567_892n, "NEVER-ATTESTED");
      await expect(
        registry.connect(ctx.relayer).recallBatch(await recallBy(ctx.cooperative, { batchId: unknownBatch })),
      )
        .to.be.revertedWithCustomError(registry, "RegistryBatchUnknown")
        .withArgs(unknownBatch);
    });

    it("refuses a recall signed by a cooperative that did not attest the batch", async function () {
      await expect(registry.connect(ctx.relayer).recallBatch(await recallBy(ctx.otherCooperative)))
        .to.be.revertedWithCustomError(registry, "RegistryNotBatchAttester")
        .withArgs(batchId, ctx.otherCooperative.address);
    });

    it("refuses a recall by a signer no organisation holds", async function () {
      await expect(registry.connect(ctx.relayer).recallBatch(await recallBy(ctx.stranger)))
        .to.be.revertedWithCustomError(registry, "RegistryOrganisationUnknown")
        .withArgs(ctx.stranger.address);
    });

    it("refuses a recall by a suspended cooperative", async function () {
      await registry.connect(ctx.regulator).suspendOrganisation(ctx.cooperative.address, cidOf("reason"));
      await expect(registry.connect(ctx.relayer).recallBatch(await recallBy()))
        .to.be.revertedWithCustomError(registry, "RegistryOrganisationSuspended")
        .withArgs(ctx.cooperative.address);
    });

    it("refuses a recall without a reason", async function () {
      await expect(registry.connect(ctx.relayer).recallBatch(await recallBy(ctx.cooperative, { reasonCid: "0x" })))
        .to.be.revertedWithCustomError(registry, "RegistryReasonCidEmpty")
        .withArgs();
    });

    it("refuses to recall a batch twice", async function () {
      await registry.connect(ctx.relayer).recallBatch(await recallBy());
      await expect(registry.connect(ctx.relayer).recallBatch(await recallBy()))
        .to.be.revertedWithCustomError(registry, "RegistryBatchAlreadyRecalled")
        .withArgs(batchId);
    });

    it("lets a cooperative recall a batch it attested before its key was rotated", async function () {
      const newKey = walletNamed("cooperative, new key");
      await registry.connect(ctx.admin).rotateSigner(ctx.cooperative.address, newKey.address);
      await expect(registry.connect(ctx.relayer).recallBatch(await recallBy(newKey)))
        .to.emit(registry, "BatchRecalled")
        .withArgs(batchId, newKey.address, cidOf("pesticide residue above limit"), anyValue);
      expect((await registry.batch(batchId)).status).to.equal(BatchStatus.Recalled);
    });
    it("lets the newest key recall a batch after several rotations, and no key before it", async function () {
      const second = walletNamed("cooperative, second key");
      const third = walletNamed("cooperative, third key");
      await registry.connect(ctx.admin).rotateSigner(ctx.cooperative.address, second.address);
      await registry.connect(ctx.admin).rotateSigner(second.address, third.address);
      await expect(registry.connect(ctx.relayer).recallBatch(await recallBy(second)))
        .to.be.revertedWithCustomError(registry, "RegistryOrganisationUnknown")
        .withArgs(second.address);
      await expect(registry.connect(ctx.relayer).recallBatch(await recallBy(third)))
        .to.emit(registry, "BatchRecalled")
        .withArgs(batchId, third.address, cidOf("pesticide residue above limit"), anyValue);
    });

    it("still refuses another cooperative's key after the attester's key was rotated", async function () {
      await registry.connect(ctx.admin).rotateSigner(ctx.cooperative.address, walletNamed("new key").address);
      await expect(registry.connect(ctx.relayer).recallBatch(await recallBy(ctx.otherCooperative)))
        .to.be.revertedWithCustomError(registry, "RegistryNotBatchAttester")
        .withArgs(batchId, ctx.otherCooperative.address);
    });
  });

  describe("recallBatchAsRegulator", function () {
    let batchId: string;

    beforeEach(async function () {
      ({ batchId } = await attestBatch(ctx));
    });

    it("recalls the batch on the regulator's authority, with no signature", async function () {
      const reason = cidOf("market supervision order");
      await expect(registry.connect(ctx.regulator).recallBatchAsRegulator(batchId, reason))
        .to.emit(registry, "BatchRecalled")
        .withArgs(batchId, ctx.regulator.address, reason, "0x");
      expect((await registry.batch(batchId)).status).to.equal(BatchStatus.Recalled);
    });

    it("recalls a batch whose cooperative is suspended", async function () {
      await registry.connect(ctx.regulator).suspendOrganisation(ctx.cooperative.address, cidOf("reason"));
      await registry.connect(ctx.regulator).recallBatchAsRegulator(batchId, cidOf("order"));
      expect((await registry.batch(batchId)).status).to.equal(BatchStatus.Recalled);
    });

    it("refuses every account but a regulator, the admin included", async function () {
      for (const caller of [ctx.outsider, ctx.admin, ctx.relayer]) {
        await expect(registry.connect(caller).recallBatchAsRegulator(batchId, cidOf("order")))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, regulatorRole);
      }
    });

    it("refuses a recall without a reason", async function () {
      await expect(registry.connect(ctx.regulator).recallBatchAsRegulator(batchId, "0x"))
        .to.be.revertedWithCustomError(registry, "RegistryReasonCidEmpty")
        .withArgs();
    });

    it("refuses an unknown batch", async function () {
      await expect(registry.connect(ctx.regulator).recallBatchAsRegulator(ZERO_BYTES32, cidOf("order")))
        .to.be.revertedWithCustomError(registry, "RegistryBatchUnknown")
        .withArgs(ZERO_BYTES32);
    });

    it("refuses to recall a batch twice", async function () {
      await registry.connect(ctx.regulator).recallBatchAsRegulator(batchId, cidOf("order"));
      await expect(registry.connect(ctx.regulator).recallBatchAsRegulator(batchId, cidOf("order")))
        .to.be.revertedWithCustomError(registry, "RegistryBatchAlreadyRecalled")
        .withArgs(batchId);
    });
  });

  // The Solidity tests cover each authority rule; these show that what a wallet signs from the
  // server's typed-data table (version 2) is what the registry checks, and what it emits.
  describe("authority, signed from the server's typed-data table", function () {
    let batchId: string;

    beforeEach(async function () {
      ({ batchId } = await attestBatch(ctx));
    });

    it("accepts an owner's GtinGrant and emits every signed field, owner and grantee as origins", async function () {
      const grant = await signGtinGrant(ctx, ctx.cooperative, GTIN, ctx.otherCooperative.address);
      await expect(registry.connect(ctx.relayer).changeGtinGrants([grant]))
        .to.emit(registry, "GtinGrantChanged")
        .withArgs(
          GTIN,
          ctx.cooperative.address,
          ctx.otherCooperative.address,
          true,
          grant.nonce,
          grant.deadline,
          grant.signature,
        );
      expect(await registry.gtinGranted(GTIN, ctx.otherCooperative.address)).to.equal(true);
      expect(await registry.mayAttest(ctx.otherCooperative.address, GTIN)).to.equal(true);
    });

    it("refuses a grant whose grantee the relayer changed after signing", async function () {
      const grant = await signGtinGrant(ctx, ctx.cooperative, GTIN, ctx.otherCooperative.address);
      const altered = { ...grant, grantee: ctx.processor.address };
      const { signature: _signature, ...value } = altered;
      await expect(registry.connect(ctx.relayer).changeGtinGrants([altered]))
        .to.be.revertedWithCustomError(registry, "RegistrySignatureInvalid")
        .withArgs(ctx.cooperative.address, typedDigest(ctx.domain, "GtinGrant", value));
      expect(await registry.gtinGranted(GTIN, ctx.processor.address)).to.equal(false);
    });

    it("accepts a cooperative's InspectionRequest, after which the inspector may inspect", async function () {
      const inspector = walletNamed("inspector");
      await (
        await registry
          .connect(ctx.admin)
          .registerOrganisation(inspector.address, OrgKind.Inspector, REGION_CODE, cidOf("inspector"))
      ).wait();
      const inspecting = await signEvent(ctx, inspector, batchId, { bizStep: BizStep.Inspecting });
      await expect(registry.connect(ctx.relayer).recordEvents([inspecting]))
        .to.be.revertedWithCustomError(registry, "RegistryActorWithoutCustody")
        .withArgs(batchId, inspector.address, BizStep.Inspecting);

      const now = await latestTime(ctx);
      const request = await signedInspectionRequest(ctx.cooperative, ctx.domain, {
        requester: ctx.cooperative.address,
        batchId,
        inspector: inspector.address,
        nonce: freshNonce(),
        deadline: now + ONE_HOUR_S,
      });
      await expect(registry.connect(ctx.relayer).requestInspections([request]))
        .to.emit(registry, "InspectionRequested")
        .withArgs(
          batchId,
          inspector.address,
          ctx.cooperative.address,
          request.nonce,
          request.deadline,
          request.signature,
        );
      await expect(registry.connect(ctx.relayer).recordEvents([inspecting])).to.emit(registry, "EventRecorded");
    });

    it("hands a batch over: the receiving by the receiver the shipping named moves custody", async function () {
      await handOver(ctx, batchId, ctx.processor);
      const record = await registry.batch(batchId);
      expect(record.custodian).to.equal(ctx.processor.address);
      expect(record.pendingReceiver).to.equal(ZeroAddress);
      const [transfer] = await registry.queryFilter(registry.filters.CustodyTransferred(batchId));
      expect(transfer?.args.from).to.equal(ctx.cooperative.address);
      expect(transfer?.args.to).to.equal(ctx.processor.address);
    });
  });

  describe("views", function () {
    it("derives a batch id from the ABI encoding of GTIN and lot", async function () {
      const gtin = 6_901_234_567_892n;
      const lot = "L2025-0001";
      const expected = keccak256(AbiCoder.defaultAbiCoder().encode(["uint64", "string"], [gtin, lot]));
      expect(await registry.batchIdOf(gtin, lot)).to.equal(expected);
    });

    it("keeps GTIN and lot apart, so no two batches share an id by concatenation", async function () {
      // "1" + "23" and "12" + "3" concatenate alike; their ABI encodings do not.
      expect(await registry.batchIdOf(1n, "23")).to.not.equal(await registry.batchIdOf(12n, "3"));
    });

    it("answers zeroed records for an unknown organisation and batch", async function () {
      expect(await organisationOf(registry, ctx.stranger.address)).to.deep.equal({
        signer: ZeroAddress,
        kind: OrgKind.None,
        status: OrgStatus.None,
        regionCode: 0n,
        metadataCid: "0x",
      });
      expect(await batchOf(registry, ZERO_BYTES32)).to.deep.equal({
        itemsRoot: ZERO_BYTES32,
        attester: ZeroAddress,
        itemCount: 0n,
        status: BatchStatus.None,
        eventHead: ZERO_BYTES32,
      });
    });

    it("reports only the nonces a signer used, per signer", async function () {
      const { request } = await attestBatch(ctx, ctx.cooperative, { nonce: 300n });
      expect(await registry.nonceUsed(ctx.cooperative.address, 300n)).to.equal(true);
      for (const other of [299n, 301n, 44n, 0n, 556n]) {
        expect(await registry.nonceUsed(ctx.cooperative.address, other)).to.equal(false);
      }
      expect(await registry.nonceUsed(ctx.otherCooperative.address, request.nonce)).to.equal(false);
    });
  });
});
