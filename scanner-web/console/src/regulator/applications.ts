/**
 * The bureau's review of applications to join (issue 15): the pending applications of the
 * regulator's region (all of them for the operator), each with its contact and licence
 * photo; approve, or refuse with a reason the applicant reads on the status page. After an
 * approval the chair's one-time sign-in QR code is shown, to print and hand over.
 */
import type { Pair } from "../shared/text.ts";
import { pick } from "../shared/text.ts";
import { failureText, flash, h, reasonDialog } from "../shared/ui.ts";
import { flashRegion, render, state } from "./state.ts";
import { KIND_TEXT, textOf } from "./text.ts";

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

const a = (key: keyof typeof A): string => pick(A[key], state.lang);

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

let applications: ApplicationReview[] | null = null;
let lastApproval: Approved | null = null;

export async function loadApplications(): Promise<void> {
  if (state.api === null) return;
  try {
    applications = (await state.api.get<{ applications: ApplicationReview[] }>("/api/v1/applications?status=pending"))
      .applications;
  } catch (error) {
    flash(flashRegion, "error", failureText(error, state.lang));
  }
  render();
}

async function approve(application: ApplicationReview): Promise<void> {
  if (state.api === null) return;
  try {
    lastApproval = (
      await state.api.json<Approved>(`/api/v1/applications/${application.id}/approve`, { method: "POST", body: {} })
    ).body;
    flash(flashRegion, "ok", a("approved"));
  } catch (error) {
    flash(flashRegion, "error", failureText(error, state.lang));
  }
  await loadApplications();
}

async function refuse(application: ApplicationReview): Promise<void> {
  if (state.api === null) return;
  const reason = await reasonDialog(a("refuseTitle"), a("refuseText"), a("refuse"), state.lang);
  if (reason === null) return;
  try {
    await state.api.json(`/api/v1/applications/${application.id}/refuse`, {
      method: "POST",
      body: { reason: { zh: reason.zh, ...(reason.en === null ? {} : { en: reason.en }) } },
    });
    flash(flashRegion, "ok", a("refused"));
  } catch (error) {
    flash(flashRegion, "error", failureText(error, state.lang));
  }
  await loadApplications();
}

/** The printable sign-in card: the QR code (an SVG from the server, shown as an image), the chair's name. */
function approvalCard(approval: Approved): HTMLElement {
  const print = h("button", { type: "button", class: "primary" }, a("print"));
  print.addEventListener("click", () => {
    window.print();
  });
  return h(
    "section",
    { class: "card sign-in-sheet", "data-testid": "sign-in-qr" },
    h("h2", {}, pick(approval.organisation.name, state.lang)),
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

export function applicationsView(): HTMLElement {
  if (applications === null) void loadApplications();
  const rows = (applications ?? []).map((application) => {
    const approveButton = h("button", { type: "button", class: "primary", "data-action": "approve" }, a("approve"));
    approveButton.addEventListener("click", () => {
      approveButton.disabled = true;
      void approve(application);
    });
    const refuseButton = h("button", { type: "button", class: "danger", "data-action": "refuse" }, a("refuse"));
    refuseButton.addEventListener("click", () => void refuse(application));
    return h(
      "tr",
      { "data-application-id": application.id },
      h("td", {}, pick(application.name, state.lang)),
      h("td", {}, textOf(KIND_TEXT, application.kind)),
      h("td", {}, application.uscc),
      h(
        "td",
        {},
        application.regionName === null
          ? application.regionCode
          : `${pick(application.regionName, state.lang)} (${application.regionCode})`,
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
  if (lastApproval !== null) section.append(approvalCard(lastApproval));
  section.append(
    rows.length === 0 && applications !== null
      ? h("p", { "data-testid": "no-applications" }, a("none"))
      : h(
          "div",
          { class: "table-wrap" },
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
