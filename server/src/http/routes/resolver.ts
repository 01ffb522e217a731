/**
 * The GS1 Digital Link resolver and what hangs off it: the scan page, the hidden-code
 * claim, and a read-only JSON-RPC proxy so a page can read the chain through us (or any
 * other endpoint the operator configures).
 *
 * Resolver behaviour (GS1 Digital Link 1.x / GS1-Conformant Resolver Standard):
 * GET, HEAD and OPTIONS with CORS; 400 for a syntax error; key qualifiers in the path in
 * the standard order, data attributes in the query; `linkType=all` answers an RFC 9264
 * linkset; a browser gets the consumer page (the default link, `gs1:pip`), a client that
 * asks for JSON gets the item's verifiable resolution.
 */
import express, { Router, type Request, type Response } from "express";
import { z } from "zod";

import { isDomainError } from "../../domain/errors.ts";
import { parseDigitalLink, type ParsedDigitalLink } from "../../domain/gs1.ts";
import { claimHiddenCode } from "../../services/claims.ts";
import type { ServiceContext } from "../../services/context.ts";
import { resolveItem } from "../../services/resolve.ts";
import { getProduct } from "../../storage/catalogue.ts";
import { ProblemError, problemBody } from "../problem.ts";
import { sendScanPage } from "./web-assets.ts";

function setCors(res: Response): void {
  res.setHeader("Access-Control-Allow-Origin", "*");
  res.setHeader("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
  res.setHeader("Access-Control-Allow-Headers", "Accept, Accept-Language, Content-Type");
  res.setHeader("Access-Control-Expose-Headers", "Link, Content-Type");
  res.setHeader("Vary", "Accept");
}

function linkset(ctx: ServiceContext, link: ParsedDigitalLink, uri: string): unknown {
  const pip = { href: uri, title: "商品溯源信息 / Product traceability", type: "text/html", hreflang: ["zh", "en"] };
  return {
    linkset: [
      {
        anchor: uri,
        "https://gs1.org/voc/defaultLink": [pip],
        "https://gs1.org/voc/pip": [pip],
        "https://gs1.org/voc/traceability": [
          { href: uri, title: "Verifiable traceability record (JSON)", type: "application/json" },
        ],
        ...(link.serial === undefined
          ? {}
          : {
              "https://gs1.org/voc/verificationService": [
                {
                  href: `${ctx.publicOrigin}/api/v1/claims/${link.gtin}/${link.lot ?? ""}/${link.serial}`,
                  title: "Hidden code check",
                },
              ],
            }),
      },
    ],
  };
}

function clientOf(req: Request): { ip: string; userAgent: string } {
  return { ip: req.ip ?? "", userAgent: (req.get("user-agent") ?? "").slice(0, 300) };
}

const claimBody = z.object({ code: z.string().max(32) }).strict();

export function resolverRouter(ctx: ServiceContext, options: { chainRpcUrl: string }): Router {
  const router = Router();

  router.use(async (req, res, next) => {
    if (!req.path.startsWith("/01/")) {
      next();
      return;
    }
    setCors(res);
    if (req.method === "OPTIONS") {
      res.setHeader("Allow", "GET, HEAD, OPTIONS");
      res.status(204).end();
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("Allow", "GET, HEAD, OPTIONS");
      throw new ProblemError("method.not_allowed");
    }
    const wantsHtml = req.accepts(["text/html", "application/json", "application/linkset+json"]) === "text/html";
    let link: ParsedDigitalLink;
    try {
      link = parseDigitalLink(req.originalUrl);
    } catch (error) {
      if (!isDomainError(error)) throw error;
      if (!wantsHtml) throw ProblemError.fromDomain(error);
      sendScanPage(req, res, 400, {
        ...problemBody(ProblemError.fromDomain(error), req.originalUrl),
        type: "oioc.link-error",
      });
      return;
    }
    const self = `${ctx.publicOrigin}${req.path}`;
    res.setHeader("Link", `<${self}?linkType=all>; rel="linkset"; type="application/linkset+json"`);
    if (
      link.linkType === "all" ||
      req.accepts(["application/linkset+json", "text/html", "application/json"]) === "application/linkset+json"
    ) {
      res.type("application/linkset+json").json(linkset(ctx, link, self));
      return;
    }
    if (link.serial === undefined) {
      // A product or lot: no item to verify; the product's public description.
      const product = await getProduct(ctx.db, link.gtin);
      if (product === null) throw new ProblemError("product.not_found");
      res.json({
        type: "oioc.product",
        gtin: product.gtin,
        name: { zh: product.nameZh, en: product.nameEn },
        lot: link.lot ?? null,
      });
      return;
    }
    const resolved = await resolveItem(
      ctx,
      { gtin: link.gtin, lot: link.lot, serial: link.serial },
      { scan: wantsHtml && req.method === "GET" ? clientOf(req) : null },
    );
    const status = resolved.known ? 200 : 404;
    const body = resolved.known ? resolved.resolution : resolved.unknown;
    if (wantsHtml) sendScanPage(req, res, status, body);
    else res.status(status).setHeader("Cache-Control", "no-store").json(body);
  });

  router.post("/api/v1/claims/:gtin/:lot/:serial", express.json({ limit: 1_024 }), async (req, res) => {
    const { code } = claimBody.parse(req.body);
    const result = await claimHiddenCode(
      ctx,
      { gtin: req.params.gtin, lot: req.params.lot, serial: req.params.serial },
      code,
      clientOf(req),
    );
    res.json(result);
  });

  router.post("/rpc", express.json({ limit: 16_384 }), async (req, res) => {
    res.setHeader("Access-Control-Allow-Origin", "*");
    const calls: unknown[] = Array.isArray(req.body) ? (req.body as unknown[]) : [req.body];
    if (calls.length === 0 || calls.length > 20) throw new ProblemError("request.invalid", { detail: "1 to 20 calls" });
    const refusals = calls.map((call) => refusal(call, ctx.domain.verifyingContract));
    if (refusals.some((r) => r !== null)) {
      const answers = calls.map((call, i) => ({
        jsonrpc: "2.0",
        id: (call as { id?: unknown } | null)?.id ?? null,
        error: { code: -32601, message: refusals[i] ?? "refused: another call in the batch was refused" },
      }));
      res.json(Array.isArray(req.body) ? answers : answers[0]);
      return;
    }
    const upstream = await fetch(options.chainRpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(req.body),
      signal: AbortSignal.timeout(10_000),
    }).catch(() => null);
    if (upstream === null || !upstream.ok) throw new ProblemError("chain.unavailable");
    res.type("application/json").send(await upstream.text());
  });

  router.options("/rpc", (_req, res) => {
    res.setHeader("Access-Control-Allow-Origin", "*");
    res.setHeader("Access-Control-Allow-Methods", "POST, OPTIONS");
    res.setHeader("Access-Control-Allow-Headers", "Content-Type");
    res.status(204).end();
  });

  return router;
}

const rpcCall = z.object({
  jsonrpc: z.literal("2.0"),
  id: z.union([z.string().max(64), z.number()]).nullable(),
  method: z.string().max(64),
  params: z.array(z.unknown()).max(4).default([]),
});

/** Why a JSON-RPC call is not let through (null when it is): reads only, and only of our registry. */
function refusal(call: unknown, registry: string): string | null {
  const parsed = rpcCall.safeParse(call);
  if (!parsed.success) return "not a JSON-RPC 2.0 call";
  const { method, params } = parsed.data;
  switch (method) {
    case "eth_chainId":
    case "net_version":
    case "eth_blockNumber":
      return null;
    case "eth_call": {
      const target = (params[0] as { to?: unknown } | undefined)?.to;
      return typeof target === "string" && target.toLowerCase() === registry.toLowerCase()
        ? null
        : "eth_call is allowed on the registry only";
    }
    case "eth_getLogs": {
      const filter = params[0] as { address?: unknown; blockHash?: unknown } | undefined;
      return typeof filter?.address === "string" && filter.address.toLowerCase() === registry.toLowerCase()
        ? null
        : "eth_getLogs is allowed on the registry only";
    }
    default:
      return `method ${method} is not offered by this read-only proxy`;
  }
}
