/**
 * docs/error-codes.md, generated from the two catalogues the server answers with (HTTP
 * problems in http/problem.ts, domain refusals in domain/errors.ts) plus, for each family
 * of codes, what a caller should do. `npm run cli -- error-codes` rewrites the file; a
 * test fails when the committed file and the catalogues disagree.
 */
import { DOMAIN_ERRORS } from "../../server/src/domain/errors.ts";
import { PROBLEMS } from "../../server/src/http/problem.ts";
import { LABEL_ERRORS } from "../../server/src/labels/errors.ts";

/** What to do, by code family (the part before the dot), or by the whole code where it differs. */
const REMEDIES: Record<string, string> = {
  request: "Fix the request as the detail says (field paths are given); resend.",
  "request.rate_limited": "Wait and retry; the `RateLimit` header says when.",
  "request.too_large": "Send a smaller body; upload media through `POST /api/v1/media`, which streams.",
  "request.timeout":
    "Send the whole body within `BODY_TIMEOUT_SECONDS` of the headers (only media uploads may take longer); resend.",
  auth: "Send `Authorization: Bearer <token>` with a valid, unrevoked token of a role allowed here.",
  resource: "Check the URL.",
  method: "Use a method the `Allow` header lists.",
  idempotency: "Use a new `Idempotency-Key` for a different request; reuse a key only to retry the same one.",
  "idempotency.in_progress":
    "Send the same request with the same key again after the seconds `Retry-After` gives; a key whose server died is taken over once its lease lapses.",
  "idempotency.answer_lost":
    "The write was stored: look the record up (the problem's `written` names it); do not send it again under a new key.",
  ipfs: "Check the CID; a 503 means the content store is down: retry later.",
  chain: "The ledger node is down or unreachable from the server; nothing was stored: retry later.",
  "chain.busy": "Retry after the seconds the `Retry-After` header gives; the proxy serves a few reads at a time.",
  organisation: "Check the organisation id and its status; suspended organisations may not write until reinstated.",
  "organisation.exists": "The credit code or signing address is registered already: look the organisation up instead.",
  credential: "Check the credential id.",
  product: "Register the product (`POST /api/v1/products`) first, with the unit its batches use.",
  "product.net_content_unit":
    'Give the net content per item as a mass, e.g. `{ "value": "250", "unit": "g" }`, or leave it out.',
  plot: "Register the plot under your organisation first.",
  certification: "Register the certification under your organisation first.",
  media: "Upload the file first (`POST /api/v1/media`) and use the CID it returns.",
  batch:
    "Check the batch id; a GTIN and lot can be registered once, and a recalled batch takes no new events. A lot larger than the item limit is registered as several lots.",
  draft: "Prepare the write again; signature requests expire with their deadline.",
  signature:
    "Sign exactly the typed data of the signature request with the organisation's registered key (or, for a contract wallet, so that its `isValidSignature` accepts it).",
  event: "Give the data the business step requires and a time that is possible for the batch.",
  item: "Check the GTIN, lot and serial printed on the label.",
  claim: "Check the code under the scratch-off; after too many wrong codes, wait an hour.",
  storage: "The operator must free disk space; nothing was stored, so the request can be retried later.",
  internal: "Retry later; the operator sees the details in the server log under the request id.",
  gs1: "Correct the GS1 key: GTIN check digit, and lot/serial of 1–20 characters from GS1's 82-character set.",
  digital_link: "Use the form /01/{GTIN}/10/{lot}/21/{serial}, qualifiers in that order, data attributes in the query.",
  merkle: "A batch needs at least one item and unique serials.",
  hash_chain: "Give 32-byte hex digests.",
  serial: "Serials and hidden codes are printed on the label; type them as printed.",
  uscc: "Type the 18-character unified social credit code exactly as on the business licence.",
  region: "Use a six-digit GB/T 2260 administrative division code.",
  units: "Give a positive decimal quantity with at most three decimals, in a unit the product uses.",
  cold_chain: "Give readings with valid times and temperatures in °C.",
  labels:
    "Choose fewer labels per page or a shorter lot; a missing font is for the operator to install (fonts-wqy-microhei).",
};

function remedy(code: string): string {
  return REMEDIES[code] ?? REMEDIES[code.split(".")[0] ?? ""] ?? "";
}

export function renderErrorCatalogue(): string {
  const lines = [
    "# Error codes",
    "",
    "Every refusal of the HTTP API is an RFC 9457 `application/problem+json` body with a stable `code`,",
    "the HTTP `status`, and `message.zh` / `message.en`. Codes are never renamed or reused.",
    "This file is generated from `server/src/http/problem.ts` and `server/src/domain/errors.ts`",
    "(`npm run cli -- error-codes`); a test keeps it in step.",
    "",
    "| code | status | English | 中文 | what to do |",
    "| --- | ---: | --- | --- | --- |",
  ];
  const rows: [string, number, string, string][] = [
    ...Object.entries(PROBLEMS).map(([code, p]): [string, number, string, string] => [code, p.status, p.en, p.zh]),
    ...Object.entries(DOMAIN_ERRORS).map(([code, m]): [string, number, string, string] => [code, 400, m.en, m.zh]),
    ...Object.entries(LABEL_ERRORS).map(([code, m]): [string, number, string, string] => [
      code,
      code === "labels.font_missing" ? 503 : 400,
      m.en,
      m.zh,
    ]),
  ];
  for (const [code, status, en, zh] of rows.sort((a, b) => a[0].localeCompare(b[0]))) {
    lines.push(`| \`${code}\` | ${status} | ${en.replaceAll("|", "\\|")} | ${zh} | ${remedy(code)} |`);
  }
  return `${lines.join("\n")}\n`;
}
