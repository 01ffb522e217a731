/** The form under an open batch that records a step of its life (input applied, transformed, shipped…). */
import { newIdempotencyKey } from "../shared/api.ts";
import { takeAttachments } from "../shared/voice-note.ts";
import { BIZ_STEP_TEXT, pick, type Pair } from "../shared/text.ts";
import { pictogram } from "../shared/pictograms.ts";
import { readAloudButton } from "../shared/read-aloud.ts";
import type { Spoken } from "../shared/spoken.ts";
import { chinaIsoFromLocalInput, chinaLocalInputNow, failureText, flash, h, slot } from "../shared/ui.ts";
import { loadEvents, refreshBatches } from "./batch-refresh.ts";
import { field } from "./field.ts";
import { flashRegion, render, state, type BatchView } from "./state.ts";
import { COOPERATIVE_STEPS, INPUT_KINDS, t } from "./text.ts";
import { write, writeWithMedia } from "./writes.ts";

/** One form per open batch, kept while the list redraws around it. */
const eventForms = new Map<string, HTMLElement>();

export function cachedEventForm(batch: BatchView): HTMLElement {
  let form = eventForms.get(batch.batchId);
  if (form === undefined) {
    form = eventForm(batch);
    eventForms.set(batch.batchId, form);
  }
  return form;
}

export function forgetEventForms(): void {
  eventForms.clear();
}

/**
 * The step to record, as a grid of big pictures with a short word under each (a radio group:
 * one choice, the first checked, reset with the form); `value` reads the choice.
 */
function stepChoice(): { grid: HTMLElement; value: () => string } {
  const choices = COOPERATIVE_STEPS.map((s, index) =>
    h(
      "label",
      { class: "step-choice", "data-step": s },
      h("input", { type: "radio", name: "bizStep", value: s, ...(index === 0 ? { checked: "" } : {}) }),
      pictogram(s),
      h("span", {}, pick(BIZ_STEP_TEXT[s] ?? [s, s], state.lang)),
    ),
  );
  const grid = h("fieldset", { class: "step-grid" }, h("legend", {}, t("step")), ...choices);
  const value = (): string =>
    grid.querySelector<HTMLInputElement>("input[name=bizStep]:checked")?.value ?? COOPERATIVE_STEPS[0] ?? "";
  return { grid, value };
}

function eventForm(batch: BatchView): HTMLElement {
  const stepChoices = stepChoice();
  const chosen = stepChoices.value;
  const occurredAt = h("input", {
    name: "occurredAt",
    type: "datetime-local",
    required: "",
    value: chinaLocalInputNow(),
  });
  const place = h("input", { name: "place", maxlength: "200" });
  const inputName = h("input", { name: "inputName", maxlength: "200" });
  const inputKind = h(
    "select",
    { name: "inputKind" },
    ...Object.entries(INPUT_KINDS).map(([value, text]) => h("option", { value }, pick(text, state.lang))),
  );
  const inputAmount = h("input", { name: "inputAmount", inputmode: "decimal", pattern: "\\d+(\\.\\d{1,3})?" });
  const inputUnit = h("input", { name: "inputUnit", maxlength: "8", value: "kg" });
  const amountSpoken = (): Spoken[] => [{ quantity: inputAmount.value, unit: inputUnit.value.trim() }];
  const sourceGtin = h("input", { name: "sourceGtin", inputmode: "numeric", pattern: "\\d{14}", value: batch.gtin });
  const sourceLot = h("input", { name: "sourceLot", maxlength: "20" });
  const note = h("input", { name: "note", maxlength: "500" });
  // A shipping hands the batch over: it names the organisation that receives it.
  const receiver = h("input", { name: "receiver", maxlength: "100" });
  const handover = h("fieldset", { class: "step-fields", "data-for": "shipping" }, field(t("receiver"), receiver));
  const inputs = h(
    "fieldset",
    { class: "step-fields", "data-for": "input_application" },
    field(t("inputName"), inputName),
    field(t("inputKind"), inputKind),
    h("div", { class: "row" }, field(t("inputAmount"), inputAmount), field(t("unit"), inputUnit)),
    readAloudButton(state.lang, t("inputAmount"), amountSpoken),
  );
  const sources = h(
    "fieldset",
    { class: "step-fields", "data-for": "transforming" },
    field(t("inputBatchGtin"), sourceGtin),
    field(t("inputBatchLot"), sourceLot),
  );
  const showStepFields = (): void => {
    inputs.hidden = chosen() !== "input_application";
    sources.hidden = chosen() !== "transforming";
    handover.hidden = chosen() !== "shipping";
    receiver.required = chosen() === "shipping";
    inputName.required = chosen() === "input_application";
    inputAmount.required = chosen() === "input_application";
    sourceLot.required = chosen() === "transforming";
  };
  stepChoices.grid.addEventListener("change", showStepFields);
  showStepFields();
  const status = h("div", { class: "status" });
  const submit = h("button", { type: "submit", class: "primary" }, t("record"));
  const form = h(
    "form",
    { class: "event-form", "data-testid": "event-form" },
    h("h3", { class: "with-picture" }, pictogram("record"), t("recordEvent")),
    stepChoices.grid,
    field(t("occurredAt"), occurredAt),
    field(t("locationName"), place),
    inputs,
    sources,
    handover,
    field(t("note"), note),
    slot("voice-note", { where: "cooperative-event" }),
    submit,
    status,
  );
  let key = newIdempotencyKey();
  form.addEventListener("input", () => {
    // A changed form is a different write; the same form sent twice is one.
    key = newIdempotencyKey();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data: Record<string, unknown> = {};
    const region = state.me?.organisation?.regionCode;
    if (place.value.trim() !== "" && region !== undefined)
      data.location = { regionCode: region, name: place.value.trim() };
    if (chosen() === "input_application") {
      data.inputs = [
        {
          name: inputName.value.trim(),
          kind: inputKind.value,
          amount: inputAmount.value.trim(),
          unit: inputUnit.value.trim(),
        },
      ];
    }
    if (chosen() === "transforming")
      data.inputBatches = [{ gtin: sourceGtin.value.trim(), lot: sourceLot.value.trim() }];
    if (note.value.trim() !== "") data.note = { zh: note.value.trim(), en: null };
    const body = {
      bizStep: chosen(),
      occurredAt: chinaIsoFromLocalInput(occurredAt.value),
      ...(chosen() === "shipping" ? { receiver: receiver.value.trim() } : {}),
      data,
    };
    const label: Pair = [
      `${batch.lot} ${pick(BIZ_STEP_TEXT[chosen()] ?? ["", ""], "zh")}`,
      `${batch.lot} ${pick(BIZ_STEP_TEXT[chosen()] ?? ["", ""], "en")}`,
    ];
    submit.disabled = true;
    const files = takeAttachments(form);
    const path = `/api/v1/batches/${batch.batchId}/events`;
    (files.length === 0 ? write(path, body, label, key) : writeWithMedia(path, body, label, key, files))
      .then(async (outcome) => {
        form.reset();
        occurredAt.value = chinaLocalInputNow();
        key = newIdempotencyKey();
        showStepFields();
        flash(
          flashRegion,
          outcome === "queued" ? "info" : "ok",
          outcome === "queued" ? t("queued") : t("eventAccepted"),
        );
        await loadEvents(batch.batchId).catch(() => undefined);
        render();
        await refreshBatches();
      })
      .catch((error: unknown) => {
        flash(status, "error", failureText(error, state.lang));
      })
      .finally(() => {
        submit.disabled = false;
      });
  });
  return form;
}
