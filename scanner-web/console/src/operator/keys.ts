/**
 * Keys: the server's relayer, admin and regulator addresses with the registry roles each
 * holds and its balance, then every organisation's signing address, who keeps its key and
 * since when (`GET /api/v1/admin/keys`). Addresses only: no private material reaches a page.
 */
import type { OrganisationKey, ServerKey } from "../../../../server/src/services/operator.ts";
import { KIND_TEXT, pick } from "../shared/text.ts";
import { h } from "../shared/ui.ts";
import { coin, panelData, panelFrame, when } from "./panel.ts";
import { state } from "./state.ts";
import { STATE_TEXT, USE_TEXT, fill, t, textOf } from "./text.ts";

/** The service's overview as the route sends it: times as ISO strings. */
interface KeysAnswer {
  registry: string;
  chainId: string;
  chainReachable: boolean;
  server: ServerKey[];
  organisations: (Omit<OrganisationKey, "createdAtMs"> & { createdAt: string })[];
}

export const keys = panelData<KeysAnswer>("/api/v1/admin/keys");

function serverKeys(value: KeysAnswer): HTMLElement {
  return h(
    "div",
    { class: "card" },
    h("h2", {}, t("serverKeys")),
    h("p", { class: "help" }, `${t("serverKeysHelp")} ${t("coinUnit")}`),
    value.chainReachable ? null : h("p", { class: "flash flash-error", role: "alert" }, t("chainUnreachable")),
    ...value.server.map((key) =>
      h(
        "div",
        { class: "key", "data-key-use": key.use },
        h("h3", {}, textOf(USE_TEXT, key.use)),
        h("p", { class: "address" }, h("code", {}, key.address)),
        h(
          "p",
          { class: "states", "data-testid": "roles" },
          ...(key.roles === null
            ? [h("span", { class: "badge badge-warn" }, t("unknown"))]
            : key.roles.length === 0
              ? [h("span", { class: "badge badge-danger" }, t("noRoles"))]
              : key.roles.map((role) => h("span", { class: "badge ledger-anchored" }, role))),
        ),
        h("p", {}, fill(t("balance"), { value: key.balanceWei === null ? t("unknown") : coin(key.balanceWei) })),
      ),
    ),
  );
}

function organisationKeys(value: KeysAnswer): HTMLElement {
  return h(
    "div",
    { class: "card table-wrap stack-on-phone" },
    h("h2", {}, t("organisationKeys")),
    h(
      "table",
      { "data-testid": "organisation-keys" },
      h(
        "thead",
        {},
        h("tr", {}, ...[t("name"), t("address"), t("custody"), t("created")].map((label) => h("th", {}, label))),
      ),
      h(
        "tbody",
        {},
        ...value.organisations.map((key) =>
          h(
            "tr",
            { "data-organisation-id": key.organisationId },
            h(
              "td",
              {},
              pick(key.name, state.lang),
              h(
                "div",
                { class: "help" },
                textOf(KIND_TEXT, key.kind),
                key.ledgerState === null ? "" : ` · ${textOf(STATE_TEXT, key.ledgerState)}`,
              ),
            ),
            h("td", { class: "address" }, h("code", {}, key.address)),
            h("td", {}, key.custody === "server" ? t("custodyServer") : t("custodyOwn")),
            h("td", {}, when(key.createdAt)),
          ),
        ),
      ),
    ),
  );
}

export function keysView(): HTMLElement {
  return panelFrame("panel-keys", t("keys"), keys, (value) => [
    h(
      "p",
      { class: "help" },
      `${state.lang === "zh" ? "链 ID" : "Chain"} ${value.chainId} · `,
      h("code", {}, value.registry),
    ),
    serverKeys(value),
    organisationKeys(value),
  ]);
}
