/**
 * Files that wait on the phone with a queued record (photos, videos, voice notes): kept as
 * IndexedDB blobs when the user records, uploaded resumably before the record is sent (each
 * with its own upload session, so a reload or a dropped link continues where the server's copy
 * ends), their CIDs added to the record's `attachmentCids`. Each queue row shows its files'
 * size and, while they go up, the bytes sent of the total. A file the server refuses (too
 * large, a type it does not take) fails its record, which the queue sets aside with the
 * reason; the others go on.
 */
import type { Api } from "./api.ts";
import { deleteBlob, getBlob, putBlob } from "./media-store.ts";
import type { OfflineQueue, QueuedWrite } from "./offline-queue.ts";
import { pick, type Lang, type Pair } from "./text.ts";
import { fillSlot, h } from "./ui.ts";
import { forgetUploadSession, resumableUpload } from "./upload.ts";

export type QueuedMedia = NonNullable<QueuedWrite["media"]>[number];

const TEXT = {
  files: ["个文件", "file(s)"],
  sending: ["正在上传", "Uploading"],
  waiting: ["等待上传", "waiting to upload"],
} satisfies Record<string, Pair>;

/** Bytes sent of the total, per queued write, while its files go up. */
const progress = new Map<string, { sent: number; total: number }>();
/** The queue row's slot drawn last for each write: progress redraws it without redrawing the page. */
const rows = new Map<string, HTMLElement>();
let watched: OfflineQueue | null = null;
/** Blobs whose files went up: removed once their write is no longer waiting (sweepSentMedia). */
const uploaded = new Set<string>();

function lang(): Lang {
  return document.documentElement.lang.startsWith("en") ? "en" : "zh";
}

/** "1.4 MB", "320 KB": how much waits, as a person reads it. */
export function sizeText(bytes: number): string {
  if (bytes >= 1_000_000) return `${(bytes / 1_000_000).toFixed(1)} MB`;
  return `${String(Math.max(1, Math.round(bytes / 1_000)))} KB`;
}

/** Keeps `files` on the device for the write with `key`; returns what the queue entry names. */
export async function keepMedia(key: string, files: readonly File[]): Promise<QueuedMedia[]> {
  const kept: QueuedMedia[] = [];
  for (const [index, file] of files.entries()) {
    const blobKey = `${key}-m${String(index)}`;
    await putBlob(blobKey, file);
    kept.push({ blobKey, name: file.name, type: file.type, size: file.size });
  }
  return kept;
}

/** Uploads the write's files (resuming any upload begun before), then gives the body to send. */
export async function sendQueuedMedia(write: QueuedWrite, api: Api): Promise<unknown> {
  const media = write.media ?? [];
  if (media.length === 0) return write.body;
  const sizes = media.map((m) => m.size ?? 0);
  const total = sizes.reduce((a, b) => a + b, 0);
  const cids: string[] = [];
  let before = 0;
  for (const [index, item] of media.entries()) {
    const blob = await getBlob(item.blobKey);
    if (blob === null) continue;
    const stored = await resumableUpload(
      blob,
      { name: item.name, type: item.type },
      api.authorization(),
      item.blobKey,
      (sent) => {
        progress.set(write.key, { sent: before + sent, total });
        redraw(write.key);
      },
    );
    cids.push(stored.media.cid);
    uploaded.add(item.blobKey);
    before += sizes[index] ?? blob.size;
  }
  progress.delete(write.key);
  const body = write.body as { attachmentCids?: string[] };
  return { ...body, attachmentCids: [...(body.attachmentCids ?? []), ...cids] };
}

/** The files that went up for writes the server has since taken leave the phone. */
export async function sweepSentMedia(queue: OfflineQueue): Promise<void> {
  const kept = new Set([...queue.waiting(), ...queue.refused()].flatMap((w) => (w.media ?? []).map((m) => m.blobKey)));
  for (const blobKey of [...uploaded]) {
    if (kept.has(blobKey)) continue;
    uploaded.delete(blobKey);
    await deleteBlob(blobKey).catch(() => undefined);
  }
}

/** The files of writes no longer waiting or set aside leave the phone (sent, or dismissed by the user). */
export async function sweepQueuedMedia(queue: OfflineQueue, dropped: readonly QueuedWrite[]): Promise<void> {
  const kept = new Set([...queue.waiting(), ...queue.refused()].flatMap((w) => (w.media ?? []).map((m) => m.blobKey)));
  for (const write of dropped) {
    for (const m of write.media ?? []) {
      if (kept.has(m.blobKey)) continue;
      forgetUploadSession(m.blobKey);
      await deleteBlob(m.blobKey).catch(() => undefined);
    }
  }
}

function draw(slot: HTMLElement, key: string): void {
  const write = watched?.waiting().find((w) => w.key === key);
  const media = write?.media ?? [];
  if (media.length === 0) {
    slot.replaceChildren();
    return;
  }
  const total = media.reduce((sum, m) => sum + (m.size ?? 0), 0);
  const now = progress.get(key);
  const l = lang();
  slot.replaceChildren(
    h(
      "span",
      { class: "help", "data-testid": "media-size", "data-total": String(total) },
      ` · ${String(media.length)} ${pick(TEXT.files, l)} ${sizeText(total)}`,
    ),
    ...(now === undefined
      ? [h("span", { class: "help" }, ` · ${pick(TEXT.waiting, l)}`)]
      : [
          h("progress", {
            max: String(now.total),
            value: String(now.sent),
            "aria-label": pick(TEXT.sending, l),
            "data-testid": "media-progress",
          }),
          h(
            "span",
            { class: "help", "data-sent": String(now.sent) },
            ` ${sizeText(now.sent)} / ${sizeText(now.total)}`,
          ),
        ]),
  );
}

function redraw(key: string): void {
  const slot = rows.get(key);
  if (slot?.isConnected === true) draw(slot, key);
}

/** Draws the size and progress of each queue row's files from now on, for this console's queue. */
export function watchQueueMedia(queue: OfflineQueue): void {
  watched = queue;
  fillSlot("media-progress", (slot, context) => {
    if (context.key === undefined) return;
    rows.set(context.key, slot);
    draw(slot, context.key);
  });
}
