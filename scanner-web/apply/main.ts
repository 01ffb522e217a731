/**
 * The public application to join (issue 15): a cooperative, processor, carrier, shop or
 * testing centre applies with its name, credit code, region, contact and a photo of its
 * business licence taken with the phone's camera, free of charge; then follows its
 * application on the status view, whose link (`/apply#id=…&s=…`) holds the status secret in
 * the fragment, which never reaches a server log as part of the page's address.
 */
import { documentFor, topBar } from "../console/src/shared/shell.ts";
import { pick, storedLang, switchLang, type Lang, type Pair } from "../console/src/shared/text.ts";
import { failureText, flash, h } from "../console/src/shared/ui.ts";
import { ProblemFailure, type ProblemBody } from "../console/src/shared/api.ts";

const T = {
  title: ["申请加入", "Apply to join"],
  free: [
    "申请加入和使用追溯码完全免费，任何环节都不收取费用。",
    "Applying and trace codes are free: nothing is charged at any step.",
  ],
  kind: ["机构类型", "Kind of organisation"],
  nameZh: ["机构名称（与营业执照一致）", "Name (as on the business licence)"],
  nameEn: ["英文名称（可选）", "English name (optional)"],
  uscc: ["统一社会信用代码（18 位）", "Unified social credit code (18 characters)"],
  region: ["所在地行政区划代码（6 位，如 330106）", "Region code (6 digits, e.g. 330106)"],
  contactName: ["联系人姓名", "Contact's name"],
  phone: ["联系人手机号", "Contact's mobile number"],
  contactHelp: [
    "联系方式只给审核的监管部门和平台运营方看，不会上链，也不会公开。",
    "The contact is seen only by the reviewing bureau and the operator: never on the ledger, never public.",
  ],
  licence: ["营业执照照片（用手机拍照）", "Business licence photo (take it with the phone)"],
  submit: ["提交申请", "Apply"],
  sending: ["正在提交…", "Sending…"],
  uploading: ["正在上传执照照片…", "Uploading the licence photo…"],
  submitted: [
    "申请已提交。请收藏本页地址，随时查看审核结果。",
    "Application sent. Bookmark this page to see the decision.",
  ],
  statusTitle: ["申请进度", "Your application"],
  pending: ["审核中：县级监管部门正在审核您的申请。", "Waiting: the county bureau is reviewing your application."],
  approved: [
    "已通过！监管部门会把登录二维码交给负责人，用手机扫码即可登录，无需密码。",
    "Approved! The bureau hands your chair a sign-in QR code: scan it with the phone, no password needed.",
  ],
  refused: ["未通过。原因：", "Refused. The reason:"],
  applyAgain: ["修改后重新申请", "Apply again"],
  submittedAt: ["提交时间", "Sent"],
  statusLink: ["进度查询链接", "Status link"],
} as const satisfies Record<string, Pair>;

const KINDS: [string, Pair][] = [
  ["cooperative", ["农民专业合作社", "Farmers' cooperative"]],
  ["processor", ["加工企业", "Processor"]],
  ["logistics", ["物流承运商", "Carrier"]],
  ["retailer", ["零售商店", "Shop"]],
  ["inspector", ["检测机构", "Testing centre"]],
];

let lang: Lang = storedLang();
const t = (key: keyof typeof T): string => pick(T[key], lang);
const app = (): HTMLElement => document.getElementById("app") ?? document.body;
const flashRegion = h("div", { class: "flash-region", "aria-live": "polite" });

interface StatusView {
  id: string;
  status: "pending" | "approved" | "refused";
  name: { zh: string; en: string | null };
  refusal: { zh: string; en: string | null } | null;
  submittedAt: string;
}

/** The application in the page's fragment: `#id=app_…&s=…`. */
function statusRef(): { id: string; secret: string } | null {
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  const id = params.get("id");
  const secret = params.get("s");
  return id !== null && secret !== null ? { id, secret } : null;
}

async function call<T>(path: string, init: RequestInit): Promise<T> {
  const response = await fetch(path, { ...init, cache: "no-store" });
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const problem = body as ProblemBody | null;
    throw new ProblemFailure(
      problem?.code === undefined
        ? {
            code: "console.unexpected_answer",
            status: response.status,
            message: { zh: "服务器出错", en: "Server error" },
          }
        : problem,
    );
  }
  return body as T;
}

function bar(): HTMLElement {
  return topBar({
    title: t("title"),
    lang,
    showOffline: false,
    onSwitchLang: () => {
      lang = switchLang(lang);
      void draw();
    },
  });
}

function field(label: string, input: HTMLElement, help?: string): HTMLElement {
  return h("label", {}, label, input, help === undefined ? null : h("span", { class: "help" }, help));
}

function form(): HTMLElement {
  const kind = h(
    "select",
    { name: "kind", required: "" },
    ...KINDS.map(([v, p]) => h("option", { value: v }, pick(p, lang))),
  );
  const nameZh = h("input", { name: "nameZh", required: "", maxlength: "100", autocomplete: "organization" });
  const nameEn = h("input", { name: "nameEn", maxlength: "200" });
  const uscc = h("input", {
    name: "uscc",
    required: "",
    minlength: "18",
    maxlength: "18",
    autocapitalize: "characters",
  });
  const region = h("input", {
    name: "regionCode",
    required: "",
    inputmode: "numeric",
    pattern: "\\d{6}",
    maxlength: "6",
  });
  const contactName = h("input", { name: "contactName", required: "", maxlength: "50", autocomplete: "name" });
  const phone = h("input", { name: "phone", type: "tel", required: "", inputmode: "tel", autocomplete: "tel" });
  const licence = h("input", { name: "licence", type: "file", accept: "image/*", capture: "environment" });
  const submit = h("button", { type: "submit", class: "primary big" }, t("submit"));
  const element = h(
    "form",
    { class: "card", "data-testid": "apply-form" },
    h("h1", {}, t("title")),
    h("p", { class: "banner", "data-testid": "free" }, t("free")),
    field(t("kind"), kind),
    field(t("nameZh"), nameZh),
    field(t("nameEn"), nameEn),
    field(t("uscc"), uscc),
    field(t("region"), region),
    field(t("contactName"), contactName),
    field(t("phone"), phone, t("contactHelp")),
    field(t("licence"), licence),
    submit,
  );
  element.addEventListener("submit", (event) => {
    event.preventDefault();
    submit.disabled = true;
    void (async () => {
      try {
        let licenceCid: string | undefined;
        const file = licence.files?.[0];
        if (file !== undefined) {
          flash(flashRegion, "info", t("uploading"));
          licenceCid = (
            await call<{ licence: { cid: string } }>("/api/v1/applications/licence", {
              method: "POST",
              headers: { "content-type": file.type === "" ? "application/octet-stream" : file.type },
              body: file,
            })
          ).licence.cid;
        }
        flash(flashRegion, "info", t("sending"));
        const answer = await call<{ application: StatusView; secret: string }>("/api/v1/applications", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            kind: kind.value,
            name: { zh: nameZh.value.trim(), ...(nameEn.value.trim() === "" ? {} : { en: nameEn.value.trim() }) },
            uscc: uscc.value.trim().toUpperCase(),
            regionCode: region.value.trim(),
            contact: { name: contactName.value.trim(), phone: phone.value.trim() },
            ...(licenceCid === undefined ? {} : { licenceCid }),
          }),
        });
        location.hash = `id=${answer.application.id}&s=${answer.secret}`;
        await draw();
        flash(flashRegion, "ok", t("submitted"));
      } catch (error) {
        flash(flashRegion, "error", failureText(error, lang));
        submit.disabled = false;
      }
    })();
  });
  return element;
}

async function statusCard(ref: { id: string; secret: string }): Promise<HTMLElement> {
  const { application } = await call<{ application: StatusView }>(
    `/api/v1/applications/${encodeURIComponent(ref.id)}?secret=${encodeURIComponent(ref.secret)}`,
    { headers: { accept: "application/json" } },
  );
  const card = h(
    "section",
    { class: "card", "data-testid": "application-status", "data-status": application.status },
    h("h1", {}, t("statusTitle")),
    h("p", {}, h("strong", {}, pick(application.name, lang))),
    h("p", { class: `banner${application.status === "refused" ? " banner-danger" : ""}` }, t(application.status)),
  );
  if (application.refusal !== null) {
    card.append(h("p", { "data-testid": "refusal" }, pick(application.refusal, lang)));
    const again = h("button", { type: "button", class: "primary" }, t("applyAgain"));
    again.addEventListener("click", () => {
      history.replaceState(null, "", location.pathname);
      void draw();
    });
    card.append(again);
  }
  card.append(
    h("p", { class: "help" }, `${t("submittedAt")}: ${application.submittedAt.slice(0, 10)}`),
    h("p", { class: "help" }, `${t("statusLink")}: `, h("code", {}, location.href)),
    h("p", { class: "help" }, t("free")),
  );
  return card;
}

async function draw(): Promise<void> {
  documentFor(lang, t("title"));
  const ref = statusRef();
  let content: HTMLElement;
  try {
    content = ref === null ? form() : await statusCard(ref);
  } catch (error) {
    content = form();
    flash(flashRegion, "error", failureText(error, lang));
  }
  app().replaceChildren(bar(), h("main", {}, flashRegion, content));
}

window.addEventListener("hashchange", () => void draw());
void draw();
