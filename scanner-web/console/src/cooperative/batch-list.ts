/** "My batches": a card per batch with its ledger state, its label sheet, its timeline of steps, its recall. */
import { newIdempotencyKey } from "../shared/api.ts";
import { BIZ_STEP_TEXT, COMMON, STATUS_TEXT, pick } from "../shared/text.ts";
import { pictogram } from "../shared/pictograms.ts";
import { signedInAs, withReadAloud } from "../shared/read-aloud.ts";
import { chinaDay, chinaMinute, failureText, flash, h, reasonDialog } from "../shared/ui.ts";
import { loadEvents, refreshBatches } from "./batch-refresh.ts";
import { cachedEventForm } from "./event-form.ts";
import { ledgerBadge } from "./ledger-badge.ts";
import { productName } from "./products.ts";
import { flashRegion, render, state, type BatchView } from "./state.ts";
import { t, unitName } from "./text.ts";
import { write } from "./writes.ts";

export function batchesView(): HTMLElement {
  const organisation = state.me?.organisation;
  const who = organisation == null ? null : signedInAs(pick(organisation.name, state.lang), state.lang);
  if (state.batches.length === 0)
    return h("section", { class: "card" }, who, h("p", {}, pick(COMMON.none, state.lang)));
  return h("section", { class: "batch-list" }, who, ...state.batches.map(batchCard));
}

function batchCard(batch: BatchView): HTMLElement {
  const recalled = batch.status === "recalled";
  const card = h(
    "article",
    { class: `card batch${recalled ? " batch-recalled" : ""}`, "data-lot": batch.lot, "data-batch-id": batch.batchId },
    h("h2", {}, productName(batch.gtin)),
    withReadAloud(
      h(
        "p",
        { class: "facts" },
        `${t("lot")} ${batch.lot} · ${t("harvest")} ${chinaDay(batch.harvestedAt)} · ${batch.quantity.value} ${unitName(batch.quantity.unit)} · ${String(batch.itemCount)} ${t("items")}`,
      ),
      state.lang,
      `${t("lot")} ${batch.lot}`,
      () => [
        { text: t("lot") },
        { code: batch.lot },
        { text: t("quantity") },
        { quantity: batch.quantity.value, unit: batch.quantity.unit },
        { text: t("itemsSpoken") },
        { quantity: batch.itemCount, unit: "items" },
      ],
    ),
    h(
      "div",
      { class: "states" },
      ledgerBadge(batch.ledger),
      recalled ? h("span", { class: "badge badge-danger" }, pick(STATUS_TEXT.recalled ?? ["", ""], state.lang)) : null,
    ),
  );
  const actions = h("div", { class: "actions" });
  const labels = h("button", { type: "button", "data-action": "labels" }, t("labels"));
  labels.addEventListener("click", () => void downloadLabels(batch));
  const toggle = h(
    "button",
    { type: "button", "data-action": "events", "aria-expanded": String(state.openBatches.has(batch.batchId)) },
    t("events"),
  );
  toggle.addEventListener("click", () => {
    if (state.openBatches.has(batch.batchId)) state.openBatches.delete(batch.batchId);
    else state.openBatches.add(batch.batchId);
    void loadEvents(batch.batchId).then(render, (error: unknown) => {
      flash(flashRegion, "error", failureText(error, state.lang));
    });
  });
  actions.append(labels, toggle);
  if (!recalled && batch.ledger.state === "anchored") {
    const recall = h("button", { type: "button", class: "danger", "data-action": "recall" }, t("recall"));
    recall.addEventListener("click", () => void recallBatch(batch));
    actions.append(recall);
  }
  card.append(actions);
  if (state.openBatches.has(batch.batchId)) card.append(eventsPanel(batch));
  return card;
}

async function downloadLabels(batch: BatchView): Promise<void> {
  if (state.api === null) return;
  if (batch.ledger.state !== "anchored") {
    flash(flashRegion, "info", t("labelsNotYet"));
    return;
  }
  try {
    const link = (
      await state.api.json<{ url: string }>(`/api/v1/batches/${batch.batchId}/label-links`, { method: "POST" })
    ).body;
    // The signed link works without the token, so the print-room PC can open it too; here it
    // is followed on this origin (the public origin may be a CDN name this device cannot reach).
    const url = new URL(link.url);
    const anchor = h("a", { href: `${url.pathname}${url.search}`, download: "", hidden: "" });
    document.body.append(anchor);
    anchor.click();
    anchor.remove();
    flash(flashRegion, "ok", t("labelsStarted"));
  } catch (error) {
    flash(flashRegion, "error", failureText(error, state.lang));
  }
}

function eventsPanel(batch: BatchView): HTMLElement {
  const list = state.events.get(batch.batchId) ?? [];
  const rows = list.map((event) =>
    h(
      "li",
      { "data-step": event.bizStep, class: "with-picture" },
      pictogram(event.bizStep),
      h("strong", {}, pick(BIZ_STEP_TEXT[event.bizStep] ?? [event.bizStep, event.bizStep], state.lang)),
      ` ${chinaMinute(event.occurredAt)} `,
      ledgerBadge(event.ledger),
    ),
  );
  return h(
    "div",
    { class: "events" },
    h("ol", { class: "timeline" }, ...rows),
    batch.status === "recalled" ? null : cachedEventForm(batch),
  );
}

async function recallBatch(batch: BatchView): Promise<void> {
  const reason = await reasonDialog(t("recallTitle"), t("recallText"), t("recall"), state.lang);
  if (reason === null) return;
  try {
    const outcome = await write(
      `/api/v1/batches/${batch.batchId}/recall`,
      { reason },
      [`召回 ${batch.lot}`, `Recall ${batch.lot}`],
      newIdempotencyKey(),
    );
    flash(flashRegion, outcome === "queued" ? "info" : "ok", outcome === "queued" ? t("queued") : t("recallAccepted"));
    await refreshBatches();
  } catch (error) {
    flash(flashRegion, "error", failureText(error, state.lang));
  }
}
