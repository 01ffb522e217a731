/** Pieces both consoles are built from: dialogs, messages, downloads, dates, sign-in. */
import { CHINA_OFFSET, chinaDate } from "../../../../server/src/domain/china-time.ts";
import { chinaDateTime, h } from "../../../src/dom.ts";
import { NetworkFailure, ProblemFailure, type ProblemBody } from "./api.ts";
import { COMMON, pick, type Lang, type Pair } from "./text.ts";

export { h };

/**
 * Places in a form or a queue row that another module fills (a voice note, a media upload's
 * progress): the view leaves `<div data-slot="name">` and the filler registered for that name
 * draws into it each time the view is drawn (a filler finds its form with `closest("form")`
 * once the slot is in the page). Context says which form or queue entry it is.
 */
export interface SlotContext {
  /** "field-record", "cooperative-event", "cooperative-register", "queue-entry". */
  where: string;
  /** The step being recorded, when there is one. */
  step?: string;
  /** The queued write's idempotency key, for a queue entry. */
  key?: string;
}
export type SlotFiller = (slot: HTMLElement, context: SlotContext) => void;
const slotFillers = new Map<string, SlotFiller>();

/** Registers what draws into every `data-slot=name` from now on. */
export function fillSlot(name: "voice-note" | "media-progress", filler: SlotFiller): void {
  slotFillers.set(name, filler);
}

/** An empty slot for `name`, filled by its registered filler if there is one. */
export function slot(name: "voice-note" | "media-progress", context: SlotContext): HTMLElement {
  const element = h("div", { class: "slot", "data-slot": name });
  slotFillers.get(name)?.(element, context);
  return element;
}

/** What to tell the user about a failure: the server's own zh/en message when it sent one. */
/**
 * The server's detail is English (the validator's reasons); a Chinese page names the fields
 * that were wrong instead, which are identifiers in either language.
 */
export function problemDetail(problem: ProblemBody, lang: Lang): string {
  const fields = (problem.issues ?? []).map((issue) => issue.path.join(".")).filter((path) => path !== "");
  if (lang === "zh" && fields.length > 0) return `（字段：${fields.join("、")}）`;
  return problem.detail === undefined ? "" : ` (${problem.detail})`;
}

export function failureText(error: unknown, lang: Lang): string {
  if (error instanceof ProblemFailure) {
    return `${pick(error.problem.message, lang)}${problemDetail(error.problem, lang)} [${error.problem.code}]`;
  }
  if (error instanceof NetworkFailure) {
    return pick(["无法连接服务器，请检查网络。", "Cannot reach the server; check the connection."], lang);
  }
  return `${pick(COMMON.error, lang)}: ${error instanceof Error ? error.message : String(error)}`;
}

/** A status line that screen readers announce; `kind` colours it. */
export function flash(region: HTMLElement, kind: "ok" | "error" | "info", text: string): void {
  region.replaceChildren(h("p", { class: `flash flash-${kind}`, role: kind === "error" ? "alert" : "status" }, text));
}

/** "2026-04-15T06:30" from a datetime-local input, read as China time. */
export function chinaIsoFromLocalInput(value: string): string {
  return `${value.length === 16 ? `${value}:00` : value}${CHINA_OFFSET}`;
}

/** The value a datetime-local input shows for now, in China time. */
export function chinaLocalInputNow(nowMs: number = Date.now()): string {
  return chinaDateTime(nowMs).replace(" ", "T");
}

/** "2026-04-15" in China time for an ISO timestamp. */
export function chinaDay(iso: string): string {
  return chinaDate(Date.parse(iso));
}

/** "2026-04-15 14:00" in China time for an ISO timestamp. */
export function chinaMinute(iso: string): string {
  return chinaDateTime(Date.parse(iso));
}

/** Saves a response body as a file: the API needs the bearer token, so a plain link cannot fetch it. */
export async function saveResponse(response: Response, fallbackName: string): Promise<string> {
  const disposition = response.headers.get("content-disposition") ?? "";
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const link = h("a", { href: url, download: name, hidden: "" });
  document.body.append(link);
  link.click();
  link.remove();
  // Give the browser time to start the download before the blob goes.
  setTimeout(() => {
    URL.revokeObjectURL(url);
  }, 60_000);
  return name;
}

function modal(title: string, body: HTMLElement[], confirmLabel: string, lang: Lang): Promise<boolean> {
  const confirm = h("button", { type: "submit", value: "ok", class: "danger" }, confirmLabel);
  const cancel = h("button", { type: "submit", value: "cancel", formnovalidate: "" }, pick(COMMON.cancel, lang));
  const form = h(
    "form",
    { method: "dialog" },
    h("h2", {}, title),
    ...body,
    h("div", { class: "actions" }, cancel, confirm),
  );
  const dialog = h("dialog", { class: "modal" }, form);
  document.body.append(dialog);
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(dialog.returnValue === "ok");
    });
  });
}

/** Asks for a reason (required in Chinese, optional in English); null when cancelled. */
export async function reasonDialog(
  title: string,
  text: string,
  confirmLabel: string,
  lang: Lang,
): Promise<{ zh: string; en: string | null } | null> {
  const zh = h("textarea", { name: "reason-zh", required: "", maxlength: "2000", rows: "3" });
  const en = h("textarea", { name: "reason-en", maxlength: "2000", rows: "2" });
  const ok = await modal(
    title,
    [
      h("p", {}, text),
      h("label", {}, pick(COMMON.reasonZh, lang), zh),
      h("label", {}, pick(COMMON.reasonEn, lang), en),
    ],
    confirmLabel,
    lang,
  );
  if (!ok || zh.value.trim() === "") return null;
  return { zh: zh.value.trim(), en: en.value.trim() === "" ? null : en.value.trim() };
}

/** The sign-in card: a token field. `onToken` checks it and throws a failure to show. */
export function signInView(lang: Lang, title: Pair, onToken: (token: string) => Promise<void>): HTMLElement {
  const input = h("input", {
    name: "token",
    type: "password",
    autocomplete: "current-password",
    required: "",
    minlength: "8",
    maxlength: "200",
  });
  const status = h("div", { class: "status" });
  const form = h(
    "form",
    { class: "card sign-in" },
    h("h1", {}, pick(title, lang)),
    h("label", {}, pick(COMMON.token, lang), input),
    h("p", { class: "help" }, pick(COMMON.tokenHelp, lang)),
    h("button", { type: "submit", class: "primary" }, pick(COMMON.signIn, lang)),
    status,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    onToken(input.value.trim()).catch((error: unknown) => {
      flash(status, "error", failureText(error, lang));
    });
  });
  return form;
}
