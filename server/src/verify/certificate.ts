/**
 * Verifies a 合格证 (`domain/certificate.ts`) and its lineage: the one function the
 * certificate page, the CLI and the tests use. For each certificate: the document is well
 * formed and hashes to the signed `documentHash`, the signed fields repeat the document's, the
 * id is the struct's EIP-712 digest, and the signature recovers to the document's issuer.
 * Then who the issuer is: online, the registry (read over JSON-RPC, as the scan page does)
 * must hold an active organisation for that key; offline, the caller names the key it
 * expects and nothing is read from a chain. Each parent is verified the same way, to
 * `MAX_LINEAGE_DEPTH` levels, and must cover no batch the child does not name; the child may
 * not certify more than its parents together did.
 *
 * Online, each certificate's batches are also read from the registry: a certificate stays
 * authentic when its batch is recalled later (it was true when signed), but whoever holds it
 * must be told, so the recalled batches are named beside the verdict (`recalledInLineage`).
 *
 * Browser-safe: no `node:` imports, no ethers.
 */
import {
  MAX_LINEAGE_DEPTH,
  certificateDocument,
  certificateValue,
  certificateValueJson,
  publicCertificate,
  type CertificateDocument,
  type PublicCertificate,
} from "../domain/certificate.ts";
import { OFF_CHAIN_TYPES, type TypedDataVersion } from "../domain/typed-data.ts";
import { keccak256Hex, sameHex } from "./bytes.ts";
import { askContractSigner } from "./contract-signatures.ts";
import { recoverSigner, structDigest } from "./eip712.ts";
import { readBatchRecord, readOrganisation, type BatchStatusOnChain, type RpcClient } from "./rpc.ts";

/** What can be wrong with one certificate; the page and the CLI word each in zh and en. */
export type CertificateProblem =
  | "unreachable"
  | "malformed"
  | "document_invalid"
  | "document_hash"
  | "field_mismatch"
  | "id_mismatch"
  | "signature"
  | "issuer_mismatch"
  | "registry_mismatch"
  | "issuer_not_registered"
  | "issuer_suspended"
  | "issuer_unreadable"
  | "not_expected_issuer"
  | "batch_unreadable"
  | "parent_batch"
  | "parent_quantity"
  | "lineage_too_deep";

/**
 * How the issuer is judged. `ledger`: the registry at `registry` (default: the domain's
 * verifying contract, i.e. the platform's word) read through `rpc`. `offline`: no chain read;
 * `issuers` are the keys the caller already trusts (the top certificate's signer must be one).
 */
export type IssuerCheck =
  { mode: "ledger"; rpc: RpcClient; registry?: string } | { mode: "offline"; issuers: readonly string[] };

/** The issuer as judged: registered and active on the ledger, or a key not checked against it. */
export type IssuerStanding = "registered" | "not_registered" | "suspended" | "unknown" | "not_checked";

export interface CertificateCheck {
  id: string;
  /** True when this certificate and every parent verified. */
  ok: boolean;
  /** The key the signature recovers to; null when there is none to recover. */
  signer: string | null;
  issuer: IssuerStanding;
  problems: CertificateProblem[];
  document: CertificateDocument | null;
  /**
   * Of the batches this certificate names, those the registry says are recalled (read online
   * only: offline, and when the ledger could not be read, this is empty and `recallsRead` false).
   */
  recalledBatches: string[];
  recallsRead: boolean;
  parents: CertificateCheck[];
}

export interface VerifyCertificateOptions {
  /** The public JSON of a certificate by id (`GET /api/v1/certificates/:id`), or a thrown error. */
  load: (id: string) => Promise<unknown>;
  issuers: IssuerCheck;
  /** Defaults to MAX_LINEAGE_DEPTH. */
  maxDepth?: number;
}

const utf8 = new TextEncoder();

function failed(id: string, problem: CertificateProblem): CertificateCheck {
  return {
    id,
    ok: false,
    signer: null,
    issuer: "unknown",
    problems: [problem],
    document: null,
    recalledBatches: [],
    recallsRead: false,
    parents: [],
  };
}

function parseDocument(text: string): CertificateDocument | null {
  try {
    const parsed = certificateDocument.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Signature, hash, fields and id: everything that needs no chain and no parent. */
function checkSigned(
  id: string,
  cert: PublicCertificate,
): { problems: CertificateProblem[]; signer: string | null; document: CertificateDocument | null; digest: string } {
  const problems: CertificateProblem[] = [];
  const document = parseDocument(cert.document);
  if (document === null) problems.push("document_invalid");
  const documentHash = keccak256Hex(utf8.encode(cert.document));
  if (!sameHex(documentHash, cert.value.documentHash)) problems.push("document_hash");
  if (document !== null) {
    const expected = certificateValueJson(certificateValue(document, documentHash));
    const signed = cert.value;
    const same =
      sameHex(expected.issuer, signed.issuer) &&
      expected.gtin === signed.gtin &&
      expected.quantityMilli === signed.quantityMilli &&
      expected.unit === signed.unit &&
      expected.issuedOn === signed.issuedOn;
    if (!same) problems.push("field_mismatch");
    if (
      document.parents.length !== cert.parents.length ||
      document.parents.some((parent, index) => parent !== cert.parents[index])
    ) {
      problems.push("field_mismatch");
    }
  }
  const digest = structDigest(
    {
      chainId: cert.domain.chainId,
      verifyingContract: cert.domain.verifyingContract,
      version: cert.domain.version as TypedDataVersion,
    },
    "QualityCertificate",
    OFF_CHAIN_TYPES.QualityCertificate,
    { ...cert.value },
  );
  if (!sameHex(digest, id) || !sameHex(digest, cert.id)) problems.push("id_mismatch");
  let signer: string | null = null;
  try {
    signer = recoverSigner(digest, cert.signature);
  } catch {
    problems.push("signature");
  }
  if (signer !== null && !sameHex(signer, cert.value.issuer)) problems.push("signature");
  if (signer !== null && !sameHex(signer, cert.issuer.signerAddress)) problems.push("issuer_mismatch");
  return { problems: [...new Set(problems)], signer, document, digest };
}

async function judgeIssuer(
  cert: PublicCertificate,
  signer: string,
  issuers: IssuerCheck,
  top: boolean,
): Promise<{ standing: IssuerStanding; problem: CertificateProblem | null }> {
  if (issuers.mode === "offline") {
    const known = issuers.issuers.some((address) => sameHex(address, signer));
    if (top && !known) return { standing: "not_checked", problem: "not_expected_issuer" };
    return { standing: "not_checked", problem: null };
  }
  const registry = issuers.registry ?? cert.domain.verifyingContract;
  if (!sameHex(registry, cert.domain.verifyingContract)) return { standing: "unknown", problem: "registry_mismatch" };
  try {
    const organisation = await readOrganisation(issuers.rpc, registry, signer);
    if (organisation.status === "none") return { standing: "not_registered", problem: "issuer_not_registered" };
    if (organisation.status === "suspended") return { standing: "suspended", problem: "issuer_suspended" };
    return { standing: "registered", problem: null };
  } catch {
    return { standing: "unknown", problem: "issuer_unreadable" };
  }
}

/** Batch statuses read once per verification: a mixed lot's parents name batches it names too. */
type BatchStatusReads = Map<string, Promise<BatchStatusOnChain>>;

/** How many batch records are read from the registry at once (a certificate names up to 200). */
const BATCH_READS_AT_ONCE = 8;

/** The batches of `batchIds` the registry says are recalled; null when the ledger could not be read. */
async function recalledOf(
  batchIds: readonly string[],
  registry: string,
  rpc: RpcClient,
  reads: BatchStatusReads,
): Promise<string[] | null> {
  const statuses: BatchStatusOnChain[] = [];
  try {
    for (let start = 0; start < batchIds.length; start += BATCH_READS_AT_ONCE) {
      statuses.push(
        ...(await Promise.all(
          batchIds.slice(start, start + BATCH_READS_AT_ONCE).map((batchId) => {
            let read = reads.get(batchId);
            if (read === undefined) {
              read = readBatchRecord(rpc, registry, batchId).then((record) => record.status);
              reads.set(batchId, read);
            }
            return read;
          }),
        )),
      );
    }
  } catch {
    return null;
  }
  return batchIds.filter((_, index) => statuses[index] === "recalled");
}

async function verifyAt(
  id: string,
  options: VerifyCertificateOptions,
  depth: number,
  seen: ReadonlySet<string>,
  reads: BatchStatusReads,
): Promise<CertificateCheck> {
  let raw: unknown;
  try {
    raw = await options.load(id);
  } catch {
    return failed(id, "unreachable");
  }
  const parsed = publicCertificate.safeParse(raw);
  if (!parsed.success) return failed(id, "malformed");
  const cert = parsed.data;
  const checked = checkSigned(id, cert);
  const { document } = checked;
  let { problems, signer } = checked;
  const issuers = options.issuers;
  // Signed by another key than the issuer's: the issuer may be a contract wallet that agrees (ERC-1271).
  if (problems.includes("signature") && issuers.mode === "ledger") {
    const wallet = cert.value.issuer;
    const { valid } = await askContractSigner(issuers.rpc, {
      digest: checked.digest,
      signature: cert.signature,
      signer: wallet,
    });
    if (valid) {
      signer = wallet;
      problems = problems.filter(
        (p) => p !== "signature" && (p !== "issuer_mismatch" || !sameHex(wallet, cert.issuer.signerAddress)),
      );
    }
  }
  let issuer: IssuerStanding = "unknown";
  if (signer !== null) {
    const judged = await judgeIssuer(cert, signer, options.issuers, depth === 0);
    issuer = judged.standing;
    if (judged.problem !== null) problems.push(judged.problem);
  }
  let recalledBatches: string[] = [];
  let recallsRead = false;
  // Against the registry the certificate was signed for only: another registry's batches say nothing of it.
  if (
    issuers.mode === "ledger" &&
    document !== null &&
    sameHex(issuers.registry ?? cert.domain.verifyingContract, cert.domain.verifyingContract)
  ) {
    const recalled = await recalledOf(document.batchIds, cert.domain.verifyingContract, issuers.rpc, reads);
    if (recalled === null) problems.push("batch_unreadable");
    else {
      recalledBatches = recalled;
      recallsRead = true;
    }
  }
  const parents: CertificateCheck[] = [];
  if (document !== null && document.parents.length > 0) {
    if (depth + 1 > (options.maxDepth ?? MAX_LINEAGE_DEPTH)) problems.push("lineage_too_deep");
    else {
      const next = new Set(seen).add(id.toLowerCase());
      for (const parentId of document.parents) {
        // A digest cannot name itself through its own hash; a repeated id is a forged lineage.
        if (next.has(parentId)) {
          parents.push(failed(parentId, "malformed"));
          continue;
        }
        parents.push(await verifyAt(parentId, options, depth + 1, next, reads));
      }
      checkLineage(document, parents, problems);
    }
  }
  return {
    id,
    ok: problems.length === 0 && parents.every((parent) => parent.ok),
    signer,
    issuer,
    problems,
    document,
    recalledBatches,
    recallsRead,
    parents,
  };
}

/** A child covers every batch of its parents and certifies at most what they did together. */
function checkLineage(
  document: CertificateDocument,
  parents: CertificateCheck[],
  problems: CertificateProblem[],
): void {
  const batches = new Set(document.batchIds);
  let sum = 0n;
  for (const parent of parents) {
    if (parent.document === null) continue;
    if (parent.document.batchIds.some((batchId) => !batches.has(batchId))) problems.push("parent_batch");
    if (parent.document.quantity.unit !== document.quantity.unit) problems.push("parent_quantity");
    sum += BigInt(parent.document.quantity.milli);
  }
  if (parents.every((parent) => parent.document !== null) && BigInt(document.quantity.milli) > sum) {
    problems.push("parent_quantity");
  }
}

/** Verifies the certificate `id` and, recursively, its parents. Never throws for a bad certificate. */
export function verifyCertificate(id: string, options: VerifyCertificateOptions): Promise<CertificateCheck> {
  return verifyAt(id.toLowerCase(), options, 0, new Set(), new Map());
}

/** Every batch the certificate or any certificate in its lineage names that the registry says is recalled. */
export function recalledInLineage(check: CertificateCheck): string[] {
  return [...new Set([...check.recalledBatches, ...check.parents.flatMap(recalledInLineage)])];
}

/** Every problem in the lineage, with the id of the certificate it belongs to. */
export function lineageProblems(check: CertificateCheck): { id: string; problem: CertificateProblem }[] {
  return [...check.problems.map((problem) => ({ id: check.id, problem })), ...check.parents.flatMap(lineageProblems)];
}

/** Loads certificates from a platform's public API (`origin` without a trailing slash). */
export function loadFromOrigin(origin: string, fetchFn: typeof fetch = fetch): (id: string) => Promise<unknown> {
  return async (id) => {
    const response = await fetchFn(`${origin}/api/v1/certificates/${encodeURIComponent(id)}`, {
      headers: { accept: "application/json" },
    });
    if (!response.ok) throw new Error(`certificate ${id}: HTTP ${String(response.status)}`);
    return (await response.json()) as unknown;
  };
}

/** Problem wording, zh and en, for the page and the CLI. */
export const CERTIFICATE_PROBLEM_TEXT: Readonly<Record<CertificateProblem, { zh: string; en: string }>> = {
  unreachable: { zh: "无法取得该合格证", en: "the certificate could not be fetched" },
  malformed: { zh: "合格证数据格式不对", en: "the certificate's data is malformed" },
  document_invalid: { zh: "合格证内容不是有效的合格证", en: "the certificate's document is not a valid certificate" },
  document_hash: { zh: "合格证内容与签名不符（已被改动）", en: "the document does not match its signature (altered)" },
  field_mismatch: { zh: "签名字段与合格证内容不一致", en: "the signed fields differ from the document" },
  id_mismatch: { zh: "合格证编号与签名内容不符", en: "the certificate id does not match what was signed" },
  signature: { zh: "签名无效", en: "the signature is invalid" },
  issuer_mismatch: { zh: "签名者不是平台所称的开具方", en: "the signer is not the issuer the platform names" },
  registry_mismatch: { zh: "签名所用登记合约不是所核验的合约", en: "signed for another registry than the one checked" },
  issuer_not_registered: { zh: "签名者未在链上登记", en: "the signer is not registered on the ledger" },
  issuer_suspended: { zh: "开具方已在链上被暂停", en: "the issuer is suspended on the ledger" },
  issuer_unreadable: { zh: "无法读取链上登记", en: "the ledger could not be read" },
  not_expected_issuer: { zh: "签名者不是指定的开具方", en: "the signer is not the expected issuer" },
  batch_unreadable: {
    zh: "无法从链上读取所涉批次是否已召回",
    en: "whether its batches are recalled could not be read from the ledger",
  },
  parent_batch: { zh: "上级合格证的批次未列入本证", en: "a parent covers a batch this certificate does not name" },
  parent_quantity: { zh: "数量超过上级合格证之和", en: "the quantity exceeds its parents' together" },
  lineage_too_deep: { zh: "来源层级超过 8 层", en: "the lineage is deeper than 8 levels" },
};
