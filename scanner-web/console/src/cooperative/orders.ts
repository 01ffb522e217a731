/**
 * Orders (issue 14, part 3), for the seller at its packing table: take an order (lines of
 * GTIN, lot and number of items; the buyer only by the shop's own reference, which the server
 * keeps as a salted hash), list the orders with what each line has packed and still has to
 * pack, and scan items or a case into an order through a text field that a USB or Bluetooth
 * scanner types into (it ends each code with Enter). A lot that would be oversold is refused
 * by the server (`lot.sold_out`, with what remains), and shown as it says.
 *
 * Once every line is packed, the order is despatched to its receiver (an organisation's id, as
 * the shipping form takes it) in a case whose SSCC the server allocates unless one is typed: one
 * signed packing that ships it. The card then shows the case, where its packing stands on the
 * ledger, and the order turning `received` when the receiver receives the case; the list reloads
 * by itself while something is still to come. Despatching needs the server (not queued offline):
 * the SSCC and the receiver are checked there, and a refusal changes nothing.
 */
import type { OrderView } from "../../../../server/src/services/orders.ts";
import { newIdempotencyKey } from "../shared/api.ts";
import type { Pair } from "../shared/text.ts";
import { pick } from "../shared/text.ts";
import { LEDGER_TEXT } from "../shared/text.ts";
import { chinaDay, chinaMinute, failureText, flash, h } from "../shared/ui.ts";
import { flashRegion, render, state } from "./state.ts";

const O = {
  title: ["订单", "Orders"],
  create: ["新建订单", "New order"],
  buyer: ["买家编号（店铺自己的编号，不要填姓名电话）", "Buyer reference (your own; no names or phones)"],
  number: ["店铺订单号（可选）", "Your order number (optional)"],
  channel: ["渠道", "Channel"],
  shop: ["门店", "Shop"],
  live_stream: ["直播", "Live stream"],
  platform: ["电商平台", "Online platform"],
  wholesale: ["批发", "Wholesale"],
  platformName: ["直播平台", "Streaming platform"],
  streamTitle: ["直播标题（可选）", "Stream title (optional)"],
  gtin: ["商品条码 GTIN", "GTIN"],
  lot: ["批号", "Lot"],
  quantity: ["件数", "Items"],
  addLine: ["再加一行", "Add a line"],
  submit: ["下单", "Take the order"],
  created: ["订单已创建。", "Order taken."],
  none: ["还没有订单。", "No orders yet."],
  packed: ["已装", "packed"],
  toPack: ["待装", "to pack"],
  scan: ["扫码装箱（扫描枪扫商品码或箱码）", "Scan items or a case (a scanner types here)"],
  scanned: ["已装入 {n} 件。", "{n} item(s) packed."],
  again: ["这件已在本订单中。", "Already in this order."],
  cancel: ["取消订单", "Cancel the order"],
  cancelled: ["订单已取消，件数已退回批次。", "Order cancelled; its units are back on the lot."],
  open: ["待装箱", "Open"],
  packing: ["装箱中", "Packing"],
  despatched: ["已发货", "Despatched"],
  received: ["已签收", "Received"],
  cancelledStatus: ["已取消", "Cancelled"],
  refresh: ["刷新", "Refresh"],
  despatch: ["发货", "Despatch"],
  despatchTitle: ["发货（装箱并发出）", "Despatch (pack the case and ship it)"],
  shipTo: ["收货机构编号", "Receiving organisation (id)"],
  sscc: ["箱码 SSCC（可选，不填由系统分配）", "Case SSCC (optional; allocated if left empty)"],
  despatchedOk: ["已发货，箱码 {sscc}。", "Despatched in case {sscc}."],
  caseLabel: ["箱码 SSCC", "Case SSCC"],
  ledger: ["账本", "Ledger"],
  despatchedAt: ["发货时间", "Despatched at"],
} as const satisfies Record<string, Pair>;

const o = (key: keyof typeof O): string => pick(O[key], state.lang);

const CHANNELS = ["shop", "live_stream", "platform", "wholesale"] as const;

let orders: OrderView[] | null = null;
/** The order whose scan field had the focus, so a redraw gives it back to the scanner. */
let scanningOrder: string | null = null;
/** Where each despatched case's packing stands on the ledger, by SSCC (read from the container). */
const ledgerOfCase = new Map<string, string>();
/** Per-order forms kept across redraws (a reload while polling must not lose what was typed). */
const keptForms = new Map<string, { form: HTMLElement; lang: string }>();
let pollTimer: ReturnType<typeof setTimeout> | null = null;
const POLL_MS = 2_000;

/** True while a despatched order still waits for its receiver or its case for the ledger. */
function somethingToCome(list: OrderView[]): boolean {
  return list.some((order) => {
    if (order.despatch === null) return false;
    const ledger = ledgerOfCase.get(order.despatch.sscc);
    return order.status === "despatched" || ledger === "pending" || ledger === "submitted";
  });
}

async function loadLedgers(list: OrderView[]): Promise<void> {
  const api = state.api;
  if (api === null) return;
  for (const order of list) {
    if (order.despatch === null) continue;
    const known = ledgerOfCase.get(order.despatch.sscc);
    if (known === "anchored" || known === "failed") continue;
    try {
      const { container } = await api.get<{ container: { steps: { action: string; ledgerState: string }[] } }>(
        `/api/v1/containers/${order.despatch.sscc}`,
      );
      const packing = container.steps.find((step) => step.action === "packing");
      if (packing !== undefined) ledgerOfCase.set(order.despatch.sscc, packing.ledgerState);
    } catch {
      // The ledger line is informative: the order's own status already came with the list.
    }
  }
}

function schedulePoll(): void {
  if (pollTimer !== null || orders === null || !somethingToCome(orders)) return;
  pollTimer = setTimeout(() => {
    pollTimer = null;
    // Only while the Orders tab is on screen and someone is signed in.
    if (state.api !== null && document.querySelector('[data-testid="orders"]') !== null) void loadOrders();
  }, POLL_MS);
}

async function loadOrders(): Promise<void> {
  if (state.api === null) return;
  try {
    const list = (await state.api.get<{ orders: OrderView[] }>("/api/v1/orders?limit=50")).orders;
    await loadLedgers(list);
    orders = list;
  } catch (error) {
    orders = [];
    flash(flashRegion, "error", failureText(error, state.lang));
  }
  render();
  schedulePoll();
}

/** Forgets the loaded list (sign-out); the next visit reloads it. */
export function forgetOrders(): void {
  orders = null;
  scanningOrder = null;
  kept = null;
  keptForms.clear();
  ledgerOfCase.clear();
  if (pollTimer !== null) clearTimeout(pollTimer);
  pollTimer = null;
}

/** A per-order form from the last redraw in this language, or a new one. */
function keptForm(key: string, build: () => HTMLElement): HTMLElement {
  const known = keptForms.get(key);
  if (known?.lang === state.lang) return known.form;
  const form = build();
  keptForms.set(key, { form, lang: state.lang });
  return form;
}

function statusText(status: OrderView["status"]): string {
  return o(status === "cancelled" ? "cancelledStatus" : status);
}

function lineRow(): { row: HTMLElement; gtin: HTMLInputElement; lot: HTMLInputElement; quantity: HTMLInputElement } {
  const gtin = h("input", { name: "gtin", inputmode: "numeric", maxlength: "14", required: "" });
  const lot = h("input", { name: "lot", maxlength: "20", required: "" });
  const quantity = h("input", { name: "quantity", type: "number", min: "1", step: "1", value: "1", required: "" });
  const row = h(
    "div",
    { class: "order-line" },
    h("label", {}, o("gtin"), gtin),
    h("label", {}, o("lot"), lot),
    h("label", {}, o("quantity"), quantity),
  );
  return { row, gtin, lot, quantity };
}

/** The new-order form, kept across redraws (a scan's redraw must not lose a half-typed order); rebuilt for a new language. */
let kept: { form: HTMLElement; lang: string } | null = null;

function createForm(): HTMLElement {
  if (kept?.lang === state.lang) return kept.form;
  const form = buildCreateForm();
  kept = { form, lang: state.lang };
  return form;
}

function buildCreateForm(): HTMLElement {
  const buyer = h("input", { name: "buyerReference", maxlength: "200", required: "", autocomplete: "off" });
  const number = h("input", { name: "sellerOrderNumber", maxlength: "64", autocomplete: "off" });
  const channel = h("select", { name: "channel" }, ...CHANNELS.map((c) => h("option", { value: c }, o(c))));
  const platformName = h("input", { name: "platform", maxlength: "50" });
  const streamTitle = h("input", { name: "title", maxlength: "200" });
  const live = h(
    "div",
    { class: "live-stream", hidden: "" },
    h("label", {}, o("platformName"), platformName),
    h("label", {}, o("streamTitle"), streamTitle),
  );
  channel.addEventListener("change", () => {
    live.hidden = channel.value !== "live_stream";
    platformName.required = channel.value === "live_stream";
  });
  const lines = [lineRow()];
  const lineBox = h("div", { class: "order-lines" }, ...lines.map((l) => l.row));
  const addLine = h("button", { type: "button" }, o("addLine"));
  addLine.addEventListener("click", () => {
    const next = lineRow();
    lines.push(next);
    lineBox.append(next.row);
  });
  // One key per order typed: a retry after a lost answer does not take the order twice.
  let idempotencyKey = newIdempotencyKey();
  const form = h(
    "form",
    { class: "card", "data-testid": "new-order" },
    h("h2", {}, o("create")),
    h("label", {}, o("buyer"), buyer),
    h("label", {}, o("number"), number),
    h("label", {}, o("channel"), channel),
    live,
    lineBox,
    addLine,
    h("button", { type: "submit", class: "primary big" }, o("submit")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const api = state.api;
    if (api === null) return;
    const body = {
      buyerReference: buyer.value.trim(),
      ...(number.value.trim() === "" ? {} : { sellerOrderNumber: number.value.trim() }),
      channel: channel.value,
      ...(channel.value === "live_stream"
        ? {
            liveStream: {
              platform: platformName.value.trim(),
              ...(streamTitle.value.trim() === "" ? {} : { title: streamTitle.value.trim() }),
            },
          }
        : {}),
      lines: lines.map((l) => ({
        gtin: l.gtin.value.trim(),
        lot: l.lot.value.trim(),
        quantity: Number(l.quantity.value),
      })),
    };
    void (async () => {
      try {
        await api.json("/api/v1/orders", { method: "POST", body, idempotencyKey });
        idempotencyKey = newIdempotencyKey();
        form.reset();
        live.hidden = true;
        platformName.required = false;
        flash(flashRegion, "ok", o("created"));
      } catch (error) {
        flash(flashRegion, "error", failureText(error, state.lang));
      }
      await loadOrders();
    })();
  });
  return form;
}

function scanField(order: OrderView): HTMLElement {
  return keptForm(`scan:${order.id}`, () => buildScanField(order));
}

function buildScanField(order: OrderView): HTMLElement {
  const input = h("input", {
    name: "code",
    autocomplete: "off",
    autocapitalize: "off",
    spellcheck: "false",
    "data-testid": "scan-input",
  });
  const form = h("form", { class: "scan" }, h("label", {}, o("scan"), input));
  input.addEventListener("focus", () => {
    scanningOrder = order.id;
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const api = state.api;
    const code = input.value.trim();
    input.value = "";
    if (api === null || code === "") return;
    void (async () => {
      try {
        const answer = (
          await api.json<{ added: number; alreadyInOrder: number }>(`/api/v1/orders/${order.id}/items`, {
            method: "POST",
            body: { codes: [code] },
          })
        ).body;
        flash(flashRegion, "ok", answer.added === 0 ? o("again") : o("scanned").replace("{n}", String(answer.added)));
      } catch (error) {
        flash(flashRegion, "error", failureText(error, state.lang));
      }
      await loadOrders();
    })();
  });
  return form;
}

function despatchForm(order: OrderView): HTMLElement {
  return keptForm(`despatch:${order.id}`, () => buildDespatchForm(order));
}

function buildDespatchForm(order: OrderView): HTMLElement {
  const shipTo = h("input", { name: "shipTo", maxlength: "100", required: "", autocomplete: "off" });
  const sscc = h("input", { name: "sscc", maxlength: "100", inputmode: "numeric", autocomplete: "off" });
  const submit = h("button", { type: "submit", class: "primary big", "data-action": "despatch" }, o("despatch"));
  const form = h(
    "form",
    { class: "despatch", "data-testid": "despatch-form" },
    h("h3", {}, o("despatchTitle")),
    h("label", {}, o("shipTo"), shipTo),
    h("label", {}, o("sscc"), sscc),
    submit,
  );
  // One allocated SSCC and one key per despatch attempted: a retry after a refusal or a lost
  // answer reuses them, so a refused despatch neither takes a second SSCC nor ships twice.
  let allocated: string | null = null;
  let allocationKey = newIdempotencyKey();
  let idempotencyKey = newIdempotencyKey();
  let lastBody = "";
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const api = state.api;
    if (api === null || submit.disabled) return;
    submit.disabled = true;
    void (async () => {
      try {
        let caseSscc = sscc.value.trim();
        if (caseSscc === "") {
          allocated ??=
            (
              await api.json<{ ssccs: string[] }>("/api/v1/containers/sscc", {
                method: "POST",
                body: { count: 1 },
                idempotencyKey: allocationKey,
              })
            ).body.ssccs[0] ?? null;
          caseSscc = allocated ?? "";
        }
        const target = `${caseSscc}|${shipTo.value.trim()}`;
        // A different receiver or case is a different request: it gets its own key.
        if (target !== lastBody) idempotencyKey = newIdempotencyKey();
        lastBody = target;
        await api.json(`/api/v1/orders/${order.id}/despatch`, {
          method: "POST",
          body: { sscc: caseSscc, shipTo: shipTo.value.trim(), occurredAt: new Date().toISOString() },
          idempotencyKey,
        });
        allocated = null;
        allocationKey = newIdempotencyKey();
        keptForms.delete(`despatch:${order.id}`);
        flash(flashRegion, "ok", o("despatchedOk").replace("{sscc}", caseSscc));
      } catch (error) {
        flash(flashRegion, "error", failureText(error, state.lang));
      } finally {
        submit.disabled = false;
      }
      await loadOrders();
    })();
  });
  return form;
}

function despatchBlock(despatch: NonNullable<OrderView["despatch"]>): HTMLElement {
  const ledger = ledgerOfCase.get(despatch.sscc);
  return h(
    "p",
    { class: "despatch-info", "data-testid": "despatch", "data-sscc": despatch.sscc },
    `${o("caseLabel")} `,
    h("code", { "data-testid": "case-sscc" }, despatch.sscc),
    // China time, as every other time in the console (the API's are UTC).
    ` · ${o("despatchedAt")} ${chinaMinute(despatch.at)} · ${o("ledger")} `,
    h(
      "span",
      { class: `badge ledger-${ledger ?? "unknown"}`, "data-testid": "case-ledger", "data-state": ledger ?? "" },
      ledger === undefined ? "…" : pick(LEDGER_TEXT[ledger] ?? [ledger, ledger], state.lang),
    ),
  );
}

function orderCard(order: OrderView): HTMLElement {
  const card = h(
    "section",
    { class: "card order", "data-order-id": order.id, "data-status": order.status },
    h(
      "h2",
      {},
      order.sellerOrderNumber ?? order.reference,
      " ",
      h("span", { class: "badge", "data-testid": "order-status" }, statusText(order.status)),
    ),
    h(
      "p",
      { class: "help" },
      `${order.reference} · ${o(order.channel)}${order.liveStream === null ? "" : ` · ${order.liveStream.platform}`} · ${chinaDay(order.createdAt)}`,
    ),
    h(
      "table",
      { class: "order-lines-table" },
      h("tr", {}, h("th", {}, o("lot")), h("th", {}, o("packed")), h("th", {}, o("toPack"))),
      ...order.lines.map((line) =>
        h(
          "tr",
          { "data-lot": line.lot },
          h("td", {}, `${line.gtin} / ${line.lot}`),
          h("td", { "data-testid": "packed" }, `${String(line.packed)} / ${String(line.quantity)}`),
          h("td", { "data-testid": "to-pack" }, String(line.toPack)),
        ),
      ),
    ),
  );
  if (order.despatch !== null) card.append(despatchBlock(order.despatch));
  if (order.status === "open" || order.status === "packing") {
    const cancel = h("button", { type: "button", class: "danger", "data-action": "cancel-order" }, o("cancel"));
    cancel.addEventListener("click", () => {
      const api = state.api;
      if (api === null) return;
      void (async () => {
        try {
          await api.json(`/api/v1/orders/${order.id}/cancel`, { method: "POST", body: {} });
          flash(flashRegion, "ok", o("cancelled"));
        } catch (error) {
          flash(flashRegion, "error", failureText(error, state.lang));
        }
        await loadOrders();
      })();
    });
    card.append(scanField(order));
    if (order.lines.every((line) => line.toPack === 0)) card.append(despatchForm(order));
    card.append(cancel);
  }
  return card;
}

export function ordersView(): HTMLElement {
  if (orders === null) {
    orders = [];
    void loadOrders();
  }
  const refresh = h("button", { type: "button" }, o("refresh"));
  refresh.addEventListener("click", () => {
    void loadOrders();
  });
  const view = h(
    "div",
    { "data-testid": "orders" },
    h("h1", {}, o("title")),
    createForm(),
    refresh,
    ...(orders.length === 0 ? [h("p", { class: "help" }, o("none"))] : orders.map(orderCard)),
  );
  // Give the scanner its field back after the redraw that followed its last code.
  if (scanningOrder !== null) {
    const field = view.querySelector<HTMLInputElement>(`[data-order-id="${scanningOrder}"] [data-testid="scan-input"]`);
    if (field !== null) {
      queueMicrotask(() => {
        field.focus();
      });
    }
  }
  return view;
}
