/**
 * The outbox's health: entries by kind and state, the oldest one waiting, the last errors
 * (their code and message, URLs removed by the server), and the indexer's block against the
 * chain's head (`GET /api/v1/admin/outbox`). A failed entry is final; the panel says why no
 * retry is offered.
 */
import type { OutboxHealth } from "../../../../server/src/services/operator.ts";
import { pick } from "../shared/text.ts";
import { h } from "../shared/ui.ts";
import { duration, factsTable, panelData, panelFrame, when } from "./panel.ts";
import { state } from "./state.ts";
import { STATE_TEXT, fill, t, textOf } from "./text.ts";

const STATES = ["pending", "submitted", "anchored", "failed"] as const;

/** The service's health as the route sends it: times as ISO strings. */
interface OutboxAnswer extends Omit<OutboxHealth, "oldestPending" | "lastErrors"> {
  oldestPending: { acceptedAt: string; ageSeconds: number } | null;
  lastErrors: (Omit<OutboxHealth["lastErrors"][number], "at"> & { at: string })[];
}

export const outbox = panelData<OutboxAnswer>("/api/v1/admin/outbox");

const BADGE: Record<string, string> = {
  pending: "ledger-pending",
  submitted: "ledger-submitted",
  anchored: "ledger-anchored",
  failed: "ledger-failed",
};

function byKind(value: OutboxAnswer): HTMLElement {
  const kinds = [...new Set(value.counts.map((c) => c.kind))];
  const countOf = (kind: string, s: string): number =>
    value.counts.find((c) => c.kind === kind && c.state === s)?.count ?? 0;
  return h(
    "div",
    { class: "card table-wrap" },
    h("h2", {}, t("byKind")),
    h(
      "table",
      { "data-testid": "outbox-counts" },
      h("thead", {}, h("tr", {}, h("th", {}, t("kind")), ...STATES.map((s) => h("th", {}, textOf(STATE_TEXT, s))))),
      h(
        "tbody",
        {},
        ...kinds.map((kind) =>
          h(
            "tr",
            { "data-kind": kind },
            h("td", { class: "nowrap" }, h("code", {}, kind)),
            ...STATES.map((s) => h("td", { "data-state": s }, String(countOf(kind, s)))),
          ),
        ),
      ),
    ),
  );
}

function lastErrors(value: OutboxAnswer): HTMLElement {
  return h(
    "div",
    { class: "card" },
    h("h2", {}, t("lastErrors")),
    value.lastErrors.length === 0
      ? h("p", { "data-testid": "no-errors" }, t("noErrors"))
      : h(
          "ul",
          { class: "errors", "data-testid": "last-errors" },
          ...value.lastErrors.map((error) =>
            h(
              "li",
              { "data-code": error.code, "data-state": error.state },
              h(
                "p",
                {},
                h("span", { class: `badge ${BADGE[error.state] ?? ""}` }, textOf(STATE_TEXT, error.state)),
                " ",
                h("code", {}, error.code),
                ` · ${error.kind} #${String(error.id)} · ${t("attempts")} ${String(error.attempts)} · ${when(error.at)}`,
              ),
              error.explanation === null ? null : h("p", {}, pick(error.explanation, state.lang)),
              h("p", { class: "help error-message" }, error.message),
            ),
          ),
        ),
    value.totals.failed > 0 ? h("p", { class: "help", "data-testid": "no-retry" }, t("noRetry")) : null,
  );
}

export function outboxView(): HTMLElement {
  return panelFrame("panel-outbox", t("outbox"), outbox, (value) => {
    const lag = value.indexer;
    return [
      h(
        "div",
        { class: "card" },
        h("h2", {}, t("totals")),
        h(
          "p",
          { class: "states", "data-testid": "outbox-totals" },
          ...STATES.map((s) =>
            h(
              "span",
              { class: `badge ${BADGE[s] ?? ""}`, "data-state": s },
              `${textOf(STATE_TEXT, s)} ${String(value.totals[s])}`,
            ),
          ),
        ),
        h(
          "p",
          { "data-testid": "oldest-pending" },
          value.oldestPending === null
            ? t("nonePending")
            : fill(t("oldestPending"), {
                time: when(value.oldestPending.acceptedAt),
                age: duration(value.oldestPending.ageSeconds),
              }),
        ),
      ),
      h(
        "div",
        { class: "card" },
        h("h2", {}, t("indexer")),
        factsTable("indexer-lag", [
          [t("indexed"), lag.indexedBlock === null ? t("notIndexed") : String(lag.indexedBlock)],
          [t("chainHead"), lag.chainHead === null ? t("unknown") : String(lag.chainHead)],
          [t("lag"), lag.lagBlocks === null ? t("unknown") : String(lag.lagBlocks)],
        ]),
        h("p", { class: "help" }, fill(t("lagHelp"), { n: String(lag.confirmations) })),
      ),
      byKind(value),
      lastErrors(value),
    ];
  });
}
