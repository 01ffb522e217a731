/** "Register a batch": the form, kept as a draft across re-renders, and its submission. */
import { UNITS } from "../../../../server/src/domain/units.ts";
import { newIdempotencyKey } from "../shared/api.ts";
import { pictogram } from "../shared/pictograms.ts";
import { readAloudButton, withReadAloud } from "../shared/read-aloud.ts";
import { CERT_TEXT, pick } from "../shared/text.ts";
import { chinaIsoFromLocalInput, failureText, flash, h, slot } from "../shared/ui.ts";
import { refreshBatches } from "./batch-refresh.ts";
import { field } from "./field.ts";
import { loadProduct, productName } from "./products.ts";
import { flashRegion, freshDraft, render, state } from "./state.ts";
import { t, unitName } from "./text.ts";
import { startUpload, uploadProgress } from "./video-upload.ts";
import { write } from "./writes.ts";

let registerForm: HTMLFormElement | null = null;

/** Copies what the register form holds into the draft, so a rebuilt form can show it again. */
export function snapshotDraft(): void {
  if (registerForm === null) return;
  for (const element of Array.from(registerForm.elements)) {
    if (element instanceof HTMLInputElement && element.type === "checkbox")
      state.draft.checked[element.name] = element.checked;
    else if (element instanceof HTMLInputElement && element.type === "file") continue;
    else if (
      element instanceof HTMLInputElement ||
      element instanceof HTMLSelectElement ||
      element instanceof HTMLTextAreaElement
    ) {
      if (element.name !== "") state.draft.values[element.name] = element.value;
    }
  }
}

/** Drops the built form; the next render builds a new one from the draft. */
export function forgetRegisterForm(): void {
  registerForm = null;
}

export function registerView(): HTMLElement {
  registerForm ??= buildRegisterForm();
  return registerForm;
}

function buildRegisterForm(): HTMLFormElement {
  const value = (name: string): string => state.draft.values[name] ?? "";
  const plots = state.me?.plots ?? [];
  const certifications = state.me?.certifications ?? [];
  const gtin = h("input", {
    name: "gtin",
    required: "",
    inputmode: "numeric",
    pattern: "\\d{8,14}",
    value: value("gtin"),
    list: "known-gtins",
  });
  const productHint = h("p", { class: "help", "data-testid": "product-hint" });
  const known = h(
    "datalist",
    { id: "known-gtins" },
    ...[...state.products.keys()].map((g) => h("option", { value: g }, productName(g))),
  );
  const unit = h(
    "select",
    { name: "unit" },
    ...Object.keys(UNITS).map((name) => h("option", { value: name }, unitName(name))),
  );
  unit.value = value("unit") || "kg";
  const lookUp = (): void => {
    const code = gtin.value.trim();
    if (!/^\d{8,14}$/.test(code)) return;
    void loadProduct(code).then((product) => {
      productHint.textContent =
        product === null ? t("productUnknown") : pick({ zh: product.nameZh, en: product.nameEn }, state.lang);
      if (product !== null && Object.hasOwn(UNITS, product.unit)) unit.value = product.unit;
    });
  };
  gtin.addEventListener("change", lookUp);
  gtin.addEventListener("input", () => {
    if (gtin.value.trim().length === 14) lookUp();
  });
  if (value("gtin") !== "") lookUp();
  const plot = h(
    "select",
    { name: "plotId" },
    h("option", { value: "" }, t("noPlot")),
    ...plots.map((p) => h("option", { value: p.id }, `${p.name} (${String(p.area)} ${p.areaUnit})`)),
  );
  plot.value = value("plotId") || (plots[0]?.id ?? "");
  const certBoxes = certifications.map((c) => {
    const box = h("input", { type: "checkbox", name: `cert:${c.id}`, value: c.id });
    box.checked = state.draft.checked[`cert:${c.id}`] ?? true;
    return h(
      "label",
      { class: "check" },
      box,
      `${pick(CERT_TEXT[c.kind] ?? [c.kind, c.kind], state.lang)} ${c.number}`,
    );
  });
  const hidden = h("input", { type: "checkbox", name: "hiddenCodes" });
  hidden.checked = state.draft.checked.hiddenCodes ?? true;
  const file = h("input", { type: "file", name: "video", accept: "video/*", capture: "environment" });
  const upload = uploadProgress();
  file.addEventListener("change", () => {
    const chosen = file.files?.[0];
    if (chosen !== undefined) startUpload(chosen);
  });
  const lot = h("input", { name: "lot", required: "", maxlength: "20", pattern: "[!-~]{1,20}", value: value("lot") });
  const quantity = h("input", {
    name: "quantity",
    required: "",
    inputmode: "decimal",
    pattern: "\\d+(\\.\\d{1,3})?",
    value: value("quantity"),
  });
  const itemCount = h("input", {
    name: "itemCount",
    type: "number",
    required: "",
    min: "1",
    max: "100000",
    value: value("itemCount"),
  });
  const status = h("div", { class: "status" });
  const form = h(
    "form",
    { class: "card register", "data-testid": "register-form" },
    h("h1", { class: "with-picture" }, pictogram("register"), t("register")),
    field(t("product"), gtin),
    known,
    productHint,
    withReadAloud(field(t("lot"), lot), state.lang, t("lot"), () => [{ text: t("lot") }, { code: lot.value }]),
    field(t("plot"), plot),
    field(
      t("harvestedAt"),
      h("input", { name: "harvestedAt", type: "datetime-local", required: "", value: value("harvestedAt") }),
    ),
    h("div", { class: "row" }, field(t("quantity"), quantity), field(t("unit"), unit)),
    readAloudButton(state.lang, t("quantity"), () => [{ quantity: quantity.value, unit: unit.value }]),
    withReadAloud(field(t("itemCount"), itemCount), state.lang, t("itemCount"), () => [
      { quantity: itemCount.value, unit: "items" },
    ]),
    h("label", { class: "check" }, hidden, t("hiddenCodes")),
    certBoxes.length === 0 ? null : h("fieldset", {}, h("legend", {}, t("certifications")), ...certBoxes),
    field(
      t("complianceCertificate"),
      h("input", { name: "complianceCertificateNumber", maxlength: "64", value: value("complianceCertificateNumber") }),
    ),
    field(
      t("descriptionZh"),
      h("textarea", { name: "descriptionZh", maxlength: "2000", rows: "2" }, value("descriptionZh")),
    ),
    field(
      t("descriptionEn"),
      h("textarea", { name: "descriptionEn", maxlength: "2000", rows: "2" }, value("descriptionEn")),
    ),
    field(t("video"), file),
    upload,
    slot("voice-note", { where: "cooperative-register" }),
    h("button", { type: "submit", class: "primary" }, t("submit")),
    status,
  );
  form.addEventListener("input", (event) => {
    // Editing the batch makes it a different write; re-sending the same one keeps the key.
    if (event.target !== file) state.draft.idempotencyKey = newIdempotencyKey();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void submitBatch(status);
  });
  return form;
}

async function submitBatch(status: HTMLElement): Promise<void> {
  snapshotDraft();
  if (state.draft.video.name !== "" && state.draft.video.cid === null) {
    flash(status, "error", t("uploadFirst"));
    return;
  }
  const v = state.draft.values;
  const certificationIds = Object.entries(state.draft.checked)
    .filter(([name, checked]) => name.startsWith("cert:") && checked)
    .map(([name]) => name.slice("cert:".length));
  const description =
    (v.descriptionZh ?? "").trim() === ""
      ? null
      : { zh: (v.descriptionZh ?? "").trim(), en: (v.descriptionEn ?? "").trim() || null };
  const body = {
    gtin: (v.gtin ?? "").trim(),
    lot: (v.lot ?? "").trim(),
    plotId: v.plotId === "" ? null : v.plotId,
    harvestedAt: chinaIsoFromLocalInput(v.harvestedAt ?? ""),
    quantity: { value: (v.quantity ?? "").trim(), unit: v.unit ?? "kg" },
    itemCount: Number(v.itemCount),
    hiddenCodes: state.draft.checked.hiddenCodes ?? true,
    certificationIds,
    complianceCertificateNumber: (v.complianceCertificateNumber ?? "").trim() || null,
    description,
    videoCid: state.draft.video.cid,
  };
  try {
    const outcome = await write(
      "/api/v1/batches",
      body,
      [`登记 ${body.lot}`, `Register ${body.lot}`],
      state.draft.idempotencyKey,
    );
    state.draft = freshDraft();
    registerForm = null;
    state.view = "batches";
    render();
    flash(flashRegion, outcome === "queued" ? "info" : "ok", outcome === "queued" ? t("queued") : t("accepted"));
    await refreshBatches();
  } catch (error) {
    flash(status, "error", failureText(error, state.lang));
  }
}
