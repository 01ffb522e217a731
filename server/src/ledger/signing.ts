/**
 * EIP-712 signing and verification of what organisations sign. The server signs with
 * a custodial key for cooperatives without a wallet; a cooperative with its own wallet
 * signs the same typed data itself and the server verifies it before accepting.
 */
import { TypedDataEncoder, verifyTypedData, type Signer } from "ethers";

import {
  domainFor,
  typesFor,
  type BatchAttestationValue,
  type PrimaryType,
  type RecallValue,
  type TraceEventValue,
  type TypedDataVersion,
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
}

type Signable = Pick<Signer, "signTypedData">;

export function signTyped<P extends PrimaryType>(
  signer: Signable,
  domain: SigningDomain,
  primaryType: P,
  value: ValueOf[P],
): Promise<string> {
  const typed = domainFor(domain.chainId, domain.verifyingContract, domain.version);
  return signer.signTypedData(typed, typesFor(primaryType, domain.version), { ...value });
}

export function typedDigest<P extends PrimaryType>(domain: SigningDomain, primaryType: P, value: ValueOf[P]): string {
  return TypedDataEncoder.hash(
    domainFor(domain.chainId, domain.verifyingContract, domain.version),
    typesFor(primaryType, domain.version),
    { ...value },
  );
}

/** The EOA that made `signature` over the typed value (ERC-1271 wallets are checked on chain). */
export function recoverTypedSigner<P extends PrimaryType>(
  domain: SigningDomain,
  primaryType: P,
  value: ValueOf[P],
  signature: string,
): string {
  return verifyTypedData(
    domainFor(domain.chainId, domain.verifyingContract, domain.version),
    typesFor(primaryType, domain.version),
    { ...value },
    signature,
  );
}
