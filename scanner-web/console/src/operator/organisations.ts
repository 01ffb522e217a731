/**
 * Organisations: every one with its kind, region, status, company prefixes and number of
 * people (`GET /api/v1/admin/organisations`); suspended or reinstated with a reason through the
 * same endpoints a regulator uses, in the operator's name.
 */
import type { organisationView } from "../../../../server/src/http/routes/organisations.ts";
import { newIdempotencyKey } from "../shared/api.ts";
import { KIND_TEXT, LEDGER_TEXT, STATUS_TEXT, pick } from "../shared/text.ts";
import { failureText, flash, h, reasonDialog } from "../shared/ui.ts";
import { panelData, panelFrame } from "./panel.ts";
import { flashRegion, state } from "./state.ts";
import { t, textOf } from "./text.ts";

type OrganisationRow = ReturnType<typeof organisationView> & {
  prefixes: { prefix: string; origin: "own" | "platform"; ledgerState: string }[];
  members: number;
};

export const organisations = panelData<{ organisations: OrganisationRow[] }>("/api/v1/admin/organisations");

async function setSuspended(org: OrganisationRow, suspend: boolean): Promise<void> {
  const api = state.api;
  if (api === null) return;
  const reason = await reasonDialog(
    suspend ? t("suspendTitle") : t("reinstateTitle"),
    `${pick(org.name, state.lang)}: ${suspend ? t("suspendText") : t("reinstateText")}`,
    suspend ? t("suspend") : t("reinstate"),
    state.lang,
  );
  if (reason === null) return;
  try {
    await api.json(`/api/v1/organisations/${org.id}/${suspend ? "suspend" : "reinstate"}`, {
      method: "POST",
      body: { reason },
      idempotencyKey: newIdempotencyKey(),
    });
    flash(flashRegion, "ok", suspend ? t("suspended") : t("reinstated"));
  } catch (error) {
    flash(flashRegion, "error", failureText(error, state.lang));
  }
  await organisations.load();
}

function row(org: OrganisationRow): HTMLElement {
  const suspended = org.status === "suspended";
  const act = h(
    "button",
    { type: "button", class: suspended ? "" : "danger", "data-action": suspended ? "reinstate" : "suspend" },
    suspended ? t("reinstate") : t("suspend"),
  );
  act.addEventListener("click", () => void setSuspended(org, !suspended));
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
