/**
 * EIP-712 signing of what organisations sign: the server signs with a custodial key for
 * cooperatives without a wallet. Checking a signature (a wallet's, before the server accepts
 * it, or one read back from the chain) is the verification core's (`verify/eip712.ts`).
 */
import type { Signer } from "ethers";

import {
  domainFor,
  typesFor,
  type BatchAttestationValue,
  type ContainerEventValue,
  type ContainerPackingValue,
  type GtinGrantValue,
  type InspectionRequestValue,
  type RecallValue,
  type SignedType,
  type TraceEventValue,
  type TypedDataVersion,
  type TypedValue,
} from "../domain/typed-data.ts";

export interface SigningDomain {
  chainId: bigint;
  verifyingContract: string;
  version?: TypedDataVersion;
}

interface ValueOf {
  BatchAttestation: BatchAttestationValue;
  TraceEvent: TraceEventValue;
  Recall: RecallValue;
  GtinGrant: GtinGrantValue;
  InspectionRequest: InspectionRequestValue;
  ContainerPacking: ContainerPackingValue;
  ContainerEvent: ContainerEventValue;
  QualityCertificate: TypedValue<"QualityCertificate">;
}

type Signable = Pick<Signer, "signTypedData">;

export function signTyped<P extends SignedType>(
  signer: Signable,
  domain: SigningDomain,
  primaryType: P,
  value: ValueOf[P],
): Promise<string> {
  const typed = domainFor(domain.chainId, domain.verifyingContract, domain.version);
  return signer.signTypedData(typed, typesFor(primaryType, domain.version), { ...value });
}
