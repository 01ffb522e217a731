/**
 * Orders (issue 14, part 3), for the seller at its packing table: take an order (lines of
 * GTIN, lot and number of items; the buyer only by the shop's own reference, which the server
 * keeps as a salted hash), list the orders with what each line has packed and still has to
 * pack, and scan items or a case into an order through a text field that a USB or Bluetooth
 * scanner types into (it ends each code with Enter). A lot that would be oversold is refused
 * by the server (`lot.sold_out`, with what remains), and shown as it says.
 */
import type { OrderView } from "../../../../server/src/services/orders.ts";
import { newIdempotencyKey } from "../shared/api.ts";
import type { Pair } from "../shared/text.ts";
import { pick } from "../shared/text.ts";
import { failureText, flash, h } from "../shared/ui.ts";
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
} as const satisfies Record<string, Pair>;

const o = (key: keyof typeof O): string => pick(O[key], state.lang);

const CHANNELS = ["shop", "live_stream", "platform", "wholesale"] as const;

let orders: OrderView[] | null = null;
/** The order whose scan field had the focus, so a redraw gives it back to the scanner. */
let scanningOrder: string | null = null;

async function loadOrders(): Promise<void> {
  if (state.api === null) return;
  try {
    orders = (await state.api.get<{ orders: OrderView[] }>("/api/v1/orders?limit=50")).orders;
  } catch (error) {
    orders = [];
    flash(flashRegion, "error", failureText(error, state.lang));
  }
  render();
}

/** Forgets the loaded list (sign-out); the next visit reloads it. */
export function forgetOrders(): void {
  orders = null;
  scanningOrder = null;
  kept = null;
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
      `${order.reference} · ${o(order.channel)}${order.liveStream === null ? "" : ` · ${order.liveStream.platform}`} · ${order.createdAt.slice(0, 10)}`,
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
    card.append(scanField(order), cancel);
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
