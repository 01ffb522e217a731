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
