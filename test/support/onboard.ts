/**
 * The cast of an API test: organisations onboarded by the operator's admin token, each with its
 * own API client, and the demo's product. One place, so every authority test registers its
 * parties the same way the operator does.
 */
import { DEMO_GTIN, demoUscc } from "../../scripts/lib/demo-system.ts";
import { apiClient, expectStatus, type ApiClient } from "../../scripts/lib/api-client.ts";

/** The unified social credit code's registration category by kind: 11 an authority, 93 a cooperative, 91 a company. */
const USCC_CATEGORY: Readonly<Record<string, string>> = { regulator: "11", cooperative: "93" };

export interface Party {
  id: string;
  signerAddress: string;
  token: string;
  api: ApiClient;
}

export interface Onboarding {
  kind: string;
  regionCode: string;
  /** Makes the organisation's credit code (and, by default, its name) unique within a test file. */
  serial: number;
  name?: string | { zh: string; en?: string };
  companyPrefixes?: string[];
  /** An own-wallet organisation's signer; the server keeps a custodial key otherwise. */
  signerAddress?: string;
}

/** Registers one organisation through `POST /api/v1/organisations` with the admin's client. */
export async function onboard(serverUrl: string, admin: ApiClient, who: Onboarding): Promise<Party> {
  // A national authority's region (000000) is not a credit code's: it registers in Beijing.
  const usccRegion = who.regionCode === "000000" ? "110000" : who.regionCode;
  const body = expectStatus(
    await admin.post<{ organisation: { id: string; signerAddress: string }; credential: { token: string } }>(
      "/api/v1/organisations",
      {
        kind: who.kind,
        name: typeof who.name === "object" ? who.name : { zh: who.name ?? `测试机构 ${String(who.serial)}` },
        uscc: demoUscc(USCC_CATEGORY[who.kind] ?? "91", usccRegion, who.serial),
        regionCode: who.regionCode,
        ...(who.companyPrefixes === undefined ? {} : { companyPrefixes: who.companyPrefixes }),
        ...(who.signerAddress === undefined ? {} : { signerAddress: who.signerAddress }),
      },
    ),
    201,
    `onboard ${who.kind} in ${who.regionCode}`,
  );
  return {
    id: body.organisation.id,
    signerAddress: body.organisation.signerAddress,
    token: body.credential.token,
    api: apiClient(serverUrl, body.credential.token),
  };
}

/** The demo's tea (GTIN `DEMO_GTIN`, 0–25 °C), created by `cooperative`, which must own its company prefix. */
export async function createDemoTea(cooperative: ApiClient): Promise<void> {
  expectStatus(
    await cooperative.post("/api/v1/products", {
      gtin: DEMO_GTIN,
      name: { zh: "西湖龙井" },
      category: "tea",
      unit: "kg",
      coldChain: { minC: 0, maxC: 25 },
    }),
    201,
    "product",
  );
}

/** Registers a batch of the demo tea harvested on 2026-04-15 (China time); its batch id. */
export async function registerDemoBatch(
  cooperative: ApiClient,
  lot: string,
  size: { quantityKg: string; itemCount: number },
): Promise<string> {
  return expectStatus(
    await cooperative.post<{ batch: { batchId: string } }>("/api/v1/batches", {
      gtin: DEMO_GTIN,
      lot,
      harvestedAt: "2026-04-15T06:00:00+08:00",
      quantity: { value: size.quantityKg, unit: "kg" },
      itemCount: size.itemCount,
    }),
    202,
    `batch ${lot}`,
  ).batch.batchId;
}
