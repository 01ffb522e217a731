/**
 * 合格证: issued by a batch's cooperative or custodian, or by a buyer from certificates it holds
 * (mixed and repacked lots); read by anyone as JSON, as an A6 PDF, and as a page that
 * verifies the certificate and its lineage in the browser (`/c/:id`).
 */
import { readFileSync } from "node:fs";
import path from "node:path";

import { Router, type Request, type Response } from "express";

import { certificateDocument } from "../../domain/certificate.ts";
import { AppError } from "../../errors/app-error.ts";
import { certificatePdf } from "../../labels/certificate-pdf.ts";
import {
  batchCertificateRequest,
  certificatePageUrl,
  certificatesOfBatch,
  issueBatchCertificate,
  issueMixedCertificate,
  mixedCertificateRequest,
  publicCertificateOf,
  publicView,
  storedCertificate,
  type CertificateIssue,
} from "../../services/certificates.ts";
import type { ServiceContext } from "../../services/context.ts";
import type { StoredCertificate } from "../../storage/certificates.ts";
import type { WrittenRef } from "../../storage/idempotency.ts";
import { formatQuantityMilli } from "../../domain/units.ts";
import { requireRole } from "../auth.ts";
import { idempotent, type WriteAnswer } from "../idempotency.ts";
import { originOf } from "./origin.ts";
import { recoverWrite } from "./recover-write.ts";
import { awaiting } from "./views.ts";

/** Where `npm run build:web` (scripts/tasks/build-certificate-page.ts) writes the page. */
export const CERTIFICATE_PAGE_DIR = path.resolve(import.meta.dirname, "../../../../scanner-web/dist/certificate");
const ASSET = /^[a-z0-9-]+\.(?:js|css)$/;
const ID = /^0x[0-9a-fA-F]{64}$/;
/** Certificate PDFs kept drawn (about 30 KB each). */
const DRAWN_PDFS_KEPT = 64;

/** A certificate request: the certificate stored, or (an issuer holding its own key) the signature request. */
async function issuedOrAwaiting(ctx: ServiceContext, res: Response, issue: CertificateIssue): Promise<WriteAnswer> {
  return "awaitingSignature" in issue ? awaiting(res, issue.awaitingSignature) : issued(ctx, res, issue);
}

/** A certificate request that committed but whose handler died: the certificate, or the signature request. */
export async function recoverCertificateWrite(
  ctx: ServiceContext,
  req: Request,
  res: Response,
  written: WrittenRef,
): Promise<WriteAnswer | null> {
  if (written.action === "certificate.issue") return issued(ctx, res, await storedCertificate(ctx, written.target));
  return recoverWrite(ctx, req, res, written);
}

function escapeAttribute(text: string): string {
  return text.replace(/[&"<>]/g, (char) => `&#${String(char.charCodeAt(0))};`);
}

/** The answer to a certificate stored, here and when a signature request completes one. */
export async function issued(ctx: ServiceContext, res: Response, stored: StoredCertificate): Promise<WriteAnswer> {
  const url = `/api/v1/certificates/${stored.id}`;
  res.setHeader("location", url);
  return {
    status: 201,
    body: {
      certificate: await publicView(ctx, stored),
      url,
      pdfUrl: `${url}.pdf`,
      pageUrl: certificatePageUrl(ctx, stored.id),
    },
  };
}

export function certificatesRouter(ctx: ServiceContext, options: { pageDir?: string } = {}): Router {
  const router = Router();
  const pageDir = options.pageDir ?? CERTIFICATE_PAGE_DIR;

  router.post("/api/v1/batches/:batchId/certificates", requireRole("cooperative", "actor"), async (req, res) => {
    await idempotent(
      ctx,
      req,
      res,
      async () =>
        issuedOrAwaiting(
          ctx,
          res,
          await issueBatchCertificate(
            ctx,
            originOf(req),
            String(req.params.batchId),
            batchCertificateRequest.parse(req.body),
          ),
        ),
      { recover: (written) => recoverCertificateWrite(ctx, req, res, written) },
    );
  });

  router.post("/api/v1/certificates", requireRole("cooperative", "actor"), async (req, res) => {
    await idempotent(
      ctx,
      req,
      res,
      async () =>
        issuedOrAwaiting(
          ctx,
          res,
          await issueMixedCertificate(ctx, originOf(req), mixedCertificateRequest.parse(req.body)),
        ),
      { recover: (written) => recoverCertificateWrite(ctx, req, res, written) },
    );
  });

  router.get("/api/v1/batches/:batchId/certificates", async (req, res) => {
    const certificates = await certificatesOfBatch(ctx, req.params.batchId);
    res.json({
      certificates: certificates.map((summary) => ({
        id: summary.id,
        issuerOrganisationId: summary.issuerOrganisationId,
        quantity: { value: formatQuantityMilli(summary.quantityMilli), unit: summary.unit },
        issuedOn: summary.issuedOn,
        mixed: summary.mixed,
        url: `/api/v1/certificates/${summary.id}`,
      })),
    });
  });

  // Before the JSON route: `:id` alone would also match `0x….pdf`.
  // A signed certificate never changes, so its PDF is drawn once: a shop prints many copies,
  // and drawing one costs milliseconds of the event loop. Bounded; a failed drawing is not kept.
  const drawn = new Map<string, Promise<Buffer>>();
  const pdfOf = (stored: StoredCertificate): Promise<Buffer> => {
    let pdf = drawn.get(stored.id);
    if (pdf === undefined) {
      pdf = certificatePdf({
        id: stored.id,
        document: certificateDocument.parse(JSON.parse(stored.documentText)),
        url: certificatePageUrl(ctx, stored.id),
      });
      const kept = pdf;
      kept.catch(() => {
        if (drawn.get(stored.id) === kept) drawn.delete(stored.id);
      });
      if (drawn.size >= DRAWN_PDFS_KEPT) {
        const oldest = drawn.keys().next();
        if (oldest.done !== true) drawn.delete(oldest.value);
      }
      drawn.set(stored.id, pdf);
    }
    return pdf;
  };

  router.get("/api/v1/certificates/:id.pdf", async (req, res) => {
    const stored = await storedCertificate(ctx, req.params.id);
    const pdf = await pdfOf(stored);
    res.setHeader("Content-Type", "application/pdf");
    res.setHeader("Cache-Control", "public, max-age=3600");
    res.attachment(`certificate-${stored.id.slice(0, 18)}.pdf`);
    res.end(pdf);
  });

  router.get("/api/v1/certificates/:id", async (req, res) => {
    const certificate = await publicCertificateOf(ctx, req.params.id);
    // A certificate never changes once signed (a 404 is not cached: the id may be issued later).
    res.setHeader("Cache-Control", "public, max-age=3600");
    res.json(certificate);
  });

  router.get("/c/assets/:name", (req, res, next) => {
    const name = req.params.name;
    if (!ASSET.test(name)) {
      next();
      return;
    }
    let content: Buffer;
    try {
      content = readFileSync(path.join(pageDir, name));
    } catch {
      next();
      return;
    }
    res.type(name.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8");
    res.setHeader("Cache-Control", "no-cache");
    res.send(content);
  });

  router.get("/c/:id", (req, res) => {
    if (!ID.test(req.params.id)) throw new AppError("certificate.not_found");
    let html: string;
    try {
      html = readFileSync(path.join(pageDir, "index.html"), "utf8");
    } catch (error) {
      throw new AppError(
        "resource.not_found",
        {},
        { detail: "The certificate page is not built (npm run build:web).", cause: error },
      );
    }
    res
      .type("html")
      .setHeader("Cache-Control", "no-cache")
      .send(html.replace("{{rpcUrl}}", escapeAttribute(ctx.publicRpcUrl)));
  });

  return router;
}
