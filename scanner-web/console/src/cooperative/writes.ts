/** Every write the cooperative makes goes through here: sent now, kept for later offline, or signed in a wallet. */
import { NetworkFailure, ProblemFailure } from "../shared/api.ts";
import type { Pair } from "../shared/text.ts";
import { flash } from "../shared/ui.ts";
import { keepMedia } from "../shared/media-queue.ts";
import { isPassing } from "../shared/offline-queue.ts";
import { WalletMissing, signAndSubmit, type SignatureRequestView } from "../shared/wallet.ts";
import { flashRegion, state } from "./state.ts";
import { T, t } from "./text.ts";

/**
 * Sends a write now, or keeps it for later when there is no connection. An organisation
 * holding its own key gets typed data back, which its wallet signs before it counts.
 */
export async function write(path: string, body: unknown, label: Pair, key: string): Promise<"sent" | "queued"> {
  if (state.api === null || state.me?.organisation == null) throw new Error("not signed in");
  const entry = { key, path, body, label: { zh: label[0], en: label[1] }, queuedAtMs: Date.now() };
  if (!navigator.onLine) {
    state.queue?.add(entry);
    return "queued";
  }
  try {
    const answer = await state.api.json<{ signatureRequest?: SignatureRequestView }>(path, {
      method: "POST",
      body,
      idempotencyKey: key,
    });
    const request = answer.body.signatureRequest;
    if (answer.status === 201 && request !== undefined) {
      flash(flashRegion, "info", t("walletSign"));
      await signAndSubmit(state.api, request, state.me.organisation.signerAddress);
    }
    return "sent";
  } catch (error) {
    // Not now rather than no (no connection, the server down or still holding this key
    // after a crash): the same key is sent again later from the queue, which never makes it twice.
    if (error instanceof NetworkFailure || (error instanceof ProblemFailure && isPassing(error.problem))) {
      state.queue?.add(entry);
      return "queued";
    }
    if (error instanceof WalletMissing) {
      throw new ProblemFailure({
        code: "console.wallet_missing",
        status: 400,
        message: { zh: T.walletMissing[0], en: T.walletMissing[1] },
        detail: error.message,
      });
    }
    throw error;
  }
}

/**
 * A write with files (a voice note, a video): the files are kept on the phone and the write
 * goes through the queue, which uploads them resumably before it and shows their progress,
 * at once when online, later when not.
 */
export async function writeWithMedia(
  path: string,
  body: unknown,
  label: Pair,
  key: string,
  files: readonly File[],
): Promise<"queued"> {
  const queue = state.queue;
  if (state.api === null || queue === null) throw new Error("not signed in");
  const media = await keepMedia(key, files);
  queue.add({ key, path, body, label: { zh: label[0], en: label[1] }, queuedAtMs: Date.now(), media });
  if (navigator.onLine) void queue.flush(state.api, { now: true });
  return "queued";
}
