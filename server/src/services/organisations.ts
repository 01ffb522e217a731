/**
 * Onboarding: an organisation gets a signing key (kept by the server in an encrypted
 * keystore, or its own wallet's address), a public metadata document on IPFS, an API
 * credential, and a registration on the ledger through the outbox.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

import { getAddress } from "ethers";
import { z } from "zod";

import type { OrganisationKind, Role } from "../domain/enumerations.ts";
import { formatCompanyPrefix, parseCompanyPrefix } from "../domain/gtin-entitlement.ts";
import { isoInstant } from "../domain/instants.ts";
import { NATIONAL_REGION_CODE, parseRegionCode, regionCodeToUint32 } from "../domain/region.ts";
import { normalizeUsccInput, parseUscc } from "../domain/uscc.ts";
import { AppError } from "../errors/app-error.ts";
import { createCustodialKey } from "../ledger/keystore.ts";
import { outboxEntry } from "../ledger/outbox-kinds.ts";
import {
  getCredential,
  hashToken,
  insertCredential,
  revokeCredential,
  type Credential,
} from "../storage/credentials.ts";
import { isUniqueViolation } from "../storage/database.ts";
import { inTransaction } from "../storage/transaction.ts";
import { getOrganisation, insertOrganisation, type Organisation } from "../storage/organisations.ts";
import { enqueueOutbox } from "../storage/outbox.ts";
import { recordWrite, type WriteOrigin } from "./write-log.ts";
import type { ServiceContext } from "./context.ts";
import { storeJsonDocument } from "./documents.ts";
import { bindPrefixIn, onboardingPrefixes } from "./entitlement.ts";

/** The ledger's `OrgKind`; regulators are not registered organisations but hold a role. */
export const LEDGER_ORG_KIND: Partial<Record<OrganisationKind, number>> = {
  cooperative: 1,
  processor: 2,
  logistics: 3,
  retailer: 4,
  inspector: 5,
};

export function rolesForKind(kind: OrganisationKind): Role[] {
  switch (kind) {
    case "cooperative":
      return ["cooperative"];
    case "regulator":
      return ["regulator"];
    case "processor":
    case "logistics":
    case "retailer":
    case "inspector":
      return ["actor"];
  }
}

const localisedName = z.object({ zh: z.string().trim().min(1).max(100), en: z.string().trim().max(200).nullish() });

export const onboardingRequest = z
  .object({
    kind: z.enum(["cooperative", "processor", "logistics", "retailer", "inspector", "regulator"]),
    name: localisedName,
    uscc: z.string().max(40),
    regionCode: z.string().regex(/^\d{6}$/, "six digits (GB/T 2260)"),
    /** Omit to have the platform keep the key; give the address of the organisation's own wallet otherwise. */
    signerAddress: z
      .string()
      .regex(/^0x[0-9a-fA-F]{40}$/)
      .optional(),
    /** The organisation's own GS1 company prefixes, bound to it in the same write. */
    companyPrefixes: onboardingPrefixes.optional(),
  })
  .strict();
export type OnboardingRequest = z.infer<typeof onboardingRequest>;

export interface IssuedCredential {
  credential: Credential;
  /** Shown once; only its hash is stored. */
  token: string;
}

function newToken(): string {
  return `oioc_${randomBytes(32).toString("base64url")}`;
}

function writeKeystoreBackup(dir: string, address: string, keystoreJson: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(path.join(dir, `${address.toLowerCase()}.json`), keystoreJson, { mode: 0o600, flush: true });
}

export async function onboardOrganisation(
  ctx: ServiceContext,
  origin: WriteOrigin,
  request: OnboardingRequest,
): Promise<{ organisation: Organisation; credential: IssuedCredential }> {
  const uscc = parseUscc(normalizeUsccInput(request.uscc)).code;
  // A national regulator has no division of its own: 000000, the empty jurisdiction prefix.
  const regionCode =
    request.kind === "regulator" && request.regionCode === NATIONAL_REGION_CODE
      ? NATIONAL_REGION_CODE
      : parseRegionCode(request.regionCode).code;
  const ledgerKind = LEDGER_ORG_KIND[request.kind];
  const companyPrefixes = (request.companyPrefixes ?? []).map(parseCompanyPrefix);
  if (companyPrefixes.length > 0 && ledgerKind === undefined) {
    throw new AppError("organisation.wrong_kind", {}, { detail: "a regulator holds no GS1 company prefix" });
  }
  let signerAddress: string;
  let custody: Organisation["custody"];
  if (request.signerAddress === undefined) {
    const key = await createCustodialKey(ctx.secrets.keystoreSecret);
    // Written before the database row: a key is never referenced without its backup.
    writeKeystoreBackup(ctx.keysDir, key.address, key.keystoreJson);
    signerAddress = key.address;
    custody = { kind: "server", keystoreJson: key.keystoreJson };
  } else {
    signerAddress = getAddress(request.signerAddress);
    custody = { kind: "own" };
  }
  const metadata = await storeJsonDocument(ctx.content, {
    type: "oioc.organisation",
    version: 1,
    kind: request.kind,
    name: { zh: request.name.zh, en: request.name.en ?? null },
    uscc,
    regionCode,
    signer: signerAddress,
  });
  const nowMs = ctx.now();
  const id = `org_${randomUUID()}`;
  const token = newToken();
  try {
    return await inTransaction(ctx.db, async (trx) => {
      const organisation = await insertOrganisation(
        trx,
        {
          id,
          kind: request.kind,
          nameZh: request.name.zh,
          nameEn: request.name.en ?? null,
          uscc,
          regionCode,
          signerAddress,
          custody,
          metadataCid: metadata.cidText,
          ledgerState: ledgerKind === undefined ? null : "pending",
        },
        nowMs,
      );
      if (ledgerKind !== undefined) {
        await enqueueOutbox(
          trx,
          outboxEntry("organisation", id, {
            signer: signerAddress,
            kind: ledgerKind,
            regionCode: regionCodeToUint32(regionCode),
            metadataCid: metadata.cidHex,
          }),
          nowMs,
        );
      }
      for (const prefix of companyPrefixes) {
        await bindPrefixIn(trx, organisation, prefix, "own", origin.principal.credentialId ?? "admin", nowMs);
      }
      const credential = await insertCredential(
        trx,
        {
          id: `cred_${randomUUID()}`,
          organisationId: id,
          tokenHash: hashToken(token),
          roles: rolesForKind(request.kind),
          label: "initial",
          expiresAtMs: null,
        },
        nowMs,
      );
      await recordWrite(
        trx,
        origin,
        "organisation.onboard",
        id,
        { kind: request.kind, signerAddress, companyPrefixes: companyPrefixes.map(formatCompanyPrefix) },
        nowMs,
      );
      return { organisation, credential: { credential, token } };
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new AppError("organisation.exists", {}, { cause: error });
    throw error;
  }
}

export const credentialRequest = z
  .object({
    label: z.string().trim().min(1).max(100),
    expiresAt: isoInstant.optional(),
  })
  .strict();

export async function issueCredential(
  ctx: ServiceContext,
  origin: WriteOrigin,
  organisationId: string,
  request: z.infer<typeof credentialRequest>,
): Promise<IssuedCredential> {
  const organisation = await getOrganisation(ctx.db, organisationId);
  if (organisation === null) throw new AppError("organisation.not_found");
  const nowMs = ctx.now();
  const expiresAtMs = request.expiresAt === undefined ? null : Date.parse(request.expiresAt);
  if (expiresAtMs !== null && expiresAtMs <= nowMs) {
    throw new AppError("request.invalid", {}, { detail: "expiresAt: must be in the future" });
  }
  const token = newToken();
  return inTransaction(ctx.db, async (trx) => {
    const credential = await insertCredential(
      trx,
      {
        id: `cred_${randomUUID()}`,
        organisationId,
        tokenHash: hashToken(token),
        roles: rolesForKind(organisation.kind),
        label: request.label,
        expiresAtMs,
      },
      nowMs,
    );
    await recordWrite(trx, origin, "credential.issue", credential.id, { organisationId }, nowMs);
    return { credential, token };
  });
}

export async function revokeOrganisationCredential(
  ctx: ServiceContext,
  origin: WriteOrigin,
  organisationId: string,
  credentialId: string,
): Promise<void> {
  const nowMs = ctx.now();
  await inTransaction(ctx.db, async (trx) => {
    const credential = await getCredential(trx, credentialId);
    if (credential?.organisationId !== organisationId || !(await revokeCredential(trx, credentialId, nowMs))) {
      throw new AppError("credential.not_found");
    }
    await recordWrite(trx, origin, "credential.revoke", credentialId, { organisationId }, nowMs);
  });
}
