/**
 * The bureau's review of applications to join (issue 15): the pending applications of the
 * regulator's region (all of them for the operator), each with its contact and licence
 * photo; approve, or refuse with a reason the applicant reads on the status page. After an
 * approval the chair's one-time sign-in QR code is shown, to print and hand over. Shown by
 * the regulator console and the operator console, each binding it to its own state.
 */
import type { Api } from "./api.ts";
import { KIND_TEXT, pick, type Lang, type Pair } from "./text.ts";
import { failureText, flash, h, reasonDialog } from "./ui.ts";

const A = {
  title: ["入驻申请", "Applications"],
  none: ["没有待审核的申请。", "No application is waiting."],
  applicant: ["申请机构", "Applicant"],
  kind: ["类型", "Kind"],
  uscc: ["统一社会信用代码", "Credit code"],
  region: ["地区", "Region"],
  contact: ["联系人", "Contact"],
  licence: ["营业执照", "Licence"],
  noLicence: ["未上传", "Not uploaded"],
  approve: ["批准", "Approve"],
  refuse: ["不批准", "Refuse"],
  refuseTitle: ["不批准该申请？", "Refuse this application?"],
  refuseText: ["申请人会在进度页面看到原因。", "The applicant reads the reason on the status page."],
  approved: [
    "已批准，机构正在上链。请打印下面的登录二维码交给负责人：用手机扫码即可登录（72 小时内有效，只能用一次）。",
    "Approved; the organisation is being registered on the ledger. Print this sign-in QR code for the chair: scanning it signs her in (valid 72 hours, once).",
  ],
  print: ["打印", "Print"],
  chair: ["负责人", "Chair"],
  refused: ["已不批准。", "Refused."],
} as const satisfies Record<string, Pair>;

/** What the review needs of the console showing it. */
export interface ReviewHost {
  api: () => Api | null;
  lang: () => Lang;
  flashRegion: HTMLElement;
  render: () => void;
}

export interface ApplicationReviewPanel {
  view: () => HTMLElement;
  load: () => Promise<void>;
}

export interface ApplicationReview {
  id: string;
  kind: string;
  name: { zh: string; en: string | null };
  uscc: string;
  regionCode: string;
  regionName: { zh: string; en: string } | null;
  contact: { name: string; phone: string };
  licenceUrl: string | null;
  submittedAt: string;
}

interface Approved {
  organisation: { name: { zh: string; en: string | null } };
  chair: { name: string };
  signIn: { url: string; qrSvg: string; expiresAt: string };
}

/** The review bound to one console: its list and last approval live as long as the console's page. */
export function applicationReview(host: ReviewHost): ApplicationReviewPanel {
  let applications: ApplicationReview[] | null = null;
  let lastApproval: Approved | null = null;
  const a = (key: keyof typeof A): string => pick(A[key], host.lang());

  async function load(): Promise<void> {
    const api = host.api();
    if (api === null) return;
    try {
      applications = (await api.get<{ applications: ApplicationReview[] }>("/api/v1/applications?status=pending"))
        .applications;
    } catch (error) {
      flash(host.flashRegion, "error", failureText(error, host.lang()));
    }
    host.render();
  }

  async function approve(application: ApplicationReview): Promise<void> {
    const api = host.api();
    if (api === null) return;
    try {
      lastApproval = (
        await api.json<Approved>(`/api/v1/applications/${application.id}/approve`, { method: "POST", body: {} })
      ).body;
      flash(host.flashRegion, "ok", a("approved"));
    } catch (error) {
      flash(host.flashRegion, "error", failureText(error, host.lang()));
    }
    await load();
  }

  async function refuse(application: ApplicationReview): Promise<void> {
    const api = host.api();
    if (api === null) return;
    const reason = await reasonDialog(a("refuseTitle"), a("refuseText"), a("refuse"), host.lang());
    if (reason === null) return;
    try {
      await api.json(`/api/v1/applications/${application.id}/refuse`, {
        method: "POST",
        body: { reason: { zh: reason.zh, ...(reason.en === null ? {} : { en: reason.en }) } },
      });
      flash(host.flashRegion, "ok", a("refused"));
    } catch (error) {
      flash(host.flashRegion, "error", failureText(error, host.lang()));
    }
    await load();
  }

  return {
    view: () => applicationsView(host.lang(), applications, lastApproval, { approve, refuse, load }),
    load,
  };
}

/** The printable sign-in card: the QR code (an SVG from the server, shown as an image), the chair's name. */
function approvalCard(approval: Approved, lang: Lang): HTMLElement {
  const a = (key: keyof typeof A): string => pick(A[key], lang);
  const print = h("button", { type: "button", class: "primary" }, a("print"));
  print.addEventListener("click", () => {
    window.print();
  });
  return h(
    "section",
    { class: "card sign-in-sheet", "data-testid": "sign-in-qr" },
    h("h2", {}, pick(approval.organisation.name, lang)),
    h("p", {}, `${a("chair")}: ${approval.chair.name}`),
    h("img", {
      class: "qr",
      alt: approval.signIn.url,
      src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(approval.signIn.qrSvg)}`,
    }),
    h("p", { class: "help" }, h("code", { "data-testid": "sign-in-url" }, approval.signIn.url)),
    h("div", { class: "actions no-print" }, print),
  );
}

function applicationsView(
  lang: Lang,
  applications: ApplicationReview[] | null,
  lastApproval: Approved | null,
  actions: {
    approve: (application: ApplicationReview) => Promise<void>;
    refuse: (application: ApplicationReview) => Promise<void>;
    load: () => Promise<void>;
  },
): HTMLElement {
  const a = (key: keyof typeof A): string => pick(A[key], lang);
  if (applications === null) void actions.load();
  const rows = (applications ?? []).map((application) => {
    const approveButton = h("button", { type: "button", class: "primary", "data-action": "approve" }, a("approve"));
    approveButton.addEventListener("click", () => {
      approveButton.disabled = true;
      void actions.approve(application);
    });
    const refuseButton = h("button", { type: "button", class: "danger", "data-action": "refuse" }, a("refuse"));
    refuseButton.addEventListener("click", () => void actions.refuse(application));
    return h(
      "tr",
      { "data-application-id": application.id },
      h("td", {}, pick(application.name, lang)),
      h("td", {}, pick(KIND_TEXT[application.kind] ?? [application.kind, application.kind], lang)),
      h("td", {}, application.uscc),
      h(
        "td",
        {},
        application.regionName === null
          ? application.regionCode
          : `${pick(application.regionName, lang)} (${application.regionCode})`,
      ),
      h("td", {}, `${application.contact.name} ${application.contact.phone}`),
      h(
        "td",
        {},
        application.licenceUrl === null
          ? a("noLicence")
          : h(
              "a",
              { href: application.licenceUrl, target: "_blank", rel: "noopener" },
              h("img", { class: "licence", src: application.licenceUrl, alt: a("licence") }),
            ),
      ),
      h("td", {}, h("div", { class: "actions" }, approveButton, refuseButton)),
    );
  });
  const section = h("section", { class: "card" }, h("h1", {}, a("title")));
  if (lastApproval !== null) section.append(approvalCard(lastApproval, lang));
  section.append(
    rows.length === 0 && applications !== null
      ? h("p", { "data-testid": "no-applications" }, a("none"))
      : h(
          "div",
          { class: "table-wrap stack-on-phone" },
          h(
            "table",
            { "data-testid": "applications" },
            h(
              "thead",
              {},
              h(
                "tr",
                {},
                ...(["applicant", "kind", "uscc", "region", "contact", "licence"] as const).map((key) =>
                  h("th", {}, a(key)),
                ),
                h("th", {}, ""),
              ),
            ),
            h("tbody", {}, ...rows),
          ),
        ),
  );
  return section;
}
