/**
 * What the scan page shows only when asked: the names and outcomes of its checks (once "how
 * we checked" is opened, or at once when a check failed and the list opens by itself), and
 * the hidden-code claim with its answers (when one is submitted). Built as a script of its own
 * (`ON_DEMAND_CHUNK_URL`): most scans open neither, and every byte of the page's own script is
 * on a phone's wire before the verdict.
 */
import { chinaDateTime, h } from "./dom.ts";
import { claimHiddenCode, type ClaimOutcome } from "./claim.ts";
import { CHECK_TEXT, ON_DEMAND_TEXT, pick, type Lang } from "./i18n.ts";
import type { CheckId } from "../../server/src/verify/index.ts";

export { claimHiddenCode };

/** A check's line (`[data-check]`, its mark already there) completed with its name and, for screen readers, its outcome. */
export function completeCheck(line: HTMLElement, lang: Lang): void {
  // Once only: a line may be offered again when the script arrives after a redraw.
  if (line.childElementCount > 1) return;
  const ok = line.dataset.ok;
  const status = ok === "true" ? "checkPassed" : ok === "false" ? "checkFailed" : "checkPending";
  line.append(
    h("span", {}, pick(CHECK_TEXT[line.dataset.check as CheckId], lang)),
    h("span", { class: "sr-only" }, ` (${pick(ON_DEMAND_TEXT[status], lang)})`),
  );
}

/** What the page says about a claim's answer; `null` for an error (the page's own script words that). */
export function claimMessage(outcome: ClaimOutcome, lang: Lang): string | null {
  switch (outcome.kind) {
    case "first":
      return pick(ON_DEMAND_TEXT.firstClaim, lang);
    case "claimed_before":
      return pick(ON_DEMAND_TEXT.claimedBefore, lang).replace("{time}", chinaDateTime(outcome.claimedAtMs));
    case "wrong_code":
      return pick(ON_DEMAND_TEXT.wrongCode, lang);
    case "rate_limited":
      return pick(ON_DEMAND_TEXT.rateLimited, lang);
    case "error":
      return null;
  }
}
