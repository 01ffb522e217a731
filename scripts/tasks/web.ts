/**
 * `npm run build:web`: the scan page (fails over its gzip or brotli budget) and the consoles,
 * into scanner-web/dist/.
 */
import { buildCertificatePage } from "./build-certificate-page.ts";
import { buildConsoles } from "./build-consoles.ts";
import { buildLotPage } from "./build-lot-page.ts";
import { SCAN_PAGE_BUDGET_BROTLI_BYTES, SCAN_PAGE_BUDGET_GZIP_BYTES, buildWeb } from "./build-web.ts";

const web = await buildWeb();
console.log(
  `[web] scan page ${String(web.gzipBytes)} bytes gzip (budget ${String(SCAN_PAGE_BUDGET_GZIP_BYTES)}), ${String(web.brotliBytes)} bytes brotli (budget ${String(SCAN_PAGE_BUDGET_BROTLI_BYTES)}): ${web.files.map((f) => f.name).join(", ")}`,
);
if (!web.withinBudget) {
  console.error("[web] the scan page is over its budget");
  process.exitCode = 1;
}
await buildConsoles();
await buildCertificatePage();
await buildLotPage();
