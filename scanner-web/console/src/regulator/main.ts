/**
 * The regulator console, for a desk: find batches and organisations, run the independent
 * audit (chain + IPFS, not the platform's database) and read its findings, download the
 * EPCIS and key-data-element exports, and act: suspend or reinstate an organisation,
 * recall a batch, each with a reason that is signed, anchored and logged under the
 * regulator's name. Every button is one call of the public API.
 */
import { Api, ProblemFailure, storeToken } from "../shared/api.ts";
import { documentFor, tabBar, topBar as shellTopBar } from "../shared/shell.ts";
import { startConsole } from "../shared/start.ts";
import { pick, storeLang } from "../shared/text.ts";
import { h, signInView } from "../shared/ui.ts";
import { applicationsView, loadApplications } from "./applications.ts";
import { auditView } from "./audit-report.ts";
import { keepRecordHash, recordView } from "./batch-record.ts";
import { batchesView } from "./batch-search.ts";
import { loadOrganisations, organisationsView } from "./organisations.ts";
import { flashRegion, registerRender, render, state, type OrganisationView, type View } from "./state.ts";
import { T, t } from "./text.ts";

const app = (): HTMLElement => document.getElementById("app") ?? document.body;

function renderConsole(): void {
  documentFor(state.lang, t("title"));
  if (state.api === null) {
    app().replaceChildren(topBar(), h("main", {}, flashRegion, signInView(state.lang, T.title, signIn)));
    return;
  }
  const content =
    state.view === "batches"
      ? batchesView()
      : state.view === "organisations"
        ? organisationsView()
        : state.view === "applications"
          ? applicationsView()
          : state.view === "record"
            ? recordView()
            : auditView();
  keepRecordHash();
  app().replaceChildren(topBar(), tabs(), h("main", {}, flashRegion, content));
}

function topBar(): HTMLElement {
  const signedIn = state.api !== null;
  return shellTopBar({
    title: state.signedInAs === null ? t("title") : `${pick(state.signedInAs.name, state.lang)} · ${t("title")}`,
    lang: state.lang,
    showOffline: false,
    onSwitchLang: () => {
      state.lang = state.lang === "zh" ? "en" : "zh";
      storeLang(state.lang);
      render();
    },
    ...(signedIn ? { onSignOut: signOut } : {}),
  });
}

function signOut(): void {
  storeToken("regulator", null);
  state.api = null;
  state.signedInAs = null;
  render();
}

function tabs(): HTMLElement {
  const views: [View, string][] = [
    ["batches", t("batches")],
    ["organisations", t("organisations")],
    ["audit", t("audit")],
    ["applications", pick(["入驻申请", "Applications"], state.lang)],
  ];
  return tabBar(state.view, views, (target) => {
    state.view = target;
    render();
    if (target === "organisations") void loadOrganisations();
    if (target === "applications") void loadApplications();
  });
}

async function signIn(token: string): Promise<void> {
  const candidate = new Api(token);
  const me = await candidate.get<{ organisation: OrganisationView | null; roles: string[] }>("/api/v1/me");
  // The operator's token reviews applications of every region here too.
  if (!me.roles.includes("regulator") && !me.roles.includes("admin")) {
    throw new ProblemFailure({
      code: "console.wrong_role",
      status: 403,
      message: { zh: T.notRegulator[0], en: T.notRegulator[1] },
    });
  }
  storeToken("regulator", token);
  state.api = candidate;
  state.signedInAs = me.organisation;
  await loadOrganisations();
  render();
}

registerRender(renderConsole);
startConsole({ name: "regulator", render, signIn, flashRegion, lang: () => state.lang });
