/**
 * Resumable media uploads (issue 15, part 4; docs/media-uploads.md) through HTTP against the
 * server in this process, which needs no chain for media: a session is opened, a piece sent, a
 * piece cut off mid-way keeps what arrived, the upload resumes at the offset the server reports
 * and finishes with the CID and media record a one-shot upload of the same bytes gets. Another
 * organisation's token gets 404; refusals (over the limit, past the declared size, a wrong
 * offset, an unaccepted type) change nothing; a session past its day is removed with its bytes.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { pino } from "pino";

import { onboardCooperative } from "../../scripts/lib/demo-system.ts";
import { offlineServerEnv } from "../../scripts/lib/local-stack.ts";
import { loadConfig } from "../../server/src/config.ts";
import { importFile } from "../../server/src/ipfs/unixfs-file.ts";
import { startServer, type RunningServer } from "../../server/src/server.ts";
import { sweepExpiredUploadSessions } from "../../server/src/services/upload-sessions.ts";
import { getMedia } from "../../server/src/storage/media.ts";

const LIMIT_BYTES = 4 * 1024 * 1024;
const PIECE_TYPE = "application/offset+octet-stream";

interface UploadBody {
  upload: {
    id: string;
    offset: number;
    sizeBytes: number;
    expiresAt: string;
    media: { cid: string; contentType: string; sizeBytes: number; fileName: string | null; uploadedBy: string } | null;
  };
  url: string | null;
}
interface Answer<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

describe("resumable media uploads", () => {
  let dataDir: string;
  let server: RunningServer;
  let ownToken: string;
  let ownId: string;
  let otherToken: string;

  async function call<T>(
    method: string,
    url: string,
    token: string,
    body?: { json: unknown } | { bytes: Uint8Array; type?: string; offset: number },
  ): Promise<Answer<T>> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: "application/json" };
    let payload: BodyInit | undefined;
    if (body !== undefined && "json" in body) {
      headers["content-type"] = "application/json";
      payload = JSON.stringify(body.json);
    } else if (body !== undefined) {
      headers["content-type"] = body.type ?? PIECE_TYPE;
      headers["upload-offset"] = String(body.offset);
      payload = new Blob([new Uint8Array(body.bytes)]);
    }
    const response = await fetch(new URL(url, server.url), { method, headers, body: payload ?? null });
    const text = await response.text();
    return { status: response.status, body: (text === "" ? null : JSON.parse(text)) as T, headers: response.headers };
  }

  const open = (token: string, json: unknown): Promise<Answer<UploadBody>> =>
    call<UploadBody>("POST", "/api/v1/media/uploads", token, { json });

  /** What a refusal must leave as it was: sessions, media, the bytes waiting. */
  async function snapshot(): Promise<unknown> {
    const db = server.ctx.db;
    const uploads = path.join(dataDir, "uploads");
    return {
      sessions: await db.selectFrom("upload_sessions").select(["id", "completed_cid"]).orderBy("id").execute(),
      media: await db.selectFrom("media").select("cid").orderBy("cid").execute(),
      files: existsSync(uploads)
        ? readdirSync(uploads)
            .sort()
            .map((name) => `${name}:${String(readFileSize(path.join(uploads, name)))}`)
        : [],
    };
  }

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), "resumable-uploads-"));
    const env: Record<string, string> = { ...offlineServerEnv(dataDir), MEDIA_MAX_BYTES: String(LIMIT_BYTES) };
    const adminToken = env.ADMIN_TOKEN ?? "";
    server = await startServer(loadConfig(env), { logger: pino({ level: "silent" }) });
    const own = await onboardCooperative(server.url, adminToken, { name: { zh: "上传合作社" }, serial: 801 });
    const other = await onboardCooperative(server.url, adminToken, { name: { zh: "别的合作社" }, serial: 802 });
    ownToken = own.token;
    ownId = own.id;
    otherToken = other.token;
  });

  after(async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("resumes at the server's offset after a cut-off piece and stores what a one-shot upload stores", async () => {
    const video = randomBytes(1_500_000);
    const opened = await open(ownToken, {
      contentType: "video/mp4",
      sizeBytes: video.length,
      fileName: "planting.mp4",
    });
    assert.equal(opened.status, 201, JSON.stringify(opened.body));
    const id = opened.body.upload.id;
    assert.equal(opened.headers.get("location"), `/api/v1/media/uploads/${id}`);
    assert.equal(opened.body.upload.offset, 0);

    const first = await call<UploadBody>("PATCH", `/api/v1/media/uploads/${id}`, ownToken, {
      bytes: video.subarray(0, 400_000),
      offset: 0,
    });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.upload.offset, 400_000);
    assert.equal(first.body.upload.media, null);

    const head = await fetch(new URL(`/api/v1/media/uploads/${id}`, server.url), {
      method: "HEAD",
      headers: { authorization: `Bearer ${ownToken}` },
    });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("upload-offset"), "400000");
    assert.equal(head.headers.get("upload-length"), String(video.length));

    // A piece that does not start where the server's copy ends is refused and changes nothing.
    const before = await snapshot();
    const wrong = await call<{ code: string; offset: number }>("PATCH", `/api/v1/media/uploads/${id}`, ownToken, {
      bytes: video.subarray(300_000, 500_000),
      offset: 300_000,
    });
    assert.equal(wrong.status, 409);
    assert.equal(wrong.body.code, "upload.offset_mismatch");
    assert.equal(wrong.body.offset, 400_000);
    assert.deepEqual(await snapshot(), before);

    // The phone's link drops part-way through a piece: what arrived is kept.
    const cut = await sendThenCut(server.url, ownToken, id, 400_000, video.subarray(400_000), 600_000);
    const resumedAt = await settledOffset(id);
    assert.ok(resumedAt > 400_000, `kept nothing of the cut-off piece (offset ${String(resumedAt)})`);
    assert.ok(resumedAt <= 400_000 + cut, `kept more than was sent (${String(resumedAt)})`);

    const last = await call<UploadBody>("PATCH", `/api/v1/media/uploads/${id}`, ownToken, {
      bytes: video.subarray(resumedAt),
      offset: resumedAt,
    });
    assert.equal(last.status, 201, JSON.stringify(last.body));
    const media = last.body.upload.media;
    assert.ok(media !== null);
    assert.equal(last.body.url, `/ipfs/${media.cid}`);
    assert.equal(media.cid, (await importFile([video], { put: () => Promise.resolve() })).toString());
    assert.deepEqual(
      {
        contentType: media.contentType,
        sizeBytes: media.sizeBytes,
        fileName: media.fileName,
        uploadedBy: media.uploadedBy,
      },
      { contentType: "video/mp4", sizeBytes: video.length, fileName: "planting.mp4", uploadedBy: ownId },
    );
    const served = await fetch(new URL(`/ipfs/${media.cid}`, server.url));
    assert.equal(served.headers.get("content-type"), "video/mp4");
    assert.ok(Buffer.from(await served.arrayBuffer()).equals(video), "the stored bytes are not the video");
    assert.equal(existsSync(path.join(dataDir, "uploads", `${id}.part`)), false, "the waiting bytes were kept");

    // The same bytes in one request: the same CID, the same record.
    const oneShot = await fetch(new URL("/api/v1/media", server.url), {
      method: "POST",
      headers: { authorization: `Bearer ${ownToken}`, "content-type": "video/mp4", "x-file-name": "planting.mp4" },
      body: new Blob([new Uint8Array(video)]),
    });
    assert.equal(oneShot.status, 201);
    const shot = (await oneShot.json()) as { media: { cid: string } };
    assert.equal(shot.media.cid, media.cid);
    const record = await getMedia(server.ctx.db, media.cid);
    assert.deepEqual(
      record && { contentType: record.contentType, sizeBytes: record.sizeBytes, uploadedBy: record.uploadedBy },
      { contentType: "video/mp4", sizeBytes: video.length, uploadedBy: ownId },
    );

    // The last answer lost: asking again, or sending the last piece again, gives the same media.
    const again = await call<UploadBody>("GET", `/api/v1/media/uploads/${id}`, ownToken);
    assert.equal(again.body.upload.offset, video.length);
    assert.equal(again.body.upload.media?.cid, media.cid);
    const replayed = await call<UploadBody>("PATCH", `/api/v1/media/uploads/${id}`, ownToken, {
      bytes: video.subarray(resumedAt),
      offset: resumedAt,
    });
    assert.equal(replayed.body.upload.media?.cid, media.cid);
  });

  it("answers another organisation 404 on a session, and a voice note is accepted", async () => {
    const note = randomBytes(20_000);
    const opened = await open(ownToken, { contentType: "audio/webm", sizeBytes: note.length, fileName: "note.webm" });
    assert.equal(opened.status, 201, JSON.stringify(opened.body));
    const id = opened.body.upload.id;
    const before = await snapshot();
    for (const method of ["GET", "PATCH"]) {
      const answer = await call<{ code: string }>(
        method,
        `/api/v1/media/uploads/${id}`,
        otherToken,
        method === "PATCH" ? { bytes: note, offset: 0 } : undefined,
      );
      assert.equal(answer.status, 404, method);
      assert.equal(answer.body.code, "upload.not_found");
    }
    assert.equal((await call("GET", `/api/v1/media/uploads/upl_nonsense`, ownToken)).status, 404);
    assert.deepEqual(await snapshot(), before);
    const done = await call<UploadBody>("PATCH", `/api/v1/media/uploads/${id}`, ownToken, { bytes: note, offset: 0 });
    assert.equal(done.status, 201);
    assert.equal(done.body.upload.media?.contentType, "audio/webm");
  });

  it("lets a person of the organisation upload only with the batches or events capability", async () => {
    const tokenOf = async (capabilities: string[]): Promise<string> => {
      const member = await call<{ member: { id: string } }>(
        "POST",
        `/api/v1/organisations/${ownId}/members`,
        ownToken,
        {
          json: { name: `成员 ${capabilities.join(",")}`, capabilities },
        },
      );
      assert.equal(member.status, 201, JSON.stringify(member.body));
      const link = await call<{ signIn: { url: string } }>(
        "POST",
        `/api/v1/organisations/${ownId}/members/${member.body.member.id}/sign-in-links`,
        ownToken,
        { json: {} },
      );
      assert.equal(link.status, 201, JSON.stringify(link.body));
      const signedIn = await fetch(new URL("/api/v1/sign-in", server.url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token: new URL(link.body.signIn.url).hash.replace(/^#t=/, ""), device: "test phone" }),
      });
      assert.equal(signedIn.status, 201);
      return ((await signedIn.json()) as { session: { token: string } }).session.token;
    };
    const opened = await open(ownToken, { contentType: "video/mp4", sizeBytes: 100 });
    const id = opened.body.upload.id;
    const before = await snapshot();
    const without = await tokenOf(["members"]);
    const refusedOpen = await open(without, { contentType: "video/mp4", sizeBytes: 100 });
    assert.equal(refusedOpen.status, 403);
    assert.equal((refusedOpen.body as unknown as { code: string }).code, "member.capability_missing");
    const refusedPiece = await call<{ code: string }>("PATCH", `/api/v1/media/uploads/${id}`, without, {
      bytes: randomBytes(100),
      offset: 0,
    });
    assert.equal(refusedPiece.status, 403);
    assert.deepEqual(await snapshot(), before);
    // A person who records events continues the organisation's session.
    const recorder = await tokenOf(["events"]);
    const done = await call<UploadBody>("PATCH", `/api/v1/media/uploads/${id}`, recorder, {
      bytes: randomBytes(100),
      offset: 0,
    });
    assert.equal(done.status, 201, JSON.stringify(done.body));
  });

  it("refuses what is over the limit, past the declared size or of a type not accepted, changing nothing", async () => {
    const before = await snapshot();
    const over = await open(ownToken, { contentType: "video/mp4", sizeBytes: LIMIT_BYTES + 1 });
    assert.equal(over.status, 413);
    assert.equal((over.body as unknown as { code: string }).code, "media.too_large");
    const exe = await open(ownToken, { contentType: "application/x-msdownload", sizeBytes: 10 });
    assert.equal(exe.status, 415);
    const empty = await open(ownToken, { contentType: "video/mp4", sizeBytes: 0 });
    assert.equal(empty.status, 400);
    const bad = await open(ownToken, { contentType: "video/mp4", sizeBytes: "big" });
    assert.equal(bad.status, 400);
    assert.deepEqual(await snapshot(), before);

    const opened = await open(ownToken, { contentType: "image/jpeg", sizeBytes: 1_000 });
    const id = opened.body.upload.id;
    await call("PATCH", `/api/v1/media/uploads/${id}`, ownToken, { bytes: randomBytes(600), offset: 0 });
    const held = await snapshot();
    const past = await call<{ code: string }>("PATCH", `/api/v1/media/uploads/${id}`, ownToken, {
      bytes: randomBytes(600),
      offset: 600,
    });
    assert.equal(past.status, 413);
    assert.equal(past.body.code, "media.too_large");
    const wrongType = await call<{ code: string }>("PATCH", `/api/v1/media/uploads/${id}`, ownToken, {
      bytes: randomBytes(10),
      offset: 600,
      type: "image/jpeg",
    });
    assert.equal(wrongType.status, 415);
    assert.deepEqual(await snapshot(), held);
    assert.equal((await call<UploadBody>("GET", `/api/v1/media/uploads/${id}`, ownToken)).body.upload.offset, 600);
  });

  it("removes a session and its bytes once its day is over", async () => {
    const opened = await open(ownToken, { contentType: "video/webm", sizeBytes: 5_000 });
    const id = opened.body.upload.id;
    await call("PATCH", `/api/v1/media/uploads/${id}`, ownToken, { bytes: randomBytes(2_000), offset: 0 });
    const file = path.join(dataDir, "uploads", `${id}.part`);
    assert.equal(readFileSize(file), 2_000);
    const expiresAtMs = Date.parse(opened.body.upload.expiresAt);
    assert.ok(Math.abs(expiresAtMs - Date.now() - 24 * 3_600_000) < 60_000, "a session lives 24 hours");
    // Sessions opened earlier in this file may go first; this one is kept until its own time.
    await sweepExpiredUploadSessions(server.ctx, expiresAtMs - 1);
    assert.equal(readFileSize(file), 2_000);
    assert.equal((await call<UploadBody>("GET", `/api/v1/media/uploads/${id}`, ownToken)).body.upload.offset, 2_000);
    assert.ok((await sweepExpiredUploadSessions(server.ctx, expiresAtMs + 1)) >= 1);
    assert.equal(existsSync(file), false);
    assert.equal(
      await server.ctx.db.selectFrom("upload_sessions").select("id").where("id", "=", id).executeTakeFirst(),
      undefined,
    );
    assert.equal((await call("GET", `/api/v1/media/uploads/${id}`, ownToken)).status, 404);
  });

  /** The offset once the server has noticed the cut (the session is no longer being written). */
  async function settledOffset(id: string): Promise<number> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = await call<{ code: string }>("PATCH", `/api/v1/media/uploads/${id}`, ownToken, {
        bytes: new Uint8Array(0),
        offset: 0,
      });
      if (probe.status === 409 && probe.body.code === "upload.offset_mismatch") {
        return (probe.body as unknown as { offset: number }).offset;
      }
      if (Date.now() > deadline) throw new Error(`the cut piece never settled: ${JSON.stringify(probe.body)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
});

function readFileSize(file: string): number {
  return existsSync(file) ? statSync(file).size : -1;
}

/** Sends `cutAfter` bytes of a piece declared whole, then destroys the socket as a dropped link would. */
async function sendThenCut(
  baseUrl: string,
  token: string,
  id: string,
  offset: number,
  rest: Uint8Array,
  cutAfter: number,
): Promise<number> {
  const request = httpRequest(new URL(`/api/v1/media/uploads/${id}`, baseUrl), {
    agent: false,
    method: "PATCH",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": PIECE_TYPE,
      "upload-offset": String(offset),
      "content-length": String(rest.length),
    },
  });
  request.on("error", () => undefined);
  await new Promise<void>((resolve) => {
    request.write(rest.subarray(0, cutAfter), () => {
      resolve();
    });
  });
  // Let the bytes reach the server before the link goes.
  await new Promise((resolve) => setTimeout(resolve, 300));
  request.destroy();
  return cutAfter;
}
