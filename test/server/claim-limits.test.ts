/**
 * Hidden-code guessing limits under attack, on SQLite and (when TEST_DATABASE_URL is set)
 * PostgreSQL: 200 simultaneous wrong guesses at one item from 200 addresses are judged at
 * most 5 times (the rest 429) and the right code is then refused too; one address gets 20
 * attempts an hour however often it changes its User-Agent; and the address is the
 * socket's unless a trusted proxy names it.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { pino } from "pino";

import { apiClient, expectStatus } from "../../scripts/lib/api-client.ts";
import { DEMO_COMPANY_PREFIX, onboardCooperative } from "../../scripts/lib/demo-system.ts";
import { offlineServerEnv } from "../../scripts/lib/local-stack.ts";
import { requestFrom } from "../../scripts/lib/loopback-request.ts";
import { loadConfig } from "../../server/src/config.ts";
import { deriveVerificationCode } from "../../server/src/domain/serials.ts";
import { MAX_ATTEMPTS_PER_CLIENT_PER_HOUR, MAX_WRONG_PER_ITEM_PER_HOUR } from "../../server/src/services/claims.ts";
import { startServer, type RunningServer } from "../../server/src/server.ts";
import { listItemSerials } from "../../server/src/storage/batches.ts";
import { pruneClaimGuards } from "../../server/src/storage/scans.ts";
import { freshTestDatabaseUrl, TEST_DATABASE_URL } from "../support/test-database.ts";

interface Answer {
  status: number;
  code: string | undefined;
}

/** A claim from a given loopback address (all of 127/8 reaches the server), with extra headers. */
async function claim(
  baseUrl: string,
  pathname: string,
  code: string,
  options: { from?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const reply = await requestFrom(new URL(pathname, baseUrl), {
    method: "POST",
    from: options.from,
    headers: { "content-type": "application/json", ...options.headers },
    body: JSON.stringify({ code }),
  });
  return { status: reply.status, code: (JSON.parse(reply.text) as { code?: string }).code };
}

describe(`hidden-code guessing limits (${TEST_DATABASE_URL === undefined || TEST_DATABASE_URL === "" ? "SQLite" : "PostgreSQL"})`, () => {
  const dataDirs: string[] = [];
  const servers: RunningServer[] = [];
  let env: Record<string, string>;
  let direct: RunningServer;
  let proxied: RunningServer;
  let serials: string[];
  let gtin: string;
  let lot: string;
  let batchId: string;
  const claimPath = (serial: string): string => `/api/v1/claims/${gtin}/${lot}/${serial}`;
  const rightCode = (serial: string): string =>
    deriveVerificationCode(direct.ctx.secrets.hiddenCodePepper, batchId, serial);
  /** A well-formed code that is not the item's. */
  const wrongCode = (serial: string, n: number): string => {
    const right = rightCode(serial);
    for (let k = n; ; k++) {
      const candidate = String((Number(right) + 1 + k) % 100_000_000).padStart(right.length, "0");
      if (candidate !== right) return candidate;
    }
  };

  async function start(extra: Record<string, string>): Promise<RunningServer> {
    const server = await startServer(loadConfig({ ...env, ...extra }), { logger: pino({ level: "silent" }) });
    servers.push(server);
    return server;
  }

  before(async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "claim-limits-"));
    dataDirs.push(dataDir);
    const databaseUrl = TEST_DATABASE_URL === "" ? undefined : await freshTestDatabaseUrl("claims");
    env = {
      ...offlineServerEnv(dataDir),
      RATE_LIMIT_PER_MINUTE: "100000",
      ...(databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl }),
    };
    direct = await start({});
    const coop = await onboardCooperative(direct.url, env.ADMIN_TOKEN ?? "", {
      name: { zh: "猜码测试合作社" },
      serial: 7171,
      companyPrefixes: [DEMO_COMPANY_PREFIX],
    });
    const client = apiClient(direct.url, coop.token);
    gtin = "06901234567892";
    lot = "GUESS-2026";
    expectStatus(
      await client.post("/api/v1/products", {
        gtin,
        name: { zh: "西湖龙井", en: "West Lake Longjing" },
        category: "tea",
        unit: "kg",
        maxYieldPerHa: 1_500,
      }),
      201,
      "register product",
    );
    const plot = expectStatus(
      await client.post<{ plot: { id: string } }>(`/api/v1/organisations/${coop.id}/plots`, {
        name: "狮峰山 9 号茶园",
        areaHa: 0.5,
        regionCode: "330106",
        location: { latitude: 30.2466, longitude: 120.1139 },
      }),
      201,
      "register plot",
    ).plot;
    const batch = expectStatus(
      await client.post<{ batch: { batchId: string } }>("/api/v1/batches", {
        gtin,
        lot,
        plotId: plot.id,
        harvestedAt: "2026-04-15T06:30:00+08:00",
        quantity: { value: "50", unit: "kg" },
        itemCount: 40,
        hiddenCodes: true,
      }),
      202,
      "register batch",
    ).batch;
    batchId = batch.batchId;
    serials = await listItemSerials(direct.ctx.db, batchId);
    // A second server on the same database, behind a trusted proxy on loopback.
    proxied = await start({ TRUST_PROXY: "loopback" });
  });

  after(async () => {
    for (const server of servers) await server.close();
    for (const dataDir of dataDirs) rmSync(dataDir, { recursive: true, force: true });
  });

  it("judges at most 5 of 200 simultaneous wrong guesses at one item, and then refuses the right code", async () => {
    const serial = serials[0] ?? "";
    // 200 clients (addresses given by the trusted proxy), so only the per-item limit applies.
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        claim(proxied.url, claimPath(serial), wrongCode(serial, i), {
          headers: { "x-forwarded-for": `198.51.100.${String(i + 1)}` },
        }),
      ),
    );
    const judged = answers.filter((a) => a.status === 400 && a.code === "claim.wrong_code").length;
    const limited = answers.filter((a) => a.status === 429 && a.code === "claim.too_many_attempts").length;
    assert.equal(judged, MAX_WRONG_PER_ITEM_PER_HOUR, JSON.stringify(answers.slice(0, 10)));
    assert.equal(limited, 200 - MAX_WRONG_PER_ITEM_PER_HOUR);
    const right = await claim(proxied.url, claimPath(serial), rightCode(serial), {
      headers: { "x-forwarded-for": "198.51.100.250" },
    });
    assert.deepEqual(right, { status: 429, code: "claim.too_many_attempts" });
    const stored = await direct.ctx.db
      .selectFrom("claim_attempts")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("serial", "=", serial)
      .executeTakeFirstOrThrow();
    assert.equal(stored.n, MAX_WRONG_PER_ITEM_PER_HOUR, "only judged attempts are recorded");
  });

  it("applies the claim's own 1 KiB body limit, not the server's larger one", async () => {
    const response = await fetch(new URL(claimPath(serials[39] ?? ""), direct.url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code: "12345678", padding: "x".repeat(2_048) }),
    });
    assert.equal(response.status, 413);
    assert.equal(((await response.json()) as { code: string }).code, "request.too_large");
  });

  it("gives an address 20 attempts an hour, whatever User-Agent it sends", async () => {
    const from = "127.0.0.31";
    const answers: Answer[] = [];
    for (let i = 0; i < MAX_ATTEMPTS_PER_CLIENT_PER_HOUR + 3; i++) {
      // Spread over items so the per-item limit never applies: 4 wrong codes on each of items 1..6.
      const serial = serials[1 + Math.floor(i / 4)] ?? "";
      answers.push(
        await claim(direct.url, claimPath(serial), wrongCode(serial, i), {
          from,
          headers: { "user-agent": `Guesser/${String(i)} (${randomBytes(4).toString("hex")})` },
        }),
      );
    }
    assert.ok(
      answers.slice(0, MAX_ATTEMPTS_PER_CLIENT_PER_HOUR).every((a) => a.code === "claim.wrong_code"),
      JSON.stringify(answers),
    );
    for (const answer of answers.slice(MAX_ATTEMPTS_PER_CLIENT_PER_HOUR)) {
      assert.deepEqual(answer, { status: 429, code: "claim.too_many_attempts" });
    }
    // Another address is another client: its budget is whole.
    const other = await claim(direct.url, claimPath(serials[7] ?? ""), rightCode(serials[7] ?? ""), {
      from: "127.0.0.32",
    });
    assert.equal(other.status, 200);
  });

  it("ignores X-Forwarded-For by default, and honours it from a trusted proxy", async () => {
    // Direct (TRUST_PROXY unset): a new forwarded address each time is still the same socket address.
    const spoofed: Answer[] = [];
    for (let i = 0; i < MAX_ATTEMPTS_PER_CLIENT_PER_HOUR + 1; i++) {
      const serial = serials[12 + Math.floor(i / 4)] ?? "";
      spoofed.push(
        await claim(direct.url, claimPath(serial), wrongCode(serial, i), {
          from: "127.0.0.41",
          headers: { "x-forwarded-for": `203.0.113.${String(i + 1)}` },
        }),
      );
    }
    assert.ok(
      spoofed.slice(0, MAX_ATTEMPTS_PER_CLIENT_PER_HOUR).every((a) => a.code === "claim.wrong_code"),
      JSON.stringify(spoofed),
    );
    assert.deepEqual(spoofed.at(-1), { status: 429, code: "claim.too_many_attempts" });
    // Behind the trusted proxy, the address it names is the client: a fresh one has a fresh budget...
    const named = await claim(proxied.url, claimPath(serials[30] ?? ""), rightCode(serials[30] ?? ""), {
      from: "127.0.0.41",
      headers: { "x-forwarded-for": "203.0.113.200" },
    });
    assert.equal(named.status, 200);
    // ...and when it names the address that used its budget, that client is refused.
    const spent = await claim(proxied.url, claimPath(serials[31] ?? ""), rightCode(serials[31] ?? ""), {
      from: "127.0.0.42",
      headers: { "x-forwarded-for": "127.0.0.41" },
    });
    assert.deepEqual(spent, { status: 429, code: "claim.too_many_attempts" });
  });

  it("prunes guard rows whose windows closed long ago, and keeps the others", async () => {
    const nowMs = Date.now();
    const guards = () =>
      direct.ctx.db.selectFrom("claim_guards").select(["subject", "touched_at_ms"]).orderBy("subject").execute();
    const live = await guards();
    assert.ok(live.length > 0, "the attempts above made guards");
    await direct.ctx.db
      .insertInto("claim_guards")
      .values([
        { subject: "client:stale", touched_at_ms: nowMs - 3 * 86_400_000 },
        { subject: "item:stale:S1", touched_at_ms: nowMs - 3 * 86_400_000 },
      ])
      .execute();
    assert.equal(await pruneClaimGuards(direct.ctx.db, nowMs - 2 * 86_400_000), 2);
    assert.deepEqual(await guards(), live);
  });
});
