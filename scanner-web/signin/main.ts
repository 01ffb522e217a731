/**
 * Signing in by a link or its QR code (issue 15): the page reads the one-time token from
 * its fragment (`/signin#t=…`, never sent to the server as part of the address), removes it
 * from the address bar and history, exchanges it once for a device session and keeps the
 * session where the console looks for its token; then opens the console.
 */
import { ProblemFailure, storeToken, type ProblemBody } from "../console/src/shared/api.ts";
import { documentFor, topBar } from "../console/src/shared/shell.ts";
import { pick, storedLang, switchLang, type Lang, type Pair } from "../console/src/shared/text.ts";
import { failureText, flash, h } from "../console/src/shared/ui.ts";

const T = {
  title: ["登录", "Sign in"],
  signingIn: ["正在登录…", "Signing in…"],
  welcome: ["欢迎，{name}！正在打开控制台…", "Welcome, {name}! Opening the console…"],
  noConsole: [
    "已登录。贵机构类型的手机控制台即将推出。",
    "Signed in. The phone console for your kind of organisation is coming.",
  ],
  noToken: [
    "这个链接不完整。请用手机相机扫描负责人或监管部门给您的登录二维码。",
    "This link is incomplete. Scan the sign-in QR code your chair or the bureau gave you with the phone's camera.",
  ],
  ask: ["请向负责人或监管部门索取新的登录二维码。", "Ask your chair or the bureau for a new sign-in QR code."],
  how: [
    "用手机相机扫描负责人或监管部门给您的登录二维码即可登录，不用输入密码。登录会保留 90 天。",
    "Scan the sign-in QR code from your chair or the bureau with the phone's camera: no password to type. You stay signed in for 90 days.",
  ],
} as const satisfies Record<string, Pair>;

let lang: Lang = storedLang();
const t = (key: keyof typeof T): string => pick(T[key], lang);
const flashRegion = h("div", { class: "flash-region", "aria-live": "polite" });
/** What the page last said, as a function of the language: a switch redraws it in the other one. */
let said: { kind: "ok" | "error" | "info"; text: () => string } | null = null;

function say(kind: "ok" | "error" | "info", text: () => string): void {
  said = { kind, text };
  flash(flashRegion, kind, text());
}

/** "Android · Chrome": enough for the chair to tell a person's phones apart in the list of sessions. */
function deviceLabel(): string {
  const ua = navigator.userAgent;
  const system = /Android/.test(ua)
    ? "Android"
    : /iPhone|iPad/.test(ua)
      ? "iOS"
      : /Windows/.test(ua)
        ? "Windows"
        : /Mac OS/.test(ua)
          ? "Mac"
          : "Linux";
  const browser = /MicroMessenger/.test(ua)
    ? "WeChat"
    : /Edg\//.test(ua)
      ? "Edge"
      : /Chrome|Chromium/.test(ua)
        ? "Chrome"
        : /Firefox/.test(ua)
          ? "Firefox"
          : "Safari";
  return `${system} · ${browser}`;
}

function draw(): void {
  documentFor(lang, t("title"));
  const bar = topBar({
    title: t("title"),
    lang,
    showOffline: false,
    onSwitchLang: () => {
      lang = switchLang(lang);
      draw();
    },
  });
  const card = h(
    "section",
    { class: "card", "data-testid": "sign-in" },
    h("h1", {}, t("title")),
    h("p", { class: "help" }, t("how")),
  );
  (document.getElementById("app") ?? document.body).replaceChildren(bar, h("main", {}, flashRegion, card));
  if (said !== null) flash(flashRegion, said.kind, said.text());
}

async function exchange(token: string): Promise<void> {
  say("info", () => t("signingIn"));
  const response = await fetch("/api/v1/sign-in", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ token, device: deviceLabel() }),
    cache: "no-store",
  });
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) throw new ProblemFailure(body as ProblemBody);
  const answer = body as {
    session: { token: string };
    member: { name: string };
    organisation: { kind: string };
  };
  if (answer.organisation.kind === "cooperative") {
    storeToken("cooperative", answer.session.token);
    say("ok", () => t("welcome").replace("{name}", answer.member.name));
    location.replace("/console/cooperative");
    return;
  }
  // Processors, carriers, shops and testing centres record in the field console.
  if (["processor", "logistics", "retailer", "inspector"].includes(answer.organisation.kind)) {
    storeToken("field", answer.session.token);
    say("ok", () => t("welcome").replace("{name}", answer.member.name));
    location.replace("/console/field");
    return;
  }
  say("ok", () => t("noConsole"));
}

const token = new URLSearchParams(location.hash.replace(/^#/, "")).get("t");
// The token leaves the address bar and the history at once: it works once, and nobody should see it over a shoulder.
history.replaceState(null, "", location.pathname);
draw();
if (token === null || token === "") say("error", () => t("noToken"));
else
  exchange(token).catch((error: unknown) => {
    say("error", () => `${failureText(error, lang)} ${t("ask")}`);
  });
