/**
 * An organisation's signature over a typed value: made here with the custodial key the
 * server keeps for it, or, when the organisation holds its own key, asked of its wallet as
 * a signature request that sign-and-submit.ts completes.
 */
import type { SignatureRequestKind } from "../domain/enumerations.ts";
import type { AnyTypedValue, SignedType } from "../domain/typed-data.ts";
import { signTyped } from "../ledger/signing.ts";
import type { Organisation } from "../storage/organisations.ts";
import type { WriteOrigin } from "./write-log.ts";
import type { ServiceContext } from "./context.ts";
import { createSignatureRequest, type SignatureRequest } from "./signature-requests.ts";

/** Which signature request asks for each typed value: every write an organisation signs has one. */
const REQUEST_KIND_OF: Record<SignedType, SignatureRequestKind> = {
  BatchAttestation: "attestation",
  TraceEvent: "event",
  Recall: "recall",
  InspectionRequest: "inspection_request",
  GtinGrant: "gtin_grant",
  ContainerPacking: "container_packing",
  ContainerEvent: "container_event",
  QualityCertificate: "quality_certificate",
};

export type OrganisationSignature = { signature: string } | { awaitingSignature: SignatureRequest };

export async function signAsOrganisation(
  ctx: ServiceContext,
  origin: WriteOrigin,
  organisation: Organisation,
  toSign: AnyTypedValue,
  /** What the request stores to complete the write once signed, and when the signature expires. */
  pending: { record: object; deadline: bigint },
): Promise<OrganisationSignature> {
  if (organisation.custody.kind === "own") {
    const awaitingSignature = await createSignatureRequest(ctx, origin, {
      kind: REQUEST_KIND_OF[toSign.primaryType],
      organisationId: organisation.id,
      signerAddress: organisation.signerAddress,
      value: toSign.value,
      record: pending.record,
      expiresAtMs: Number(pending.deadline) * 1000,
    });
    return { awaitingSignature };
  }
  const wallet = await ctx.keyRing.unlock(organisation.custody.keystoreJson);
  return { signature: await signTyped(wallet, ctx.domain, toSign.primaryType, toSign.value) };
}
