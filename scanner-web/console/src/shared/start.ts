/**
 * How every console opens: the service worker (so it opens with no network after the first
 * visit), the first drawing, and a sign-in with the token this device kept for that console.
 */
import { ProblemFailure, storeToken, storedToken, type ConsoleName } from "./api.ts";
import { registerServiceWorker } from "./service-worker.ts";
import type { Lang, Pair } from "./text.ts";
import { failureText, flash } from "./ui.ts";

export interface ConsoleStart {
  /** Whose token to read and, if the server refuses it, forget. */
  name: ConsoleName;
  /** Draws the whole console from its state. */
  render: () => void;
  /** Signs in with the kept token (the same call the sign-in card makes, or a gentler one). */
  signIn: (token: string) => Promise<void>;
  /** Where a failed sign-in is said. */
  flashRegion: HTMLElement;
  /** The language at the moment the failure is said (it may have been switched meanwhile). */
  lang: () => Lang;
  /**
   * For a console that works offline: called when the connection comes back (to send what
   * waits); the console is drawn again when it goes (its offline badge).
   */
  onOnline?: () => void;
}

export function startConsole(start: ConsoleStart): void {
  registerServiceWorker();
  const { onOnline } = start;
  if (onOnline !== undefined) {
    window.addEventListener("online", onOnline);
    window.addEventListener("offline", start.render);
  }
  start.render();
  const saved = storedToken(start.name);
  if (saved === null) return;
  start.signIn(saved).catch((error: unknown) => {
    // A token the server refused (revoked, expired, another console's) is forgotten and the
    // sign-in card says why; with no connection it is kept for the next start.
    if (error instanceof ProblemFailure) storeToken(start.name, null);
    start.render();
    flash(start.flashRegion, "error", failureText(error, start.lang()));
  });
}

/** The refusal of a token this console is not for; like any refusal, it is not kept. */
export function wrongRole(message: Pair): ProblemFailure {
  return new ProblemFailure({
    code: "console.wrong_role",
    status: 403,
    message: { zh: message[0], en: message[1] },
  });
}
