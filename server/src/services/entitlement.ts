/**
 * Who may use a GTIN (issue 12): the operator binds GS1 company prefixes and single GTINs
 * to organisations, allocates prefixes from its own GS1 prefix to cooperatives that have
 * none, and a GTIN's owner grants it to others (a contract packer). Each change is stored
 * with its ledger write in one transaction; the registry enforces the same rule
 * (`domain/gtin-entitlement.ts`), so a batch the server would refuse cannot be anchored by
 * anyone else either.
 */
import { randomUUID } from "node:crypto";

import { z } from "zod";

import {
  allocatePlatformPrefix,
  formatCompanyPrefix,
  gtinOwnerOf,
  isEntitled,
  parseCompanyPrefix,
  prefixBindingConflict,
  type CompanyPrefix,
} from "../domain/gtin-entitlement.ts";
import { gtinToUint64, normalizeGtin } from "../domain/gs1.ts";
import type { GtinGrantValue } from "../domain/typed-data.ts";
import { AppError } from "../errors/app-error.ts";
import { outboxEntry } from "../ledger/outbox-kinds.ts";
import { isUniqueViolation, type Db } from "../storage/database.ts";
import {
  entitlementBindingsFor,
  grantInForce,
  grantsFor,
  grantsInForce,
  gtinBindingInForce,
  gtinBindingsNotQueued,
  insertGrant,
  insertGtinBinding,
  insertPrefixBinding,
  organisationGtinBindings,
  organisationPrefixBindings,
  platformAllocations,
  prefixBindingInForce,
  prefixBindingsCovering,
  releaseGtinBinding,
  releasePrefixBinding,
  RELEASE_SUFFIX,
  supersedeGrant,
  withdrawGrant,
  type GtinBindingRecord,
  type GtinGrantRecord,
  type PrefixBindingRecord,
} from "../storage/entitlements.ts";
import { allocateNonces } from "../storage/nonces.ts";
import { getOrganisation, type Organisation } from "../storage/organisations.ts";
import { enqueueOutbox } from "../storage/outbox.ts";
import { inTransaction } from "../storage/transaction.ts";
import { activeOrganisation } from "./active-organisation.ts";
import type { ServiceContext } from "./context.ts";
import { signAsOrganisation } from "./organisation-signature.ts";
import type { SignatureRequest } from "./signature-requests.ts";
import { recordWrite, type WriteOrigin } from "./write-log.ts";

export const companyPrefixRequest = z.union([
  z.object({ prefix: z.string().max(40) }).strict(),
  z.object({ allocate: z.literal(true) }).strict(),
]);
export const gtinBindingRequest = z.object({ gtin: z.string().max(20) }).strict();
export const grantRequest = z.object({ grantee: z.string().min(1).max(64) }).strict();
/** Organisation registration may bind the organisation's own GS1 prefixes in the same write. */
export const onboardingPrefixes = z.array(z.string().max(40)).max(20);

/** The organisation an entitlement is bound to must be one the ledger registers (not a regulator). */
async function ledgerOrganisation(db: Db, organisationId: string): Promise<Organisation> {
  const organisation = await getOrganisation(db, organisationId);
  if (organisation === null) throw new AppError("organisation.not_found");
  if (organisation.ledgerState === null) {
    throw new AppError("organisation.wrong_kind", {}, { detail: "a regulator holds no GTINs" });
  }
  return organisation;
}

/** Refuses a prefix the registry would refuse: bound already, or within another organisation's. */
async function requirePrefixFree(db: Db, prefix: CompanyPrefix, organisationId: string): Promise<void> {
  const text = formatCompanyPrefix(prefix);
  const covering = await prefixBindingsCovering(db, text);
  const conflict = prefixBindingConflict(
    prefix,
    organisationId,
    covering.map((binding) => ({ prefix: parseCompanyPrefix(binding.prefix), owner: binding.organisationId })),
  );
  if (conflict !== null) {
    throw new AppError("company_prefix.taken", {
      prefix: text,
      boundPrefix: formatCompanyPrefix(conflict.prefix),
      organisationId: conflict.owner,
    });
  }
}

/**
 * Binds one prefix inside the caller's transaction, with its ledger write queued after the
 * organisation's (the writer keeps that order).
 */
export async function bindPrefixIn(
  trx: Db,
  organisation: Organisation,
  prefix: CompanyPrefix,
  origin: "own" | "platform",
  createdBy: string,
  nowMs: number,
): Promise<PrefixBindingRecord> {
  await requirePrefixFree(trx, prefix, organisation.id);
  const text = formatCompanyPrefix(prefix);
  let binding: PrefixBindingRecord;
  try {
    binding = await insertPrefixBinding(
      trx,
      { id: `cpb_${randomUUID()}`, prefix: text, organisationId: organisation.id, origin, createdBy },
      nowMs,
    );
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError("company_prefix.taken", { prefix: text }, { cause: error });
    throw error;
  }
  await enqueueOutbox(
    trx,
    outboxEntry("company_prefix", binding.id, { action: "bind", prefix: text, owner: organisation.signerAddress }),
    nowMs,
  );
  return binding;
}

function createdByOf(origin: WriteOrigin): string {
  return origin.principal.credentialId ?? "admin";
}

export async function bindCompanyPrefix(
  ctx: ServiceContext,
  origin: WriteOrigin,
  organisationId: string,
  request: z.infer<typeof companyPrefixRequest>,
): Promise<PrefixBindingRecord> {
  const nowMs = ctx.now();
  // Two allocations at once may pick the same number; the unique index refuses the second, which tries the next.
  for (let attempt = 0; ; attempt++) {
    try {
      return await inTransaction(ctx.db, async (trx) => {
        const organisation = await ledgerOrganisation(trx, organisationId);
        let prefix: CompanyPrefix;
        let prefixOrigin: "own" | "platform";
        if ("prefix" in request) {
          prefix = parseCompanyPrefix(request.prefix);
          prefixOrigin = "own";
        } else {
          prefix = await nextPlatformPrefix(ctx, trx);
          prefixOrigin = "platform";
        }
        const binding = await bindPrefixIn(trx, organisation, prefix, prefixOrigin, createdByOf(origin), nowMs);
        await recordWrite(
          trx,
          origin,
          "company_prefix.bind",
          binding.id,
          { organisationId, prefix: binding.prefix, origin: prefixOrigin },
          nowMs,
        );
        return binding;
      });
    } catch (error) {
      const retry =
        "allocate" in request && attempt < 3 && error instanceof AppError && error.code === "company_prefix.taken";
      if (!retry) throw error;
    }
  }
}

async function nextPlatformPrefix(ctx: ServiceContext, db: Db): Promise<CompanyPrefix> {
  if (ctx.platformPrefix === undefined) throw new AppError("platform_prefix.not_configured");
  const platform = parseCompanyPrefix(ctx.platformPrefix.prefix);
  const digits = platform.digits + ctx.platformPrefix.extraDigits;
  const allocated = await platformAllocations(db, ctx.platformPrefix.prefix, digits);
  return allocatePlatformPrefix(platform, ctx.platformPrefix.extraDigits, allocated.map(parseCompanyPrefix));
}

export async function releaseCompanyPrefix(
  ctx: ServiceContext,
  origin: WriteOrigin,
  organisationId: string,
  prefixText: string,
): Promise<PrefixBindingRecord> {
  const prefix = formatCompanyPrefix(parseCompanyPrefix(prefixText));
  const nowMs = ctx.now();
  return inTransaction(ctx.db, async (trx) => {
    const organisation = await ledgerOrganisation(trx, organisationId);
    const binding = await prefixBindingInForce(trx, organisationId, prefix);
    if (binding === null || !(await releasePrefixBinding(trx, binding.id, nowMs))) {
      throw new AppError("company_prefix.not_bound", { prefix, organisationId });
    }
    await enqueueOutbox(
      trx,
      outboxEntry("company_prefix", `${binding.id}${RELEASE_SUFFIX}`, {
        action: "release",
        prefix,
        owner: organisation.signerAddress,
      }),
      nowMs,
    );
    await recordWrite(trx, origin, "company_prefix.release", binding.id, { organisationId, prefix }, nowMs);
    return { ...binding, releasedAtMs: nowMs, releaseLedgerState: "pending" };
  });
}

export async function bindGtin(
  ctx: ServiceContext,
  origin: WriteOrigin,
  organisationId: string,
  request: z.infer<typeof gtinBindingRequest>,
): Promise<GtinBindingRecord> {
  const gtin = normalizeGtin(request.gtin);
  const nowMs = ctx.now();
  try {
    return await inTransaction(ctx.db, async (trx) => {
      const organisation = await ledgerOrganisation(trx, organisationId);
      const existing = await gtinBindingInForce(trx, gtin);
      if (existing !== null)
        throw new AppError("gtin.binding_taken", { gtin, organisationId: existing.organisationId });
      const binding = await insertGtinBinding(
        trx,
        { id: `gtb_${randomUUID()}`, gtin, organisationId, origin: "operator", createdBy: createdByOf(origin) },
        nowMs,
      );
      await enqueueOutbox(
        trx,
        outboxEntry("gtin_binding", binding.id, { action: "bind", gtin, owner: organisation.signerAddress }),
        nowMs,
      );
      await recordWrite(trx, origin, "gtin.bind", binding.id, { organisationId, gtin }, nowMs);
      return binding;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError("gtin.binding_taken", { gtin }, { cause: error });
    throw error;
  }
}

export async function releaseGtin(
  ctx: ServiceContext,
  origin: WriteOrigin,
  organisationId: string,
  gtinText: string,
): Promise<GtinBindingRecord> {
  const gtin = normalizeGtin(gtinText);
  const nowMs = ctx.now();
  return inTransaction(ctx.db, async (trx) => {
    const organisation = await ledgerOrganisation(trx, organisationId);
    const binding = await gtinBindingInForce(trx, gtin);
    if (binding?.organisationId !== organisationId || !(await releaseGtinBinding(trx, binding.id, nowMs))) {
      throw new AppError("company_prefix.not_bound", { gtin, organisationId });
    }
    await enqueueOutbox(
      trx,
      outboxEntry("gtin_binding", `${binding.id}${RELEASE_SUFFIX}`, {
        action: "release",
        gtin,
        owner: organisation.signerAddress,
      }),
      nowMs,
    );
    await recordWrite(trx, origin, "gtin.release", binding.id, { organisationId, gtin }, nowMs);
    return { ...binding, releasedAtMs: nowMs, releaseLedgerState: "pending" };
  });
}

/** Refuses `gtin.not_entitled` unless the organisation owns the GTIN or was granted it. */
export async function requireEntitled(db: Db, organisationId: string, gtin14: string): Promise<void> {
  const [bindings, grants] = await Promise.all([entitlementBindingsFor(db, gtin14), grantsFor(db, gtin14)]);
  if (!isEntitled(organisationId, gtin14, bindings, grants)) {
    throw new AppError("gtin.not_entitled", {
      gtin: gtin14,
      ownerOrganisationId: gtinOwnerOf(gtin14, bindings)?.owner ?? null,
    });
  }
}

/** The GTIN's owner, or `gtin.not_owner` for anyone else (an unbound GTIN has none). */
async function requireOwner(db: Db, organisationId: string, gtin14: string): Promise<void> {
  const owner = gtinOwnerOf(gtin14, await entitlementBindingsFor(db, gtin14));
  if (owner?.owner !== organisationId) {
    throw new AppError("gtin.not_owner", { gtin: gtin14, ownerOrganisationId: owner?.owner ?? null });
  }
}

// ------------------------------------------------------------------ grants

/** What a grant's signature request keeps to complete the write once signed. */
export interface UnsignedGrantChange {
  gtin: string;
  ownerOrganisationId: string;
  granteeOrganisationId: string;
  granted: boolean;
}

export type GrantChangeResult = { grant: GtinGrantRecord } | { awaitingSignature: SignatureRequest };

/** Grants (or withdraws) a GTIN to another organisation, signed by the owner's key. */
export async function changeGrant(
  ctx: ServiceContext,
  origin: WriteOrigin,
  gtinText: string,
  granteeOrganisationId: string,
  granted: boolean,
): Promise<GrantChangeResult> {
  const owner = await activeOrganisation(ctx, origin.principal.organisationId, [
    "cooperative",
    "processor",
    "logistics",
    "retailer",
    "inspector",
  ]);
  const gtin = normalizeGtin(gtinText);
  await requireOwner(ctx.db, owner.id, gtin);
  const grantee = await ledgerOrganisation(ctx.db, granteeOrganisationId);
  if (grantee.id === owner.id) {
    throw new AppError("request.invalid", {}, { detail: "grantee: the GTIN's owner needs no grant" });
  }
  const found = await grantInForce(ctx.db, gtin, grantee.id);
  // A former owner's grant counts for nothing now (grants are per owner, on chain too).
  const existing = found?.ownerOrganisationId === owner.id ? found : null;
  if (granted && existing !== null) return { grant: existing };
  if (!granted && existing === null) throw new AppError("gtin.grant_not_found", { gtin, grantee: grantee.id });

  const nowMs = ctx.now();
  const deadline = BigInt(Math.floor(nowMs / 1000) + ctx.signatureTtlSeconds);
  const nonce = await allocateNonces(ctx.db, owner.signerAddress, 1, nowMs);
  const value: GtinGrantValue = {
    owner: owner.signerAddress,
    gtin: gtinToUint64(gtin),
    grantee: grantee.signerAddress,
    granted,
    nonce,
    deadline,
  };
  const record: UnsignedGrantChange = {
    gtin,
    ownerOrganisationId: owner.id,
    granteeOrganisationId: grantee.id,
    granted,
  };
  const signed = await signAsOrganisation(
    ctx,
    origin,
    owner,
    { primaryType: "GtinGrant", value },
    { record, deadline },
  );
  if ("awaitingSignature" in signed) return signed;
  return { grant: await commitGrantChange(ctx, origin, record, value, signed.signature) };
}

/** Stores a signed grant or withdrawal with its ledger write; ownership is checked again at this moment. */
export async function commitGrantChange(
  ctx: ServiceContext,
  origin: WriteOrigin,
  record: UnsignedGrantChange,
  value: GtinGrantValue,
  signature: string,
): Promise<GtinGrantRecord> {
  const nowMs = ctx.now();
  try {
    return await inTransaction(ctx.db, async (trx) => {
      await requireOwner(trx, record.ownerOrganisationId, record.gtin);
      let existing = await grantInForce(trx, record.gtin, record.granteeOrganisationId);
      if (existing !== null && existing.ownerOrganisationId !== record.ownerOrganisationId) {
        await supersedeGrant(trx, existing.id, nowMs);
        existing = null;
      }
      if (record.granted) {
        if (existing !== null) return existing;
        const grant = await insertGrant(
          trx,
          {
            id: `grant_${randomUUID()}`,
            gtin: record.gtin,
            ownerOrganisationId: record.ownerOrganisationId,
            granteeOrganisationId: record.granteeOrganisationId,
            createdBy: createdByOf(origin),
          },
          nowMs,
        );
        await enqueueOutbox(trx, outboxEntry("gtin_grant", grant.id, { value, signature }), nowMs);
        await recordWrite(
          trx,
          origin,
          "gtin.grant",
          grant.id,
          { gtin: record.gtin, grantee: record.granteeOrganisationId },
          nowMs,
        );
        return grant;
      }
      if (existing === null || !(await withdrawGrant(trx, existing.id, nowMs))) {
        throw new AppError("gtin.grant_not_found", { gtin: record.gtin, grantee: record.granteeOrganisationId });
      }
      await enqueueOutbox(
        trx,
        outboxEntry("gtin_grant", `${existing.id}${RELEASE_SUFFIX}`, { value, signature }),
        nowMs,
      );
      await recordWrite(
        trx,
        origin,
        "gtin.withdraw_grant",
        existing.id,
        { gtin: record.gtin, grantee: record.granteeOrganisationId },
        nowMs,
      );
      return { ...existing, withdrawnAtMs: nowMs, withdrawLedgerState: "pending" };
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      const existing = await grantInForce(ctx.db, record.gtin, record.granteeOrganisationId);
      if (existing !== null) return existing;
    }
    throw error;
  }
}

// ------------------------------------------------------------------ reading

export interface GtinEntitlement {
  gtin: string;
  owner: { organisationId: string; source: "gtin" | "company_prefix"; prefix: string | null } | null;
  /** The owning binding's place on the ledger. */
  ledgerState: string | null;
  grantees: { organisationId: string; ledgerState: string; grantedAtMs: number }[];
}

export async function gtinEntitlement(ctx: ServiceContext, gtinText: string): Promise<GtinEntitlement> {
  const gtin = normalizeGtin(gtinText);
  const bindings = await entitlementBindingsFor(ctx.db, gtin);
  const ownership = gtinOwnerOf(gtin, bindings);
  let ledgerState: string | null = null;
  if (ownership?.source === "gtin") {
    ledgerState = (await gtinBindingInForce(ctx.db, gtin))?.ledger.state ?? null;
  } else if (ownership !== null) {
    const prefix = formatCompanyPrefix(ownership.prefix);
    ledgerState = (await prefixBindingInForce(ctx.db, ownership.owner, prefix))?.ledger.state ?? null;
  }
  const grants = ownership === null ? [] : await grantsInForce(ctx.db, gtin);
  return {
    gtin,
    owner:
      ownership === null
        ? null
        : {
            organisationId: ownership.owner,
            source: ownership.source,
            prefix: ownership.source === "company_prefix" ? formatCompanyPrefix(ownership.prefix) : null,
          },
    ledgerState,
    grantees: grants
      .filter((grant) => grant.ownerOrganisationId === ownership?.owner)
      .map((grant) => ({
        organisationId: grant.granteeOrganisationId,
        ledgerState: grant.ledger.state,
        grantedAtMs: grant.createdAtMs,
      })),
  };
}

export async function organisationEntitlements(
  ctx: ServiceContext,
  organisationId: string,
): Promise<{ companyPrefixes: PrefixBindingRecord[]; gtins: GtinBindingRecord[] }> {
  const [companyPrefixes, gtins] = await Promise.all([
    organisationPrefixBindings(ctx.db, organisationId),
    organisationGtinBindings(ctx.db, organisationId),
  ]);
  return { companyPrefixes, gtins };
}

/**
 * Queues the ledger writes of bindings that have none: those migration 0011 created for
 * existing products. Run when the server starts; enqueueing is idempotent.
 */
export async function queueUnanchoredBindings(ctx: ServiceContext): Promise<number> {
  const waiting = await gtinBindingsNotQueued(ctx.db, "gtin_binding");
  for (const binding of waiting) {
    await inTransaction(ctx.db, async (trx) => {
      const owner = await getOrganisation(trx, binding.organisationId);
      if (owner === null) return;
      await enqueueOutbox(
        trx,
        outboxEntry("gtin_binding", binding.id, { action: "bind", gtin: binding.gtin, owner: owner.signerAddress }),
        ctx.now(),
      );
    });
  }
  return waiting.length;
}
