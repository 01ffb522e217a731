/** The organisations: listed with their status, suspended or reinstated with a reason. */
import { LEDGER_TEXT, STATUS_TEXT, pick } from "../shared/text.ts";
import { suspensionButton } from "../shared/suspension.ts";
import { failureText, flash, h } from "../shared/ui.ts";
import { flashRegion, render, state, type OrganisationView } from "./state.ts";
import { KIND_TEXT, t, textOf } from "./text.ts";

export async function loadOrganisations(): Promise<void> {
  if (state.api === null) return;
  try {
    state.organisations = (
      await state.api.get<{ organisations: OrganisationView[] }>("/api/v1/organisations")
    ).organisations;
  } catch (error) {
    flash(flashRegion, "error", failureText(error, state.lang));
  }
  if (state.view === "organisations") render();
}

export function organisationName(id: string): string {
  const org = state.organisations.find((o) => o.id === id);
  return org === undefined ? id : pick(org.name, state.lang);
}

export function organisationsView(): HTMLElement {
  const rows = state.organisations.map((org) => {
    const suspended = org.status === "suspended";
    const act = suspensionButton(org, () => ({
      api: state.api,
      lang: state.lang,
      flashRegion,
      reload: loadOrganisations,
    }));
    return h(
      "tr",
      { "data-organisation-id": org.id },
      h("td", {}, pick(org.name, state.lang)),
      h("td", {}, textOf(KIND_TEXT, org.kind)),
      h("td", {}, org.uscc),
      h("td", {}, org.regionName === null ? org.regionCode : `${pick(org.regionName, state.lang)} (${org.regionCode})`),
      h("td", {}, textOf(LEDGER_TEXT, org.ledgerState ?? "pending")),
      h(
        "td",
        { "data-testid": "organisation-status" },
        h("span", { class: `badge${suspended ? " badge-danger" : ""}` }, textOf(STATUS_TEXT, org.status)),
      ),
      h("td", {}, org.kind === "regulator" ? null : act),
    );
  });
  return h(
    "section",
    { class: "card" },
    h("h1", {}, t("organisations")),
    h(
      "div",
      { class: "table-wrap stack-on-phone" },
      h(
        "table",
        { "data-testid": "organisations" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ...[t("name"), t("kind"), t("uscc"), t("regionName"), t("ledger"), t("status"), t("actions")].map((label) =>
              h("th", {}, label),
            ),
          ),
        ),
        h("tbody", {}, ...rows),
      ),
    ),
  );
}
