/**
 * The field console, for processors, carriers, shops and testing centres on a phone: sign in
 * (a device session from a sign-in link, or the organisation's token), scan or type the code
 * of an item, case or batch, see what it is and what this organisation may record now, and
 * record it. Every record goes through the offline queue with its Idempotency-Key, so one
 * made without a connection waits on the phone (a report photo as an IndexedDB blob) and is
 * sent once when the phone is back online.
 */
import { authorityFor, foldCustody } from "../../../../server/src/domain/custody.ts";
import type { OrganisationKind } from "../../../../server/src/domain/enumerations.ts";
import { stepsFor } from "../../../../server/src/domain/step-actors.ts";
import type { BizStep } from "../../../../server/src/domain/typed-data.ts";
import { Api, ProblemFailure, newIdempotencyKey, storeToken } from "../shared/api.ts";
import { OfflineQueue, type QueuedWrite } from "../shared/offline-queue.ts";
import { pictogram, pictogramFor } from "../shared/pictograms.ts";
import { signedInAs, withReadAloud } from "../shared/read-aloud.ts";
import type { Spoken } from "../shared/spoken.ts";
import { documentFor, tabBar, topBar } from "../shared/shell.ts";
import { startConsole, wrongRole } from "../shared/start.ts";
import { BIZ_STEP_TEXT, COMMON, LEDGER_TEXT, pick, storedLang, switchLang, type Lang } from "../shared/text.ts";
import {
  chinaIsoFromLocalInput,
  chinaLocalInputNow,
  chinaMinute,
  failureText,
  flash,
  h,
  signInView,
  slot,
} from "../shared/ui.ts";
import { readCode, type ScannedCode } from "./codes.ts";
import { codeReader } from "./reader.ts";
import { keepMedia, sendQueuedMedia, watchQueueMedia } from "../shared/media-queue.ts";
import { deleteBlob } from "../shared/media-store.ts";
import { takeAttachments } from "../shared/voice-note.ts";
import { signAndSubmit } from "../shared/wallet.ts";
import { parseReadings } from "./temperatures.ts";
import { ACTION_TEXT, T, tr } from "./text.ts";

interface Me {
  organisation: {
    id: string;
    kind: OrganisationKind;
    name: { zh: string; en: string | null };
    signerAddress: string;
  } | null;
  roles: string[];
  member?: { id: string; capabilities: string[] } | null;
}
interface EventView {
  bizStep: BizStep;
  actorOrganisationId: string;
  occurredAt: string;
  receiver: { organisationId: string | null; signerAddress: string } | null;
  ledger: { state: string };
}
interface BatchLookup {
  kind: "batch";
  code: ScannedCode & { kind: "batch" };
  batch: {
    batchId: string;
    gtin: string;
    lot: string;
    organisationId: string;
    product?: { name?: { zh: string; en: string | null } };
  };
  events: EventView[];
  inspectors: string[];
  fetchedAtMs: number;
}
interface ContainerLookup {
  kind: "container";
  sscc: string;
  container: {
    sscc: string;
    state: string;
    custodianOrganisationId: string | null;
    pendingReceiverOrganisationId: string | null;
    contents: { childCount: number; batches: { gtin: string; lot: string; items: number }[] } | null;
  };
  fetchedAtMs: number;
}
type Lookup = BatchLookup | ContainerLookup;
type View = "scan" | "queue";

const state: {
  lang: Lang;
  api: Api | null;
  me: Me | null;
  queue: OfflineQueue | null;
  view: View;
  lookup: Lookup | null;
  step: string | null;
  camera: MediaStream | null;
  progress: Map<string, number>;
} = {
  lang: storedLang(),
  api: null,
  me: null,
  queue: null,
  view: "scan",
  lookup: null,
  step: null,
  camera: null,
  progress: new Map(),
};

const flashRegion = h("div", { class: "flash-region", "aria-live": "polite" });
const app = (): HTMLElement => document.getElementById("app") ?? document.body;
const FIELD_KINDS: readonly OrganisationKind[] = ["processor", "logistics", "retailer", "inspector"];
const LOOKUP_KEY = "oioc.field.lookups";

/** What was last seen of each code, so a phone that lost its connection still shows it. */
function rememberLookup(key: string, lookup: Lookup): void {
  try {
    const saved = JSON.parse(localStorage.getItem(LOOKUP_KEY) ?? "{}") as Record<string, Lookup>;
    saved[key] = lookup;
    const recent = Object.entries(saved).slice(-50);
    localStorage.setItem(LOOKUP_KEY, JSON.stringify(Object.fromEntries(recent)));
  } catch {
    // Storage full or off: the lookup works while online.
  }
}
function rememberedLookup(key: string): Lookup | null {
  try {
    return (JSON.parse(localStorage.getItem(LOOKUP_KEY) ?? "{}") as Record<string, Lookup>)[key] ?? null;
  } catch {
    return null;
  }
}

async function lookUp(code: ScannedCode): Promise<Lookup> {
  const api = state.api;
  if (api === null) throw new Error("not signed in");
  const key = code.kind === "batch" ? code.batchId : code.sscc;
  try {
    let lookup: Lookup;
    if (code.kind === "batch") {
      const [{ batch }, { events }, { inspectionRequests }] = await Promise.all([
        api.get<{ batch: BatchLookup["batch"] }>(`/api/v1/batches/${code.batchId}`),
        api.get<{ events: EventView[] }>(`/api/v1/batches/${code.batchId}/events`),
        api.get<{ inspectionRequests: { inspectorOrganisationId: string; ledger: { state: string } }[] }>(
          `/api/v1/batches/${code.batchId}/inspection-requests`,
        ),
      ]);
      lookup = {
        kind: "batch",
        code,
        batch,
        events,
        inspectors: inspectionRequests.filter((r) => r.ledger.state !== "failed").map((r) => r.inspectorOrganisationId),
        fetchedAtMs: Date.now(),
      };
    } else {
      const { container } = await api.get<{ container: ContainerLookup["container"] }>(
        `/api/v1/containers/${code.sscc}`,
      );
      lookup = { kind: "container", sscc: code.sscc, container, fetchedAtMs: Date.now() };
    }
    rememberLookup(key, lookup);
    return lookup;
  } catch (error) {
    const saved = error instanceof ProblemFailure ? null : rememberedLookup(key);
    if (saved !== null) return saved;
    throw error;
  }
}

/**
 * The steps this organisation may record now: the registry's own rules (domain/custody.ts,
 * the module the server judges with) applied to the batch's events as the API gave them. The
 * API judges again when the record arrives; a refusal comes back with its reason.
 */
function mayRecord(lookup: Lookup, me: NonNullable<Me["organisation"]>): string[] {
  if (lookup.kind === "container") {
    const c = lookup.container;
    if (c.pendingReceiverOrganisationId === me.id) return ["receiving"];
    if (c.custodianOrganisationId === me.id && c.state !== "empty")
      return c.state === "in_transit" ? [] : ["shipping", "unpacking"];
    return [];
  }
  const custody = foldCustody(
    lookup.events
      .filter((e) => e.ledger.state !== "failed")
      .map((e) => ({
        actor: e.actorOrganisationId,
        step: e.bizStep,
        counterparty: e.receiver === null ? null : (e.receiver.organisationId ?? e.receiver.signerAddress),
      })),
  );
  // The receiver is chosen in the form; any organisation that receives stands in for it here.
  const someReceiver = { id: "\u0000receiver", kind: "retailer" as const };
  return stepsFor(me.kind).filter((step) => {
    // A transformation names its input batches: the processing plant's desk does that, not the phone.
    if (step === "transforming") return false;
    const claim = {
      actor: { id: me.id, kind: me.kind },
      step,
      counterparty: step === "shipping" ? someReceiver : null,
    };
    return "basis" in authorityFor(claim, custody, lookup.batch.organisationId, lookup.inspectors);
  });
}

function renderApp(): void {
  documentFor(state.lang, pick(T.title, state.lang));
  const me = state.me;
  const bar = topBar({
    title: me?.organisation == null ? pick(T.title, state.lang) : pick(me.organisation.name, state.lang),
    lang: state.lang,
    showOffline: true,
    onSwitchLang: () => {
      state.lang = switchLang(state.lang);
      renderApp();
    },
    ...(me === null ? {} : { onSignOut: signOut }),
  });
  if (state.api === null || me?.organisation == null) {
    app().replaceChildren(bar, h("main", {}, flashRegion, signInView(state.lang, T.title, signIn)));
    return;
  }
  const waiting = state.queue?.waiting().length ?? 0;
  const tabs = tabBar<View>(
    state.view,
    [
      ["scan", pick(T.scan, state.lang)],
      ["queue", `${pick(T.queue, state.lang)} (${String(waiting)})`],
    ],
    (view) => {
      state.view = view;
      renderApp();
    },
  );
  const main = h("main", { class: "field" }, flashRegion);
  if (state.view === "queue") main.append(...queueView());
  else main.append(scanCard(), ...(state.lookup === null ? [] : lookupView(state.lookup, me.organisation)));
  const active = document.activeElement;
  const typed = typedValues();
  app().replaceChildren(bar, tabs, main);
  restoreValues(typed);
  if (active instanceof HTMLElement && active.isConnected) active.focus();
}

/**
 * What is typed in the record form, kept across a redraw (a language switch, the queue's
 * progress, going offline): the phone's user must not lose a half-filled form.
 */
function typedValues(): Map<string, string | boolean> | null {
  const form = document.querySelector("[data-testid=record-form]");
  if (form === null) return null;
  const values = new Map<string, string | boolean>();
  values.set("\u0000step", form.getAttribute("data-step") ?? "");
  for (const control of form.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>("input[name], textarea[name]")) {
    if (control instanceof HTMLInputElement && control.type === "file") continue;
    values.set(
      control.name,
      control instanceof HTMLInputElement && control.type === "checkbox" ? control.checked : control.value,
    );
  }
  return values;
}

function restoreValues(values: Map<string, string | boolean> | null): void {
  const form = document.querySelector("[data-testid=record-form]");
  if (values === null || form === null || values.get("\u0000step") !== form.getAttribute("data-step")) return;
  for (const control of form.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>("input[name], textarea[name]")) {
    const value = values.get(control.name);
    if (typeof value === "boolean" && control instanceof HTMLInputElement) control.checked = value;
    else if (typeof value === "string") control.value = value;
  }
}

/** The report photo chosen in the form: a file input cannot be refilled after a redraw. */
let chosenPhoto: File | null = null;

const codeInput = h("input", {
  name: "code",
  inputmode: "url",
  autocomplete: "off",
  autocapitalize: "off",
  spellcheck: "false",
  required: "",
  maxlength: "500",
});
const video = h("video", { class: "camera", playsinline: "", muted: "", hidden: "" });

const codePhoto = h("input", { type: "file", name: "code-photo", accept: "image/*", capture: "environment" });
codePhoto.addEventListener("change", () => {
  const file = codePhoto.files?.[0];
  codePhoto.value = "";
  if (file !== undefined) void readPhoto(file);
});

function scanCard(): HTMLElement {
  const cameraButton = h(
    "button",
    { type: "button", class: "big", "data-action": "camera" },
    pick(state.camera === null ? T.camera : T.stopCamera, state.lang),
  );
  cameraButton.addEventListener("click", () => {
    void toggleCamera();
  });
  const form = h(
    "form",
    { class: "card scan", "data-testid": "scan-form" },
    ...(state.me?.organisation == null ? [] : [signedInAs(pick(state.me.organisation.name, state.lang), state.lang)]),
    h("h1", {}, pick(T.scan, state.lang)),
    h("p", { class: "help" }, pick(T.scanHelp, state.lang)),
    cameraButton,
    video,
    h("label", { class: "button-like" }, pick(T.photoOfCode, state.lang), codePhoto),
    h("label", {}, pick(T.code, state.lang), codeInput),
    h("button", { type: "submit", class: "primary big" }, pick(T.look, state.lang)),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void showCode(codeInput.value);
  });
  return form;
}

async function showCode(text: string): Promise<void> {
  const code = readCode(text);
  if (code === null) {
    flash(flashRegion, "error", pick(T.badCode, state.lang));
    return;
  }
  try {
    state.lookup = await lookUp(code);
    state.step = null;
    flashRegion.replaceChildren();
    renderApp();
  } catch (error) {
    flash(flashRegion, "error", failureText(error, state.lang));
  }
}

/** The camera's frames read four times a second until a code is seen (BarcodeDetector or the QR decoder). */
async function toggleCamera(): Promise<void> {
  if (state.camera !== null) {
    for (const track of state.camera.getTracks()) track.stop();
    state.camera = null;
    video.hidden = true;
    renderApp();
    return;
  }
  // mediaDevices is absent on plain-HTTP origins, whatever the DOM's types say.
  if (!("mediaDevices" in navigator)) {
    flash(flashRegion, "info", pick(T.noCamera, state.lang));
    return;
  }
  try {
    const read = await codeReader();
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    state.camera = stream;
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    renderApp();
    while (state.camera === stream) {
      const value = await read(video);
      if (value !== null) {
        codeInput.value = value;
        await toggleCamera();
        await showCode(value);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } catch (error) {
    flash(flashRegion, "error", failureText(error, state.lang));
  }
}

/** A photo of the code (any phone can take one, even where the page cannot stream the camera). */
async function readPhoto(file: File): Promise<void> {
  try {
    const read = await codeReader();
    const value = await read(await createImageBitmap(file));
    if (value === null) {
      flash(flashRegion, "error", pick(T.noCodeInPhoto, state.lang));
      return;
    }
    codeInput.value = value;
    await showCode(value);
  } catch (error) {
    flash(flashRegion, "error", failureText(error, state.lang));
  }
}

function lookupView(lookup: Lookup, me: NonNullable<Me["organisation"]>): HTMLElement[] {
  // The API names organisations by id; this phone's own reads as words, not as an id.
  const party = (id: string | null): string =>
    id === null ? "-" : id === me.id ? pick(T.yourOrganisation, state.lang) : id;
  const cards: HTMLElement[] = [];
  const stale = Date.now() - lookup.fetchedAtMs > 5_000 && !navigator.onLine;
  if (lookup.kind === "batch") {
    const b = lookup.batch;
    const name = b.product?.name === undefined ? "" : `${pick(b.product.name, state.lang)} · `;
    cards.push(
      h(
        "section",
        { class: "card", "data-testid": "lookup", "data-kind": "batch", "data-fetched-at": String(lookup.fetchedAtMs) },
        h("h2", {}, `${pick(T.batch, state.lang)}: ${name}${b.lot}`),
        withReadAloud(
          // GTIN and serial on lines of their own: each is checked against the label as a whole.
          h(
            "p",
            { class: "mono" },
            `GTIN ${b.gtin}`,
            ...(lookup.code.serial === null ? [] : [h("br"), `#${lookup.code.serial}`]),
          ),
          state.lang,
          pick(T.theCode, state.lang),
          () => codeParts(b.lot, b.gtin, lookup.code.serial),
        ),
        ...(stale ? [h("p", { class: "help" }, pick(T.offlineInfo, state.lang))] : []),
        h("h3", {}, pick(T.history, state.lang)),
        h(
          "ol",
          { class: "history" },
          ...lookup.events.map((e) =>
            h(
              "li",
              {},
              // What happened, named as the item page names it (the actions' verbs cover only the steps recorded here).
              `${pick(BIZ_STEP_TEXT[e.bizStep] ?? ACTION_TEXT[e.bizStep] ?? [e.bizStep, e.bizStep], state.lang)} · ${chinaMinute(e.occurredAt)} · ${pick(LEDGER_TEXT[e.ledger.state] ?? [e.ledger.state, e.ledger.state], state.lang)}`,
            ),
          ),
        ),
      ),
    );
  } else {
    const c = lookup.container;
    cards.push(
      h(
        "section",
        {
          class: "card",
          "data-testid": "lookup",
          "data-kind": "container",
          "data-fetched-at": String(lookup.fetchedAtMs),
        },
        h("h2", {}, `${pick(T.container, state.lang)}: ${c.sscc}`),
        withReadAloud(h("p", { class: "mono" }, `SSCC ${c.sscc}`), state.lang, pick(T.theCode, state.lang), () => [
          { text: pick(T.caseWord, state.lang) },
          { code: c.sscc },
        ]),
        ...(c.contents === null
          ? []
          : c.contents.batches.map((b) =>
              withReadAloud(
                h("p", { class: "mono" }, `${b.gtin} · ${b.lot} × ${String(b.items)}`),
                state.lang,
                `${pick(T.lotWord, state.lang)} ${b.lot}`,
                () => [{ text: pick(T.lotWord, state.lang) }, { code: b.lot }, { quantity: b.items, unit: "items" }],
              ),
            )),
        h("p", {}, `${pick(T.custodian, state.lang)}: ${party(c.custodianOrganisationId)}`),
        ...(c.pendingReceiverOrganisationId === null
          ? []
          : [h("p", {}, `${pick(T.pending, state.lang)}: ${party(c.pendingReceiverOrganisationId)}`)]),
      ),
    );
  }
  const steps = mayRecord(lookup, me);
  const buttons = steps.map((step) => {
    // A picture first, its short word under it: the step is recognised before it is read.
    const button = h(
      "button",
      { type: "button", class: "step-choice", "data-step": step, "aria-pressed": String(state.step === step) },
      pictogram(step),
      h("span", {}, pick(ACTION_TEXT[step] ?? [step, step], state.lang)),
    );
    button.addEventListener("click", () => {
      if (state.step !== step) chosenPhoto = null;
      state.step = step;
      renderApp();
      document.querySelector("[data-testid=record-form]")?.scrollIntoView({ block: "start" });
    });
    return button;
  });
  cards.push(
    h(
      "section",
      { class: "card", "data-testid": "may-record" },
      h("h2", {}, pick(T.mayRecord, state.lang)),
      ...(steps.length === 0
        ? [h("p", {}, pick(T.nothingNow, state.lang))]
        : [h("div", { class: "step-grid" }, ...buttons)]),
    ),
  );
  if (state.step !== null && steps.includes(state.step)) cards.push(recordForm(lookup, state.step));
  return cards;
}

function input(name: string, attributes: Record<string, string> = {}): HTMLInputElement {
  return h("input", { name, ...attributes });
}
function labelled(label: string, control: HTMLElement): HTMLElement {
  return h("label", {}, label, control);
}

function recordForm(lookup: Lookup, step: string): HTMLElement {
  const lang = state.lang;
  const when = input("occurredAt", { type: "datetime-local", required: "", value: chinaLocalInputNow() });
  const fields: HTMLElement[] = [labelled(pick(T.when, lang), when)];
  const receiver = input("receiver", { required: "", maxlength: "100", autocomplete: "off", list: "receivers" });
  if (step === "shipping") {
    // The receivers this phone shipped to before: a carrier's few regular customers, offered as it types.
    const known = h("datalist", { id: "receivers" }, ...recentReceivers().map((id) => h("option", { value: id })));
    fields.push(labelled(pick(T.receiver, lang), receiver), known);
  }
  const temps = h("textarea", { name: "temperatures", rows: "4", placeholder: "2026-04-16 08:00,4.5" });
  const csv = input("csv", { type: "file", accept: ".csv,text/csv,text/plain" });
  csv.addEventListener("change", () => {
    void csv.files?.[0]?.text().then((text) => {
      temps.value = text;
    });
  });
  const withTemperatures = lookup.kind === "batch" && ["shipping", "receiving", "cooling"].includes(step);
  if (withTemperatures)
    fields.push(
      withReadAloud(labelled(pick(T.temperatures, lang), temps), lang, pick(T.theTemperatures, lang), () =>
        temperatureParts(temps.value, lang),
      ),
      labelled(pick(T.csv, lang), csv),
    );
  const substance = input("substance", { required: "", maxlength: "200" });
  const result = input("result", { type: "number", step: "any", min: "0", inputmode: "decimal" });
  const limit = input("limit", { type: "number", step: "any", min: "0", inputmode: "decimal" });
  const standard = input("standard", { maxlength: "200" });
  const passed = input("passed", { type: "checkbox", checked: "" });
  const photo = input("photo", { type: "file", accept: "image/*", capture: "environment" });
  photo.addEventListener("change", () => {
    chosenPhoto = photo.files?.[0] ?? null;
  });
  if (step === "inspecting") {
    fields.push(
      labelled(pick(T.substance, lang), substance),
      withReadAloud(labelled(pick(T.result, lang), result), lang, pick(T.result, lang), () => [
        { quantity: result.value, unit: "mg/kg" },
      ]),
      withReadAloud(labelled(pick(T.limit, lang), limit), lang, pick(T.limit, lang), () => [
        { quantity: limit.value, unit: "mg/kg" },
      ]),
      labelled(pick(T.standard, lang), standard),
      h("label", { class: "check" }, passed, pick(T.passed, lang)),
      labelled(pick(T.photo, lang), photo),
      // A redraw empties the file field; the photo chosen is still kept, and named here.
      ...(chosenPhoto === null ? [] : [h("p", { class: "help", "data-testid": "photo-chosen" }, chosenPhoto.name)]),
    );
  }
  const note = input("note", { maxlength: "500" });
  if (lookup.kind === "batch") fields.push(labelled(pick(T.note, lang), note));
  const form = h(
    "form",
    { class: "card record", "data-testid": "record-form", "data-step": step },
    h("h2", { class: "with-picture" }, pictogram(step), pick(ACTION_TEXT[step] ?? [step, step], lang)),
    ...fields,
    slot("voice-note", { where: "field-record", step }),
    h("button", { type: "submit", class: "primary big" }, pick(T.record, lang)),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const occurredAt = new Date(Date.parse(chinaIsoFromLocalInput(when.value))).toISOString();
    const key = newIdempotencyKey();
    const label = { zh: ACTION_TEXT[step]?.[0] ?? step, en: ACTION_TEXT[step]?.[1] ?? step };
    let write: QueuedWrite;
    if (lookup.kind === "container") {
      label.zh += ` ${lookup.sscc}`;
      label.en += ` ${lookup.sscc}`;
      write = {
        key,
        path: `/api/v1/containers/${lookup.sscc}/events`,
        body: { action: step, occurredAt, ...(step === "shipping" ? { receiver: receiver.value.trim() } : {}) },
        label,
        queuedAtMs: Date.now(),
      };
    } else {
      const data: Record<string, unknown> = {};
      if (withTemperatures && temps.value.trim() !== "") {
        const parsed = parseReadings(temps.value);
        if ("badLine" in parsed) {
          flash(flashRegion, "error", tr(T.badReadings, lang, { n: String(parsed.badLine) }));
          return;
        }
        data.temperatures = parsed.readings;
      }
      if (step === "inspecting") {
        data.tests = [
          {
            substance: substance.value.trim(),
            ...(standard.value.trim() === "" ? {} : { standard: standard.value.trim() }),
            ...(result.value === "" ? {} : { resultMgPerKg: Number(result.value) }),
            ...(limit.value === "" ? {} : { limitMgPerKg: Number(limit.value) }),
            passed: passed.checked,
          },
        ];
      }
      if (note.value.trim() !== "") data.note = { zh: note.value.trim() };
      label.zh += ` ${lookup.batch.lot}`;
      label.en += ` ${lookup.batch.lot}`;
      write = {
        key,
        path: `/api/v1/batches/${lookup.batch.batchId}/events`,
        body: {
          bizStep: step,
          occurredAt,
          ...(step === "shipping" ? { receiver: receiver.value.trim() } : {}),
          data,
        },
        label,
        queuedAtMs: Date.now(),
      };
    }
    const reportPhoto = step === "inspecting" ? (photo.files?.[0] ?? chosenPhoto) : null;
    // A voice note or video goes with a batch's event (a container's events carry no files).
    const attached = lookup.kind === "batch" ? takeAttachments(form) : [];
    void queueWrite(write, [...(reportPhoto === null ? [] : [reportPhoto]), ...attached]);
    chosenPhoto = null;
  });
  return form;
}

/** What the code's read-aloud button says: the lot and GTIN one character at a time, and the serial. */
function codeParts(lot: string, gtin: string, serial: string | null): Spoken[] {
  const lang = state.lang;
  return [
    { text: pick(T.lotWord, lang) },
    { code: lot },
    { text: pick(T.gtinWord, lang) },
    { code: gtin },
    ...(serial === null ? [] : [{ text: pick(T.serialWord, lang) }, { code: serial }]),
  ];
}

/** The temperatures typed or imported, each in degrees; a list that cannot be read says so. */
function temperatureParts(text: string, lang: Lang): Spoken[] {
  const parsed = parseReadings(text);
  if ("badLine" in parsed) return [{ text: tr(T.badReadings, lang, { n: String(parsed.badLine) }) }];
  if (parsed.readings.length === 0) return [{ text: pick(T.noReadings, lang) }];
  return parsed.readings.map((reading) => ({ celsius: reading.celsius }));
}

const RECEIVERS_KEY = "oioc.field.receivers";

function recentReceivers(): string[] {
  try {
    const saved: unknown = JSON.parse(localStorage.getItem(RECEIVERS_KEY) ?? "[]");
    return Array.isArray(saved) ? saved.filter((v): v is string => typeof v === "string") : [];
  } catch {
    return [];
  }
}

function rememberReceiver(id: string): void {
  try {
    localStorage.setItem(
      RECEIVERS_KEY,
      JSON.stringify([id, ...recentReceivers().filter((v) => v !== id)].slice(0, 20)),
    );
  } catch {
    // Storage full or off: the list is a convenience.
  }
}

async function queueWrite(write: QueuedWrite, files: readonly File[]): Promise<void> {
  const named = (write.body as { receiver?: unknown }).receiver;
  if (typeof named === "string" && named !== "") rememberReceiver(named);
  if (files.length > 0) write.media = await keepMedia(write.key, files);
  state.queue?.add(write);
  state.step = null;
  flash(flashRegion, "info", pick(T.queued, state.lang));
  renderApp();
  await flushQueue();
}

/** Uploads the entry's files resumably (each with its own session, continued after a reload), then its body. */
function prepare(write: QueuedWrite): Promise<unknown> {
  const api = state.api;
  return api === null ? Promise.resolve(write.body) : sendQueuedMedia(write, api);
}

/** Photos whose record the server took (or the user dismissed) leave the phone. */
async function sweepBlobs(): Promise<void> {
  const queue = state.queue;
  if (queue === null) return;
  const kept = new Set([...queue.waiting(), ...queue.refused()].flatMap((w) => (w.media ?? []).map((m) => m.blobKey)));
  for (const key of sentBlobs) if (!kept.has(key)) await deleteBlob(key).catch(() => undefined);
  sentBlobs.clear();
}
const sentBlobs = new Set<string>();

function queueView(): HTMLElement[] {
  const queue = state.queue;
  if (queue === null) return [];
  const lang = state.lang;
  const waiting = queue.waiting();
  const cards: HTMLElement[] = [
    h(
      "section",
      { class: "card queue", "data-testid": "queue" },
      h("h2", {}, `${pick(COMMON.waiting, lang)} (${String(waiting.length)})`),
      ...(waiting.length === 0
        ? [h("p", {}, pick(T.emptyQueue, lang))]
        : [
            h(
              "ul",
              {},
              ...waiting.map((w) => {
                const fraction = state.progress.get(w.key);
                const photos = w.media?.length ?? 0;
                return h(
                  "li",
                  { "data-key": w.key, class: "with-picture" },
                  pictogram(pictogramFor(w)),
                  `${pick(w.label, lang)} · ${chinaMinute(new Date(w.queuedAtMs).toISOString())}`,
                  ...(photos === 0
                    ? []
                    : [h("span", { class: "help" }, ` · ${String(photos)} ${pick(T.photoWaiting, lang)}`)]),
                  ...(w.lastProblem === undefined
                    ? []
                    : [h("span", { class: "help" }, ` · ${pick(w.lastProblem.message, lang)}`)]),
                  ...(fraction === undefined
                    ? []
                    : [h("progress", { max: "1", value: String(fraction), "aria-label": pick(T.uploading, lang) })]),
                  slot("media-progress", { where: "queue-entry", key: w.key }),
                );
              }),
            ),
          ]),
    ),
  ];
  for (const refused of queue.refused()) {
    const dismiss = h("button", { type: "button", "data-action": "dismiss" }, pick(COMMON.dismiss, lang));
    dismiss.addEventListener("click", () => {
      for (const m of refused.media ?? []) sentBlobs.add(m.blobKey);
      queue.dismissRefused(refused.key);
      void sweepBlobs();
    });
    const again = h("button", { type: "button", "data-action": "send-again" }, pick(COMMON.sendAgain, lang));
    again.addEventListener("click", () => {
      queue.retryRefused(refused.key);
      void flushQueue(true);
    });
    cards.push(
      h(
        "section",
        { class: "card queue queue-refused", role: "alert", "data-testid": "queue-refused", "data-key": refused.key },
        h("h2", {}, `${pick(COMMON.refused, lang)}: ${pick(refused.label, lang)}`),
        h("p", {}, `${pick(refused.problem.message, lang)} [${refused.problem.code}]`),
        h("div", { class: "actions" }, again, dismiss),
      ),
    );
  }
  return cards;
}

const PROFILE_KEY = "oioc.field.profile";

/**
 * Checks the token with the server; with no connection, the profile saved at the last
 * sign-in serves (the console must open offline; the server judges every record anyway).
 */
async function profileOf(candidate: Api, offlineAllowed: boolean): Promise<Me> {
  try {
    const profile = await candidate.get<Me>("/api/v1/me");
    localStorage.setItem(PROFILE_KEY, JSON.stringify(profile));
    return profile;
  } catch (error) {
    const saved = localStorage.getItem(PROFILE_KEY);
    if (!offlineAllowed || error instanceof ProblemFailure || saved === null) throw error;
    return JSON.parse(saved) as Me;
  }
}

async function signIn(token: string, offlineAllowed = false): Promise<void> {
  const candidate = new Api(token);
  const profile = await profileOf(candidate, offlineAllowed);
  const organisation = profile.organisation;
  if (organisation === null || !FIELD_KINDS.includes(organisation.kind)) throw wrongRole(T.notField);
  storeToken("field", token);
  state.api = candidate;
  state.me = profile;
  state.queue = new OfflineQueue(
    `field.${organisation.id}`,
    () => {
      renderApp();
    },
    (sent) => {
      flash(flashRegion, "ok", tr(T.sentFromQueue, state.lang, { n: String(sent) }));
      void sweepBlobs();
    },
    async (write) => {
      const body = await prepare(write);
      for (const m of write.media ?? []) sentBlobs.add(m.blobKey);
      return body;
    },
    // A carrier or shop holding its own key signs each record in its wallet as it goes out.
    (request) => signAndSubmit(candidate, request, organisation.signerAddress),
  );
  watchQueueMedia(state.queue);
  renderApp();
  await flushQueue(true);
}

function signOut(): void {
  if (state.me?.member != null) {
    void state.api?.fetch("/api/v1/me/session", { method: "DELETE" }).catch(() => undefined);
  }
  storeToken("field", null);
  localStorage.removeItem(PROFILE_KEY);
  state.queue?.stop();
  state.api = null;
  state.me = null;
  state.queue = null;
  state.lookup = null;
  renderApp();
}

async function flushQueue(now = false): Promise<void> {
  if (state.api === null || state.queue === null || state.queue.waiting().length === 0) return;
  await state.queue.flush(state.api, { now });
}

startConsole({
  name: "field",
  render: renderApp,
  // Offline with a kept token the console still opens, on the profile of the last sign-in.
  signIn: (token) => signIn(token, true),
  flashRegion,
  lang: () => state.lang,
  onOnline: () => {
    renderApp();
    void flushQueue(true);
  },
});
