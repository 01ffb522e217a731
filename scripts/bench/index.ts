/**
 * The suites `npm run bench` runs, in order. Adding a suite is one line here; `--only
 * <name>` picks one by its `name`.
 */
import { auditSuite } from "./audit.ts";
import { containersSuite } from "./containers.ts";
import { exportsSuite } from "./exports.ts";
import { gasSuite } from "./gas.ts";
import { heavyLoadSuite } from "./heavy-load.ts";
import { labelsSuite } from "./labels.ts";
import { lotCardSuite } from "./lot-card.ts";
import { merkleSuite } from "./merkle.ts";
import { ordersSuite } from "./orders.ts";
import { resilienceSuite } from "./resilience.ts";
import { rpcHammerSuite } from "./rpc-hammer.ts";
import { scanPageSuite } from "./scan-page.ts";
import { serverSuite } from "./server.ts";
import type { BenchSuite } from "./types.ts";
import { verifierPageSuite } from "./verifier-page.ts";

export const suites: readonly BenchSuite[] = [
  gasSuite,
  merkleSuite,
  labelsSuite,
  serverSuite,
  rpcHammerSuite,
  scanPageSuite,
  lotCardSuite,
  ordersSuite,
  containersSuite,
  verifierPageSuite,
  exportsSuite,
  auditSuite,
  resilienceSuite,
  heavyLoadSuite,
];
