/**
 * The verification core: every check of what was signed and anchored, the one code the scan
 * page, the server (a wallet's signature, the regulator's audit), the CLI and the tests run.
 * Browser-safe (no `node:` imports); hashing and curves from `@noble/*`. The writing side
 * (signing with a key, building a batch's tree) stays in `ledger/signing.ts` and `domain/merkle.ts`.
 */
export { attestationDigest, eventDigest, recoverSigner, typedDataDigest, type Eip712Domain } from "./eip712.ts";
export { itemLeaf, verifyProof } from "./merkle.ts";
export { eventHead } from "./hash-chain.ts";
export { batchIdOf } from "./batch-id.ts";
export {
  signedBy,
  verifyBatchLogs,
  type BatchLogFinding,
  type BatchLogs,
  type BatchLogsVerification,
  type SignedLog,
} from "./batch.ts";
export {
  cidBytesFromText,
  cidMatchesBytes,
  cidTextFromHex,
  hasWebCryptoDigest,
  useSha256Fallback,
  type Sha256,
} from "./cid.ts";
export {
  createRpcClient,
  decodeBatchRecord,
  decodeOrganisation,
  encodeBatchCall,
  encodeOrganisationCall,
  readBatchRecord,
  readOrganisation,
  type BatchRecordOnChain,
  type OrganisationOnChain,
  type RpcClient,
} from "./rpc.ts";
export {
  CHECK_IDS,
  verifyResolution,
  type CheckId,
  type CheckOutcome,
  type Verdict,
  type VerificationReport,
  type VerifiedEvent,
  type VerifyDeps,
} from "./verify-resolution.ts";
export {
  decodeQbftExtraData,
  encodeQbftExtraData,
  qbftCommitSealHash,
  qbftHeaderFromRlp,
  qbftHeaderFromRpcBlock,
  qbftQuorum,
  verifyQbftSeals,
  type QbftExtraData,
  type QbftHeader,
  type QbftSealCheck,
} from "./qbft-seals.ts";
export { createTrustedRpcClient, type TrustedRpcClient, type TrustedRpcOptions } from "./trusted-rpc.ts";
export type { ChainTrustReport, EndpointOutcome, TrustRoots } from "./trust-roots.ts";
export { AppError, isAppError } from "../errors/app-error.ts";
export {
  coldChainRangeOf,
  readingsOf,
  safetyFindings,
  testFailed,
  verdictOf,
  type Finding,
  type FindingCode,
} from "./findings.ts";
