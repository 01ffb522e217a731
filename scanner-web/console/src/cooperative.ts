/**
 * The cooperative console, for a phone in the field: sign in with the cooperative's
 * token, register a harvest batch (with the planting video, uploaded with a progress
 * bar), follow each batch onto the ledger, print its label sheet, record what happened
 * to it, recall it. Every action is a call of the public API; writes made offline wait
 * in the device's storage with their idempotency keys and go out when the phone is back
 * online.
 */
import type { batchView, eventView } from "../../../server/src/http/routes/batches.ts";
import type { organisationView } from "../../../server/src/http/routes/organisations.ts";
import type { Certification, Plot, Product } from "../../../server/src/storage/catalogue.ts";
import { UNITS } from "../../../server/src/domain/units.ts";
import { Api, NetworkFailure, ProblemFailure, newIdempotencyKey, storeToken, storedToken } from "./shared/api.ts";
import { OfflineQueue } from "./shared/offline-queue.ts";
import {
  BIZ_STEP_TEXT,
  CERT_TEXT,
  COMMON,
  LEDGER_TEXT,
  STATUS_TEXT,
  pick,
  storeLang,
  storedLang,
  type Lang,
  type Pair,
} from "./shared/text.ts";
import {
  chinaDay,
  chinaIsoFromLocalInput,
  chinaLocalInputNow,
  chinaMinute,
  failureText,
  flash,
  h,
  reasonDialog,
  signInView,
} from "./shared/ui.ts";
import { uploadMedia, type UploadHandle } from "./shared/upload.ts";
import { WalletMissing, signAndSubmit, type SignatureRequestView } from "./shared/wallet.ts";

type BatchView = ReturnType<typeof batchView>;
type EventView = ReturnType<typeof eventView>;
type OrganisationView = ReturnType<typeof organisationView>;

interface Me {
  organisation: OrganisationView | null;
  roles: string[];
  plots: Plot[];
  certifications: Certification[];
}

const T = {
  title: ["合作社控制台", "Cooperative console"],
  batches: ["我的批次", "My batches"],
  register: ["登记新批次", "Register a batch"],
  product: ["商品条码（GTIN）", "Product GTIN"],
  productUnknown: ["未找到该商品，请先登记商品。", "No product with this GTIN; register the product first."],
  lot: ["批号", "Lot number"],
  plot: ["地块", "Plot"],
  noPlot: ["（不指定地块）", "(no plot)"],
  harvestedAt: ["采收时间", "Harvested at"],
  quantity: ["采收数量", "Quantity harvested"],
  unit: ["单位", "Unit"],
  itemCount: ["贴码件数（每件一个码）", "Items to label (one code each)"],
  hiddenCodes: ["标签印刮开验证码", "Print a scratch-off verification code on each label"],
  certifications: ["认证（三品一标）", "Certifications"],
  complianceCertificate: ["承诺达标合格证编号", "Compliance certificate number"],
  descriptionZh: ["说明（中文）", "Description (Chinese)"],
  descriptionEn: ["说明（英文）", "Description (English)"],
  video: ["种植视频", "Planting video"],
  uploading: ["正在上传", "Uploading"],
  uploaded: ["已上传", "Uploaded"],
  uploadFirst: ["请等视频上传完成。", "Wait until the video has uploaded."],
  submit: ["提交登记", "Register"],
  accepted: [
    "已提交，正在写入账本。可在“我的批次”查看进度。",
    "Accepted; it is being recorded on the ledger. Follow it under “My batches”.",
  ],
  queued: [
    "当前离线：已保存在本机，联网后自动提交。",
    "You are offline: saved on this phone and sent when you are back online.",
  ],
  sentFromQueue: ["已发送离线时保存的 {n} 项操作。", "Sent {n} action(s) saved while offline."],
  harvest: ["采收", "Harvested"],
  items: ["件", "items"],
  labels: ["下载标签", "Label sheet"],
  labelsNotYet: ["批次上链后才能打印标签。", "Labels can be printed once the batch is on the ledger."],
  labelsStarted: ["标签 PDF 已开始下载。", "The label PDF is downloading."],
  events: ["过程记录", "What happened"],
  record: ["记录", "Record"],
  recordEvent: ["记录新环节", "Record a step"],
  step: ["环节", "Step"],
  occurredAt: ["时间", "When"],
  locationName: ["地点名称", "Place"],
  inputName: ["投入品名称", "Input applied"],
  inputKind: ["类型", "Kind"],
  inputAmount: ["用量", "Amount"],
  inputBatchGtin: ["原料批次商品条码", "Input batch GTIN"],
  inputBatchLot: ["原料批次批号", "Input batch lot"],
  note: ["备注", "Note"],
  eventAccepted: ["已记录，正在写入账本。", "Recorded; being written to the ledger."],
  coldChainBreach: ["温度超出范围：", "Temperature out of range: "],
  recall: ["召回", "Recall"],
  recallTitle: ["召回该批次？", "Recall this batch?"],
  recallText: [
    "召回后，消费者扫码会看到“已召回”，且无法撤销。",
    "Once recalled, every scan shows “Recalled”. This cannot be undone.",
  ],
  recallAccepted: ["召回已提交，正在写入账本。", "Recall accepted; being written to the ledger."],
  walletSign: ["请在钱包中签名…", "Sign in your wallet…"],
  walletMissing: [
    "本机构使用自有密钥：请在装有钱包的浏览器中打开本页签名。",
    "Your organisation holds its own key: open this page in a browser with your wallet to sign.",
  ],
  technical: ["技术信息", "Technical detail"],
  notCooperative: ["此令牌不属于合作社。", "This token does not belong to a cooperative."],
} as const satisfies Record<string, Pair>;

const COOPERATIVE_STEPS = [
  "planting",
  "input_application",
  "harvesting",
  "cooling",
  "transforming",
  "packing",
  "shipping",
] as const;

const INPUT_KINDS: Record<string, Pair> = {
  fertilizer: ["肥料", "Fertiliser"],
  pesticide: ["农药", "Pesticide"],
  other: ["其他", "Other"],
};

let lang: Lang = storedLang();
let api: Api | null = null;
let me: Me | null = null;
let queue: OfflineQueue | null = null;
let view: "batches" | "register" = "batches";
let batches: BatchView[] = [];
const events = new Map<string, EventView[]>();
const products = new Map<string, Product | null>();
const openBatches = new Set<string>();
let refreshTimer: number | undefined;

/** The register form survives re-renders (a language switch must not lose a half-typed batch or an upload). */
interface Draft {
  values: Record<string, string>;
  checked: Record<string, boolean>;
  idempotencyKey: string;
  video: { name: string; fraction: number; cid: string | null; error: string | null; handle: UploadHandle | null };
}
let draft: Draft = freshDraft();

function freshDraft(): Draft {
  return {
    values: { harvestedAt: chinaLocalInputNow(), unit: "kg", itemCount: "100" },
    checked: { hiddenCodes: true },
    idempotencyKey: newIdempotencyKey(),
    video: { name: "", fraction: 0, cid: null, error: null, handle: null },
  };
}

const t = (key: keyof typeof T): string => pick(T[key], lang);
const app = (): HTMLElement => document.getElementById("app") ?? document.body;
const flashRegion = h("div", { class: "flash-region", "aria-live": "polite" });

// ---------------------------------------------------------------------------- shell

function render(): void {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.title = `${t("title")} · 一物一码`;
  if (api === null || me === null) {
    app().replaceChildren(
      topBar(null),
      h(
        "main",
        {},
        flashRegion,
        signInView(lang, T.title, async (token) => {
          await signIn(token);
        }),
      ),
    );
    return;
  }
  const main = h("main", {}, flashRegion, ...queuePanel());
  if (me.organisation?.status === "suspended") {
    main.append(h("p", { class: "banner banner-danger", role: "alert" }, pick(COMMON.suspendedBanner, lang)));
  }
  main.append(view === "batches" ? batchesView() : registerView());
  // Forms are kept across renders (polling redraws the list); keep the cursor where it was.
  const active = document.activeElement;
  app().replaceChildren(topBar(me), tabs(), main);
  if (active instanceof HTMLElement && active !== document.activeElement && active.isConnected) active.focus();
}

function topBar(current: Me | null): HTMLElement {
  const switcher = h("button", { type: "button", class: "link", "data-action": "lang" }, pick(COMMON.switchTo, lang));
  switcher.addEventListener("click", () => {
    snapshotDraft();
    registerForm = null; // its labels are in the old language
    eventForms.clear();
    lang = lang === "zh" ? "en" : "zh";
    storeLang(lang);
    render();
  });
  const right = h("div", { class: "top-actions" });
  if (!navigator.onLine)
    right.append(h("span", { class: "badge badge-warn", "data-testid": "offline" }, pick(COMMON.offline, lang)));
  right.append(switcher);
  if (current !== null) {
    const out = h("button", { type: "button", class: "link" }, pick(COMMON.signOut, lang));
    out.addEventListener("click", signOut);
    right.append(out);
  }
  const name = current?.organisation == null ? t("title") : pick(current.organisation.name, lang);
  return h("header", { class: "top" }, h("span", { class: "brand" }, name), right);
}

function tabs(): HTMLElement {
  const tab = (target: typeof view, label: string): HTMLElement => {
    const button = h("button", { type: "button", role: "tab", "aria-selected": String(view === target) }, label);
    button.addEventListener("click", () => {
      view = target;
      render();
      if (target === "batches") void refreshBatches();
    });
    return button;
  };
  return h("nav", { class: "tabs", role: "tablist" }, tab("batches", t("batches")), tab("register", t("register")));
}

function queuePanel(): HTMLElement[] {
  if (queue === null) return [];
  const panels: HTMLElement[] = [];
  const waiting = queue.waiting();
  if (waiting.length > 0) {
    panels.push(
      h(
        "section",
        { class: "card queue", "data-testid": "queue" },
        h("h2", {}, `${pick(COMMON.waiting, lang)} (${String(waiting.length)})`),
        h(
          "ul",
          {},
          ...waiting.map((w) =>
            h("li", {}, `${pick(w.label, lang)} · ${chinaMinute(new Date(w.queuedAtMs).toISOString())}`),
          ),
        ),
      ),
    );
  }
  for (const refused of queue.refused()) {
    const dismiss = h("button", { type: "button" }, pick(COMMON.dismiss, lang));
    dismiss.addEventListener("click", () => queue?.dismissRefused(refused.key));
    panels.push(
      h(
        "section",
        { class: "card queue queue-refused", role: "alert" },
        h("h2", {}, `${pick(COMMON.refused, lang)}: ${pick(refused.label, lang)}`),
        h("p", {}, `${pick(refused.problem.message, lang)} [${refused.problem.code}]`),
        dismiss,
      ),
    );
  }
  return panels;
}

async function signIn(token: string): Promise<void> {
  const candidate = new Api(token);
  const profile = await candidate.get<Me>("/api/v1/me");
  if (!profile.roles.includes("cooperative") || profile.organisation === null) {
    throw new ProblemFailure({
      code: "console.wrong_role",
      status: 403,
      message: { zh: T.notCooperative[0], en: T.notCooperative[1] },
    });
  }
  storeToken("cooperative", token);
  api = candidate;
  me = profile;
  queue = new OfflineQueue(profile.organisation.id, render);
  render();
  await flushQueue();
  await refreshBatches();
}

function signOut(): void {
  storeToken("cooperative", null);
  api = null;
  me = null;
  queue = null;
  batches = [];
  events.clear();
  eventForms.clear();
  render();
}

async function flushQueue(): Promise<void> {
  if (api === null || queue === null || queue.waiting().length === 0) return;
  const sent = await queue.flush(api);
  if (sent > 0) {
    flash(flashRegion, "ok", t("sentFromQueue").replace("{n}", String(sent)));
    await refreshBatches();
  }
}

// ---------------------------------------------------------------------------- batches

/** What the list shows, to redraw only when something changed. */
function listFingerprint(): string {
  return JSON.stringify([batches, [...events.entries()], [...products.keys()]]);
}

async function refreshBatches(): Promise<void> {
  if (api === null) return;
  const before = listFingerprint();
  try {
    batches = (await api.get<{ batches: BatchView[] }>("/api/v1/batches?limit=200")).batches;
    await Promise.all([...openBatches].map((id) => loadEvents(id)));
    await Promise.all([...new Set(batches.map((b) => b.gtin))].map((gtin) => loadProduct(gtin)));
  } catch (error) {
    if (!(error instanceof NetworkFailure)) flash(flashRegion, "error", failureText(error, lang));
  }
  if (view === "batches" && listFingerprint() !== before) render();
  scheduleRefresh();
}

/** Polls while anything is still on its way to the ledger; stops when all is settled. */
function scheduleRefresh(): void {
  window.clearTimeout(refreshTimer);
  const unsettled = (state: string): boolean => state === "pending" || state === "submitted";
  const busy =
    batches.some((b) => unsettled(b.ledger.state)) ||
    [...events.values()].some((list) => list.some((e) => unsettled(e.ledger.state)));
  if (busy && api !== null) refreshTimer = window.setTimeout(() => void refreshBatches(), 2_000);
}

async function loadEvents(batchId: string): Promise<void> {
  if (api === null) return;
  events.set(batchId, (await api.get<{ events: EventView[] }>(`/api/v1/batches/${batchId}/events`)).events);
}

async function loadProduct(gtin: string): Promise<Product | null> {
  if (products.has(gtin)) return products.get(gtin) ?? null;
  try {
    const product =
      (await api?.get<{ product: Product }>(`/api/v1/products/${encodeURIComponent(gtin)}`))?.product ?? null;
    products.set(gtin, product);
    return product;
  } catch (error) {
    if (error instanceof ProblemFailure && error.problem.status === 404) products.set(gtin, null);
    return null;
  }
}

function productName(gtin: string): string {
  const product = products.get(gtin);
  return product == null ? gtin : pick({ zh: product.nameZh, en: product.nameEn }, lang);
}

function ledgerBadge(ledger: BatchView["ledger"]): HTMLElement {
  const badge = h(
    "span",
    { class: `badge ledger-${ledger.state}`, "data-testid": "ledger-state" },
    pick(LEDGER_TEXT[ledger.state] ?? [ledger.state, ledger.state], lang),
  );
  if (ledger.state !== "failed" || ledger.failure === null) return badge;
  return h(
    "div",
    { class: "failure" },
    badge,
    h("p", { class: "failure-reason", "data-testid": "failure-reason" }, pick(ledger.failure, lang)),
    h("details", {}, h("summary", {}, t("technical")), h("code", {}, ledger.failureReason ?? "")),
  );
}

function batchesView(): HTMLElement {
  if (batches.length === 0) return h("section", { class: "card" }, h("p", {}, pick(COMMON.none, lang)));
  return h("section", { class: "batch-list" }, ...batches.map(batchCard));
}

function batchCard(batch: BatchView): HTMLElement {
  const recalled = batch.status === "recalled";
  const card = h(
    "article",
    { class: `card batch${recalled ? " batch-recalled" : ""}`, "data-lot": batch.lot, "data-batch-id": batch.batchId },
    h("h2", {}, productName(batch.gtin)),
    h(
      "p",
      { class: "facts" },
      `${t("lot")} ${batch.lot} · ${t("harvest")} ${chinaDay(batch.harvestedAt)} · ${batch.quantity.value} ${unitName(batch.quantity.unit)} · ${String(batch.itemCount)} ${t("items")}`,
    ),
    h(
      "div",
      { class: "states" },
      ledgerBadge(batch.ledger),
      recalled ? h("span", { class: "badge badge-danger" }, pick(STATUS_TEXT.recalled ?? ["", ""], lang)) : null,
    ),
  );
  const actions = h("div", { class: "actions" });
  const labels = h("button", { type: "button", "data-action": "labels" }, t("labels"));
  labels.addEventListener("click", () => void downloadLabels(batch));
  const toggle = h(
    "button",
    { type: "button", "data-action": "events", "aria-expanded": String(openBatches.has(batch.batchId)) },
    t("events"),
  );
  toggle.addEventListener("click", () => {
    if (openBatches.has(batch.batchId)) openBatches.delete(batch.batchId);
    else openBatches.add(batch.batchId);
    void loadEvents(batch.batchId).then(render, (error: unknown) => {
      flash(flashRegion, "error", failureText(error, lang));
    });
  });
  actions.append(labels, toggle);
  if (!recalled && batch.ledger.state === "anchored") {
    const recall = h("button", { type: "button", class: "danger", "data-action": "recall" }, t("recall"));
    recall.addEventListener("click", () => void recallBatch(batch));
    actions.append(recall);
  }
  card.append(actions);
  if (openBatches.has(batch.batchId)) card.append(eventsPanel(batch));
  return card;
}

function unitName(unit: string): string {
  const known = Object.hasOwn(UNITS, unit) ? UNITS[unit as keyof typeof UNITS] : undefined;
  return known === undefined ? unit : lang === "zh" ? known.zh : known.en;
}

async function downloadLabels(batch: BatchView): Promise<void> {
  if (api === null) return;
  if (batch.ledger.state !== "anchored") {
    flash(flashRegion, "info", t("labelsNotYet"));
    return;
  }
  try {
    const link = (await api.json<{ url: string }>(`/api/v1/batches/${batch.batchId}/label-links`, { method: "POST" }))
      .body;
    // The signed link works without the token, so the print-room PC can open it too; here it
    // is followed on this origin (the public origin may be a CDN name this device cannot reach).
    const url = new URL(link.url);
    const anchor = h("a", { href: `${url.pathname}${url.search}`, download: "", hidden: "" });
    document.body.append(anchor);
    anchor.click();
    anchor.remove();
    flash(flashRegion, "ok", t("labelsStarted"));
  } catch (error) {
    flash(flashRegion, "error", failureText(error, lang));
  }
}

function eventsPanel(batch: BatchView): HTMLElement {
  const list = events.get(batch.batchId) ?? [];
  const rows = list.map((event) =>
    h(
      "li",
      { "data-step": event.bizStep },
      h("strong", {}, pick(BIZ_STEP_TEXT[event.bizStep] ?? [event.bizStep, event.bizStep], lang)),
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

// ---------------------------------------------------------------------------- writes

/**
 * Sends a write now, or keeps it for later when there is no connection. An organisation
 * holding its own key gets typed data back, which its wallet signs before it counts.
 */
async function write(path: string, body: unknown, label: Pair, key: string): Promise<"sent" | "queued"> {
  if (api === null || me?.organisation == null) throw new Error("not signed in");
  const entry = { key, path, body, label: { zh: label[0], en: label[1] }, queuedAtMs: Date.now() };
  if (!navigator.onLine) {
    queue?.add(entry);
    return "queued";
  }
  try {
    const answer = await api.json<{ signatureRequest?: SignatureRequestView }>(path, {
      method: "POST",
      body,
      idempotencyKey: key,
    });
    const request = answer.body.signatureRequest;
    if (answer.status === 201 && request !== undefined) {
      flash(flashRegion, "info", t("walletSign"));
      await signAndSubmit(api, request, me.organisation.signerAddress);
    }
    return "sent";
  } catch (error) {
    if (error instanceof NetworkFailure) {
      queue?.add(entry);
      return "queued";
    }
    if (error instanceof WalletMissing) {
      throw new ProblemFailure({
        code: "console.wallet_missing",
        status: 400,
        message: { zh: T.walletMissing[0], en: T.walletMissing[1] },
        detail: error.message,
      });
    }
    throw error;
  }
}

async function recallBatch(batch: BatchView): Promise<void> {
  const reason = await reasonDialog(t("recallTitle"), t("recallText"), t("recall"), lang);
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
    flash(flashRegion, "error", failureText(error, lang));
  }
}

function field(label: string, control: HTMLElement, extra: Record<string, string> = {}): HTMLElement {
  return h("label", extra, label, control);
}

/** One form per open batch, kept while the list redraws around it. */
const eventForms = new Map<string, HTMLElement>();

function cachedEventForm(batch: BatchView): HTMLElement {
  let form = eventForms.get(batch.batchId);
  if (form === undefined) {
    form = eventForm(batch);
    eventForms.set(batch.batchId, form);
  }
  return form;
}

function eventForm(batch: BatchView): HTMLElement {
  const step = h(
    "select",
    { name: "bizStep" },
    ...COOPERATIVE_STEPS.map((s) => h("option", { value: s }, pick(BIZ_STEP_TEXT[s] ?? [s, s], lang))),
  );
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
    ...Object.entries(INPUT_KINDS).map(([value, text]) => h("option", { value }, pick(text, lang))),
  );
  const inputAmount = h("input", { name: "inputAmount", inputmode: "decimal", pattern: "\\d+(\\.\\d{1,3})?" });
  const inputUnit = h("input", { name: "inputUnit", maxlength: "8", value: "kg" });
  const sourceGtin = h("input", { name: "sourceGtin", inputmode: "numeric", pattern: "\\d{14}", value: batch.gtin });
  const sourceLot = h("input", { name: "sourceLot", maxlength: "20" });
  const note = h("input", { name: "note", maxlength: "500" });
  const inputs = h(
    "fieldset",
    { class: "step-fields", "data-for": "input_application" },
    field(t("inputName"), inputName),
    field(t("inputKind"), inputKind),
    h("div", { class: "row" }, field(t("inputAmount"), inputAmount), field(t("unit"), inputUnit)),
  );
  const sources = h(
    "fieldset",
    { class: "step-fields", "data-for": "transforming" },
    field(t("inputBatchGtin"), sourceGtin),
    field(t("inputBatchLot"), sourceLot),
  );
  const showStepFields = (): void => {
    inputs.hidden = step.value !== "input_application";
    sources.hidden = step.value !== "transforming";
    inputName.required = step.value === "input_application";
    inputAmount.required = step.value === "input_application";
    sourceLot.required = step.value === "transforming";
  };
  step.addEventListener("change", showStepFields);
  showStepFields();
  const status = h("div", { class: "status" });
  const submit = h("button", { type: "submit", class: "primary" }, t("record"));
  const form = h(
    "form",
    { class: "event-form", "data-testid": "event-form" },
    h("h3", {}, t("recordEvent")),
    field(t("step"), step),
    field(t("occurredAt"), occurredAt),
    field(t("locationName"), place),
    inputs,
    sources,
    field(t("note"), note),
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
    const region = me?.organisation?.regionCode;
    if (place.value.trim() !== "" && region !== undefined)
      data.location = { regionCode: region, name: place.value.trim() };
    if (step.value === "input_application") {
      data.inputs = [
        {
          name: inputName.value.trim(),
          kind: inputKind.value,
          amount: inputAmount.value.trim(),
          unit: inputUnit.value.trim(),
        },
      ];
    }
    if (step.value === "transforming")
      data.inputBatches = [{ gtin: sourceGtin.value.trim(), lot: sourceLot.value.trim() }];
    if (note.value.trim() !== "") data.note = { zh: note.value.trim(), en: null };
    const body = { bizStep: step.value, occurredAt: chinaIsoFromLocalInput(occurredAt.value), data };
    const label: Pair = [
      `${batch.lot} ${pick(BIZ_STEP_TEXT[step.value] ?? ["", ""], "zh")}`,
      `${batch.lot} ${pick(BIZ_STEP_TEXT[step.value] ?? ["", ""], "en")}`,
    ];
    submit.disabled = true;
    write(`/api/v1/batches/${batch.batchId}/events`, body, label, key)
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
        flash(status, "error", failureText(error, lang));
      })
      .finally(() => {
        submit.disabled = false;
      });
  });
  return form;
}

// ---------------------------------------------------------------------------- register

let registerForm: HTMLFormElement | null = null;
let uploadContainer: HTMLElement | null = null;

/** Copies what the register form holds into the draft, so a rebuilt form can show it again. */
function snapshotDraft(): void {
  if (registerForm === null) return;
  for (const element of Array.from(registerForm.elements)) {
    if (element instanceof HTMLInputElement && element.type === "checkbox")
      draft.checked[element.name] = element.checked;
    else if (element instanceof HTMLInputElement && element.type === "file") continue;
    else if (
      element instanceof HTMLInputElement ||
      element instanceof HTMLSelectElement ||
      element instanceof HTMLTextAreaElement
    ) {
      if (element.name !== "") draft.values[element.name] = element.value;
    }
  }
}

function registerView(): HTMLElement {
  registerForm ??= buildRegisterForm();
  return registerForm;
}

function progressBar(): HTMLElement {
  const video = draft.video;
  if (video.name === "") return h("div", { class: "upload", "data-testid": "upload" });
  const percent = Math.round(video.fraction * 100);
  const progress = h("progress", { max: "100", value: String(percent), "aria-label": t("uploading") });
  const label =
    video.error !== null
      ? video.error
      : video.cid !== null
        ? `${t("uploaded")}: ${video.name}`
        : `${t("uploading")} ${video.name} ${String(percent)}%`;
  return h(
    "div",
    {
      class: `upload${video.error === null ? "" : " upload-failed"}`,
      "data-testid": "upload",
      "data-percent": String(percent),
    },
    progress,
    h("span", {}, label),
  );
}

function buildRegisterForm(): HTMLFormElement {
  const value = (name: string): string => draft.values[name] ?? "";
  const plots = me?.plots ?? [];
  const certifications = me?.certifications ?? [];
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
    ...[...products.keys()].map((g) => h("option", { value: g }, productName(g))),
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
    void loadProduct(code.padStart(14, "0")).then((product) => {
      productHint.textContent =
        product === null ? t("productUnknown") : pick({ zh: product.nameZh, en: product.nameEn }, lang);
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
    box.checked = draft.checked[`cert:${c.id}`] ?? true;
    return h("label", { class: "check" }, box, `${pick(CERT_TEXT[c.kind] ?? [c.kind, c.kind], lang)} ${c.number}`);
  });
  const hidden = h("input", { type: "checkbox", name: "hiddenCodes" });
  hidden.checked = draft.checked.hiddenCodes ?? true;
  const file = h("input", { type: "file", name: "video", accept: "video/*", capture: "environment" });
  uploadContainer = h("div", {}, progressBar());
  const upload = uploadContainer;
  file.addEventListener("change", () => {
    const chosen = file.files?.[0];
    if (chosen !== undefined) startUpload(chosen);
  });
  const status = h("div", { class: "status" });
  const form = h(
    "form",
    { class: "card register", "data-testid": "register-form" },
    h("h1", {}, t("register")),
    field(t("product"), gtin),
    known,
    productHint,
    field(
      t("lot"),
      h("input", { name: "lot", required: "", maxlength: "20", pattern: "[!-~]{1,20}", value: value("lot") }),
    ),
    field(t("plot"), plot),
    field(
      t("harvestedAt"),
      h("input", { name: "harvestedAt", type: "datetime-local", required: "", value: value("harvestedAt") }),
    ),
    h(
      "div",
      { class: "row" },
      field(
        t("quantity"),
        h("input", {
          name: "quantity",
          required: "",
          inputmode: "decimal",
          pattern: "\\d+(\\.\\d{1,3})?",
          value: value("quantity"),
        }),
      ),
      field(t("unit"), unit),
    ),
    field(
      t("itemCount"),
      h("input", {
        name: "itemCount",
        type: "number",
        required: "",
        min: "1",
        max: "100000",
        value: value("itemCount"),
      }),
    ),
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
    h("button", { type: "submit", class: "primary" }, t("submit")),
    status,
  );
  form.addEventListener("input", (event) => {
    // Editing the batch makes it a different write; re-sending the same one keeps the key.
    if (event.target !== file) draft.idempotencyKey = newIdempotencyKey();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void submitBatch(status);
  });
  return form;
}

function startUpload(file: File): void {
  if (api === null) return;
  draft.video.handle?.abort();
  draft.video = { name: file.name, fraction: 0, cid: null, error: null, handle: null };
  draft.idempotencyKey = newIdempotencyKey();
  // The form may be rebuilt mid-upload (a language switch): draw into whichever is current.
  const redraw = (): void => uploadContainer?.replaceChildren(progressBar());
  redraw();
  let lastDrawn = 0;
  const handle = uploadMedia(file, api.authorization(), newIdempotencyKey(), (fraction) => {
    draft.video.fraction = fraction;
    // Redraw at most every whole percent: progress events come by the hundred.
    if (Math.floor(fraction * 100) !== lastDrawn || fraction === 1) {
      lastDrawn = Math.floor(fraction * 100);
      redraw();
    }
  });
  draft.video.handle = handle;
  handle.done.then(
    (uploaded) => {
      draft.video.cid = uploaded.media.cid;
      draft.video.fraction = 1;
      draft.video.handle = null;
      redraw();
    },
    (error: unknown) => {
      draft.video.error = failureText(error, lang);
      draft.video.handle = null;
      redraw();
    },
  );
}

async function submitBatch(status: HTMLElement): Promise<void> {
  snapshotDraft();
  if (draft.video.name !== "" && draft.video.cid === null) {
    flash(status, "error", t("uploadFirst"));
    return;
  }
  const v = draft.values;
  const certificationIds = Object.entries(draft.checked)
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
    hiddenCodes: draft.checked.hiddenCodes ?? true,
    certificationIds,
    complianceCertificateNumber: (v.complianceCertificateNumber ?? "").trim() || null,
    description,
    videoCid: draft.video.cid,
  };
  try {
    const outcome = await write(
      "/api/v1/batches",
      body,
      [`登记 ${body.lot}`, `Register ${body.lot}`],
      draft.idempotencyKey,
    );
    draft = freshDraft();
    registerForm = null;
    view = "batches";
    render();
    flash(flashRegion, outcome === "queued" ? "info" : "ok", outcome === "queued" ? t("queued") : t("accepted"));
    await refreshBatches();
  } catch (error) {
    flash(status, "error", failureText(error, lang));
  }
}

// ---------------------------------------------------------------------------- start

window.addEventListener("online", () => {
  render();
  void flushQueue();
});
window.addEventListener("offline", render);

const saved = storedToken("cooperative");
render();
if (saved !== null) {
  signIn(saved).catch((error: unknown) => {
    // A revoked or expired token: back to the sign-in card, saying why.
    if (error instanceof ProblemFailure) storeToken("cooperative", null);
    render();
    flash(flashRegion, "error", failureText(error, lang));
  });
}
