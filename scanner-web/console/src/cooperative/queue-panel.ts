/** The writes waiting on this phone for a connection, and those the server refused, with its reason. */
import { COMMON, pick } from "../shared/text.ts";
import { chinaMinute, h } from "../shared/ui.ts";
import { state } from "./state.ts";

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
          ...waiting.map((w) =>
            h("li", {}, `${pick(w.label, state.lang)} · ${chinaMinute(new Date(w.queuedAtMs).toISOString())}`),
          ),
        ),
      ),
    );
  }
  for (const refused of queue.refused()) {
    const dismiss = h("button", { type: "button" }, pick(COMMON.dismiss, state.lang));
    dismiss.addEventListener("click", () => state.queue?.dismissRefused(refused.key));
    panels.push(
      h(
        "section",
        { class: "card queue queue-refused", role: "alert" },
        h("h2", {}, `${pick(COMMON.refused, state.lang)}: ${pick(refused.label, state.lang)}`),
        h("p", {}, `${pick(refused.problem.message, state.lang)} [${refused.problem.code}]`),
        dismiss,
      ),
    );
  }
  return panels;
}
