/** Health, the OpenAPI document and the problem catalogue. */
import { Router } from "express";

import type { ServiceContext } from "../../services/context.ts";
import { checkHealth } from "../../services/health.ts";
import { openApiDocument } from "../openapi.ts";
import { PROBLEMS, ProblemError, type ProblemCode } from "../problem.ts";

export function systemRouter(ctx: ServiceContext): Router {
  const router = Router();
  router.get("/healthz", async (_req, res) => {
    await checkHealth(ctx);
    res.json({ status: "ok" });
  });
  router.get("/api/v1/openapi.json", (_req, res) => {
    res.json(openApiDocument(ctx.publicOrigin));
  });
  router.get("/problems/:code", (req, res) => {
    const code = req.params.code;
    if (!Object.hasOwn(PROBLEMS, code)) throw new ProblemError("resource.not_found");
    res.json({ code, ...PROBLEMS[code as ProblemCode] });
  });
  return router;
}
