/** The planting video: uploaded (resumably) as soon as it is chosen, with a progress bar, its CID kept in the draft. */
import { newIdempotencyKey } from "../shared/api.ts";
import { failureText, h } from "../shared/ui.ts";
import { resumableUpload } from "../shared/upload.ts";
import { state } from "./state.ts";
import { t } from "./text.ts";

let uploadContainer: HTMLElement | null = null;

/** The progress area for a newly built register form; the upload draws into the latest one. */
export function uploadProgress(): HTMLElement {
  uploadContainer = h("div", {}, progressBar());
  return uploadContainer;
}

function progressBar(): HTMLElement {
  const video = state.draft.video;
  if (video.name === "") return h("div", { class: "upload", "data-testid": "upload" });
  const percent = Math.round(video.fraction * 100);
  const progress = h("progress", { max: "100", value: String(percent), "aria-label": t("uploading") });
  const label =
    video.error !== null
      ? video.error
      : video.cid !== null
        ? `${t("uploaded")}: ${video.name}`
        : `${t("uploading")} ${video.name} ${String(percent)}%`;
  return h(
    "div",
    {
      class: `upload${video.error === null ? "" : " upload-failed"}`,
      "data-testid": "upload",
      "data-percent": String(percent),
    },
    progress,
    h("span", {}, label),
  );
}

export function startUpload(file: File): void {
  if (state.api === null) return;
  state.draft.video.handle?.abort();
  state.draft.video = { name: file.name, fraction: 0, cid: null, error: null, handle: null };
  state.draft.idempotencyKey = newIdempotencyKey();
  // The form may be rebuilt mid-upload (a language switch): draw into whichever is current.
  const redraw = (): void => uploadContainer?.replaceChildren(progressBar());
  redraw();
  let lastDrawn = 0;
  // Resumable: a link that drops mid-video continues from the server's offset, not from zero.
  const stop = new AbortController();
  const done = resumableUpload(
    file,
    { name: file.name, type: file.type },
    state.api.authorization(),
    newIdempotencyKey(),
    (sent, total) => {
      const fraction = total === 0 ? 0 : sent / total;
      state.draft.video.fraction = fraction;
      // Redraw at most every whole percent: progress events come by the hundred.
      if (Math.floor(fraction * 100) !== lastDrawn || fraction === 1) {
        lastDrawn = Math.floor(fraction * 100);
        redraw();
      }
    },
    stop.signal,
  );
  const handle = {
    done,
    abort: () => {
      stop.abort();
    },
  };
  state.draft.video.handle = handle;
  handle.done.then(
    (uploaded) => {
      state.draft.video.cid = uploaded.media.cid;
      state.draft.video.fraction = 1;
      state.draft.video.handle = null;
      redraw();
    },
    (error: unknown) => {
      state.draft.video.error = failureText(error, state.lang);
      state.draft.video.handle = null;
      redraw();
    },
  );
}
