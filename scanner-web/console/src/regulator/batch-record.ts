/**
 * A batch's whole record, opened from the search ("查看记录"): what the batch is, each step
 * that happened to it (who signed it, whether the ledger has it, its facts, the photos, videos
 * and voice notes attached to it), its 合格证, its inspection requests and what its scans
 * say. Every part is one call of the public API (the attachments are read from each event's
 * signed payload on IPFS), loaded at once; a part that fails says so and the rest still shows.
 * A batch outside the regulator's region is refused by the server (scan facts are the
 * regulator's own read): then the record is refused as a whole, with the server's words.
 * The record keeps `#batch=<id>` in the address, so it can be sent to a colleague or reloaded.
 */
import { analyseValidSeries } from "../../../../server/src/domain/cold-chain-series.ts";
import type { EventData } from "../../../../server/src/domain/documents.ts";
import { UNITS } from "../../../../server/src/domain/units.ts";
import type { eventView, inspectionRequestView } from "../../../../server/src/http/routes/views.ts";
import type { ScanFacts } from "../../../../server/src/services/audit/run.ts";
import { EXCURSION_TOLERANCE_SECONDS } from "../../../../server/src/verify/findings.ts";
import { ProblemFailure } from "../shared/api.ts";
import { pictogram } from "../shared/pictograms.ts";
import { BIZ_STEP_TEXT, KIND_TEXT, LEDGER_TEXT, STATUS_TEXT, pick } from "../shared/text.ts";
import { chinaDay, chinaMinute, failureText, h } from "../shared/ui.ts";
import { organisationName } from "./organisations.ts";
import { render, state, type BatchView } from "./state.ts";
import { t, textOf } from "./text.ts";

type EventView = ReturnType<typeof eventView>;
type InspectionRequestView = ReturnType<typeof inspectionRequestView>;

interface ProductView {
  gtin: string;
  nameZh: string;
  nameEn: string | null;
  coldChain: { minC: number; maxC: number } | null;
}

interface CertificateSummary {
  id: string;
  issuerOrganisationId: string;
  quantity: { value: string; unit: string };
  issuedOn: string;
  mixed: boolean;
}

interface Attachment {
  cid: string;
  contentType: string;
}

type Part<T> = { state: "loading" } | { state: "loaded"; value: T } | { state: "failed"; error: unknown };

export interface BatchRecord {
  batchId: string;
  /** False until the parts are asked for (a record opened by its address waits for sign-in). */
  started: boolean;
  batch: Part<BatchView>;
  product: Part<ProductView | null>;
  recallReason: Part<{ zh: string; en: string | null } | null>;
  events: Part<EventView[]>;
  /** By event id: the files its signed payload attaches, with their media types. */
  attachments: Map<string, Part<Attachment[]>>;
  certificates: Part<CertificateSummary[]>;
  inspectionRequests: Part<InspectionRequestView[]>;
  scanFacts: Part<ScanFacts>;
}

const HASH = /^#batch=(0x[0-9a-fA-F]{64})$/;

function newRecord(batchId: string): BatchRecord {
  const loading = { state: "loading" } as const;
  return {
    batchId,
    started: false,
    batch: loading,
    product: loading,
    recallReason: loading,
    events: loading,
    attachments: new Map(),
    certificates: loading,
    inspectionRequests: loading,
    scanFacts: loading,
  };
}

/** Opens a batch's record (from a row of the search). */
export function openRecord(batchId: string): void {
  state.record = newRecord(batchId);
  state.view = "record";
  history.pushState(null, "", `#batch=${batchId}`);
  render();
  window.scrollTo(0, 0);
}

function closeRecord(): void {
  state.view = "batches";
  state.record = null;
  render();
}

/** The address names the record shown, and only while it is shown (called on every redraw). */
export function keepRecordHash(): void {
  const wanted = state.view === "record" && state.record !== null ? `#batch=${state.record.batchId}` : "";
  if (location.hash === wanted || (wanted === "" && !HASH.test(location.hash))) return;
  history.replaceState(null, "", `${location.pathname}${location.search}${wanted}`);
}

/** A record named by the address: on opening the console, and on the browser's back and forward. */
function followHash(): void {
  const batchId = HASH.exec(location.hash)?.[1];
  if (batchId === undefined) {
    if (state.view === "record") closeRecord();
    return;
  }
  if (state.record?.batchId === batchId && state.view === "record") return;
  state.record = newRecord(batchId);
  state.view = "record";
}

followHash();
window.addEventListener("hashchange", () => {
  followHash();
  render();
});

type PartKey = "batch" | "product" | "recallReason" | "events" | "certificates" | "inspectionRequests" | "scanFacts";
type PartValue<K extends PartKey> = BatchRecord[K] extends Part<infer T> ? T : never;

/** Runs one part's request and redraws when it lands, unless another record was opened meanwhile. */
async function load<K extends PartKey>(record: BatchRecord, key: K, run: () => Promise<PartValue<K>>): Promise<void> {
  let part: Part<PartValue<K>>;
  try {
    part = { state: "loaded", value: await run() };
  } catch (error) {
    part = { state: "failed", error };
  }
  record[key] = part as BatchRecord[K];
  if (state.record === record) render();
}

async function publicJson<T>(path: string): Promise<T> {
  if (state.api === null) throw new Error("signed out");
  return state.api.get<T>(path);
}

/** The attachments an event's signed payload names, each with the type the gateway serves it as. */
async function attachmentsOf(event: EventView): Promise<Attachment[]> {
  const payload: unknown = await publicJson(`/ipfs/${event.payloadCid}`);
  const cids =
    typeof payload === "object" &&
    payload !== null &&
    Array.isArray((payload as { attachmentCids?: unknown }).attachmentCids)
      ? (payload as { attachmentCids: unknown[] }).attachmentCids.filter((c): c is string => typeof c === "string")
      : [];
  return Promise.all(
    cids.map(async (cid) => {
      const head = await fetch(`/ipfs/${cid}`, { method: "HEAD" });
      if (!head.ok) throw new Error(`/ipfs/${cid}: ${String(head.status)}`);
      return { cid, contentType: head.headers.get("content-type") ?? "application/octet-stream" };
    }),
  );
}

function startLoading(record: BatchRecord): void {
  record.started = true;
  const base = `/api/v1/batches/${record.batchId}`;
  void load(record, "batch", async () => {
    const batch = await publicJson<{ batch: BatchView }>(base).then(
      (answer) => answer.batch,
      (error: unknown) => {
        // Without the batch there is no product or recall to look up.
        record.product = { state: "loaded", value: null };
        record.recallReason = { state: "loaded", value: null };
        throw error;
      },
    );
    void load(record, "product", async () => {
      try {
        return (await publicJson<{ product: ProductView }>(`/api/v1/products/${batch.gtin}`)).product;
      } catch (error) {
        if (error instanceof ProblemFailure && error.problem.status === 404) return null;
        throw error;
      }
    });
    const reasonCid = batch.recall?.reasonCid ?? null;
    void load(record, "recallReason", async () =>
      reasonCid === null
        ? null
        : (await publicJson<{ reason: { zh: string; en: string | null } }>(`/ipfs/${reasonCid}`)).reason,
    );
    return batch;
  });
  void load(record, "events", async () => {
    const events = (await publicJson<{ events: EventView[] }>(`${base}/events`)).events;
    for (const event of events) {
      record.attachments.set(event.id, { state: "loading" });
      attachmentsOf(event).then(
        (value) => {
          record.attachments.set(event.id, { state: "loaded", value });
          if (state.record === record) render();
        },
        (error: unknown) => {
          record.attachments.set(event.id, { state: "failed", error });
          if (state.record === record) render();
        },
      );
    }
    return [...events].sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt));
  });
  void load(
    record,
    "certificates",
    async () => (await publicJson<{ certificates: CertificateSummary[] }>(`${base}/certificates`)).certificates,
  );
  void load(
    record,
    "inspectionRequests",
    async () =>
      (await publicJson<{ inspectionRequests: InspectionRequestView[] }>(`${base}/inspection-requests`))
        .inspectionRequests,
  );
  void load(record, "scanFacts", () => publicJson<ScanFacts>(`${base}/scan-facts`));
}

const fill = (text: string, values: Record<string, string | number>): string =>
  text.replace(/\{(\w+)\}/g, (whole, key: string) => (key in values ? String(values[key]) : whole));

/** A unit by its name ("kg", as batches and events give it) or its Rec 20 code ("KGM", as certificates do). */
function unitText(unit: string): string {
  const known = Object.entries(UNITS).find(([name, definition]) => name === unit || definition.code === unit)?.[1];
  return known === undefined ? unit : pick([known.zh, known.en], state.lang);
}

const shortAddress = (address: string): string => `${address.slice(0, 6)}…${address.slice(-4)}`;

/** What one part shows: its content, a line while it loads, or its own failure. */
function partView<T>(part: Part<T>, testId: string, draw: (value: T) => (HTMLElement | null)[]): HTMLElement[] {
  if (part.state === "loading") return [h("p", { class: "help", "data-testid": `${testId}-loading` }, "…")];
  if (part.state === "failed") {
    return [
      h(
        "p",
        { class: "flash flash-error", role: "alert", "data-testid": `${testId}-failed` },
        `${t("partFailed")}${failureText(part.error, state.lang)}`,
      ),
    ];
  }
  return draw(part.value).filter((node): node is HTMLElement => node !== null);
}

function fact(label: string, ...value: (Node | string | null)[]): HTMLElement {
  return h(
    "p",
    { class: "record-fact" },
    h("span", { class: "record-label" }, `${label}${state.lang === "zh" ? "：" : ": "}`),
    ...value,
  );
}

function ledgerState(ledger: EventView["ledger"]): HTMLElement {
  return h(
    "p",
    { class: "record-fact", "data-testid": "ledger", "data-state": ledger.state },
    h("span", { class: `badge ledger-${ledger.state}` }, textOf(LEDGER_TEXT, ledger.state)),
    ledger.state === "anchored" && ledger.txHash !== null
      ? h("span", {}, ` ${t("txHash")} `, h("code", { class: "hash", "data-testid": "tx-hash" }, ledger.txHash))
      : null,
    ledger.state === "failed" && ledger.failure !== null
      ? h("span", { class: "failure-reason" }, ` ${pick(ledger.failure, state.lang)}`)
      : null,
  );
}

function headerView(batch: BatchView, record: BatchRecord): HTMLElement {
  const cooperative = state.organisations.find((o) => o.id === batch.organisationId);
  const product = record.product.state === "loaded" ? record.product.value : null;
  const productName = product === null ? batch.gtin : pick({ zh: product.nameZh, en: product.nameEn }, state.lang);
  const recalled = batch.status === "recalled";
  const reason = record.recallReason.state === "loaded" ? record.recallReason.value : null;
  return h(
    "section",
    { class: `card${recalled ? " batch-recalled" : ""}`, "data-testid": "record-header" },
    h("h1", { "data-testid": "record-product" }, productName),
    fact(t("lot"), h("strong", {}, batch.lot), ` · ${t("gtin")} ${batch.gtin}`),
    fact(t("cooperative"), organisationName(batch.organisationId)),
    fact(
      t("regionName"),
      cooperative === undefined
        ? ""
        : cooperative.regionName === null
          ? cooperative.regionCode
          : pick(cooperative.regionName, state.lang),
    ),
    fact(t("harvested"), `${chinaMinute(batch.harvestedAt)} (${t("chinaTime")})`),
    fact(
      t("quantity"),
      `${batch.quantity.value} ${unitText(batch.quantity.unit)} · ${String(batch.itemCount)} ${t("items")}`,
    ),
    batch.complianceCertificateNumber === null ? null : fact(t("complianceNumber"), batch.complianceCertificateNumber),
    h(
      "div",
      { class: "states" },
      h(
        "span",
        { class: `badge${recalled ? " badge-danger" : ""}`, "data-testid": "record-status" },
        textOf(STATUS_TEXT, batch.status),
      ),
      h("span", { class: `badge ledger-${batch.ledger.state}` }, textOf(LEDGER_TEXT, batch.ledger.state)),
    ),
    batch.recall === null
      ? null
      : fact(t("recalledOn"), `${chinaMinute(new Date(batch.recall.atMs).toISOString())} (${t("chinaTime")})`),
    reason === null
      ? null
      : fact(t("recallReason"), h("span", { "data-testid": "recall-reason" }, pick(reason, state.lang))),
  );
}

function temperatureFacts(
  readings: NonNullable<EventData["temperatures"]>,
  product: ProductView | null,
): HTMLElement[] {
  if (readings.length === 0) return [];
  const values = readings.map((r) => r.celsius);
  const range = product?.coldChain ?? null;
  const summary = h(
    "p",
    { class: "record-fact", "data-testid": "temperatures" },
    fill(t("temperatures"), {
      n: readings.length,
      min: Math.min(...values),
      max: Math.max(...values),
      range: range === null ? t("noRange") : `${String(range.minC)}–${String(range.maxC)} °C`,
    }),
  );
  if (range === null) return [summary];
  const { excursions } = analyseValidSeries(
    readings.map((r) => ({ at: Math.floor(Date.parse(r.at) / 1000), celsius: r.celsius })),
    { minCelsius: range.minC, maxCelsius: range.maxC, toleranceSeconds: EXCURSION_TOLERANCE_SECONDS },
  );
  if (excursions.length === 0) return [summary, h("p", { class: "record-fact clean" }, t("noExcursion"))];
  return [
    summary,
    h(
      "ul",
      { class: "excursions" },
      ...excursions.map((e) =>
        h(
          "li",
          { class: "excursion", "data-testid": "excursion", "data-kind": e.kind },
          fill(t("excursion"), {
            from: chinaMinute(new Date(e.start * 1000).toISOString()),
            to: chinaMinute(new Date(e.end * 1000).toISOString()),
            minutes: Math.round(e.durationSeconds / 60),
            worst: `${e.kind === "too_warm" ? t("tooWarm") : t("tooCold")}${String(e.worstCelsius)}`,
          }),
        ),
      ),
    ),
  ];
}

function testFacts(tests: NonNullable<EventData["tests"]>): HTMLElement[] {
  if (tests.length === 0) return [];
  return [
    h("p", { class: "record-fact" }, h("span", { class: "record-label" }, t("tests"))),
    h(
      "ul",
      { class: "tests" },
      ...tests.map((test) =>
        h(
          "li",
          { "data-testid": "test-result", "data-passed": String(test.passed) },
          h(
            "span",
            { class: `badge ${test.passed ? "ledger-anchored" : "badge-danger"}` },
            test.passed ? t("passed") : t("failed"),
          ),
          ` ${test.substance}`,
          test.resultMgPerKg === undefined ? "" : ` ${String(test.resultMgPerKg)} mg/kg`,
          test.limitMgPerKg === undefined ? "" : ` (${t("limit")} ${String(test.limitMgPerKg)} mg/kg)`,
          test.standard === undefined ? "" : ` · ${test.standard}`,
        ),
      ),
    ),
  ];
}

function eventFacts(event: EventView, product: ProductView | null): (HTMLElement | null)[] {
  const data = event.data as EventData;
  return [
    event.receiver === null
      ? null
      : fact(
          t("receiver"),
          event.receiver.organisationId === null
            ? h("span", { class: "mono" }, shortAddress(event.receiver.signerAddress))
            : organisationName(event.receiver.organisationId),
        ),
    data.location === undefined ? null : fact(t("place"), data.location.name ?? data.location.regionCode),
    data.quantity === undefined ? null : fact(t("quantity"), `${data.quantity.value} ${unitText(data.quantity.unit)}`),
    ...temperatureFacts(data.temperatures ?? [], product),
    ...testFacts(data.tests ?? []),
    data.inputs === undefined || data.inputs.length === 0
      ? null
      : fact(t("inputs"), data.inputs.map((i) => `${i.name} ${i.amount} ${unitText(i.unit)}`).join("；")),
    data.inputBatches === undefined || data.inputBatches.length === 0
      ? null
      : fact(t("inputBatches"), data.inputBatches.map((b) => `${b.gtin} / ${b.lot}`).join("；")),
    data.referenceDocument === undefined ? null : fact(t("reference"), data.referenceDocument.number),
    data.note === undefined ? null : fact(t("note"), pick(data.note, state.lang)),
  ];
}

function attachmentView(attachment: Attachment): HTMLElement {
  const src = `/ipfs/${attachment.cid}`;
  const type = attachment.contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  if (type.startsWith("image/")) {
    return h(
      "a",
      { href: src, target: "_blank", rel: "noopener", class: "thumb", "data-testid": "photo", title: t("openPhoto") },
      h("img", { src, alt: t("photo"), loading: "lazy" }),
    );
  }
  if (type.startsWith("audio/")) {
    return h(
      "figure",
      { class: "media", "data-testid": "voice-note" },
      h("figcaption", { class: "with-picture" }, pictogram("microphone"), t("voiceNote")),
      h("audio", { controls: "", preload: "metadata", src }),
    );
  }
  if (type.startsWith("video/")) {
    return h(
      "figure",
      { class: "media", "data-testid": "video" },
      h("figcaption", { class: "with-picture" }, pictogram("video"), t("video")),
      h("video", { controls: "", preload: "metadata", playsinline: "", src }),
    );
  }
  return h("a", { href: src, class: "button-link", download: "", "data-testid": "file" }, t("file"));
}

function attachmentsView(part: Part<Attachment[]> | undefined): HTMLElement | null {
  if (part === undefined || (part.state === "loaded" && part.value.length === 0)) return null;
  if (part.state === "failed") return h("p", { class: "flash flash-error" }, t("attachmentsFailed"));
  if (part.state === "loading") return null;
  return h(
    "div",
    { class: "attachments", "data-testid": "attachments" },
    h("p", { class: "record-label" }, t("attachments")),
    h("div", { class: "attachment-list" }, ...part.value.map(attachmentView)),
  );
}

function eventItem(event: EventView, record: BatchRecord): HTMLElement {
  const product = record.product.state === "loaded" ? record.product.value : null;
  return h(
    "li",
    { class: "record-event", "data-step": event.bizStep, "data-event-id": event.id },
    h(
      "h3",
      { class: "with-picture" },
      pictogram(event.bizStep),
      h(
        "span",
        { "data-testid": "step" },
        pick(BIZ_STEP_TEXT[event.bizStep] ?? [event.bizStep, event.bizStep], state.lang),
      ),
    ),
    h("p", { class: "record-fact", "data-testid": "when" }, `${chinaMinute(event.occurredAt)} (${t("chinaTime")})`),
    fact(
      t("signedBy"),
      h("span", { "data-testid": "signer-organisation" }, organisationName(event.actorOrganisationId)),
      " ",
      h(
        "span",
        { class: "mono", "data-testid": "signer", title: event.signerAddress },
        shortAddress(event.signerAddress),
      ),
    ),
    ledgerState(event.ledger),
    ...eventFacts(event, product).filter((node): node is HTMLElement => node !== null),
    attachmentsView(record.attachments.get(event.id)),
  );
}

function certificatesView(certificates: CertificateSummary[]): HTMLElement[] {
  if (certificates.length === 0) return [h("p", {}, t("noCertificates"))];
  return certificates.map((c) =>
    h(
      "article",
      { class: "record-item", "data-testid": "certificate", "data-certificate-id": c.id },
      fact(t("certificateNo"), h("span", { class: "mono", title: c.id }, `${c.id.slice(0, 10)}…${c.id.slice(-6)}`)),
      fact(t("issuer"), organisationName(c.issuerOrganisationId)),
      fact(t("quantity"), `${c.quantity.value} ${unitText(c.quantity.unit)}`),
      fact(t("issuedOn"), c.issuedOn),
      h(
        "div",
        { class: "actions" },
        h("a", { href: `/c/${c.id}`, target: "_blank", rel: "noopener", class: "button-link" }, t("certificatePage")),
        h("a", { href: `/api/v1/certificates/${c.id}.pdf`, class: "button-link", download: "" }, t("certificatePdf")),
      ),
    ),
  );
}

function inspectionRequestsView(requests: InspectionRequestView[], record: BatchRecord): HTMLElement[] {
  if (requests.length === 0) return [h("p", {}, t("noInspectionRequests"))];
  const events = record.events.state === "loaded" ? record.events.value : [];
  return requests.map((r) => {
    // Events carry when they happened, not when they were recorded: any inspection by this centre counts.
    const inspected = events.some(
      (e) => e.bizStep === "inspecting" && e.actorOrganisationId === r.inspectorOrganisationId,
    );
    return h(
      "article",
      { class: "record-item", "data-testid": "inspection-request" },
      fact(t("inspector"), organisationName(r.inspectorOrganisationId)),
      fact(t("requestedBy"), textOf(KIND_TEXT, r.requestedBy)),
      fact(t("requestedOn"), chinaDay(r.createdAt)),
      h(
        "div",
        { class: "states" },
        h("span", { class: `badge ledger-${r.ledger.state}` }, textOf(LEDGER_TEXT, r.ledger.state)),
        h(
          "span",
          { class: `badge${inspected ? " ledger-anchored" : " badge-warn"}` },
          inspected ? t("inspectedYes") : t("inspectedNo"),
        ),
      ),
    );
  });
}

function scanFactsView(facts: ScanFacts): (HTMLElement | null)[] {
  return [
    h("p", { "data-testid": "scans-flagged" }, fill(t("scansFlagged"), { n: facts.itemsFlagged })),
    facts.worstItem === null
      ? null
      : h(
          "p",
          { "data-testid": "scans-worst" },
          fill(t("scansWorst"), {
            serial: facts.worstItem.serial,
            day: facts.worstItem.scansDay,
            week: facts.worstItem.scansWeek,
          }),
        ),
    h("p", { "data-testid": "scans-unknown" }, fill(t("scansUnknown"), { n: facts.unknownCodes })),
  ];
}

/** The refusal a part brought back because the batch lies outside the regulator's region, if any. */
function refusalOf(record: BatchRecord): unknown {
  for (const part of [record.batch, record.events, record.certificates, record.inspectionRequests, record.scanFacts]) {
    if (
      part.state === "failed" &&
      part.error instanceof ProblemFailure &&
      part.error.problem.code === "organisation.outside_jurisdiction"
    ) {
      return part.error;
    }
  }
  return null;
}

/** Whether every part (and every event's attachments) has arrived or failed. */
function complete(record: BatchRecord): boolean {
  const parts = [
    record.batch,
    record.product,
    record.recallReason,
    record.events,
    record.certificates,
    record.inspectionRequests,
    record.scanFacts,
    ...record.attachments.values(),
  ];
  return parts.every((part) => part.state !== "loading");
}

function section(title: string, testId: string, ...content: HTMLElement[]): HTMLElement {
  return h("section", { class: "card", "data-testid": testId }, h("h2", {}, title), ...content);
}

export function recordView(): HTMLElement {
  const record = state.record;
  const back = h("button", { type: "button", "data-action": "back" }, t("back"));
  back.addEventListener("click", () => {
    closeRecord();
  });
  if (record === null) return h("section", {}, back);
  if (!record.started) startLoading(record);
  const refusal = refusalOf(record);
  if (refusal !== null) {
    return h(
      "section",
      { "data-testid": "batch-record", "data-batch-id": record.batchId },
      back,
      h(
        "div",
        { class: "card", "data-testid": "record-refused" },
        h("h1", {}, t("recordRefused")),
        h("p", { class: "flash flash-error", role: "alert" }, failureText(refusal, state.lang)),
      ),
    );
  }
  return h(
    "section",
    {
      class: "batch-record",
      "data-testid": "batch-record",
      "data-batch-id": record.batchId,
      "data-complete": String(complete(record)),
    },
    back,
    ...partView(record.batch, "record-header", (batch) => [headerView(batch, record)]),
    section(
      t("events"),
      "record-events",
      ...partView(record.events, "events", (events) => [
        events.length === 0
          ? h("p", {}, t("noEvents"))
          : h("ol", { class: "record-timeline" }, ...events.map((event) => eventItem(event, record))),
      ]),
    ),
    section(
      t("certificates"),
      "record-certificates",
      ...partView(record.certificates, "certificates", certificatesView),
    ),
    section(
      t("inspectionRequests"),
      "record-inspection-requests",
      ...partView(record.inspectionRequests, "inspection-requests", (requests) =>
        inspectionRequestsView(requests, record),
      ),
    ),
    section(t("scans"), "record-scans", ...partView(record.scanFacts, "scans", scanFactsView)),
  );
}
