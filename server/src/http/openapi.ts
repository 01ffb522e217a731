/**
 * The OpenAPI 3.1 document, generated from the same zod schemas the routes parse with
 * (`z.toJSONSchema`), so the document cannot drift from what the server accepts.
 */
import { z } from "zod";

import { batchRequest } from "../services/batch-registration.ts";
import { certificationRequest, plotRequest, productRequest } from "../services/catalogue.ts";
import { batchCertificateRequest, mixedCertificateRequest } from "../services/certificates.ts";
import { containerEventRequest, packRequest, ssccAllocationRequest } from "../services/containers.ts";
import { eventRequest, recallRequest } from "../services/events.ts";
import { uploadSessionRequest } from "../services/upload-sessions.ts";
import { inspectionRequestBody } from "../services/inspection-requests.ts";
import { credentialRequest, onboardingRequest } from "../services/organisations.ts";
import { despatchRequest, orderRequest, scanRequest } from "../services/orders.ts";
import { companyPrefixRequest, grantRequest, gtinBindingRequest } from "../services/entitlement.ts";
import { reasonRequest } from "../services/regulator.ts";
import { signatureSubmission } from "../services/sign-and-submit.ts";
import { applicationRequest, refusalRequest } from "../services/applications.ts";
import { memberRequest } from "../services/members.ts";
import { signInRequest } from "../services/sign-in.ts";
import { PROBLEM_CODES } from "./problem.ts";

const claimRequest = z.object({ code: z.string().max(32) }).strict();

interface Operation {
  method: "get" | "post" | "patch" | "delete";
  path: string;
  summary: string;
  roles: string;
  body?: z.ZodType;
  rawBody?: string;
  /** A JSON body defined by someone else's schema (GS1's EPCIS 2.0), by its URI, in these media types. */
  externalBody?: { schema: string; mediaTypes: readonly string[] };
  /** Query parameters, by name. */
  query?: readonly string[];
  success: number;
}

const OPERATIONS: Operation[] = [
  {
    method: "post",
    path: "/api/v1/organisations",
    summary: "Onboard an organisation",
    roles: "admin",
    body: onboardingRequest,
    success: 201,
  },
  {
    method: "get",
    path: "/api/v1/me",
    summary: "The caller's organisation, roles, plots and certifications",
    roles: "any credential",
    success: 200,
  },
  {
    method: "get",
    path: "/api/v1/organisations",
    summary: "List organisations",
    roles: "admin, regulator",
    success: 200,
  },
  {
    method: "get",
    path: "/api/v1/organisations/{id}",
    summary: "One organisation with plots and certifications",
    roles: "admin, regulator, itself",
    success: 200,
  },
  {
    method: "post",
    path: "/api/v1/organisations/{id}/credentials",
    summary: "Issue an API credential",
    roles: "admin",
    body: credentialRequest,
    success: 201,
  },
  {
    method: "delete",
    path: "/api/v1/organisations/{id}/credentials/{credentialId}",
    summary: "Revoke a credential",
    roles: "admin",
    success: 204,
  },
  {
    method: "post",
    path: "/api/v1/applications/licence",
    summary:
      "Upload the business licence photo for an application (JPEG, PNG or WebP by content, at most 4 MB); its CID. Public, limited per address (docs/joining.md)",
    roles: "anyone",
    rawBody: "image/jpeg",
    success: 201,
  },
  {
    method: "post",
    path: "/api/v1/applications",
    summary:
      "Apply to join, free of charge: kind, name, credit code, region, contact (never public), licence CID; an id and a status secret (shown once). One pending application per credit code",
    roles: "anyone",
    body: applicationRequest,
    success: 201,
  },
  {
    method: "get",
    path: "/api/v1/applications/{id}",
    summary:
      "An application's status and refusal reason: with `?secret=` for the applicant; the whole application (contact, licence) for its region's regulator and the admin",
    roles: "anyone with the secret; admin, regulator",
    query: ["secret"],
    success: 200,
  },
  {
    method: "get",
    path: "/api/v1/applications",
    summary: "Applications to review: a regulator's own region's, every region's for the admin",
    roles: "admin, regulator",
    query: ["status"],
    success: 200,
  },
  {
    method: "post",
    path: "/api/v1/applications/{id}/approve",
    summary:
      "Approve: the organisation is onboarded (ledger registration through the outbox, a platform company prefix for a cooperative when configured), its chair created with a one-time sign-in link and its QR code (SVG). Outside the regulator's region: 404",
    roles: "admin, regulator",
    success: 201,
  },
  {
    method: "post",
    path: "/api/v1/applications/{id}/refuse",
    summary: "Refuse with a reason {zh, en?} the applicant reads on the status page",
    roles: "admin, regulator",
    body: refusalRequest,
    success: 200,
  },
  {
    method: "post",
    path: "/api/v1/sign-in",
    summary:
      "Exchange a sign-in link's one-time token (the `#t=` of `/signin#t=…`) for a 90-day device session token; a link works once, within 72 hours",
    roles: "anyone",
    body: signInRequest,
    success: 201,
  },
  {
    method: "delete",
    path: "/api/v1/me/session",
    summary: "Sign this device out (a person's session only)",
    roles: "a person's session",
    success: 204,
  },
  {
    method: "get",
    path: "/api/v1/organisations/{id}/members",
    summary: "The organisation's people with their capabilities, signed-in devices and open links",
    roles: "admin, the organisation (a person needs `members`)",
    success: 200,
  },
  {
    method: "post",
    path: "/api/v1/organisations/{id}/members",
    summary: "Add a person with capabilities from `batches`, `events`, `members`",
    roles: "admin, the organisation (a person needs `members`)",
    body: memberRequest,
    success: 201,
  },
  {
    method: "delete",
    path: "/api/v1/organisations/{id}/members/{memberId}",
    summary: "Remove a person (not the chair): the person's sessions and open links end at once",
    roles: "admin, the organisation (a person needs `members`)",
    success: 204,
  },
  {
    method: "post",
    path: "/api/v1/organisations/{id}/members/{memberId}/sign-in-links",
    summary:
      "A new one-time sign-in link for a person, with its QR code (SVG), or as an A6 PDF with `Accept: application/pdf`; only the chair acts on the chair's",
    roles: "admin, the organisation (a person needs `members`)",
    success: 201,
  },
  {
    method: "delete",
    path: "/api/v1/organisations/{id}/members/{memberId}/sessions/{credentialId}",
    summary: "Sign one of a person's devices out, at once",
    roles: "admin, the organisation (a person needs `members`)",
    success: 204,
  },
  {
    method: "post",
    path: "/api/v1/organisations/{id}/plots",
    summary: "Register a plot",
    roles: "admin, the cooperative",
    body: plotRequest,
    success: 201,
  },
  {
    method: "post",
    path: "/api/v1/organisations/{id}/certifications",
    summary: "Register a certification",
    roles: "admin, the cooperative",
    body: certificationRequest,
    success: 201,
  },
  {
    method: "post",
    path: "/api/v1/products",
    summary: "Register a product (GTIN)",
    roles: "admin, cooperative",
    body: productRequest,
    success: 201,
  },
  { method: "get", path: "/api/v1/products/{gtin}", summary: "One product", roles: "anyone", success: 200 },
  {
    method: "post",
    path: "/api/v1/organisations/{id}/company-prefixes",
    summary: "Bind a GS1 company prefix to an organisation, or allocate one from the platform's prefix",
    roles: "admin",
    body: companyPrefixRequest,
    success: 202,
  },
  {
    method: "delete",
    path: "/api/v1/organisations/{id}/company-prefixes/{prefix}",
    summary: "Release a company prefix (a lapsed GS1 licence)",
    roles: "admin",
    success: 202,
  },
  {
    method: "post",
    path: "/api/v1/organisations/{id}/gtins",
    summary: "Bind one GTIN to an organisation",
    roles: "admin",
    body: gtinBindingRequest,
    success: 202,
  },
  {
    method: "delete",
    path: "/api/v1/organisations/{id}/gtins/{gtin}",
    summary: "Release a GTIN bound on its own",
    roles: "admin",
    success: 202,
  },
  {
    method: "get",
    path: "/api/v1/organisations/{id}/entitlements",
    summary: "The company prefixes and GTINs bound to an organisation",
    roles: "admin, regulator, itself",
    success: 200,
  },
  {
    method: "post",
    path: "/api/v1/products/{gtin}/grants",
    summary: "Grant the GTIN to another organisation (signed by the GTIN's owner; own wallets get a signature request)",
    roles: "the GTIN's owner",
    body: grantRequest,
    success: 202,
  },
  {
    method: "delete",
    path: "/api/v1/products/{gtin}/grants/{orgId}",
    summary: "Withdraw a grant (signed by the GTIN's owner)",
    roles: "the GTIN's owner",
    success: 202,
  },
  {
    method: "get",
    path: "/api/v1/products/{gtin}/entitlement",
    summary: "Who may use the GTIN: its owner (by its own binding or company prefix) and grantees",
    roles: "anyone",
    success: 200,
  },
  {
    method: "post",
    path: "/api/v1/media",
    summary: "Upload a file (streamed into IPFS); body is the file, Content-Type its type",
    roles: "cooperative, actor",
    rawBody: "application/octet-stream",
    success: 201,
  },
  {
    method: "post",
    path: "/api/v1/media/uploads",
    summary: "Open a resumable upload session (24 h) for a file of the given type and size; see docs/media-uploads.md",
    roles: "cooperative, actor",
    body: uploadSessionRequest,
    success: 201,
  },
  {
    method: "get",
    path: "/api/v1/media/uploads/{uploadId}",
    summary: "An upload session of yours: the offset the next piece starts at (also as Upload-Offset; HEAD works)",
    roles: "cooperative, actor (own)",
    success: 200,
  },
  {
    method: "patch",
    path: "/api/v1/media/uploads/{uploadId}",
    summary: "Send the next piece at Upload-Offset; the last piece stores the file (201, with its media)",
    roles: "cooperative, actor (own)",
    rawBody: "application/offset+octet-stream",
    success: 200,
  },
  {
    method: "post",
    path: "/api/v1/batches",
    summary: "Register a harvest batch; answers 202 with its status URL",
    roles: "cooperative",
    body: batchRequest,
    success: 202,
  },
  {
    method: "get",
    path: "/api/v1/batches",
    summary: "List batches",
    roles: "admin, regulator, cooperative (own)",
    success: 200,
  },
  {
    method: "get",
    path: "/api/v1/batches/{batchId}",
    summary: "A batch and where it stands on the ledger",
    roles: "anyone",
    success: 200,
  },
  {
    method: "get",
    path: "/api/v1/batches/{batchId}/events",
    summary: "A batch's events",
    roles: "anyone",
    success: 200,
  },
  {
    method: "post",
    path: "/api/v1/batches/{batchId}/events",
    summary: "Record a critical tracking event (a shipping names its `receiver`; only those with custody may record)",
    roles: "cooperative, actor",
    body: eventRequest,
    success: 202,
  },
  {
    method: "post",
    path: "/api/v1/containers",
    summary:
      "Pack items (Digital Links, {gtin, lot, serial}, serial ranges or lists of one batch; at most 10,000) and/or cases (by SSCC) into a case or pallet named by its SSCC; `shipTo` ships it in the same signed request (a despatch). Checked as the registry will (custody of every batch, items in no other live case, cases held and not in transit); an organisation holding its own key is answered 201 with a signature request, as for events (docs/aggregation.md, Keys)",
    roles: "cooperative, actor",
    body: packRequest,
    success: 202,
  },
  {
    method: "post",
    path: "/api/v1/containers/sscc",
    summary: "Allocate the next SSCCs under your company prefix (else the platform's), with their check digits",
    roles: "cooperative, actor",
    body: ssccAllocationRequest,
    success: 201,
  },
  {
    method: "post",
    path: "/api/v1/containers/{sscc}/events",
    summary:
      "Ship (naming `receiver`), receive (the named receiver only) or unpack (the custodian, not in transit) a case or pallet; an organisation holding its own key is answered 201 with a signature request",
    roles: "cooperative, actor",
    body: containerEventRequest,
    success: 202,
  },
  {
    method: "get",
    path: "/api/v1/containers/{sscc}",
    summary: "A case or pallet: its state, what it holds, and each signed step with its ledger state and state hash",
    roles: "anyone",
    success: 200,
  },
  {
    method: "post",
    path: "/api/v1/batches/{batchId}/certificates",
    summary:
      "Issue a 合格证 for part of a batch (its cooperative or current custodian; at most the registered quantity less earlier certificates); 201 with the signed certificate, or, for an organisation holding its own key, 201 with a signature request whose submission stores it (docs/certificate.md)",
    roles: "cooperative, actor",
    body: batchCertificateRequest,
    success: 201,
  },
  {
    method: "get",
    path: "/api/v1/batches/{batchId}/certificates",
    summary: "The certificates covering a batch, directly or through parents",
    roles: "anyone",
    success: 200,
  },
  {
    method: "post",
    path: "/api/v1/certificates",
    summary:
      "Issue a mixed or repacked lot's 合格证 naming its `parents` (certificates of batches you hold; at most their sum); an organisation holding its own key is answered 201 with a signature request",
    roles: "cooperative, actor",
    body: mixedCertificateRequest,
    success: 201,
  },
  {
    method: "get",
    path: "/api/v1/certificates/{id}",
    summary: "A certificate: the signed EIP-712 value, signature, document text, issuer and parents",
    roles: "anyone",
    success: 200,
  },
  {
    method: "get",
    path: "/api/v1/certificates/{id}.pdf",
    summary: "A certificate printed on A6 as the rules lay it out, with the QR code of its page",
    roles: "anyone",
    success: 200,
  },
  {
    method: "post",
    path: "/api/v1/orders",
    summary:
      "Take an order (seller: cooperative, processor, retailer) of lines of GTIN, lot and quantity in items; the buyer only as a salted hash of your reference; refused as `lot.sold_out` when a lot has fewer units left (docs/orders.md)",
    roles: "cooperative, actor",
    body: orderRequest,
    success: 201,
  },
  {
    method: "get",
    path: "/api/v1/orders",
    summary: "Your own orders, newest first, each line with what was packed and what is still to pack",
    roles: "cooperative, actor",
    query: ["limit", "offset"],
    success: 200,
  },
  {
    method: "get",
    path: "/api/v1/orders/{id}",
    summary: "One of your orders with its packed items (another organisation's is 404)",
    roles: "cooperative, actor",
    success: 200,
  },
  {
    method: "post",
    path: "/api/v1/orders/{id}/items",
    summary:
      "Scan items (Digital Link URIs) or a case (SSCC) into the order, all or nothing: refused when not of its lines, over a line, in another order or of a recalled lot",
    roles: "cooperative, actor",
    body: scanRequest,
    success: 200,
  },
  {
    method: "post",
    path: "/api/v1/orders/{id}/despatch",
    summary:
      "Despatch a fully packed order: its items and cases packed into the case `sscc` and shipped to `shipTo` in one signed packing whose EPCIS document names the order (`po`) and the despatch (`desadv`)",
    roles: "cooperative, actor",
    body: despatchRequest,
    success: 200,
  },
  {
    method: "post",
    path: "/api/v1/orders/{id}/cancel",
    summary: "Cancel an order before its despatch: its units go back to the lots' balance and its items are released",
    roles: "cooperative, actor",
    success: 200,
  },
  {
    method: "post",
    path: "/epcis/capture",
    summary:
      "EPCIS 2.0 capture (GS1 REST bindings): an EPCISDocument, validated against GS1's schema; each ObjectEvent recorded as your signed event, all or nothing per document (docs/epcis.md); 202 with `Location` of the capture job",
    roles: "cooperative, actor",
    externalBody: {
      schema: "https://gs1.github.io/EPCIS/EPCIS-JSON-Schema.json",
      mediaTypes: ["application/ld+json", "application/json"],
    },
    success: 202,
  },
  {
    method: "get",
    path: "/epcis/capture/{captureId}",
    summary:
      "An EPCIS capture job: running or finished, success, and each event's outcome (our event id, or the refusal's code)",
    roles: "the organisation that captured (admin: any)",
    success: 200,
  },
  {
    method: "get",
    path: "/epcis/events",
    summary:
      'EPCIS 2.0 event query: an EPCISQueryDocument of stored events, paged by `Link: <…>; rel="next"` (docs/epcis.md)',
    roles: "anyone",
    query: [
      "eventType",
      "GE_eventTime",
      "LT_eventTime",
      "GE_recordTime",
      "LT_recordTime",
      "EQ_bizStep",
      "EQ_disposition",
      "MATCH_epc",
      "MATCH_anyEPC",
      "MATCH_epcClass",
      "EQ_bizLocation",
      "perPage",
      "nextPageToken",
    ],
    success: 200,
  },
  {
    method: "get",
    path: "/api/v1/batches/{batchId}/inspection-requests",
    summary: "The inspectors asked to inspect or certify a batch",
    roles: "anyone",
    success: 200,
  },
  {
    method: "post",
    path: "/api/v1/batches/{batchId}/inspection-requests",
    summary: "Ask an inspector to inspect or certify a batch (its cooperative, signed; or a regulator in its region)",
    roles: "cooperative, regulator",
    body: inspectionRequestBody,
    success: 202,
  },
  {
    method: "post",
    path: "/api/v1/batches/{batchId}/recall",
    summary: "Recall one's own batch (signed)",
    roles: "cooperative",
    body: recallRequest,
    success: 202,
  },
  {
    method: "get",
    path: "/api/v1/batches/{batchId}/items",
    summary: "A batch's serials and Digital Link URIs (paged)",
    roles: "admin, regulator, the batch's cooperative",
    success: 200,
  },
  {
    method: "get",
    path: "/api/v1/signature-requests/{id}",
    summary: "Typed data an organisation with its own key must sign",
    roles: "the organisation",
    success: 200,
  },
  {
    method: "post",
    path: "/api/v1/signature-requests/{id}",
    summary:
      "Submit the wallet's EIP-712 signature; the write is then accepted (a 合格证 is stored and answered 201 as when issued)",
    roles: "the organisation",
    body: signatureSubmission,
    success: 202,
  },
  {
    method: "post",
    path: "/api/v1/organisations/{id}/suspend",
    summary: "Suspend an organisation (in force at once, anchored on chain)",
    roles: "regulator (its region), admin (every region)",
    body: reasonRequest,
    success: 202,
  },
  {
    method: "post",
    path: "/api/v1/organisations/{id}/reinstate",
    summary: "Reinstate a suspended organisation",
    roles: "regulator (its region), admin (every region)",
    body: reasonRequest,
    success: 202,
  },
  {
    method: "post",
    path: "/api/v1/batches/{batchId}/regulator-recall",
    summary: "Recall any batch as a regulator",
    roles: "regulator",
    body: reasonRequest,
    success: 202,
  },
  {
    method: "get",
    path: "/01/{gtin}/10/{lot}/21/{serial}",
    summary:
      "GS1 Digital Link resolver: the scan page (text/html), the verifiable resolution (application/json), or a linkset (linkType=all)",
    roles: "anyone",
    success: 200,
  },
  {
    method: "get",
    path: "/01/{gtin}/10/{lot}",
    summary:
      "The live-stream lot card: the page (text/html; ?embed=1 the compact card other sites may frame), the product with its card (application/json), or the overlay PNG (?format=png&size=360..2048)",
    roles: "anyone",
    success: 200,
  },
  {
    method: "get",
    path: "/01/{gtin}/10/{lot}/card.png",
    summary: "The lot card as a square PNG for a stream overlay (?size=360..2048, default 1080)",
    roles: "anyone",
    success: 200,
  },
  {
    method: "get",
    path: "/oembed",
    summary: "oEmbed 1.0 (format=json) for a lot card URL: a rich answer with an iframe of the compact card",
    roles: "anyone",
    success: 200,
  },
  {
    method: "post",
    path: "/api/v1/claims/{gtin}/{lot}/{serial}",
    summary: "Claim an item's hidden verification code (rate-limited)",
    roles: "anyone",
    body: claimRequest,
    success: 200,
  },
  {
    method: "post",
    path: "/rpc",
    summary:
      "Read-only JSON-RPC proxy: eth_chainId, net_version, eth_blockNumber, and eth_call / eth_getLogs / eth_getProof on the registry (validated and rebuilt, gas capped, batches of up to 20, a per-address budget of calls)",
    roles: "anyone",
    rawBody: "application/json",
    success: 200,
  },
  {
    method: "get",
    path: "/api/v1/audits/batches/{batchId}",
    summary:
      "Independent audit of a batch: chain, signatures, CIDs, item root, event chain, and the claims (format=json|html)",
    roles: "admin, regulator",
    success: 200,
  },
  {
    method: "get",
    path: "/api/v1/audits",
    summary: "Audit of every batch of a query (organisationId, region, gtin, from, to), with cross-batch mass balance",
    roles: "admin, regulator",
    success: 200,
  },
  {
    method: "get",
    path: "/api/v1/exports/epcis",
    summary: "EPCIS 2.0 JSON-LD of a batch or a query (batchId, organisationId, region, gtin, from, to)",
    roles: "admin, regulator, cooperative (own batches)",
    success: 200,
  },
  {
    method: "get",
    path: "/api/v1/exports/kde.csv",
    summary: "Key data elements, one row per critical tracking event, as CSV (same query)",
    roles: "admin, regulator, cooperative (own batches)",
    success: 200,
  },
  {
    method: "get",
    path: "/api/v1/exports/kde.xlsx",
    summary: "Key data elements as a sortable XLSX workbook (same query)",
    roles: "admin, regulator, cooperative (own batches)",
    success: 200,
  },
  {
    method: "get",
    path: "/api/v1/admin/organisations",
    summary: "Every organisation with its company prefixes in force and its number of people (the operator console)",
    roles: "admin",
    success: 200,
  },
  {
    method: "get",
    path: "/api/v1/admin/keys",
    summary:
      "The server's relayer, admin and regulator addresses with the registry roles each holds and its balance, and every organisation's signing address, custody and creation time; never private material",
    roles: "admin",
    success: 200,
  },
  {
    method: "get",
    path: "/api/v1/admin/relayer",
    summary:
      "The relayer's balance against RELAYER_BALANCE_WARN_WEI, its gas and fees of the last 24 hours, and how many batch registrations the balance covers at the recent fee",
    roles: "admin",
    success: 200,
  },
  {
    method: "get",
    path: "/api/v1/admin/outbox",
    summary:
      "Outbox entries by kind and state, the oldest pending entry's age, the last errors (code and message, URLs removed), and the indexer's block against the chain's head",
    roles: "admin",
    success: 200,
  },
  {
    method: "get",
    path: "/ipfs/{cid}",
    summary: "IPFS path gateway (Range, ETag, immutable caching)",
    roles: "anyone",
    success: 200,
  },
];

function problemSchema(): Record<string, unknown> {
  return {
    type: "object",
    required: ["type", "title", "status", "code", "message"],
    properties: {
      type: { type: "string" },
      title: { type: "string" },
      status: { type: "integer" },
      code: { type: "string", enum: [...PROBLEM_CODES] },
      message: { type: "object", properties: { en: { type: "string" }, zh: { type: "string" } } },
      detail: { type: "string" },
      instance: { type: "string" },
    },
  };
}

export function openApiDocument(serverUrl: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const parameters = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      schema: { type: "string" },
    }));
    if (op.method === "post") {
      parameters.push({ name: "Idempotency-Key", in: "header", required: false, schema: { type: "string" } });
    }
    for (const name of op.query ?? [])
      parameters.push({ name, in: "query", required: false, schema: { type: "string" } });
    const requestBody =
      op.body !== undefined
        ? {
            required: true,
            content: {
              "application/json": { schema: z.toJSONSchema(op.body, { io: "input", unrepresentable: "any" }) },
            },
          }
        : op.rawBody !== undefined
          ? { required: true, content: { [op.rawBody]: { schema: { type: "string", format: "binary" } } } }
          : op.externalBody !== undefined
            ? {
                required: true,
                content: Object.fromEntries(
                  op.externalBody.mediaTypes.map((type) => [type, { schema: { $ref: op.externalBody?.schema } }]),
                ),
              }
            : undefined;
    (paths[op.path] ??= {})[op.method] = {
      summary: op.summary,
      description: `Who may call it: ${op.roles}.`,
      parameters,
      ...(requestBody === undefined ? {} : { requestBody }),
      security: op.roles === "anyone" ? [] : [{ bearer: [] }],
      responses: {
        [String(op.success)]: { description: "Success" },
        default: {
          description: "An RFC 9457 problem",
          content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
        },
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "One item, one code (一物一码) API", version: "1" },
    servers: [{ url: serverUrl }],
    paths,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: { Problem: problemSchema() },
    },
  };
}
