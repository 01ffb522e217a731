/**
 * The verification core: the same code checks an item in the scan page, the CLI and the
 * tests. Browser-safe (no `node:` imports); hashing and curves from `@noble/*`.
 */
export { attestationDigest, eventDigest, recoverSigner, typedDataDigest, type Eip712Domain } from "./eip712.ts";
export { itemLeaf, verifyProof } from "./merkle.ts";
export { eventHead } from "./hash-chain.ts";
export { cidBytesFromText, cidMatchesBytes, cidTextFromHex } from "./cid.ts";
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
