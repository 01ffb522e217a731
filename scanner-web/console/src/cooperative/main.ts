/**
 * The cooperative console, for a phone in the field: sign in with the cooperative's
 * token, register a harvest batch (with the planting video, uploaded with a progress
 * bar), follow each batch onto the ledger, print its label sheet, record what happened
 * to it, recall it. Every action is a call of the public API; writes made offline wait
 * in the device's storage with their idempotency keys and go out when the phone is back
 * online.
 */
import { Api, storeToken } from "../shared/api.ts";
import { sendQueuedMedia, sweepSentMedia, watchQueueMedia } from "../shared/media-queue.ts";
import { OfflineQueue } from "../shared/offline-queue.ts";
import { signAndSubmit } from "../shared/wallet.ts";
import { documentFor, tabBar, topBar as shellTopBar } from "../shared/shell.ts";
import { startConsole, wrongRole } from "../shared/start.ts";
import { COMMON, pick, switchLang } from "../shared/text.ts";
import { flash, h, signInView } from "../shared/ui.ts";
import { batchesView } from "./batch-list.ts";
import { refreshBatches } from "./batch-refresh.ts";
import { forgetEventForms } from "./event-form.ts";
import { forgetOrders, ordersView } from "./orders.ts";
import { peopleView } from "./people.ts";
import { queuePanel } from "./queue-panel.ts";
import { forgetRecordsView, recordsView } from "./records.ts";
import { forgetRegisterForm, registerView, snapshotDraft } from "./register-form.ts";
import { flashRegion, freshDraft, registerRender, render, state, type Me, type View } from "./state.ts";
import { T, t } from "./text.ts";

const app = (): HTMLElement => document.getElementById("app") ?? document.body;

const VIEWS: Record<View, () => HTMLElement> = {
  batches: batchesView,
  register: registerView,
  records: recordsView,
  people: peopleView,
  orders: ordersView,
};

function renderConsole(): void {
  documentFor(state.lang, t("title"));
  if (state.api === null || state.me === null) {
    app().replaceChildren(topBar(null), h("main", {}, flashRegion, signInView(state.lang, T.title, signIn)));
    return;
  }
  const main = h("main", {}, flashRegion, ...queuePanel());
  if (state.me.organisation?.status === "suspended") {
    main.append(h("p", { class: "banner banner-danger", role: "alert" }, pick(COMMON.suspendedBanner, state.lang)));
  }
  main.append(VIEWS[state.view]());
  // Forms are kept across renders (polling redraws the list); keep the cursor where it was.
  const active = document.activeElement;
  app().replaceChildren(topBar(state.me), tabs(), main);
  if (active instanceof HTMLElement && active !== document.activeElement && active.isConnected) active.focus();
}

function topBar(current: Me | null): HTMLElement {
  return shellTopBar({
    title: current?.organisation == null ? t("title") : pick(current.organisation.name, state.lang),
    lang: state.lang,
    showOffline: true,
    onSwitchLang: () => {
      snapshotDraft();
      forgetRegisterForm(); // its labels are in the old language
      forgetEventForms();
      forgetRecordsView();
      state.lang = switchLang(state.lang);
      render();
    },
    ...(current === null ? {} : { onSignOut: signOut }),
  });
}

function tabs(): HTMLElement {
  const views: [View, string][] = [
    ["batches", t("batches")],
    ["register", t("register")],
    ["records", t("records")],
    ["orders", pick(["订单", "Orders"], state.lang)],
  ];
  // People (issue 15): for the chair and whoever she lets manage people, and the organisation's API token.
  const capabilities = state.me?.member?.capabilities;
  if (capabilities === undefined || capabilities.includes("members"))
    views.push(["people", pick(["人员", "People"], state.lang)]);
  return tabBar(state.view, views, (target) => {
    state.view = target;
    render();
    if (target === "batches") void refreshBatches();
  });
}

async function signIn(token: string): Promise<void> {
  const candidate = new Api(token);
  const profile = await candidate.get<Me>("/api/v1/me");
  if (!profile.roles.includes("cooperative") || profile.organisation === null) throw wrongRole(T.notCooperative);
  storeToken("cooperative", token);
  state.api = candidate;
  state.me = profile;
  const signer = profile.organisation.signerAddress;
  const queue = new OfflineQueue(
    profile.organisation.id,
    render,
    (sent) => {
      flash(flashRegion, "ok", t("sentFromQueue").replace("{n}", String(sent)));
      void sweepSentMedia(queue);
      void refreshBatches();
    },
    // An event's voice note or video goes up (resumably) before the event itself.
    (write) => sendQueuedMedia(write, candidate),
    // Held in its own wallet, the organisation's queued writes are signed there as they go out.
    (request) => signAndSubmit(candidate, request, signer),
  );
  state.queue = queue;
  watchQueueMedia(queue);
  render();
  await flushQueue();
  await refreshBatches();
}

function signOut(): void {
  // A person's device session ends on the server too; an API token stays valid for its integrations.
  if (state.me?.member != null) {
    void state.api?.fetch("/api/v1/me/session", { method: "DELETE" }).catch(() => undefined);
  }
  storeToken("cooperative", null);
  state.api = null;
  state.me = null;
  state.queue?.stop();
  state.queue = null;
  state.batches = [];
  state.events.clear();
  forgetEventForms();
  forgetRecordsView();
  forgetRegisterForm();
  forgetOrders();
  // The next person to sign in on this phone starts with an empty form.
  state.draft = freshDraft();
  render();
}

/** Sends what waits; `now` also what is waiting out a backoff (the connection just came back). */
async function flushQueue(now = false): Promise<void> {
  if (state.api === null || state.queue === null || state.queue.waiting().length === 0) return;
  await state.queue.flush(state.api, { now });
}

registerRender(renderConsole);
startConsole({
  name: "cooperative",
  render,
  signIn,
  flashRegion,
  lang: () => state.lang,
  onOnline: () => {
    // "Saved on this phone while offline" is stale now; the queue's own line says what came of it.
    for (const note of flashRegion.querySelectorAll(".flash-info")) note.remove();
    render();
    void flushQueue(true);
  },
});
