/** "Batches": search by filters, a sortable table, exports of what was found, audit and recall per batch. */
import { newIdempotencyKey, queryString } from "../shared/api.ts";
import { LEDGER_TEXT, STATUS_TEXT, pick } from "../shared/text.ts";
import { chinaDay, failureText, flash, h, reasonDialog } from "../shared/ui.ts";
import { runAudit } from "./audit-report.ts";
import { openRecord } from "./batch-record.ts";
import { download } from "./download.ts";
import { organisationName } from "./organisations.ts";
import { flashRegion, render, state, type BatchView, type SortKey } from "./state.ts";
import { t, textOf } from "./text.ts";

function filterForm(): HTMLElement {
  const input = (name: string, attributes: Record<string, string> = {}): HTMLInputElement =>
    h("input", { name, value: state.filters[name] ?? "", ...attributes });
  const cooperative = h(
    "select",
    { name: "organisationId" },
    h("option", { value: "" }, t("anyCooperative")),
    ...state.organisations
      .filter((o) => o.kind === "cooperative")
      .map((o) => h("option", { value: o.id }, `${pick(o.name, state.lang)} (${o.regionCode})`)),
  );
  cooperative.value = state.filters.organisationId ?? "";
  const status = h(
    "select",
    { name: "status" },
    h("option", { value: "" }, t("any")),
    h("option", { value: "active" }, textOf(STATUS_TEXT, "active")),
    h("option", { value: "recalled" }, textOf(STATUS_TEXT, "recalled")),
  );
  status.value = state.filters.status ?? "";
  const form = h(
    "form",
    { class: "card filters", "data-testid": "filters" },
    h("label", {}, t("region"), input("region", { inputmode: "numeric", pattern: "\\d{1,6}" })),
    h("label", {}, t("cooperative"), cooperative),
    h("label", {}, t("gtin"), input("gtin", { inputmode: "numeric", pattern: "\\d{14}" })),
    h("label", {}, t("status"), status),
    h("label", {}, t("harvestedFrom"), input("harvestedFrom", { type: "date" })),
    h("label", {}, t("harvestedTo"), input("harvestedTo", { type: "date" })),
    h("button", { type: "submit", class: "primary" }, t("search")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    state.filters = {};
    for (const [name, value] of new FormData(form)) if (typeof value === "string") state.filters[name] = value;
    void search();
  });
  return form;
}

async function search(): Promise<void> {
  if (state.api === null) return;
  try {
    state.batches = (
      await state.api.get<{ batches: BatchView[] }>(`/api/v1/batches${queryString({ ...state.filters, limit: "500" })}`)
    ).batches;
  } catch (error) {
    flash(flashRegion, "error", failureText(error, state.lang));
  }
  render();
}

/** The same filters in the form the audit and export endpoints take. */
function scopeQuery(): string | null {
  const scope = {
    organisationId: state.filters.organisationId ?? "",
    region: state.filters.region ?? "",
    gtin: state.filters.gtin ?? "",
    from: state.filters.harvestedFrom ?? "",
    to: state.filters.harvestedTo ?? "",
  };
  const query = queryString(scope);
  return query === "" ? null : query;
}

function sortValue(batch: BatchView): string | number {
  switch (state.sortKey) {
    case "cooperative":
      return organisationName(batch.organisationId);
    case "region":
      return state.organisations.find((o) => o.id === batch.organisationId)?.regionCode ?? "";
    case "itemCount":
      return batch.itemCount;
    case "lot":
    case "gtin":
    case "harvestedAt":
    case "status":
      return batch[state.sortKey];
  }
}

function sortedBatches(list: BatchView[]): BatchView[] {
  return [...list].sort((a, b) => {
    const x = sortValue(a);
    const y = sortValue(b);
    const order = x < y ? -1 : x > y ? 1 : 0;
    return state.sortDescending ? -order : order;
  });
}

export function batchesView(): HTMLElement {
  const section = h("section", {}, filterForm());
  const batches = state.batches;
  if (batches === null) return section;
  const header = (key: SortKey, label: string): HTMLElement => {
    const mark = state.sortKey === key ? (state.sortDescending ? " ▼" : " ▲") : "";
    const button = h("button", { type: "button", class: "sort", "data-sort": key }, `${label}${mark}`);
    button.addEventListener("click", () => {
      state.sortDescending = state.sortKey === key ? !state.sortDescending : false;
      state.sortKey = key;
      render();
    });
    return h(
      "th",
      { "aria-sort": state.sortKey === key ? (state.sortDescending ? "descending" : "ascending") : "none" },
      button,
    );
  };
  const rows = sortedBatches(batches).map((batch) => {
    const org = state.organisations.find((o) => o.id === batch.organisationId);
    const actions = h("div", { class: "actions" });
    const open = h("button", { type: "button", "data-action": "open-record" }, t("openRecord"));
    open.addEventListener("click", () => {
      openRecord(batch.batchId);
    });
    const audit = h("button", { type: "button", "data-action": "audit" }, t("runAudit"));
    audit.addEventListener("click", () => void runAudit(`/api/v1/audits/batches/${batch.batchId}`));
    const epcis = h("button", { type: "button", "data-action": "epcis" }, "EPCIS");
    epcis.addEventListener(
      "click",
      () => void download(`/api/v1/exports/epcis?batchId=${batch.batchId}`, "epcis.jsonld"),
    );
    actions.append(open, audit, epcis);
    if (batch.status === "active") {
      const recall = h("button", { type: "button", class: "danger", "data-action": "recall" }, t("recall"));
      recall.addEventListener("click", () => void recallBatch(batch));
      actions.append(recall);
    }
    return h(
      "tr",
      { "data-lot": batch.lot, "data-batch-id": batch.batchId },
      h("td", {}, batch.lot),
      h("td", {}, batch.gtin),
      h("td", {}, organisationName(batch.organisationId)),
      h("td", {}, org === undefined ? "" : org.regionName === null ? org.regionCode : pick(org.regionName, state.lang)),
      h("td", {}, chinaDay(batch.harvestedAt)),
      h("td", {}, String(batch.itemCount)),
      h("td", {}, h("span", { class: `badge ledger-${batch.ledger.state}` }, textOf(LEDGER_TEXT, batch.ledger.state))),
      h(
        "td",
        { "data-testid": "batch-status" },
        h(
          "span",
          { class: `badge${batch.status === "recalled" ? " badge-danger" : ""}` },
          textOf(STATUS_TEXT, batch.status),
        ),
      ),
      h("td", {}, actions),
    );
  });
  const scopeActions = h("div", { class: "actions" });
  const scoped = (label: string, run: (query: string) => void): HTMLElement => {
    const button = h("button", { type: "button" }, label);
    button.addEventListener("click", () => {
      const query = scopeQuery();
      if (query === null) flash(flashRegion, "info", t("needFilter"));
      else run(query);
    });
    return button;
  };
  scopeActions.append(
    scoped(t("auditAll"), (q) => void runAudit(`/api/v1/audits${q}`)),
    scoped(t("exportEpcis"), (q) => void download(`/api/v1/exports/epcis${q}`, "epcis.jsonld")),
    scoped(t("exportCsv"), (q) => void download(`/api/v1/exports/kde.csv${q}`, "kde.csv")),
    scoped(t("exportXlsx"), (q) => void download(`/api/v1/exports/kde.xlsx${q}`, "kde.xlsx")),
  );
  section.append(
    h(
      "div",
      { class: "card" },
      h("h2", { "data-testid": "result-count" }, t("results").replace("{n}", String(batches.length))),
      scopeActions,
      h(
        "div",
        { class: "table-wrap stack-on-phone" },
        h(
          "table",
          { "data-testid": "batches" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              header("lot", t("lot")),
              header("gtin", t("gtin")),
              header("cooperative", t("cooperative")),
              header("region", t("regionName")),
              header("harvestedAt", t("harvested")),
              header("itemCount", t("items")),
              h("th", {}, t("ledger")),
              header("status", t("status")),
              h("th", {}, t("actions")),
            ),
          ),
          h("tbody", {}, ...rows),
        ),
      ),
    ),
  );
  return section;
}

async function recallBatch(batch: BatchView): Promise<void> {
  if (state.api === null) return;
  const reason = await reasonDialog(
    t("recallTitle"),
    `${batch.gtin} / ${batch.lot}. ${t("recallText")}`,
    t("recall"),
    state.lang,
  );
  if (reason === null) return;
  try {
    await state.api.json(`/api/v1/batches/${batch.batchId}/regulator-recall`, {
      method: "POST",
      body: { reason },
      idempotencyKey: newIdempotencyKey(),
    });
    flash(flashRegion, "ok", t("recalled"));
    await search();
  } catch (error) {
    flash(flashRegion, "error", failureText(error, state.lang));
  }
}
