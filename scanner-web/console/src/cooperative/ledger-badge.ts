/** Where a batch or an event stands on the ledger; a refusal comes with its reason in plain words. */
import { LEDGER_TEXT, pick } from "../shared/text.ts";
import { h } from "../shared/ui.ts";
import { state, type BatchView } from "./state.ts";
import { t } from "./text.ts";

export function ledgerBadge(ledger: BatchView["ledger"]): HTMLElement {
  const badge = h(
    "span",
    { class: `badge ledger-${ledger.state}`, "data-testid": "ledger-state" },
    pick(LEDGER_TEXT[ledger.state] ?? [ledger.state, ledger.state], state.lang),
  );
  if (ledger.state !== "failed" || ledger.failure === null) return badge;
  return h(
    "div",
    { class: "failure" },
    badge,
    h("p", { class: "failure-reason", "data-testid": "failure-reason" }, pick(ledger.failure, state.lang)),
    h("details", {}, h("summary", {}, t("technical")), h("code", {}, ledger.failureReason ?? "")),
  );
}
