/**
 * The parts of a public answer that name a batch's signed attestation and the chain to check it
 * against, shared by the item resolution (`resolve.ts`) and the lot card (`lot-card.ts`): both
 * pages verify the same attestation the same way, so they must be given it the same way.
 */
import type { AttestationValueJson, ItemResolution } from "../domain/resolution.ts";
import { TYPED_CODECS } from "../domain/typed-data.ts";
import type { Batch } from "../storage/batches.ts";
import type { ServiceContext } from "./context.ts";
import { cidHexFromText } from "./documents.ts";
import { memoised } from "./memoise.ts";

const cidHexOf = memoised(cidHexFromText);

/** Where a verifier reads the chain, and the registry and typed-data version the batch was signed for. */
export function resolvedChain(ctx: ServiceContext, batch: Batch): ItemResolution["chain"] {
  return {
    chainId: ctx.domain.chainId.toString(),
    registry: ctx.domain.verifyingContract,
    rpcUrl: ctx.publicRpcUrl,
    typedDataVersion: batch.attestation.typedDataVersion,
    fromBlock: String(ctx.registryDeployedAtBlock ?? 0),
  };
}

/** The cooperative's signed `BatchAttestation`, field for field as it was signed. */
export function attestationJson(batch: Batch): AttestationValueJson {
  return TYPED_CODECS.BatchAttestation.encode({
    attester: batch.attestation.signerAddress,
    gtin: BigInt(batch.gtin),
    lot: batch.lot,
    itemsRoot: batch.itemsRoot,
    itemCount: BigInt(batch.itemCount),
    quantityMilli: batch.quantityMilli,
    unit: batch.unit,
    harvestedAt: BigInt(Math.floor(batch.harvestedAtMs / 1000)),
    metadataCid: cidHexOf(batch.metadataCid),
    nonce: batch.attestation.nonce,
    deadline: batch.attestation.deadline,
  });
}
