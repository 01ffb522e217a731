/**
 * "Records": what a batch refers to, kept by the cooperative itself from the phone: its
 * products (GTIN, names, the category the audit's yield table knows, the net content per
 * item as a mass, cold-chain range),
 * its plots (area, region, the spot from the phone's location) and its certificates
 * (三品一标 kind, number, issuer, validity, which products they cover). GTINs are checked
 * with the same check-digit code the server runs, before anything is sent.
 */
import { isValidGtin } from "../../../../server/src/domain/gs1.ts";
import { UNITS } from "../../../../server/src/domain/units.ts";
import { YIELD_CEILINGS } from "../../../../server/src/domain/yield-ceilings.ts";
import { newIdempotencyKey } from "../shared/api.ts";
import { CERT_TEXT, pick, type Pair } from "../shared/text.ts";
import { chinaDay, failureText, flash, h } from "../shared/ui.ts";
import { field } from "./field.ts";
import { forgetProduct } from "./products.ts";
import { forgetRegisterForm } from "./register-form.ts";
import { flashRegion, render, state, type Me } from "./state.ts";
import { t, unitName } from "./text.ts";
import { write } from "./writes.ts";

const CATEGORY_TEXT: Record<string, Pair> = {
  tea: ["茶叶", "Tea"],
  rice: ["稻谷", "Rice"],
  apple: ["苹果", "Apples"],
  citrus: ["柑橘", "Citrus"],
  kiwifruit: ["猕猴桃", "Kiwifruit"],
  vegetables: ["蔬菜", "Vegetables"],
  other: ["其他（不做产量核算）", "Other (no yield check)"],
};

/** Mass units, lightest first (g, kg, t): a product's net content per item is one of them. */
const MASS_UNITS = (Object.keys(UNITS) as (keyof typeof UNITS)[])
  .filter((name) => UNITS[name].milligrams !== undefined)
  .sort((a, b) => Number((UNITS[a].milligrams ?? 0n) - (UNITS[b].milligrams ?? 0n)));

let built: HTMLElement | null = null;

/** Kept across renders (a queue change or going offline must not wipe a half-typed form). */
export function recordsView(): HTMLElement {
  built ??= buildRecordsView();
  return built;
}

/** The next render builds the view again: new language, or a record just saved (empty forms, new lists). */
export function forgetRecordsView(): void {
  built = null;
}

function buildRecordsView(): HTMLElement {
  return h(
    "section",
    { class: "records" },
    h("section", { class: "card" }, h("h2", {}, t("plots")), plotList()),
    h("section", { class: "card" }, h("h2", {}, t("certificationsHeld")), certificationList()),
    collapsible(t("newProduct"), productForm()),
    collapsible(t("newPlot"), plotForm()),
    collapsible(t("newCertification"), certificationForm()),
  );
}

/** Each form folds away under its title: on a phone the lists are what is read most. */
function collapsible(title: string, form: HTMLElement): HTMLElement {
  return h("details", { class: "card record-form" }, h("summary", {}, h("h2", {}, title)), form);
}

function plotList(): HTMLElement {
  const plots = state.me?.plots ?? [];
  if (plots.length === 0) return h("p", {}, t("noneYet"));
  return h(
    "ul",
    { "data-testid": "plot-list" },
    ...plots.map((p) => h("li", {}, `${p.name} · ${String(p.area)} ${p.areaUnit} · ${p.regionCode}`)),
  );
}

function certificationList(): HTMLElement {
  const certifications = state.me?.certifications ?? [];
  if (certifications.length === 0) return h("p", {}, t("noneYet"));
  return h(
    "ul",
    { "data-testid": "certification-list" },
    ...certifications.map((c) =>
      h(
        "li",
        {},
        `${pick(CERT_TEXT[c.kind] ?? [c.kind, c.kind], state.lang)} ${c.number} · ${chinaDay(new Date(c.validFromMs).toISOString())} – ${chinaDay(new Date(c.validToMs).toISOString())}`,
      ),
    ),
  );
}

/** Checks a GTIN field with the server's own check-digit code and says what is wrong in place. */
function gtinInput(name: string, required: boolean): HTMLInputElement {
  const input = h("input", { name, inputmode: "numeric", pattern: "\\d{8,14}", ...(required ? { required: "" } : {}) });
  input.addEventListener("input", () => {
    const value = input.value.trim();
    input.setCustomValidity(value === "" || !/^\d{8,14}$/.test(value) || isValidGtin(value) ? "" : t("gtinCheckDigit"));
  });
  return input;
}

/** One record to write: where, what, and how the queue names it. */
interface RecordWrite {
  path: string;
  body: unknown;
  label: Pair;
}

/**
 * A record's form: its fields, a save button and the status line; on submit `request` says
 * what to write (null: nothing, as when signed out meanwhile) and it is sent.
 */
function recordForm(
  testId: string,
  fields: HTMLElement[],
  request: () => RecordWrite | null,
  status: HTMLElement = h("div", { class: "status" }),
): HTMLFormElement {
  const submit = h("button", { type: "submit", class: "primary" }, t("save"));
  const form = h("form", { "data-testid": testId }, ...fields, submit, status);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const record = request();
    if (record !== null) void send(submit, status, record);
  });
  return form;
}

/** Sends one record write (queued when offline), then reloads the cooperative's records. */
async function send(submit: HTMLButtonElement, status: HTMLElement, { path, body, label }: RecordWrite): Promise<void> {
  submit.disabled = true;
  try {
    const outcome = await write(path, body, label, newIdempotencyKey());
    if (outcome === "sent" && state.api !== null) state.me = await state.api.get<Me>("/api/v1/me");
    // The register form lists plots and certificates: build it again with the new ones.
    forgetRegisterForm();
    forgetRecordsView();
    render();
    flash(flashRegion, outcome === "queued" ? "info" : "ok", outcome === "queued" ? t("queued") : t("recordSaved"));
  } catch (error) {
    flash(status, "error", failureText(error, state.lang));
    submit.disabled = false;
  }
}

function productForm(): HTMLElement {
  const gtin = gtinInput("productGtin", true);
  const nameZh = h("input", { name: "productNameZh", required: "", maxlength: "100" });
  const nameEn = h("input", { name: "productNameEn", maxlength: "200" });
  const category = h(
    "select",
    { name: "productCategory" },
    ...[...YIELD_CEILINGS.map((c) => c.category), "other"].map((c) =>
      h("option", { value: c }, pick(CATEGORY_TEXT[c] ?? [c, c], state.lang)),
    ),
  );
  const unit = h(
    "select",
    { name: "productUnit" },
    ...Object.keys(UNITS).map((name) => h("option", { value: name }, unitName(name))),
  );
  // Net content per item: a mass only (the audit weighs the items issued against the harvest).
  const netValue = h("input", {
    name: "netContentValue",
    inputmode: "decimal",
    pattern: "\\d+(\\.\\d{1,3})?",
    maxlength: "32",
    placeholder: "250",
  });
  const netUnit = h(
    "select",
    { name: "netContentUnit" },
    ...MASS_UNITS.map((name) => h("option", { value: name }, unitName(name))),
  );
  const minC = h("input", { name: "coldMin", type: "number", min: "-60", max: "60", step: "0.1" });
  const maxC = h("input", { name: "coldMax", type: "number", min: "-60", max: "60", step: "0.1" });
  const fields = [
    field(t("product"), gtin),
    field(t("nameZh"), nameZh),
    field(t("nameEn"), nameEn),
    field(t("category"), category),
    field(t("unit"), unit),
    h("div", { class: "row row-even" }, field(t("netContent"), netValue), field(t("netContentUnit"), netUnit)),
    h("div", { class: "row row-even" }, field(t("coldMin"), minC), field(t("coldMax"), maxC)),
  ];
  return recordForm("product-form", fields, () => {
    const coldChain =
      minC.value === "" || maxC.value === "" ? null : { minC: Number(minC.value), maxC: Number(maxC.value) };
    const body = {
      gtin: gtin.value.trim(),
      name: { zh: nameZh.value.trim(), en: nameEn.value.trim() === "" ? null : nameEn.value.trim() },
      category: category.value,
      unit: unit.value,
      coldChain,
      netContent: netValue.value.trim() === "" ? null : { value: netValue.value.trim(), unit: netUnit.value },
    };
    forgetProduct(body.gtin);
    return { path: "/api/v1/products", body, label: [`商品 ${body.gtin}`, `Product ${body.gtin}`] };
  });
}

function plotForm(): HTMLElement {
  const name = h("input", { name: "plotName", required: "", maxlength: "200" });
  const area = h("input", { name: "plotArea", required: "", type: "number", min: "0.0001", step: "0.0001" });
  const region = h("input", {
    name: "plotRegion",
    required: "",
    inputmode: "numeric",
    pattern: "\\d{6}",
    value: state.me?.organisation?.regionCode ?? "",
  });
  const latitude = h("input", { name: "plotLatitude", type: "number", min: "-90", max: "90", step: "any" });
  const longitude = h("input", { name: "plotLongitude", type: "number", min: "-180", max: "180", step: "any" });
  const here = h("button", { type: "button" }, t("useLocation"));
  const status = h("div", { class: "status" });
  here.addEventListener("click", () => {
    // Only on HTTPS (or localhost): a plain-HTTP intranet page gets no location, and says so.
    if (!("geolocation" in navigator)) {
      flash(status, "error", t("noLocation"));
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (position) => {
        latitude.value = position.coords.latitude.toFixed(6);
        longitude.value = position.coords.longitude.toFixed(6);
      },
      () => {
        flash(status, "error", t("noLocation"));
      },
      { enableHighAccuracy: true, timeout: 15_000 },
    );
  });
  const fields = [
    field(t("plotName"), name),
    field(t("areaHa"), area),
    field(t("regionCode"), region),
    h("div", { class: "row row-even" }, field(t("latitude"), latitude), field(t("longitude"), longitude)),
    here,
  ];
  return recordForm(
    "plot-form",
    fields,
    () => {
      const organisationId = state.me?.organisation?.id;
      if (organisationId === undefined) return null;
      const location =
        latitude.value === "" || longitude.value === ""
          ? null
          : { latitude: Number(latitude.value), longitude: Number(longitude.value) };
      const body = { name: name.value.trim(), areaHa: Number(area.value), regionCode: region.value.trim(), location };
      return {
        path: `/api/v1/organisations/${organisationId}/plots`,
        body,
        label: [`地块 ${body.name}`, `Plot ${body.name}`],
      };
    },
    status,
  );
}

function certificationForm(): HTMLElement {
  const kind = h(
    "select",
    { name: "certKind" },
    ...Object.entries(CERT_TEXT).map(([value, text]) => h("option", { value }, pick(text, state.lang))),
  );
  const number = h("input", { name: "certNumber", required: "", maxlength: "64" });
  const issuer = h("input", { name: "certIssuer", required: "", maxlength: "200" });
  const validFrom = h("input", { name: "certValidFrom", required: "", type: "date" });
  const validTo = h("input", { name: "certValidTo", required: "", type: "date" });
  const scope = gtinInput("certScope", true);
  const fields = [
    field(t("certKind"), kind),
    field(t("certNumber"), number),
    field(t("certIssuer"), issuer),
    h("div", { class: "row row-even" }, field(t("validFrom"), validFrom), field(t("validTo"), validTo)),
    field(t("scopeGtin"), scope),
  ];
  return recordForm("certification-form", fields, () => {
    const organisationId = state.me?.organisation?.id;
    if (organisationId === undefined) return null;
    const body = {
      kind: kind.value,
      number: number.value.trim(),
      issuer: issuer.value.trim(),
      validFrom: validFrom.value,
      validTo: validTo.value,
      scopeGtins: [scope.value.trim()],
    };
    return {
      path: `/api/v1/organisations/${organisationId}/certifications`,
      body,
      label: [`认证 ${body.number}`, `Certificate ${body.number}`],
    };
  });
}
