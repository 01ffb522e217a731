/**
 * Every migration, in order. Kysely sorts by name, so names start with a zero-padded
 * sequence number; a released entry is never edited or removed, only followed.
 */
import type { Migration } from "kysely/migration";

import { initial } from "./0001-initial.ts";
import { media } from "./0002-media.ts";
import { signatureRequests } from "./0003-signature-requests.ts";
import { productNetContent } from "./0004-product-net-content.ts";
import { scansCoveringIndex } from "./0009-scans-covering-index.ts";
import { itemsLeafOrder } from "./0010-items-leaf-order.ts";
import { idempotencyLeases } from "./0005-idempotency-leases.ts";
import { claimGuards } from "./0006-claim-guards.ts";
import { gtinEntitlement } from "./0011-gtin-entitlement.ts";
import { custody } from "./0012-custody.ts";
import { epcisCaptures } from "./0013-epcis-captures.ts";
import { certificates } from "./0014-certificates.ts";
import { containers } from "./0015-containers.ts";
import { orders } from "./0016-orders.ts";
import { joining } from "./0017-joining.ts";
import { uploadSessions } from "./0018-upload-sessions.ts";

export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  "0001-initial": initial,
  "0002-media": media,
  "0003-signature-requests": signatureRequests,
  "0004-product-net-content": productNetContent,
  "0009-scans-covering-index": scansCoveringIndex,
  "0010-items-leaf-order": itemsLeafOrder,
  "0005-idempotency-leases": idempotencyLeases,
  "0006-claim-guards": claimGuards,
  "0011-gtin-entitlement": gtinEntitlement,
  "0012-custody": custody,
  "0013-epcis-captures": epcisCaptures,
  "0014-certificates": certificates,
  "0015-containers": containers,
  "0016-orders": orders,
  "0017-joining": joining,
  "0018-upload-sessions": uploadSessions,
};
