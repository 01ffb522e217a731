/**
 * Joining and signing in (issue 15, parts 1 and 2), through the API against a Hardhat node in
 * its own process: applying validates and changes nothing on bad input; the county bureau sees
 * and decides only applications of its region; approval registers the organisation on chain
 * through the outbox, allocates its prefix and creates the chair with a one-time sign-in link;
 * a link works once and not after it expired; a session is refused the moment it is revoked;
 * a person without a capability cannot use it; a chair manages only her own organisation's people.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";

import { apiClient, expectStatus, type ApiClient, type ApiResponse } from "../../scripts/lib/api-client.ts";
import { startChainNode, type ChainNode } from "../../scripts/lib/chain-node.ts";
import { demoUscc } from "../../scripts/lib/demo-system.ts";
import { deployLocalRegistry } from "../../scripts/lib/local-stack.ts";
import { gtinCheckDigit } from "../../server/src/domain/gs1.ts";
import { qrPng } from "../../server/src/labels/qr.ts";
import type { RunningServer } from "../../server/src/server.ts";
import { settleLedger } from "../e2e/support/settle-ledger.ts";
import { onboard as onboardParty, type Party } from "../support/onboard.ts";
import { refusalChecker } from "../support/refusals.ts";
import { freshTestDatabaseUrl, TEST_DATABASE_URL } from "../support/test-database.ts";
import { startTestServer } from "../support/test-server.ts";

const PLATFORM_PREFIX = "6960000";

interface StatusAnswer {
  application: { id: string; status: string; refusal: { zh: string; en: string | null } | null } & Record<
    string,
    unknown
  >;
}
interface Approval {
  organisation: { id: string; ledgerState: string; uscc: string };
  chair: { id: string; name: string };
  signIn: { url: string; expiresAt: string; qrSvg: string };
}
interface SignedIn {
  session: { id: string; token: string; expiresAt: string };
  member: { id: string; role: string; capabilities: string[] };
  organisation: { id: string };
}

function gtinOf(body13: string): string {
  return `${body13}${String(gtinCheckDigit(body13))}`;
}

describe(`joining and signing in (${TEST_DATABASE_URL === undefined ? "SQLite" : "PostgreSQL"})`, () => {
  let node: ChainNode;
  let server: RunningServer;
  let dataDir: string;
  let admin: ApiClient;
  let publicApi: ApiClient;
  /** The West Lake district's bureau (330106) and a bureau in Yunnan (530802). */
  let district: Party;
  let yunnan: Party;
  let licencePng: Uint8Array;

  async function snapshot(): Promise<unknown> {
    const db = server.ctx.db;
    const count = async (
      table: "applications" | "application_licences" | "members" | "sign_in_links" | "credentials",
    ) =>
      Number(
        (
          await db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number | string>().as("n"))
            .executeTakeFirstOrThrow()
        ).n,
      );
    return {
      organisations: await db.selectFrom("organisations").select(["id", "status"]).orderBy("id").execute(),
      applications: await db.selectFrom("applications").select(["id", "status"]).orderBy("id").execute(),
      licences: await count("application_licences"),
      members: await count("members"),
      links: await db.selectFrom("sign_in_links").select(["id", "used_at_ms"]).orderBy("id").execute(),
      credentials: await db.selectFrom("credentials").select(["id", "revoked_at_ms"]).orderBy("id").execute(),
      batches: (await db.selectFrom("batches").select("batch_id").execute()).length,
      outbox: (await db.selectFrom("outbox").select("id").execute()).length,
      auditLog: (await db.selectFrom("audit_log").select("id").execute()).length,
      signInLinks: await count("sign_in_links"),
    };
  }
  const refusedUnchanged = refusalChecker({ settle: () => settleLedger(server), snapshot });

  let serial = 700;
  function application(overrides: Record<string, unknown> = {}) {
    serial += 1;
    return {
      kind: "cooperative",
      name: { zh: `龙坞茶叶专业合作社${String(serial)}` },
      uscc: demoUscc("93", "330106", serial),
      regionCode: "330106",
      contact: { name: "王秀英", phone: "138 0013 8000" },
      ...overrides,
    };
  }

  async function applyFor(body: Record<string, unknown>) {
    return expectStatus(
      await publicApi.post<StatusAnswer & { secret: string; statusUrl: string; fee: number }>(
        "/api/v1/applications",
        body,
      ),
      201,
      "apply",
    );
  }

  async function del(path: string, token: string): Promise<ApiResponse> {
    const response = await fetch(new URL(path, server.url), {
      method: "DELETE",
      headers: { authorization: `Bearer ${token}` },
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text === "" ? null : (JSON.parse(text) as unknown),
      headers: response.headers,
    };
  }

  async function signInWith(url: string): Promise<ApiResponse<SignedIn>> {
    const token = new URL(url).hash.replace(/^#t=/, "");
    return publicApi.post<SignedIn>("/api/v1/sign-in", { token, device: "test phone" });
  }

  before(async () => {
    node = await startChainNode();
    const deployment = await deployLocalRegistry(node.rpcUrl);
    const databaseUrl = await freshTestDatabaseUrl("joining");
    ({ server, dataDir } = await startTestServer(deployment.env, "joining", {
      PLATFORM_COMPANY_PREFIX: PLATFORM_PREFIX,
      PLATFORM_PREFIX_EXTRA_DIGITS: "3",
      PUBLIC_ORIGIN: "https://trace.example.cn",
      // The default per-address limits, which the joining endpoints scale theirs from.
      RATE_LIMIT_PER_MINUTE: "600",
      ...(databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl }),
    }));
    admin = apiClient(server.url, deployment.env.ADMIN_TOKEN ?? "");
    publicApi = apiClient(server.url);
    district = await onboardParty(server.url, admin, { kind: "regulator", regionCode: "330106", serial: 601 });
    yunnan = await onboardParty(server.url, admin, { kind: "regulator", regionCode: "530802", serial: 602 });
    licencePng = new Uint8Array(await qrPng("营业执照", { sizePx: 200 }));
  });

  after(async () => {
    await server.close();
    await node.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("refuses a bad application or licence with its problem and changes nothing", async () => {
    const valid = demoUscc("93", "330106", 699);
    const wrongCheck = `${valid.slice(0, 17)}${valid.endsWith("0") ? "1" : "0"}`;
    const cases: [string, Record<string, unknown>, string][] = [
      ["a wrong credit-code check character", application({ uscc: wrongCheck }), "uscc.check_character"],
      ["a landline for a mobile", application({ contact: { name: "王", phone: "0571-88888888" } }), "request.invalid"],
      ["a region in no province", application({ regionCode: "990106" }), "region.province"],
      ["a fee field", application({ fee: 100 }), "request.invalid"],
      ["a regulator applying", application({ kind: "regulator" }), "request.invalid"],
      ["a licence never uploaded", application({ licenceCid: `b${"a".repeat(58)}` }), "application.licence_unknown"],
    ];
    for (const [what, body, code] of cases) {
      await refusedUnchanged(what, () => publicApi.post("/api/v1/applications", body), 400, code);
    }
    await refusedUnchanged(
      "text labelled as a JPEG",
      () =>
        publicApi.upload("/api/v1/applications/licence", new TextEncoder().encode("not a photo at all"), "image/jpeg"),
      415,
      "application.licence_type",
    );
    await refusedUnchanged(
      "a licence over 4 MB",
      () => publicApi.upload("/api/v1/applications/licence", new Uint8Array(4 * 1024 * 1024 + 1), "image/png"),
      413,
      "application.licence_too_large",
    );
  });

  it("takes an application with its licence photo, shows its status only with the secret, once per credit code", async () => {
    const licence = expectStatus(
      await publicApi.upload<{ licence: { cid: string; contentType: string } }>(
        "/api/v1/applications/licence",
        licencePng,
        "application/octet-stream",
      ),
      201,
      "licence upload",
    ).licence;
    assert.equal(licence.contentType, "image/png", "the type is read from the content, not the header");
    const logged = await server.ctx.db
      .selectFrom("audit_log")
      .select("action")
      .where("target", "=", licence.cid)
      .execute();
    assert.deepEqual(
      logged.map((entry) => entry.action),
      ["application.licence_upload"],
      "the upload is in the write log",
    );
    const body = application({ licenceCid: licence.cid });
    const answer = await applyFor(body);
    assert.equal(answer.fee, 0);
    assert.equal(answer.application.status, "pending");
    assert.match(answer.statusUrl, /^https:\/\/trace\.example\.cn\/apply#id=app_/);
    const id = answer.application.id;
    const status = expectStatus(
      await publicApi.get<StatusAnswer>(`/api/v1/applications/${id}?secret=${answer.secret}`),
      200,
      "status",
    );
    assert.equal(status.application.status, "pending");
    // The whole phone number and the name: a random id or a millisecond can hold "138" by chance.
    const shown = JSON.stringify(status);
    for (const contactPart of ["13800138000", "138 0013 8000", "王秀英"]) {
      assert.equal(shown.includes(contactPart), false, `the contact (${contactPart}) is not in the public status`);
    }
    assert.equal("contact" in status.application, false);
    const wrongSecret = await publicApi.get<{ code: string }>(`/api/v1/applications/${id}?secret=${"A".repeat(22)}`);
    assert.equal(wrongSecret.status, 404);
    assert.equal(wrongSecret.body.code, "application.not_found");
    assert.equal((await publicApi.get(`/api/v1/applications/${id}`)).status, 404, "no secret, nothing");
    assert.equal((await publicApi.get("/api/v1/applications")).status, 401, "the list is the bureau's");
    await refusedUnchanged(
      "a second pending application for the same code",
      () => publicApi.post("/api/v1/applications", { ...body, name: { zh: "另一个名字" } }),
      409,
      "application.exists",
    );
  });

  it("shows and lets decide only the bureau of the applicant's region, and the operator", async () => {
    const westLake = await applyFor(application());
    const kunming = await applyFor(application({ regionCode: "530802", uscc: demoUscc("93", "530802", 801) }));
    const listOf = async (api: ApiClient) =>
      expectStatus(
        await api.get<{ applications: { id: string; contact: { phone: string } }[] }>(
          "/api/v1/applications?status=pending",
        ),
        200,
        "list",
      ).applications;
    const districtList = await listOf(district.api);
    assert.ok(districtList.some((a) => a.id === westLake.application.id));
    assert.ok(!districtList.some((a) => a.id === kunming.application.id), "Yunnan's is not the district's");
    assert.equal(districtList.find((a) => a.id === westLake.application.id)?.contact.phone, "13800138000");
    const yunnanList = await listOf(yunnan.api);
    assert.deepEqual(
      yunnanList.map((a) => a.id),
      [kunming.application.id],
    );
    const adminList = await listOf(admin);
    assert.ok(
      adminList.some((a) => a.id === kunming.application.id) && adminList.some((a) => a.id === westLake.application.id),
    );
    await refusedUnchanged(
      "a bureau of another region approving",
      () => yunnan.api.post(`/api/v1/applications/${westLake.application.id}/approve`, {}),
      404,
      "application.not_found",
    );
    await refusedUnchanged(
      "a bureau of another region refusing",
      () => yunnan.api.post(`/api/v1/applications/${westLake.application.id}/refuse`, { reason: { zh: "不" } }),
      404,
      "application.not_found",
    );
    const refused = expectStatus(
      await yunnan.api.post<StatusAnswer>(`/api/v1/applications/${kunming.application.id}/refuse`, {
        reason: { zh: "营业执照照片不清晰，请重新拍摄", en: "The licence photo is unreadable; take it again" },
      }),
      200,
      "refuse",
    );
    assert.equal(refused.application.status, "refused");
    const seen = expectStatus(
      await publicApi.get<StatusAnswer>(`/api/v1/applications/${kunming.application.id}?secret=${kunming.secret}`),
      200,
      "the applicant's status",
    );
    assert.deepEqual(seen.application.refusal, {
      zh: "营业执照照片不清晰，请重新拍摄",
      en: "The licence photo is unreadable; take it again",
    });
    await refusedUnchanged(
      "refusing a decided application",
      () => yunnan.api.post(`/api/v1/applications/${kunming.application.id}/refuse`, { reason: { zh: "再" } }),
      409,
      "application.not_pending",
    );
    // Refused, the code may apply again.
    await applyFor(application({ regionCode: "530802", uscc: demoUscc("93", "530802", 801) }));
  });

  it("approves into an organisation on chain with its prefix, a chair and a link that signs in once", async () => {
    const body = application();
    const applied = await applyFor(body);
    const before = await server.ctx.db.selectFrom("outbox").select("id").execute();
    const approval = expectStatus(
      await district.api.post<Approval>(`/api/v1/applications/${applied.application.id}/approve`, {}),
      201,
      "approve",
    );
    assert.equal(approval.organisation.uscc, body.uscc);
    assert.equal(approval.organisation.ledgerState, "pending");
    assert.equal(approval.chair.name, "王秀英");
    assert.match(approval.signIn.url, /^https:\/\/trace\.example\.cn\/signin#t=[A-Za-z0-9_-]{22}$/);
    assert.match(approval.signIn.qrSvg, /^<svg/);
    const expiresInHours = (Date.parse(approval.signIn.expiresAt) - Date.now()) / 3_600_000;
    assert.ok(expiresInHours > 71.9 && expiresInHours <= 72, `expires in 72 hours (${String(expiresInHours)})`);
    const outbox = await server.ctx.db.selectFrom("outbox").select(["id", "kind"]).execute();
    const added = outbox.filter((entry) => !before.some((b) => b.id === entry.id)).map((entry) => entry.kind);
    assert.ok(added.includes("organisation"), `the organisation's ledger write is queued (${added.join(", ")})`);
    const audit = await server.ctx.db
      .selectFrom("audit_log")
      .select("action")
      .where("target", "=", applied.application.id)
      .execute();
    assert.deepEqual(audit.map((a) => a.action).sort(), ["application.approve", "application.submit"]);
    await refusedUnchanged(
      "approving twice",
      () => district.api.post(`/api/v1/applications/${applied.application.id}/approve`, {}),
      409,
      "application.not_pending",
    );
    const withCode = await server.ctx.db
      .selectFrom("organisations")
      .select("id")
      .where("uscc", "=", body.uscc)
      .execute();
    assert.equal(withCode.length, 1, "one organisation, however often approved");
    await settleLedger(server);
    const org = await server.ctx.db
      .selectFrom("organisations")
      .select("ledger_state")
      .where("id", "=", approval.organisation.id)
      .executeTakeFirstOrThrow();
    assert.equal(org.ledger_state, "anchored");
    const prefixes = await server.ctx.db
      .selectFrom("company_prefix_bindings")
      .select(["prefix", "ledger_state"])
      .where("organisation_id", "=", approval.organisation.id)
      .execute();
    assert.equal(prefixes.length, 1);
    assert.ok(prefixes[0]?.prefix.startsWith(PLATFORM_PREFIX));
    const metadata = JSON.stringify(
      await server.ctx.db
        .selectFrom("organisations")
        .select("metadata_cid")
        .where("id", "=", approval.organisation.id)
        .executeTakeFirstOrThrow(),
    );
    assert.ok(!metadata.includes("13800138000"));

    // The farmer's phone: the link once, then never again.
    const signedIn = expectStatus(await signInWith(approval.signIn.url), 201, "sign in");
    assert.equal(signedIn.member.role, "chair");
    assert.deepEqual(signedIn.member.capabilities, ["batches", "events", "members"]);
    const days = (Date.parse(signedIn.session.expiresAt) - Date.now()) / 86_400_000;
    assert.ok(days > 89.9 && days <= 90, "a 90-day session");
    await refusedUnchanged("the same link again", () => signInWith(approval.signIn.url), 401, "sign_in.invalid");

    // With the session, the chair registers a product and a batch under her allocated prefix.
    const chair = apiClient(server.url, signedIn.session.token);
    const me = expectStatus(await chair.get<{ organisation: { id: string } }>("/api/v1/me"), 200, "me");
    assert.equal(me.organisation.id, approval.organisation.id);
    const gtin = gtinOf(`0${prefixes[0]?.prefix ?? ""}01`);
    expectStatus(
      await chair.post("/api/v1/products", { gtin, name: { zh: "龙坞龙井" }, category: "tea", unit: "kg" }),
      201,
      "product by the chair",
    );
    const registered = expectStatus(
      await chair.post<{ batch: { batchId: string } }>("/api/v1/batches", {
        gtin,
        lot: "LW2026-01",
        harvestedAt: "2026-04-15T06:00:00+08:00",
        quantity: { value: "2", unit: "kg" },
        itemCount: 2,
      }),
      202,
      "batch by the chair's session",
    ).batch;
    await settleLedger(server);
    const anchored = await server.ctx.db
      .selectFrom("batches")
      .select("ledger_state")
      .where("batch_id", "=", registered.batchId)
      .executeTakeFirstOrThrow();
    assert.equal(anchored.ledger_state, "anchored", "the batch the farmer registered is on chain");
  });

  it("limits people to their capabilities, revokes sessions at once, refuses expired links and other organisations", async () => {
    const approveNew = async () => {
      const applied = await applyFor(application());
      const approval = expectStatus(
        await admin.post<Approval>(`/api/v1/applications/${applied.application.id}/approve`, {}),
        201,
        "approve by the operator",
      );
      const session = expectStatus(await signInWith(approval.signIn.url), 201, "chair signs in").session;
      return { approval, chair: apiClient(server.url, session.token), chairToken: session.token };
    };
    const x = await approveNew();
    const y = await approveNew();
    const orgX = x.approval.organisation.id;
    const member = expectStatus(
      await x.chair.post<{ member: { id: string; capabilities: string[] } }>(`/api/v1/organisations/${orgX}/members`, {
        name: "李强",
        capabilities: ["events"],
      }),
      201,
      "add a member",
    ).member;
    assert.deepEqual(member.capabilities, ["events"]);
    const link = expectStatus(
      await x.chair.post<{ signIn: { url: string } }>(
        `/api/v1/organisations/${orgX}/members/${member.id}/sign-in-links`,
        {},
      ),
      201,
      "link for the member",
    ).signIn;
    const memberSession = expectStatus(await signInWith(link.url), 201, "member signs in").session;
    const memberApi = apiClient(server.url, memberSession.token);
    await refusedUnchanged(
      "a member without `batches` registering a batch",
      () =>
        memberApi.post("/api/v1/batches", {
          gtin: gtinOf("06960000000001"),
          lot: "NO-1",
          harvestedAt: "2026-04-15T06:00:00+08:00",
          quantity: { value: "1", unit: "kg" },
          itemCount: 1,
        }),
      403,
      "member.capability_missing",
    );
    await refusedUnchanged(
      "a member without `members` adding a person",
      () => memberApi.post(`/api/v1/organisations/${orgX}/members`, { name: "张三", capabilities: ["batches"] }),
      403,
      "member.capability_missing",
    );
    assert.equal((await memberApi.get(`/api/v1/organisations/${orgX}/members`)).status, 403);
    await refusedUnchanged(
      "the chair of Y adding a person to X",
      () => y.chair.post(`/api/v1/organisations/${orgX}/members`, { name: "张三", capabilities: [] }),
      404,
      "organisation.not_found",
    );
    await refusedUnchanged(
      "the chair of Y issuing a link for X's member",
      () => y.chair.post(`/api/v1/organisations/${orgX}/members/${member.id}/sign-in-links`, {}),
      404,
      "organisation.not_found",
    );
    assert.equal((await y.chair.get(`/api/v1/organisations/${orgX}/members`)).status, 404);
    await refusedUnchanged(
      "the chair of Y revoking X's session",
      () => del(`/api/v1/organisations/${orgX}/members/${member.id}/sessions/${memberSession.id}`, y.chairToken),
      404,
      "organisation.not_found",
    );

    // Listed with its session; revoked, refused on the very next request.
    const people = expectStatus(
      await x.chair.get<{ members: { id: string; sessions: { id: string; device: string }[] }[] }>(
        `/api/v1/organisations/${orgX}/members`,
      ),
      200,
      "people",
    ).members;
    assert.deepEqual(
      people.find((p) => p.id === member.id)?.sessions.map((s) => s.device),
      ["test phone"],
    );
    assert.equal((await memberApi.get("/api/v1/me")).status, 200);
    assert.equal(
      (await del(`/api/v1/organisations/${orgX}/members/${member.id}/sessions/${memberSession.id}`, x.chairToken))
        .status,
      204,
    );
    const afterRevoke = await memberApi.get<{ code: string }>("/api/v1/me");
    assert.equal(afterRevoke.status, 401);
    assert.equal(afterRevoke.body.code, "auth.invalid");

    // A link past its 72 hours is refused like a used one.
    const late = expectStatus(
      await x.chair.post<{ signIn: { id: string; url: string } }>(
        `/api/v1/organisations/${orgX}/members/${member.id}/sign-in-links`,
        {},
      ),
      201,
      "another link",
    ).signIn;
    await server.ctx.db
      .updateTable("sign_in_links")
      .set({ expires_at_ms: Date.now() - 1 })
      .where("id", "=", late.id)
      .execute();
    await refusedUnchanged("an expired link", () => signInWith(late.url), 401, "sign_in.invalid");

    // The link as an A6 sheet to print.
    const sheet = await fetch(new URL(`/api/v1/organisations/${orgX}/members/${member.id}/sign-in-links`, server.url), {
      method: "POST",
      headers: {
        authorization: `Bearer ${x.chairToken}`,
        accept: "application/pdf",
        "content-type": "application/json",
      },
      body: "{}",
    });
    assert.equal(sheet.status, 201);
    assert.equal(sheet.headers.get("content-type"), "application/pdf");
    assert.equal(
      Buffer.from(await sheet.arrayBuffer())
        .subarray(0, 5)
        .toString("latin1"),
      "%PDF-",
    );

    // Removed, the person's sessions and open links end with them.
    const again = expectStatus(
      await x.chair.post<{ signIn: { url: string } }>(
        `/api/v1/organisations/${orgX}/members/${member.id}/sign-in-links`,
        {},
      ),
      201,
      "a third link",
    ).signIn;
    const second = expectStatus(await signInWith(again.url), 201, "signs in again").session;
    assert.equal((await del(`/api/v1/organisations/${orgX}/members/${member.id}`, x.chairToken)).status, 204);
    assert.equal((await apiClient(server.url, second.token).get("/api/v1/me")).status, 401);
    const audit = await server.ctx.db
      .selectFrom("audit_log")
      .select("action")
      .where("target", "=", member.id)
      .execute();
    assert.deepEqual(audit.map((a) => a.action).sort(), ["member.add", "member.remove"]);
  });

  it("limits applications per address", async () => {
    let limited: ApiResponse<{ code: string }> | undefined;
    for (let i = 0; i < 25 && limited === undefined; i++) {
      const answer = await publicApi.post<{ code: string }>("/api/v1/applications", { kind: "nonsense" });
      if (answer.status === 429) limited = answer;
      else assert.equal(answer.status, 400);
    }
    assert.equal(limited?.body.code, "request.rate_limited");
  });
});
