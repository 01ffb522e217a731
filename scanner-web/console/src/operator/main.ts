/**
 * The operator console (issue 15 part 6), for the platform's admin token: organisations,
 * applications to join, the server's keys and their roles on chain, the relayer's balance, and
 * the outbox's health beside the indexer's lag. Every panel reads one documented
 * `/api/v1/admin/…` endpoint (or the applications and suspension endpoints the regulator
 * console uses), so a script can do all it shows (docs/operator-console.md).
 */
import { Api, storeToken } from "../shared/api.ts";
import { applicationReview } from "../shared/applications.ts";
import { documentFor, tabBar, topBar as shellTopBar } from "../shared/shell.ts";
import { startConsole, wrongRole } from "../shared/start.ts";
import { switchLang } from "../shared/text.ts";
import { h, signInView } from "../shared/ui.ts";
import { keys, keysView } from "./keys.ts";
import { organisations, organisationsView } from "./organisations.ts";
import { outbox, outboxView } from "./outbox.ts";
import { relayer, relayerView } from "./relayer.ts";
import { flashRegion, registerRender, render, state, type View } from "./state.ts";
import { T, t } from "./text.ts";

const app = (): HTMLElement => document.getElementById("app") ?? document.body;

const applications = applicationReview({ api: () => state.api, lang: () => state.lang, flashRegion, render });

const VIEWS: Record<View, () => HTMLElement> = {
  organisations: organisationsView,
  applications: applications.view,
  keys: keysView,
  relayer: relayerView,
  outbox: outboxView,
};

function topBar(): HTMLElement {
  return shellTopBar({
    title: t("title"),
    lang: state.lang,
    showOffline: false,
    onSwitchLang: () => {
      state.lang = switchLang(state.lang);
      render();
    },
    ...(state.api === null ? {} : { onSignOut: signOut }),
  });
}

function tabs(): HTMLElement {
  const views: [View, string][] = [
    ["organisations", t("organisations")],
    ["applications", t("applications")],
    ["keys", t("keys")],
    ["relayer", t("relayer")],
    ["outbox", t("outbox")],
  ];
  return tabBar(state.view, views, (target) => {
    state.view = target;
    // A message belongs to the panel it was said on.
    flashRegion.replaceChildren();
    render();
  });
}

function renderConsole(): void {
  documentFor(state.lang, t("title"));
  if (state.api === null) {
    app().replaceChildren(topBar(), h("main", {}, flashRegion, signInView(state.lang, T.title, signIn)));
    return;
  }
  app().replaceChildren(topBar(), tabs(), h("main", {}, flashRegion, VIEWS[state.view]()));
}

function signOut(): void {
  storeToken("operator", null);
  state.api = null;
  for (const data of [organisations, keys, relayer, outbox]) data.reset();
  render();
}

async function signIn(token: string): Promise<void> {
  const candidate = new Api(token);
  const me = await candidate.get<{ roles: string[] }>("/api/v1/me");
  if (!me.roles.includes("admin")) throw wrongRole(T.notAdmin);
  storeToken("operator", token);
  state.api = candidate;
  render();
}

registerRender(renderConsole);
startConsole({ name: "operator", render, signIn, flashRegion, lang: () => state.lang });
