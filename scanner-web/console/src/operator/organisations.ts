/**
 * Organisations: every one with its kind, region, status, company prefixes and number of
 * people (`GET /api/v1/admin/organisations`); suspended or reinstated with a reason through the
 * same endpoints a regulator uses, in the operator's name.
 */
import type { organisationView } from "../../../../server/src/http/routes/organisations.ts";
import { KIND_TEXT, LEDGER_TEXT, STATUS_TEXT, pick } from "../shared/text.ts";
import { suspensionButton } from "../shared/suspension.ts";
import { h } from "../shared/ui.ts";
import { panelData, panelFrame } from "./panel.ts";
import { flashRegion, state } from "./state.ts";
import { t, textOf } from "./text.ts";

type OrganisationRow = ReturnType<typeof organisationView> & {
  prefixes: { prefix: string; origin: "own" | "platform"; ledgerState: string }[];
  members: number;
};

export const organisations = panelData<{ organisations: OrganisationRow[] }>("/api/v1/admin/organisations");

function row(org: OrganisationRow): HTMLElement {
  const suspended = org.status === "suspended";
  const act = suspensionButton(org, () => ({
    api: state.api,
    lang: state.lang,
    flashRegion,
    reload: () => organisations.load(),
  }));
  return h(
    "tr",
    { "data-organisation-id": org.id },
    h("td", {}, pick(org.name, state.lang)),
    h("td", {}, textOf(KIND_TEXT, org.kind)),
    h("td", {}, org.regionName === null ? org.regionCode : `${pick(org.regionName, state.lang)} (${org.regionCode})`),
    h(
      "td",
      { "data-testid": "organisation-status" },
      h("span", { class: `badge${suspended ? " badge-danger" : ""}` }, textOf(STATUS_TEXT, org.status)),
      org.ledgerState === null ? null : h("div", { class: "help" }, textOf(LEDGER_TEXT, org.ledgerState)),
    ),
    h(
      "td",
      { "data-testid": "prefixes" },
      ...org.prefixes.map((p) =>
        h("div", {}, h("code", {}, p.prefix), p.origin === "platform" ? ` (${t("platformPrefix")})` : ""),
      ),
    ),
    h("td", { "data-testid": "members" }, String(org.members)),
    // Regulators are not registered on chain: their status is the platform's alone.
    h("td", {}, org.kind === "regulator" ? null : act),
  );
}

export function organisationsView(): HTMLElement {
  return panelFrame("panel-organisations", t("organisations"), organisations, (value) => [
    h(
      "div",
      { class: "card table-wrap stack-on-phone" },
      h(
        "table",
        { "data-testid": "organisations" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ...[t("name"), t("kind"), t("region"), t("status"), t("prefixes"), t("members"), t("actions")].map(
              (label) => h("th", {}, label),
            ),
          ),
        ),
        h("tbody", {}, ...value.organisations.map(row)),
      ),
    ),
  ]);
}
