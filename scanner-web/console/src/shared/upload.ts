/**
 * Media upload with a progress bar. fetch cannot report upload progress, so this one
 * request goes through XMLHttpRequest; the file is streamed from disk by the browser,
 * never read into page memory, so a 2 GB planting video from a phone works. The same
 * Idempotency-Key is sent on a retry, so a dropped answer never stores the video twice.
 */
import { NetworkFailure, ProblemFailure, type ProblemBody } from "./api.ts";

export interface UploadedMedia {
  media: { cid: string; bytes?: number; contentType?: string };
  url: string;
}

export interface UploadHandle {
  done: Promise<UploadedMedia>;
  abort: () => void;
}

export function uploadMedia(
  file: File,
  authorization: string,
  idempotencyKey: string,
  onProgress: (fraction: number) => void,
): UploadHandle {
  const xhr = new XMLHttpRequest();
  const done = new Promise<UploadedMedia>((resolve, reject) => {
    xhr.open("POST", "/api/v1/media");
    xhr.setRequestHeader("authorization", authorization);
    xhr.setRequestHeader("content-type", file.type === "" ? "application/octet-stream" : file.type);
    xhr.setRequestHeader("x-file-name", encodeURIComponent(file.name));
    xhr.setRequestHeader("idempotency-key", idempotencyKey);
    xhr.setRequestHeader("accept", "application/json");
    xhr.responseType = "text";
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      let body: unknown;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status === 201 && typeof body === "object" && body !== null && "media" in body) {
        onProgress(1);
        resolve(body as UploadedMedia);
        return;
      }
      const problem =
        typeof body === "object" && body !== null && "code" in body && "message" in body
          ? (body as ProblemBody)
          : {
              code: "console.unexpected_answer",
              status: xhr.status,
              message: {
                zh: `上传失败（${String(xhr.status)}）。`,
                en: `The upload failed (${String(xhr.status)}).`,
              },
            };
      reject(new ProblemFailure(problem));
    });
    xhr.addEventListener("error", () => {
      reject(new NetworkFailure("the upload did not reach the server"));
    });
    xhr.addEventListener("abort", () => {
      reject(new NetworkFailure("the upload was cancelled"));
    });
    xhr.send(file);
  });
  return {
    done,
    abort: () => {
      xhr.abort();
    },
  };
}

/**
 * Resumable upload (docs/media-uploads.md): the file goes up in pieces to an upload session,
 * each piece starting at the offset the server reports, so a dropped connection, a reload or
 * a day offline costs at most what was in flight. The session's id is kept in localStorage
 * under `sessionKey`, so a reloaded page continues the same session rather than starting over.
 */
export const PIECE_BYTES = 2 * 1024 * 1024;
const PIECE_TYPE = "application/offset+octet-stream";
const SESSION_STORE = "oioc.upload.";

interface SessionAnswer {
  upload: { id: string; offset: number; sizeBytes: number; media: UploadedMedia["media"] | null };
  url: string | null;
}
interface Kept {
  /** The Idempotency-Key the session is opened with: a lost answer gives the same session again. */
  key: string;
  id: string | null;
}

interface Sent {
  status: number;
  body: unknown;
}

function send(
  method: "GET" | "POST" | "PATCH",
  url: string,
  authorization: string,
  options: {
    json?: unknown;
    piece?: Blob;
    offset?: number;
    idempotencyKey?: string;
    signal?: AbortSignal;
    onProgress?: (loaded: number) => void;
  } = {},
): Promise<Sent> {
  return new Promise<Sent>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader("authorization", authorization);
    xhr.setRequestHeader("accept", "application/json");
    if (options.idempotencyKey !== undefined) xhr.setRequestHeader("idempotency-key", options.idempotencyKey);
    xhr.responseType = "text";
    const onProgress = options.onProgress;
    if (onProgress !== undefined) {
      xhr.upload.addEventListener("progress", (event) => {
        onProgress(event.loaded);
      });
    }
    xhr.addEventListener("load", () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // Not JSON: a proxy's page; the status says enough.
      }
      resolve({ status: xhr.status, body });
    });
    xhr.addEventListener("error", () => {
      reject(new NetworkFailure("the upload did not reach the server"));
    });
    xhr.addEventListener("abort", () => {
      reject(new NetworkFailure("the upload was cancelled"));
    });
    options.signal?.addEventListener("abort", () => {
      xhr.abort();
    });
    if (options.piece !== undefined) {
      xhr.setRequestHeader("content-type", PIECE_TYPE);
      xhr.setRequestHeader("upload-offset", String(options.offset ?? 0));
      xhr.send(options.piece);
    } else if (options.json !== undefined) {
      xhr.setRequestHeader("content-type", "application/json");
      xhr.send(JSON.stringify(options.json));
    } else {
      xhr.send();
    }
  });
}

function problemOf(sent: Sent): ProblemFailure {
  const body = sent.body;
  if (typeof body === "object" && body !== null && "code" in body && "message" in body) {
    return new ProblemFailure(body as ProblemBody);
  }
  return new ProblemFailure({
    code: "console.unexpected_answer",
    status: sent.status,
    message: { zh: `上传失败（${String(sent.status)}）。`, en: `The upload failed (${String(sent.status)}).` },
  });
}

function readKept(sessionKey: string): Kept | null {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(SESSION_STORE + sessionKey) ?? "null");
    return typeof parsed === "object" && parsed !== null && "key" in parsed ? (parsed as Kept) : null;
  } catch {
    return null;
  }
}

function keep(sessionKey: string, kept: Kept | null): void {
  if (kept === null) localStorage.removeItem(SESSION_STORE + sessionKey);
  else localStorage.setItem(SESSION_STORE + sessionKey, JSON.stringify(kept));
}

function isSession(body: unknown): body is SessionAnswer {
  return typeof body === "object" && body !== null && "upload" in body;
}

function finished(answer: SessionAnswer, sessionKey: string): UploadedMedia | null {
  const media = answer.upload.media;
  if (media === null) return null;
  keep(sessionKey, null);
  return { media, url: answer.url ?? `/ipfs/${media.cid}` };
}

export async function resumableUpload(
  file: Blob,
  meta: { name: string; type: string },
  authorization: string,
  sessionKey: string,
  onProgress: (sentBytes: number, totalBytes: number) => void,
  signal?: AbortSignal,
): Promise<UploadedMedia> {
  const total = file.size;
  // A session the server no longer knows (expired after a day) is opened again, once.
  for (let opened = 0; opened < 2; opened++) {
    let kept = readKept(sessionKey);
    if (kept?.id == null) {
      kept = { key: kept?.key ?? `${sessionKey}-${String(Date.now())}`, id: null };
      keep(sessionKey, kept);
      const created = await send("POST", "/api/v1/media/uploads", authorization, {
        json: {
          contentType: meta.type === "" ? "application/octet-stream" : meta.type,
          sizeBytes: total,
          fileName: meta.name,
        },
        idempotencyKey: kept.key,
        signal,
      });
      if (created.status !== 201 || !isSession(created.body)) {
        // Refused for good (too large, a type not taken): nothing to resume, nothing to keep.
        if (created.status >= 400 && created.status < 500 && created.status !== 429) keep(sessionKey, null);
        throw problemOf(created);
      }
      kept = { ...kept, id: created.body.upload.id };
      keep(sessionKey, kept);
    }
    const url = `/api/v1/media/uploads/${kept.id}`;
    let answer = await send("GET", url, authorization, { signal });
    if (answer.status === 404) {
      keep(sessionKey, null);
      continue;
    }
    if (answer.status !== 200 || !isSession(answer.body)) throw problemOf(answer);
    let offset = answer.body.upload.offset;
    onProgress(offset, total);
    const done = finished(answer.body, sessionKey);
    if (done !== null) return done;
    let lost = false;
    while (!lost) {
      const from = offset;
      answer = await send("PATCH", url, authorization, {
        piece: file.slice(from, Math.min(total, from + PIECE_BYTES)),
        offset: from,
        signal,
        onProgress: (loaded) => {
          onProgress(from + loaded, total);
        },
      });
      const body = answer.body;
      if (answer.status === 409 && typeof body === "object" && body !== null && "offset" in body) {
        // The server's copy ends elsewhere (an earlier piece's answer was lost): continue from there.
        offset = Number(body.offset);
        continue;
      }
      if (answer.status === 404) {
        keep(sessionKey, null);
        lost = true;
        continue;
      }
      if (answer.status === 409 && typeof body === "object" && body !== null && "code" in body) {
        // The server is still writing the piece whose connection dropped: ask again shortly.
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        const again = await send("GET", url, authorization, { signal });
        if (again.status !== 200 || !isSession(again.body)) throw problemOf(again);
        offset = again.body.upload.offset;
        continue;
      }
      if ((answer.status !== 200 && answer.status !== 201) || !isSession(body)) throw problemOf(answer);
      offset = body.upload.offset;
      onProgress(offset, total);
      const stored = finished(body, sessionKey);
      if (stored !== null) return stored;
    }
  }
  throw new ProblemFailure({
    code: "upload.not_found",
    status: 404,
    message: { zh: "上传会话已失效，请重新发送。", en: "The upload session was lost; send again." },
  });
}

/** Forgets the session kept for `sessionKey` (its entry was dismissed): the server drops it after a day. */
export function forgetUploadSession(sessionKey: string): void {
  keep(sessionKey, null);
}
