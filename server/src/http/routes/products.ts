/** Products: registered by a cooperative (or the operator), read by anyone. */
import { Router } from "express";

import { productRequest, registerProduct } from "../../services/catalogue.ts";
import type { ServiceContext } from "../../services/context.ts";
import { requireProduct } from "../../services/lookups.ts";
import { requireRole } from "../auth.ts";
import { idempotent } from "../idempotency.ts";
import { originOf } from "./origin.ts";
import { recoverWrite } from "./recover-write.ts";

export function productsRouter(ctx: ServiceContext): Router {
  const router = Router();

  router.post("/api/v1/products", requireRole("admin", "cooperative"), async (req, res) => {
    await idempotent(
      ctx,
      req,
      res,
      async () => ({
        status: 201,
        body: { product: await registerProduct(ctx, originOf(req), productRequest.parse(req.body)) },
      }),
      { validate: () => productRequest.parse(req.body), recover: (written) => recoverWrite(ctx, req, res, written) },
    );
  });

  router.get("/api/v1/products/:gtin", async (req, res) => {
    res.json({ product: await requireProduct(ctx, req.params.gtin) });
  });

  return router;
}
