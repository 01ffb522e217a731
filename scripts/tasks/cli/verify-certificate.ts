/**
 * `verify-certificate --url URL [--rpc URL] [--registry ADDRESS] [--issuer ADDRESS]`: verifies a
 * 合格证 and its lineage with the same `verifyCertificate` the certificate page runs. URL is the
 * certificate's page (`…/c/0x…`, what its QR code holds) or its JSON (`…/api/v1/certificates/0x…`).
 * With --issuer, nothing is read from a chain: the signer must be that key, and the answer says
 * the key was not checked against the ledger. Otherwise the issuer's key must be registered
 * and active in the registry, read through --rpc (default: the platform's own /rpc), and the
 * batches each certificate names are read there too: a certificate that verifies but covers a
 * batch recalled since is RECALLED (exit status 3, as verify-batch), naming the batches.
 */
import { isAddress } from "ethers";

import { formatQuantityMilli, unitFromCode } from "../../../server/src/domain/units.ts";
import {
  CERTIFICATE_PROBLEM_TEXT,
  loadFromOrigin,
  verifyCertificate,
  recalledInLineage,
  type CertificateCheck,
  type IssuerCheck,
} from "../../../server/src/verify/certificate.ts";
import { createRpcClient } from "../../../server/src/verify/rpc.ts";
import { UsageError, required, type Options, type Verdict } from "./usage.ts";

const CERTIFICATE_URL = /^(https?:\/\/[^/]+)\/(?:c|api\/v1\/certificates)\/(0x[0-9a-fA-F]{64})(?:\.pdf)?\/?$/;

/** The certificate's origin and id from a page, JSON or PDF URL. */
export function parseCertificateUrl(url: string): { origin: string; id: string } {
  const match = CERTIFICATE_URL.exec(url);
  if (match === null)
    throw new UsageError(`--url must be a certificate's URL (…/c/0x… or …/api/v1/certificates/0x…), got "${url}"`);
  return { origin: match[1] ?? "", id: (match[2] ?? "").toLowerCase() };
}

function describe(check: CertificateCheck, depth: number, lines: string[]): void {
  const indent = "  ".repeat(depth);
  const document = check.document;
  const what =
    document === null
      ? ""
      : ` ${document.product.name.zh} ${formatQuantityMilli(BigInt(document.quantity.milli))} ${unitFromCode(document.quantity.unit)}, ${document.issuedOn}, ${document.issuer.name.zh}`;
  const signer =
    check.signer === null
      ? "no signer"
      : check.issuer === "not_checked"
        ? `signed by ${check.signer} (not checked against the ledger)`
        : check.issuer === "registered"
          ? `signed by ${check.signer}, registered on the ledger`
          : `signed by ${check.signer}`;
  lines.push(`${indent}${check.ok ? "VERIFIED" : "NOT VERIFIED"} ${check.id}${what}; ${signer}`);
  for (const problem of check.problems) {
    lines.push(`${indent}  - ${CERTIFICATE_PROBLEM_TEXT[problem].en} / ${CERTIFICATE_PROBLEM_TEXT[problem].zh}`);
  }
  for (const batchId of check.recalledBatches) {
    lines.push(`${indent}  - batch ${batchId} is recalled on the ledger / 所涉批次已召回`);
  }
  for (const parent of check.parents) describe(parent, depth + 1, lines);
}

export async function verifyCertificateCommand(values: Options): Promise<Verdict> {
  const { origin, id } = parseCertificateUrl(required(values, "url"));
  const issuer = values.issuer;
  if (issuer !== undefined && !isAddress(issuer)) throw new UsageError("--issuer is an address (0x…)");
  if (issuer !== undefined && values.rpc !== undefined)
    throw new UsageError("--issuer verifies offline: give no --rpc");
  const issuers: IssuerCheck =
    issuer === undefined
      ? {
          mode: "ledger",
          rpc: createRpcClient(values.rpc ?? `${origin}/rpc`),
          ...(values.registry === undefined ? {} : { registry: values.registry }),
        }
      : { mode: "offline", issuers: [issuer] };
  const check = await verifyCertificate(id, { load: loadFromOrigin(origin), issuers });
  const lines: string[] = [];
  describe(check, 0, lines);
  const recalled = recalledInLineage(check);
  if (check.ok && recalled.length > 0) {
    lines.push(
      `RECALLED: ${String(recalled.length)} batch(es) this certificate covers recalled since; do not eat / 所涉批次已召回，请勿食用`,
    );
  }
  console.log(lines.join("\n"));
  if (!check.ok) return false;
  return recalled.length > 0 ? "recalled" : true;
}
