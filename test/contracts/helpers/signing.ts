/**
 * EIP-712 signing for contract tests, straight from the typed-data table the server uses
 * (`server/src/domain/typed-data.ts`) and ethers, so a test signs exactly what a
 * cooperative's wallet would.
 */
import { TypedDataEncoder, type Signer, type TypedDataDomain } from "ethers";

import {
  typesFor,
  type BatchAttestationValue,
  type ContainerEventValue,
  type ContainerPackingValue,
  type GtinGrantValue,
  type InspectionRequestValue,
  type PrimaryType,
  type RecallValue,
  type TraceEventValue,
} from "../../../server/src/domain/typed-data.ts";

interface ValueOf {
  BatchAttestation: BatchAttestationValue;
  TraceEvent: TraceEventValue;
  Recall: RecallValue;
  GtinGrant: GtinGrantValue;
  InspectionRequest: InspectionRequestValue;
  ContainerPacking: ContainerPackingValue;
  ContainerEvent: ContainerEventValue;
}

type TypedDataSigner = Pick<Signer, "signTypedData">;

export function signTyped<P extends PrimaryType>(
  signer: TypedDataSigner,
  domain: TypedDataDomain,
  primaryType: P,
  value: ValueOf[P],
): Promise<string> {
  return signer.signTypedData(domain, typesFor(primaryType), { ...value });
}

/** The EIP-712 digest the contract computes for `value`; what `SignatureInvalid` reports. */
export function typedDigest<P extends PrimaryType>(domain: TypedDataDomain, primaryType: P, value: ValueOf[P]): string {
  return TypedDataEncoder.hash(domain, typesFor(primaryType), { ...value });
}

export type BatchAttestationRequest = BatchAttestationValue & { signature: string };
export type EventRequest = TraceEventValue & { signature: string };
export type RecallRequest = RecallValue & { signature: string };
export type GtinGrantRequest = GtinGrantValue & { signature: string };
export type InspectionRequest = InspectionRequestValue & { signature: string };

export async function signedAttestation(
  signer: TypedDataSigner,
  domain: TypedDataDomain,
  value: BatchAttestationValue,
): Promise<BatchAttestationRequest> {
  return { ...value, signature: await signTyped(signer, domain, "BatchAttestation", value) };
}

export async function signedEvent(
  signer: TypedDataSigner,
  domain: TypedDataDomain,
  value: TraceEventValue,
): Promise<EventRequest> {
  return { ...value, signature: await signTyped(signer, domain, "TraceEvent", value) };
}

export async function signedRecall(
  signer: TypedDataSigner,
  domain: TypedDataDomain,
  value: RecallValue,
): Promise<RecallRequest> {
  return { ...value, signature: await signTyped(signer, domain, "Recall", value) };
}

export async function signedGtinGrant(
  signer: TypedDataSigner,
  domain: TypedDataDomain,
  value: GtinGrantValue,
): Promise<GtinGrantRequest> {
  return { ...value, signature: await signTyped(signer, domain, "GtinGrant", value) };
}

export async function signedInspectionRequest(
  signer: TypedDataSigner,
  domain: TypedDataDomain,
  value: InspectionRequestValue,
): Promise<InspectionRequest> {
  return { ...value, signature: await signTyped(signer, domain, "InspectionRequest", value) };
}
