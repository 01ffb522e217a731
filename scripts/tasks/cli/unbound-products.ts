/**
 * unbound-products: the products no binding covers (neither their GTIN nor a company
 * prefix), which nobody may register batches of until the operator binds them. Migration
 * 0011 binds each existing product to its first registrant; these had none it could name.
 */
import { loadConfig } from "../../../server/src/config.ts";
import { demoEnvironment } from "../../../server/src/main.ts";
import { openDatabase } from "../../../server/src/storage/database.ts";
import { unboundProducts } from "../../../server/src/storage/entitlements.ts";
import { migrateToLatest } from "../../../server/src/storage/migrate.ts";

export async function unboundProductsCommand(): Promise<boolean> {
  const fallback = process.env.REGISTRY_ADDRESS === undefined ? demoEnvironment() : {};
  const config = loadConfig({ ...fallback, ...process.env, WORKERS: "off" });
  const database = await openDatabase(config.database);
  try {
    await migrateToLatest(database.db);
    const unbound = await unboundProducts(database.db);
    for (const product of unbound) console.log(`${product.gtin}\tregistered by ${product.createdBy}`);
    console.log(
      unbound.length === 0
        ? "every product is bound to an organisation"
        : `${String(unbound.length)} product(s) bound to nobody: bind each with POST /api/v1/organisations/{id}/gtins`,
    );
  } finally {
    await database.close();
  }
  return true;
}
