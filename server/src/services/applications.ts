/**
 * Joining (issue 15): an organisation applies on a public page, free of charge; the county
 * bureau (a regulator whose jurisdiction holds the applicant's region) or the operator
 * approves or refuses it with a reason. Approval onboards the organisation exactly as the
 * operator's `POST /api/v1/organisations` does (key, metadata, ledger registration through
 * the outbox), allocates a company prefix from the platform's when one is configured, and
 * creates the first person (the chair, from the contact) with her first sign-in link.
 *
 * The contact is personal data: it is never written on chain or into the organisation's
 * public metadata, and only the reviewing bureau and the operator read it.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";

import { fileTypeFromBuffer } from "file-type";
import { z } from "zod";

import { jurisdictionPrefix, parseRegionCode, withinJurisdiction } from "../domain/region.ts";
import { normalizeUsccInput, parseUscc } from "../domain/uscc.ts";
import { AppError } from "../errors/app-error.ts";
import { isContentError } from "../ipfs/content-store.ts";
import {
  decideApplication,
  getApplication,
  getLicence,
  insertApplication,
  listApplications,
  organisationIdWithUscc,
  recordLicence,
  type Application,
  type ApplicationStatus,
} from "../storage/applications.ts";
import { revokeCredential } from "../storage/credentials.ts";
import { isUniqueViolation } from "../storage/database.ts";
import { listMembers } from "../storage/members.ts";
import { getOrganisation, type Organisation } from "../storage/organisations.ts";
import { inTransaction } from "../storage/transaction.ts";
import { organisationEntitlements, bindCompanyPrefix } from "./entitlement.ts";
import type { Principal, ServiceContext } from "./context.ts";
import { insertMemberIn, issueSignInLinkIn, type IssuedSignInLink } from "./members.ts";
import { onboardOrganisation } from "./organisations.ts";
import { recordWrite, type WriteOrigin } from "./write-log.ts";

/** A licence photo is a phone picture: 4 MB holds one at full resolution after the phone's compression. */
export const LICENCE_MAX_BYTES = 4 * 1024 * 1024;
const LICENCE_TYPES = new Set(["image/jpeg", "image/png", "image/webp"]);

/** A mainland mobile number, written with or without +86, spaces or dashes. */
const CN_MOBILE = /^1[3-9]\d{9}$/;
function normalisePhone(input: string): string {
  return input.replace(/[\s-]/g, "").replace(/^(\+?86)/, "");
}

const localisedText = z
  .object({ zh: z.string().trim().min(1).max(200), en: z.string().trim().max(300).nullish() })
  .strict();

export const applicationRequest = z
  .object({
    kind: z.enum(["cooperative", "processor", "logistics", "retailer", "inspector"]),
    name: z.object({ zh: z.string().trim().min(1).max(100), en: z.string().trim().max(200).nullish() }).strict(),
    uscc: z.string().max(40),
    regionCode: z.string().regex(/^\d{6}$/, "six digits (GB/T 2260)"),
    contact: z
      .object({
        name: z.string().trim().min(1).max(50),
        phone: z
          .string()
          .max(20)
          .transform(normalisePhone)
          .refine((phone) => CN_MOBILE.test(phone), "a mainland mobile number (11 digits starting with 1)"),
      })
      .strict(),
    licenceCid: z
      .string()
      .regex(/^b[a-z2-7]{20,120}$/, "the CID the licence upload returned")
      .optional(),
  })
  .strict();

export const refusalRequest = z.object({ reason: localisedText }).strict();

export const applicationListQuery = z
  .object({ status: z.enum(["pending", "approved", "refused"]).optional() })
  .strict();

function secretHash(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** Stores a licence photo on IPFS once its content (not its declared type) shows an image. */
export async function uploadLicence(
  ctx: ServiceContext,
  origin: WriteOrigin,
  bytes: Uint8Array,
): Promise<{ cid: string; contentType: string; sizeBytes: number }> {
  if (bytes.byteLength > LICENCE_MAX_BYTES) throw new AppError("application.licence_too_large");
  const type = bytes.byteLength === 0 ? undefined : await fileTypeFromBuffer(bytes);
  if (type === undefined || !LICENCE_TYPES.has(type.mime)) throw new AppError("application.licence_type");
  let added;
  try {
    added = await ctx.content.add([bytes], { maxBytes: LICENCE_MAX_BYTES });
  } catch (error) {
    if (isContentError(error, "too_large")) throw new AppError("application.licence_too_large", {}, { cause: error });
    throw error;
  }
  const licence = { cid: added.cid.toV1().toString(), contentType: type.mime, sizeBytes: added.sizeBytes };
  const nowMs = ctx.now();
  await inTransaction(ctx.db, async (trx) => {
    await recordLicence(trx, licence, nowMs);
    await recordWrite(trx, origin, "application.licence_upload", licence.cid, { sizeBytes: licence.sizeBytes }, nowMs);
  });
  return licence;
}

export async function apply(
  ctx: ServiceContext,
  origin: WriteOrigin,
  request: z.infer<typeof applicationRequest>,
): Promise<{ application: Application; secret: string }> {
  const uscc = parseUscc(normalizeUsccInput(request.uscc)).code;
  const regionCode = parseRegionCode(request.regionCode).code;
  if (request.licenceCid !== undefined && (await getLicence(ctx.db, request.licenceCid)) === null) {
    throw new AppError("application.licence_unknown");
  }
  // Registered already: applying again would only be refused at approval.
  if ((await organisationIdWithUscc(ctx.db, uscc)) !== null) {
    throw new AppError("organisation.exists");
  }
  const secret = randomBytes(16).toString("base64url");
  const nowMs = ctx.now();
  try {
    return await inTransaction(ctx.db, async (trx) => {
      const application = await insertApplication(
        trx,
        {
          id: `app_${randomUUID()}`,
          kind: request.kind,
          name: { zh: request.name.zh, en: request.name.en ?? null },
          uscc,
          regionCode,
          contact: { name: request.contact.name, phone: request.contact.phone },
          licenceCid: request.licenceCid ?? null,
          secretHash: secretHash(secret),
        },
        nowMs,
      );
      // The write log names the application, never the person behind it.
      await recordWrite(trx, origin, "application.submit", application.id, { kind: request.kind, regionCode }, nowMs);
      return { application, secret };
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError("application.exists", {}, { cause: error });
    throw error;
  }
}

/** The applicant's own view: the secret must match, and a wrong one reads like an unknown id. */
export async function applicationStatus(ctx: ServiceContext, id: string, secret: string): Promise<Application> {
  const application = await getApplication(ctx.db, id);
  const given = Buffer.from(secretHash(secret), "hex");
  const expected = Buffer.from(application?.secretHash ?? "0".repeat(64), "hex");
  if (application === null || !timingSafeEqual(given, expected)) throw new AppError("application.not_found");
  return application;
}

/** The region prefix a reviewer sees: the operator all (""), a regulator its jurisdiction. */
async function reviewerPrefix(ctx: ServiceContext, principal: Principal): Promise<string> {
  if (principal.roles.includes("admin")) return "";
  if (!principal.roles.includes("regulator") || principal.organisationId === null) throw new AppError("auth.forbidden");
  const regulator = await getOrganisation(ctx.db, principal.organisationId);
  if (regulator === null) throw new AppError("organisation.not_found");
  if (regulator.status !== "active") throw new AppError("organisation.suspended");
  return jurisdictionPrefix(regulator.regionCode);
}

export async function applicationsForReview(
  ctx: ServiceContext,
  principal: Principal,
  status: ApplicationStatus | undefined,
): Promise<Application[]> {
  const prefix = await reviewerPrefix(ctx, principal);
  return listApplications(ctx.db, { status, regionPrefix: prefix, limit: 500 });
}

/** An application the reviewer may see; outside its jurisdiction it does not exist. */
export async function applicationForReview(
  ctx: ServiceContext,
  principal: Principal,
  id: string,
): Promise<Application> {
  const prefix = await reviewerPrefix(ctx, principal);
  const application = await getApplication(ctx.db, id);
  if (application === null || !withinJurisdiction(prefix, application.regionCode)) {
    throw new AppError("application.not_found");
  }
  return application;
}

export interface Approval {
  application: Application;
  organisation: Organisation;
  chair: { id: string; name: string };
  signIn: IssuedSignInLink;
}

/**
 * Approves: onboarding runs in its own transaction (it writes the key's backup file before
 * its row), then the application's decision, the chair and her link in a second one. A retry
 * after a crash between the two finds the organisation by its credit code and continues;
 * the credit code's uniqueness keeps two approvals from creating two organisations.
 */
export async function approveApplication(ctx: ServiceContext, origin: WriteOrigin, id: string): Promise<Approval> {
  const pending = await applicationForReview(ctx, origin.principal, id);
  if (pending.status !== "pending") throw new AppError("application.not_pending");
  let organisation = await organisationWithUscc(ctx, pending.uscc);
  if (organisation === null) {
    try {
      const onboarded = await onboardOrganisation(ctx, origin, {
        kind: pending.kind,
        name: { zh: pending.name.zh, en: pending.name.en },
        uscc: pending.uscc,
        regionCode: pending.regionCode,
      });
      organisation = onboarded.organisation;
      // Its onboarding token is shown to no one: people sign in with links, integrations get a token from the operator.
      await revokeCredential(ctx.db, onboarded.credential.credential.id, ctx.now());
    } catch (error) {
      if (!(error instanceof AppError && error.code === "organisation.exists")) throw error;
      organisation = await organisationWithUscc(ctx, pending.uscc);
      if (organisation === null) throw error;
    }
  }
  await allocatePrefixOnce(ctx, origin, organisation);
  const nowMs = ctx.now();
  const approved = organisation;
  return inTransaction(ctx.db, async (trx) => {
    const decided = await decideApplication(
      trx,
      id,
      { status: "approved", organisationId: approved.id, decidedBy: deciderOf(origin.principal) },
      nowMs,
    );
    if (!decided) throw new AppError("application.not_pending");
    // Approving an organisation that already has people (a retry of a half-done approval) adds no second chair.
    const chair =
      (await listMembers(trx, approved.id)).find((member) => member.role === "chair") ??
      (await insertMemberIn(trx, approved.id, { name: pending.contact.name, role: "chair", capabilities: [] }, nowMs));
    const signIn = await issueSignInLinkIn(ctx, trx, chair.id, deciderOf(origin.principal), nowMs);
    await recordWrite(
      trx,
      origin,
      "application.approve",
      id,
      { organisationId: approved.id, chairId: chair.id, signInLinkId: signIn.link.id },
      nowMs,
    );
    const application = await getApplication(trx, id);
    if (application === null) throw new Error(`application ${id} vanished inside its approval`);
    return { application, organisation: approved, chair: { id: chair.id, name: chair.name }, signIn };
  });
}

async function organisationWithUscc(ctx: ServiceContext, uscc: string): Promise<Organisation | null> {
  const id = await organisationIdWithUscc(ctx.db, uscc);
  return id === null ? null : getOrganisation(ctx.db, id);
}

/** A platform company prefix for an organisation that has none, when the operator configured one. */
async function allocatePrefixOnce(ctx: ServiceContext, origin: WriteOrigin, organisation: Organisation): Promise<void> {
  if (ctx.platformPrefix === undefined || organisation.kind !== "cooperative") return;
  const { companyPrefixes } = await organisationEntitlements(ctx, organisation.id);
  if (companyPrefixes.length > 0) return;
  await bindCompanyPrefix(ctx, origin, organisation.id, { allocate: true });
}

export async function refuseApplication(
  ctx: ServiceContext,
  origin: WriteOrigin,
  id: string,
  request: z.infer<typeof refusalRequest>,
): Promise<Application> {
  const pending = await applicationForReview(ctx, origin.principal, id);
  if (pending.status !== "pending") throw new AppError("application.not_pending");
  const nowMs = ctx.now();
  return inTransaction(ctx.db, async (trx) => {
    const refusal = { zh: request.reason.zh, en: request.reason.en ?? null };
    const decided = await decideApplication(
      trx,
      id,
      { status: "refused", refusal, decidedBy: deciderOf(origin.principal) },
      nowMs,
    );
    if (!decided) throw new AppError("application.not_pending");
    await recordWrite(trx, origin, "application.refuse", id, { reason: refusal }, nowMs);
    const application = await getApplication(trx, id);
    if (application === null) throw new Error(`application ${id} vanished inside its refusal`);
    return application;
  });
}

function deciderOf(principal: Principal): string {
  return principal.organisationId ?? "admin";
}
