/**
 * The relayer: its balance against the configured warning line (`RELAYER_BALANCE_WARN_WEI`),
 * what it spent in the last 24 hours, and how many batch registrations the balance still
 * pays for at the recent fee (`GET /api/v1/admin/relayer`).
 */
import type { RelayerReport } from "../../../../server/src/services/operator.ts";
import { h } from "../shared/ui.ts";
import { coin, factsTable, grouped, panelData, panelFrame } from "./panel.ts";
import { fill, t } from "./text.ts";

export const relayer = panelData<{ relayer: RelayerReport }>("/api/v1/admin/relayer");

export function relayerView(): HTMLElement {
  return panelFrame("panel-relayer", t("relayer"), relayer, ({ relayer: r }) => [
    h(
      "div",
      { class: `card${r.low ? " balance-low" : ""}`, "data-testid": "relayer-balance", "data-low": String(r.low) },
      h("h2", {}, t("relayerBalance")),
      h("p", { class: "balance" }, coin(r.balanceWei)),
      h("p", { class: "help" }, t("coinUnit")),
      h("p", { class: "address" }, h("code", {}, r.address)),
      h(
        "p",
        r.low ? { class: "flash flash-error", role: "alert", "data-testid": "low-balance" } : { class: "help" },
        fill(r.low ? t("lowBalance") : t("balanceOk"), { threshold: coin(r.warnBelowWei) }),
      ),
    ),
    h(
      "div",
      { class: "card" },
      h("h2", {}, t("last24h")),
      factsTable("relayer-24h", [
        [t("transactions"), `${String(r.last24h.transactions)}${r.last24h.truncated ? ` ${t("truncated")}` : ""}`],
        [t("mined"), String(r.last24h.mined)],
        [t("gasUsed"), grouped(r.last24h.gasUsed)],
        [t("fees"), coin(r.last24h.feesWei)],
      ]),
    ),
    h(
      "div",
      { class: "card" },
      h("h2", {}, t("perRegistration")),
      r.perRegistration.feeWei === null
        ? h("p", { "data-testid": "no-sample" }, t("noSample"))
        : factsTable("relayer-estimate", [
            [
              t("perRegistration"),
              `${coin(r.perRegistration.feeWei)} (${fill(t("sample"), { n: String(r.perRegistration.sampleTransactions) })})`,
            ],
            [t("covers"), grouped(r.perRegistration.registrationsCovered ?? "0")],
          ]),
    ),
  ]);
}
