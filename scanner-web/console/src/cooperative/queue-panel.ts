/** The writes waiting on this phone for a connection, and those the server refused, with its reason. */
import { chinaIsoTime } from "../../../../server/src/domain/china-time.ts";
import { pictogram, pictogramFor } from "../shared/pictograms.ts";
import { sweepQueuedMedia } from "../shared/media-queue.ts";
import { COMMON, pick } from "../shared/text.ts";
import { chinaMinute, h, problemDetail, slot } from "../shared/ui.ts";
import { state } from "./state.ts";

/** HH:MM:SS in China time: a retry is seconds or minutes away. */
function chinaTime(ms: number): string {
  return chinaIsoTime(ms).slice(11, 19);
}

export function queuePanel(): HTMLElement[] {
  const queue = state.queue;
  if (queue === null) return [];
  const panels: HTMLElement[] = [];
  const waiting = queue.waiting();
  if (waiting.length > 0) {
    panels.push(
      h(
        "section",
        { class: "card queue", "data-testid": "queue" },
        h("h2", {}, `${pick(COMMON.waiting, state.lang)} (${String(waiting.length)})`),
        h(
          "ul",
          {},
          ...waiting.map((w) => {
            const queued = `${pick(w.label, state.lang)} · ${chinaMinute(new Date(w.queuedAtMs).toISOString())}`;
            // An entry waiting out a backoff says why and until when, so the user sees it is not stuck.
            const retry =
              w.nextAttemptAtMs === undefined || w.lastProblem === undefined
                ? ""
                : ` · ${pick(w.lastProblem.message, state.lang)} ${pick(COMMON.retryAt, state.lang).replace(
                    "{time}",
                    chinaTime(w.nextAttemptAtMs),
                  )}`;
            return h(
              "li",
              { "data-key": w.key, class: "with-picture" },
              pictogram(pictogramFor(w)),
              queued + retry,
              slot("media-progress", { where: "queue-entry", key: w.key }),
            );
          }),
        ),
      ),
    );
  }
  for (const refused of queue.refused()) {
    const dismiss = h("button", { type: "button", "data-action": "dismiss" }, pick(COMMON.dismiss, state.lang));
    dismiss.addEventListener("click", () => {
      const queue = state.queue;
      if (queue === null) return;
      queue.dismissRefused(refused.key);
      // Its voice note or video leaves the phone with it.
      void sweepQueuedMedia(queue, [refused]);
    });
    const again = h("button", { type: "button", "data-action": "send-again" }, pick(COMMON.sendAgain, state.lang));
    again.addEventListener("click", () => {
      state.queue?.retryRefused(refused.key);
      if (state.api !== null) void state.queue?.flush(state.api, { now: true });
    });
    panels.push(
      h(
        "section",
        { class: "card queue queue-refused", role: "alert", "data-testid": "queue-refused", "data-key": refused.key },
        h("h2", {}, `${pick(COMMON.refused, state.lang)}: ${pick(refused.label, state.lang)}`),
        h("p", {}, `${pick(refused.problem.message, state.lang)} [${refused.problem.code}]`),
        ...(problemDetail(refused.problem, state.lang) === ""
          ? []
          : [h("p", { class: "detail" }, problemDetail(refused.problem, state.lang).trim())]),
        h("div", { class: "actions" }, again, dismiss),
      ),
    );
  }
  return panels;
}
