/**
 * The "读出来 / Read aloud" button beside a number a person must check: it speaks the number
 * with the browser's own voice (the Web Speech API), in the page's language. Where the browser
 * has no speech synthesis the button is not drawn at all: a button that does nothing misleads.
 */
import { pictogram } from "./pictograms.ts";
import { speechLang, utteranceText, type Spoken } from "./spoken.ts";
import { pick, type Lang, type Pair } from "./text.ts";
import { h } from "./ui.ts";

const READ_ALOUD: Pair = ["读出来", "Read aloud"];
const SIGNED_IN_AS: Pair = ["已登录", "Signed in as"];

export function canSpeak(): boolean {
  return typeof globalThis.speechSynthesis === "object" && typeof globalThis.SpeechSynthesisUtterance === "function";
}

/** Speaks `parts` now, cutting off whatever was being said. */
export function speak(parts: readonly Spoken[], lang: Lang): void {
  const text = utteranceText(parts, lang);
  if (!canSpeak() || text === "") return;
  const utterance = new SpeechSynthesisUtterance(text);
  utterance.lang = speechLang(lang);
  // A little slower than the default: a number is checked against a label, digit by digit.
  utterance.rate = 0.85;
  speechSynthesis.cancel();
  speechSynthesis.speak(utterance);
}

/**
 * A button that reads what `parts` gives at the moment it is tapped (a typed value is read as
 * it is then); `what` names the number for screen readers. Null where speech is unavailable.
 */
export function readAloudButton(lang: Lang, what: string, parts: () => readonly Spoken[]): HTMLButtonElement | null {
  if (!canSpeak()) return null;
  const button = h(
    "button",
    {
      type: "button",
      class: "speak",
      "data-action": "read-aloud",
      "aria-label": `${pick(READ_ALOUD, lang)}: ${what}`,
    },
    pictogram("speak"),
    h("span", {}, pick(READ_ALOUD, lang)),
  );
  button.addEventListener("click", () => {
    speak(parts(), lang);
  });
  return button;
}

/** A control (or a line of text) with its read-aloud button beside it. */
export function withReadAloud(
  content: HTMLElement,
  lang: Lang,
  what: string,
  parts: () => readonly Spoken[],
): HTMLElement {
  const button = readAloudButton(lang, what, parts);
  if (button === null) return content;
  return h("div", { class: "with-speak" }, content, button);
}

/**
 * Whose console this is, with its read-aloud button: after scanning a sign-in QR code, a person
 * who reads little hears that the phone now records for their own organisation.
 */
export function signedInAs(name: string, lang: Lang): HTMLElement {
  const said = pick(SIGNED_IN_AS, lang);
  return withReadAloud(
    h("p", { class: "signed-in-as", "data-testid": "signed-in-as" }, `${said}${lang === "zh" ? "：" : " "}${name}`),
    lang,
    said,
    () => [{ text: said }, { text: name }],
  );
}
