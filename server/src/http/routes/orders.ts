/**
 * Orders (issue 14, part 3): a seller takes an order, scans items into it at packing,
 * despatches it in one signed packing that names it, or cancels it. Only the seller reads
 * its orders; anyone else gets 404 (`order.not_found`).
 */
import { Router, type Response } from "express";

import type { ServiceContext } from "../../services/context.ts";
import {
  cancelOrder,
  createOrder,
  despatchOrder,
  despatchRequest,
  getOrder,
  listOrders,
  orderListQuery,
  orderRequest,
  scanIntoOrder,
  scanRequest,
  storedOrder,
  type OrderDetail,
} from "../../services/orders.ts";
import { principalOf, requireRole } from "../auth.ts";
import { idempotent, type WriteAnswer } from "../idempotency.ts";
import { originOf } from "./origin.ts";

function created(res: Response, order: OrderDetail): WriteAnswer {
  res.setHeader("location", order.url);
  return { status: 201, body: { order } };
}

export function ordersRouter(ctx: ServiceContext): Router {
  const router = Router();
  const sellers = requireRole("cooperative", "actor");

  router.post("/api/v1/orders", sellers, async (req, res) => {
    await idempotent(
      ctx,
      req,
      res,
      async () => created(res, await createOrder(ctx, originOf(req), orderRequest.parse(req.body))),
      {
        validate: () => orderRequest.parse(req.body),
        recover: async (written) => created(res, await storedOrder(ctx, principalOf(req), written.target)),
      },
    );
  });

  router.get("/api/v1/orders", sellers, async (req, res) => {
    const page = orderListQuery.parse(req.query);
    res.setHeader("Cache-Control", "no-store");
    res.json({ orders: await listOrders(ctx, principalOf(req), page), limit: page.limit, offset: page.offset });
  });

  router.get("/api/v1/orders/:id", sellers, async (req, res) => {
    res.setHeader("Cache-Control", "no-store");
    res.json({ order: await getOrder(ctx, principalOf(req), String(req.params.id)) });
  });

  router.post("/api/v1/orders/:id/items", sellers, async (req, res) => {
    await idempotent(
      ctx,
      req,
      res,
      async () => ({
        status: 200,
        body: await scanIntoOrder(ctx, originOf(req), String(req.params.id), scanRequest.parse(req.body)),
      }),
      {
        validate: () => scanRequest.parse(req.body),
        recover: async (written) => ({
          status: 200,
          body: { order: await storedOrder(ctx, principalOf(req), written.target) },
        }),
      },
    );
  });

  router.post("/api/v1/orders/:id/despatch", sellers, async (req, res) => {
    await idempotent(
      ctx,
      req,
      res,
      async () => ({
        status: 200,
        body: {
          order: await despatchOrder(ctx, originOf(req), String(req.params.id), despatchRequest.parse(req.body)),
        },
      }),
      {
        validate: () => despatchRequest.parse(req.body),
        recover: async (written) => ({
          status: 200,
          body: { order: await storedOrder(ctx, principalOf(req), written.target) },
        }),
      },
    );
  });

  router.post("/api/v1/orders/:id/cancel", sellers, async (req, res) => {
    await idempotent(ctx, req, res, async () => ({
      status: 200,
      body: { order: await cancelOrder(ctx, originOf(req), String(req.params.id)) },
    }));
  });

  return router;
}
