/**
 * A voice note and a video for an event (issue 15, parts 4 and 5), drawn into the forms'
 * `voice-note` slot: tap to record, tap to stop (MediaRecorder, in whatever audio type the
 * browser gives), play it back before sending, remove it; or pick a video. Never required.
 * The files are taken by the form's submit (`takeAttachments`), wait in the offline queue with
 * the record and are attached to the event as media CIDs, so they are content-addressed like
 * a report photo.
 */
import { pick, type Lang, type Pair } from "./text.ts";
import { fillSlot, h, type SlotContext } from "./ui.ts";
import { sizeText } from "./media-queue.ts";

const TEXT = {
  title: ["语音备注或视频（可以不加）", "Voice note or video (optional)"],
  record: ["🎤 点一下开始录音", "🎤 Tap to record a voice note"],
  stop: ["⏹ 点一下停止录音", "⏹ Tap to stop recording"],
  remove: ["删除录音", "Remove the voice note"],
  video: ["🎬 添加视频", "🎬 Add a video"],
  removeVideo: ["删除视频", "Remove the video"],
  noMicrophone: ["无法使用麦克风。", "The microphone could not be used."],
} satisfies Record<string, Pair>;

/** The audio types a recorder may give, best first; the server takes each (services/media.ts). */
const AUDIO_TYPES = ["audio/webm;codecs=opus", "audio/webm", "audio/ogg;codecs=opus", "audio/mp4", "audio/mpeg"];

interface Pending {
  note: File | null;
  video: File | null;
  recorder: MediaRecorder | null;
  problem: string | null;
}

/** What each form has gathered, by form (a field form is rebuilt on every redraw: its key outlives it). */
const pending = new Map<string, Pending>();
const slots = new Map<string, HTMLElement>();

function lang(): Lang {
  return document.documentElement.lang.startsWith("en") ? "en" : "zh";
}

function pendingOf(key: string): Pending {
  let entry = pending.get(key);
  if (entry === undefined) {
    entry = { note: null, video: null, recorder: null, problem: null };
    pending.set(key, entry);
  }
  return entry;
}

function canRecord(): boolean {
  return typeof MediaRecorder !== "undefined" && "mediaDevices" in navigator;
}

async function startRecording(key: string): Promise<void> {
  const entry = pendingOf(key);
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const mimeType = AUDIO_TYPES.find((type) => MediaRecorder.isTypeSupported(type));
    const recorder = new MediaRecorder(stream, mimeType === undefined ? {} : { mimeType });
    const chunks: Blob[] = [];
    recorder.addEventListener("dataavailable", (event) => {
      if (event.data.size > 0) chunks.push(event.data);
    });
    recorder.addEventListener("stop", () => {
      for (const track of stream.getTracks()) track.stop();
      const given = recorder.mimeType !== "" ? recorder.mimeType : (mimeType ?? "audio/webm");
      const type = given.split(";")[0] ?? "audio/webm";
      const extension = type.split("/")[1] ?? "webm";
      entry.note = new File(chunks, `voice-note-${String(Date.now())}.${extension}`, { type });
      entry.recorder = null;
      redraw(key);
    });
    recorder.start(250);
    entry.recorder = recorder;
    entry.problem = null;
  } catch {
    entry.problem = pick(TEXT.noMicrophone, lang());
  }
  redraw(key);
}

function draw(slot: HTMLElement, key: string): void {
  const entry = pendingOf(key);
  const l = lang();
  const parts: HTMLElement[] = [h("span", { class: "help" }, pick(TEXT.title, l))];
  if (canRecord()) {
    const recording = entry.recorder !== null;
    const button = h(
      "button",
      {
        type: "button",
        class: recording ? "big recording" : "big",
        "data-action": "voice-note",
        "aria-pressed": String(recording),
      },
      pick(recording ? TEXT.stop : TEXT.record, l),
    );
    button.addEventListener("click", () => {
      if (entry.recorder !== null) entry.recorder.stop();
      else void startRecording(key);
    });
    parts.push(button);
  }
  if (entry.problem !== null) parts.push(h("p", { class: "help", role: "alert" }, entry.problem));
  if (entry.note !== null) {
    const remove = h("button", { type: "button", "data-action": "remove-voice-note" }, pick(TEXT.remove, l));
    remove.addEventListener("click", () => {
      entry.note = null;
      redraw(key);
    });
    parts.push(
      h("audio", { controls: "", src: URL.createObjectURL(entry.note), "data-testid": "voice-note-preview" }),
      h("span", { class: "help" }, sizeText(entry.note.size)),
      remove,
    );
  }
  const video = h("input", { type: "file", accept: "video/*", capture: "environment", "data-testid": "video-input" });
  video.addEventListener("change", () => {
    entry.video = video.files?.[0] ?? null;
    redraw(key);
  });
  parts.push(h("label", { class: "button-like" }, pick(TEXT.video, l), video));
  if (entry.video !== null) {
    const remove = h("button", { type: "button", "data-action": "remove-video" }, pick(TEXT.removeVideo, l));
    remove.addEventListener("click", () => {
      entry.video = null;
      redraw(key);
    });
    parts.push(
      h(
        "span",
        { class: "help", "data-testid": "video-chosen" },
        `${entry.video.name} · ${sizeText(entry.video.size)}`,
      ),
      remove,
    );
  }
  slot.replaceChildren(h("div", { class: "attachments", "data-testid": "attachments" }, ...parts));
}

function redraw(key: string): void {
  const slot = slots.get(key);
  if (slot !== undefined) draw(slot, key);
}

let formsDrawn = 0;

function keyOf(context: SlotContext): string | null {
  // Registration has its own planting video; notes go with events.
  if (context.where === "cooperative-register") return null;
  // The cooperative's event forms are built once per batch (their slots are not redrawn).
  if (context.where === "cooperative-event") return `cooperative-event:${String(++formsDrawn)}`;
  return `${context.where}:${context.step ?? ""}`;
}

fillSlot("voice-note", (slot, context) => {
  const key = keyOf(context);
  if (key === null) return;
  slot.dataset.attachments = key;
  slots.set(key, slot);
  draw(slot, key);
});

/** The voice note and video gathered in `form`, handed over once (the form starts empty again). */
export function takeAttachments(form: HTMLElement): File[] {
  const key = form.querySelector<HTMLElement>("[data-slot='voice-note']")?.dataset.attachments;
  if (key === undefined) return [];
  const entry = pending.get(key);
  if (entry === undefined) return [];
  entry.recorder?.stop();
  const files = [entry.note, entry.video].filter((f): f is File => f !== null);
  pending.delete(key);
  redraw(key);
  return files;
}
