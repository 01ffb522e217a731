/** Health, the OpenAPI document and the problem catalogue. */
import { Router } from "express";

import type { ServiceContext } from "../../services/context.ts";
import { checkHealth } from "../../services/health.ts";
import { openApiDocument } from "../openapi.ts";
import { ERRORS } from "../../errors/registry.ts";
import { PROBLEM_CODES } from "../problem.ts";
import { AppError } from "../../errors/app-error.ts";

export function systemRouter(ctx: ServiceContext): Router {
  const router = Router();
  router.get("/healthz", async (_req, res) => {
    await checkHealth(ctx);
    res.json({ status: "ok" });
  });
  // Built from the zod schemas on first use and kept: the conversion took milliseconds a
  // request (23 s of the hostile-input run's 10,000), and the document cannot change while the server runs.
  let openApi: string | undefined;
  router.get("/api/v1/openapi.json", (_req, res) => {
    openApi ??= JSON.stringify(openApiDocument(ctx.publicOrigin));
    res.type("json").send(openApi);
  });
  router.get("/problems/:code", (req, res) => {
    const code = req.params.code;
    const known = PROBLEM_CODES.find((candidate) => candidate === code);
    if (known === undefined) throw new AppError("resource.not_found");
    res.json({ code: known, ...ERRORS[known] });
  });
  return router;
}
