/**
 * Demo data entered the way real users enter it: through the server's HTTP API. A tea
 * cooperative in Hangzhou's West Lake district and its partners are onboarded, a plot, a
 * green-food certificate and a product registered, the planting video uploaded, a
 * 1,000-item harvest batch registered, and its lifecycle recorded by each organisation
 * that did the work, from planting to the shop counter.
 */
import { usccCheckCharacter } from "../../server/src/domain/uscc.ts";
import { apiClient, expectStatus, type ApiClient } from "./api-client.ts";

export interface DemoOrganisation {
  id: string;
  token: string;
  signerAddress: string;
}

export interface DemoSystemSummary {
  organisations: Record<DemoRole, DemoOrganisation>;
  batch: { batchId: string; gtin: string; lot: string; itemCount: number };
  eventIds: string[];
  videoCid: string | null;
}

type DemoRole = "cooperative" | "processor" | "logistics" | "retailer" | "inspector" | "regulator";

const PROFILES: Record<DemoRole, { zh: string; en: string; region: string; category: string }> = {
  cooperative: {
    zh: "西湖龙井茶叶专业合作社",
    en: "West Lake Longjing Tea Cooperative",
    region: "330106",
    category: "93",
  },
  processor: { zh: "杭州茗香茶叶加工厂", en: "Hangzhou Mingxiang Tea Processing", region: "330106", category: "91" },
  logistics: { zh: "浙冷链物流有限公司", en: "Zhe Cold-Chain Logistics", region: "330110", category: "91" },
  retailer: { zh: "上海茶韵专卖店", en: "Shanghai Chayun Tea Shop", region: "310101", category: "92" },
  inspector: {
    zh: "杭州市农产品质量检测中心",
    en: "Hangzhou Agricultural Product Testing Centre",
    region: "330100",
    category: "12",
  },
  regulator: {
    zh: "杭州市西湖区市场监督管理局",
    en: "West Lake District Market Supervision Bureau",
    region: "330106",
    category: "11",
  },
};

/** A valid unified social credit code for a demo organisation (check character computed). */
export function demoUscc(category: string, region: string, serial: number): string {
  const first17 = `${category}${region}${String(serial).padStart(9, "0")}`;
  return `${first17}${usccCheckCharacter(first17)}`;
}

/**
 * Onboards one more cooperative in the demo's district (a test's second party, a fault
 * test's only one): `serial` makes its credit code unique; `signerAddress` gives it its
 * own wallet instead of a custodial key.
 */
export async function onboardCooperative(
  baseUrl: string,
  adminToken: string,
  profile: {
    name: { zh: string; en?: string };
    serial: number;
    signerAddress?: string;
    /** Its own GS1 company prefixes, bound as it is registered (the GTINs it may use). */
    companyPrefixes?: readonly string[];
  },
): Promise<{ id: string; token: string }> {
  const body = expectStatus(
    await apiClient(baseUrl, adminToken).post<{ organisation: { id: string }; credential: { token: string } }>(
      "/api/v1/organisations",
      {
        kind: "cooperative",
        name: profile.name,
        uscc: demoUscc("93", "330106", profile.serial),
        regionCode: "330106",
        ...(profile.signerAddress === undefined ? {} : { signerAddress: profile.signerAddress }),
        ...(profile.companyPrefixes === undefined ? {} : { companyPrefixes: profile.companyPrefixes }),
      },
    ),
    201,
    `onboard ${profile.name.zh}`,
  );
  return { id: body.organisation.id, token: body.credential.token };
}

/**
 * The GS1 company prefix of the demo's cooperative, which owns `DEMO_GTIN`: only it (and
 * those it grants the GTIN to) may register the product and its batches.
 */
export const DEMO_COMPANY_PREFIX = "6901234";
export const DEMO_GTIN = "06901234567892";

/**
 * The GTIN's owner grants it to another organisation (a contract packer, a second
 * cooperative packing under the owner's brand), as `POST /api/v1/products/{gtin}/grants`.
 */
export async function grantGtin(baseUrl: string, ownerToken: string, gtin: string, granteeId: string): Promise<void> {
  expectStatus(
    await apiClient(baseUrl, ownerToken).post(`/api/v1/products/${gtin}/grants`, { grantee: granteeId }),
    202,
    `grant ${gtin} to ${granteeId}`,
  );
}
export const DEMO_LOT = "LJ2026-0415A";

async function onboard(admin: ApiClient, role: DemoRole, index: number): Promise<DemoOrganisation> {
  const profile = PROFILES[role];
  const body = expectStatus(
    await admin.post<{ organisation: { id: string; signerAddress: string }; credential: { token: string } }>(
      "/api/v1/organisations",
      {
        kind: role,
        name: { zh: profile.zh, en: profile.en },
        uscc: demoUscc(profile.category, profile.region, 1000 + index),
        regionCode: profile.region,
        ...(role === "cooperative" ? { companyPrefixes: [DEMO_COMPANY_PREFIX] } : {}),
      },
      { idempotencyKey: `demo-onboard-${role}` },
    ),
    201,
    `onboard ${role}`,
  );
  return { id: body.organisation.id, token: body.credential.token, signerAddress: body.organisation.signerAddress };
}

/** The demo's product, as its cooperative registers it. */
export const DEMO_PRODUCT = {
  gtin: DEMO_GTIN,
  name: { zh: "西湖龙井 明前特级", en: "West Lake Longjing, pre-Qingming grade" },
  category: "tea",
  unit: "kg",
  coldChain: { minC: 0, maxC: 25 },
  maxYieldPerHa: 1_500,
} as const;

export async function seedDemoSystem(
  baseUrl: string,
  adminToken: string,
  options: { video?: { bytes: Uint8Array; contentType: string } | null; itemCount?: number } = {},
): Promise<DemoSystemSummary> {
  const admin = apiClient(baseUrl, adminToken);
  const roles: DemoRole[] = ["cooperative", "processor", "logistics", "retailer", "inspector", "regulator"];
  const organisations = {} as Record<DemoRole, DemoOrganisation>;
  for (const [index, role] of roles.entries()) organisations[role] = await onboard(admin, role, index);
  const coop = apiClient(baseUrl, organisations.cooperative.token);

  expectStatus(await coop.post("/api/v1/products", DEMO_PRODUCT), 201, "register product");
  const plot = expectStatus(
    await coop.post<{ plot: { id: string } }>(`/api/v1/organisations/${organisations.cooperative.id}/plots`, {
      name: "狮峰山 7 号茶园",
      areaHa: 0.83,
      regionCode: "330106",
      location: { latitude: 30.2466, longitude: 120.1139 },
    }),
    201,
    "register plot",
  ).plot;
  const certification = expectStatus(
    await coop.post<{ certification: { id: string } }>(
      `/api/v1/organisations/${organisations.cooperative.id}/certifications`,
      {
        kind: "green_food",
        number: "LB-15-24033301234A",
        issuer: "中国绿色食品发展中心",
        validFrom: "2024-03-01",
        validTo: "2027-02-28",
        scopeGtins: [DEMO_GTIN],
      },
    ),
    201,
    "register certification",
  ).certification;

  let videoCid: string | null = null;
  if (options.video != null) {
    videoCid = expectStatus(
      await coop.upload<{ media: { cid: string } }>("/api/v1/media", options.video.bytes, options.video.contentType),
      201,
      "upload planting video",
    ).media.cid;
  }

  const itemCount = options.itemCount ?? 1_000;
  const batch = expectStatus(
    await coop.post<{ batch: { batchId: string } }>(
      "/api/v1/batches",
      {
        gtin: DEMO_GTIN,
        lot: DEMO_LOT,
        plotId: plot.id,
        harvestedAt: "2026-04-15T06:30:00+08:00",
        quantity: { value: "250", unit: "kg" },
        itemCount,
        hiddenCodes: true,
        certificationIds: [certification.id],
        complianceCertificateNumber: "HGZ-330106-2026-000123",
        description: {
          zh: "明前手工炒制，狮峰山核心产区，一芽一叶初展。",
          en: "Hand-roasted before Qingming, Shifeng core area, one bud and one leaf.",
        },
        videoCid,
      },
      { idempotencyKey: "demo-batch" },
    ),
    202,
    "register batch",
  ).batch;

  const client = (role: DemoRole): ApiClient => apiClient(baseUrl, organisations[role].token);
  const shippingSeries = Array.from({ length: 12 }, (_, i) => ({
    at: new Date(Date.parse("2026-04-18T07:00:00+08:00") + i * 3_600_000).toISOString(),
    celsius: 8 + Math.round(Math.sin(i / 2) * 20) / 10,
  }));
  // Each organisation records a step only with custody (domain/custody.ts): whoever holds the
  // batch ships it naming the `receiver`, whose receiving hands it over; the testing centre
  // inspects because the cooperative asked it (below, before its event).
  const handover = (role: DemoRole, to: DemoRole, occurredAt: string, place: string, regionCode: string) => [
    { role, body: { bizStep: "shipping", occurredAt, receiver: organisations[to].id, data: {} } },
    {
      role: to,
      body: {
        bizStep: "receiving",
        occurredAt: new Date(Date.parse(occurredAt) + 2 * 3_600_000).toISOString(),
        data: { location: { regionCode, name: place } },
      },
    },
  ];
  const lifecycle: { role: DemoRole; body: Record<string, unknown> }[] = [
    {
      role: "cooperative",
      body: {
        bizStep: "planting",
        occurredAt: "2026-03-01T08:00:00+08:00",
        data: { location: { regionCode: "330106", name: "狮峰山 7 号茶园" } },
      },
    },
    {
      role: "cooperative",
      body: {
        bizStep: "input_application",
        occurredAt: "2026-03-20T09:00:00+08:00",
        data: { inputs: [{ name: "腐熟菜籽饼肥", kind: "fertilizer", amount: "120", unit: "kg" }] },
      },
    },
    {
      role: "cooperative",
      body: {
        bizStep: "harvesting",
        occurredAt: "2026-04-15T06:30:00+08:00",
        data: { quantity: { value: "250", unit: "kg" } },
      },
    },
    ...handover("cooperative", "processor", "2026-04-15T10:00:00+08:00", "茗香加工车间", "330106"),
    {
      role: "processor",
      body: {
        bizStep: "transforming",
        occurredAt: "2026-04-15T14:00:00+08:00",
        data: {
          inputBatches: [{ gtin: DEMO_GTIN, lot: "LJ2026-0415-FRESH" }],
          location: { regionCode: "330106", name: "茗香加工车间" },
        },
      },
    },
    {
      role: "inspector",
      body: {
        bizStep: "inspecting",
        occurredAt: "2026-04-16T10:00:00+08:00",
        data: {
          tests: [
            {
              substance: "联苯菊酯 bifenthrin",
              method: "GB 23200.113",
              standard: "GB 2763-2021",
              laboratory: "杭州市农产品质量安全检测中心",
              resultMgPerKg: 0.02,
              limitMgPerKg: 5,
              passed: true,
            },
            { substance: "草甘膦 glyphosate", method: "GB 23200.1", resultMgPerKg: 0, limitMgPerKg: 1, passed: true },
          ],
          referenceDocument: { type: "inspection_report", number: "HZNJ-2026-04-0877" },
        },
      },
    },
    {
      role: "processor",
      body: {
        bizStep: "packing",
        occurredAt: "2026-04-17T09:00:00+08:00",
        data: { quantity: { value: "1000", unit: "box" } },
      },
    },
    ...handover("processor", "logistics", "2026-04-17T16:00:00+08:00", "浙冷链杭州仓", "330110"),
    {
      role: "logistics",
      body: {
        bizStep: "shipping",
        occurredAt: "2026-04-18T07:00:00+08:00",
        receiver: organisations.retailer.id,
        data: {
          temperatures: shippingSeries,
          referenceDocument: { type: "bill_of_lading", number: "ZLL-20260418-0031" },
        },
      },
    },
    {
      role: "retailer",
      body: {
        bizStep: "receiving",
        occurredAt: "2026-04-18T18:00:00+08:00",
        data: { location: { regionCode: "310101", name: "上海茶韵专卖店" } },
      },
    },
    { role: "retailer", body: { bizStep: "retail_selling", occurredAt: "2026-04-20T10:00:00+08:00", data: {} } },
  ];
  expectStatus(
    await coop.post(
      `/api/v1/batches/${batch.batchId}/inspection-requests`,
      { inspector: organisations.inspector.id },
      { idempotencyKey: "demo-inspection-request" },
    ),
    202,
    "ask the testing centre to inspect",
  );
  const eventIds: string[] = [];
  for (const [index, step] of lifecycle.entries()) {
    const accepted = expectStatus(
      await client(step.role).post<{ event: { id: string } }>(`/api/v1/batches/${batch.batchId}/events`, step.body, {
        idempotencyKey: `demo-event-${index}`,
      }),
      202,
      `record ${String(step.body.bizStep)}`,
    );
    eventIds.push(accepted.event.id);
  }
  return {
    organisations,
    batch: { batchId: batch.batchId, gtin: DEMO_GTIN, lot: DEMO_LOT, itemCount },
    eventIds,
    videoCid,
  };
}

/** Polls the API until the batch and all its events are anchored, or fails after `timeoutMs`. */
export async function waitUntilAnchored(
  baseUrl: string,
  batchId: string,
  eventCount: number,
  timeoutMs = 120_000,
): Promise<void> {
  const api = apiClient(baseUrl);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const batch = (
      await api.get<{ batch: { ledger: { state: string; failureReason: string | null } } }>(
        `/api/v1/batches/${batchId}`,
      )
    ).body.batch;
    const events = (
      await api.get<{ events: { ledger: { state: string; failureReason: string | null } }[] }>(
        `/api/v1/batches/${batchId}/events`,
      )
    ).body.events;
    const failed = [batch, ...events].find((x) => x.ledger.state === "failed");
    if (failed !== undefined) throw new Error(`anchoring failed: ${failed.ledger.failureReason ?? "unknown reason"}`);
    if (
      batch.ledger.state === "anchored" &&
      events.length === eventCount &&
      events.every((e) => e.ledger.state === "anchored")
    )
      return;
    if (Date.now() > deadline) throw new Error(`batch ${batchId} not anchored within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
