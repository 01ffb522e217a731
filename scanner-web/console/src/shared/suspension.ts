/**
 * Suspending or reinstating an organisation, with a reason: the regulator (for its region)
 * and the operator (for every region) call the same endpoints and are shown the same words.
 */
import { newIdempotencyKey, type Api } from "./api.ts";
import { pick, type Lang, type Pair } from "./text.ts";
import { failureText, flash, h, reasonDialog } from "./ui.ts";

const TEXT = {
  suspend: ["暂停", "Suspend"],
  reinstate: ["恢复", "Reinstate"],
  suspendTitle: ["暂停该机构？", "Suspend this organisation?"],
  suspendText: [
    "暂停立即生效：该机构不能再登记批次或记录环节，已有批次的扫码页会显示暂停。",
    "In force at once: it can register and record nothing more, and its batches' scan pages say so.",
  ],
  reinstateTitle: ["恢复该机构？", "Reinstate this organisation?"],
  reinstateText: ["恢复后该机构可继续登记和记录。", "It may register and record again."],
  suspended: ["已暂停。", "Suspended."],
  reinstated: ["已恢复。", "Reinstated."],
} satisfies Record<string, Pair>;

export interface SuspensionTarget {
  id: string;
  name: { zh: string; en: string | null };
  status: string;
}

export interface SuspensionContext {
  api: Api | null;
  lang: Lang;
  flashRegion: HTMLElement;
  /** Reloads the list once the server has answered (whatever it answered). */
  reload: () => Promise<void>;
}

/** The row's button: "suspend" for an active organisation, "reinstate" for a suspended one. */
export function suspensionButton(org: SuspensionTarget, context: () => SuspensionContext): HTMLButtonElement {
  const suspend = org.status !== "suspended";
  const button = h(
    "button",
    { type: "button", class: suspend ? "danger" : "", "data-action": suspend ? "suspend" : "reinstate" },
    pick(suspend ? TEXT.suspend : TEXT.reinstate, context().lang),
  );
  button.addEventListener("click", () => void setSuspended(org, suspend, context()));
  return button;
}

async function setSuspended(org: SuspensionTarget, suspend: boolean, context: SuspensionContext): Promise<void> {
  const { api, lang, flashRegion } = context;
  if (api === null) return;
  const reason = await reasonDialog(
    pick(suspend ? TEXT.suspendTitle : TEXT.reinstateTitle, lang),
    `${pick(org.name, lang)}: ${pick(suspend ? TEXT.suspendText : TEXT.reinstateText, lang)}`,
    pick(suspend ? TEXT.suspend : TEXT.reinstate, lang),
    lang,
  );
  if (reason === null) return;
  try {
    await api.json(`/api/v1/organisations/${org.id}/${suspend ? "suspend" : "reinstate"}`, {
      method: "POST",
      body: { reason },
      idempotencyKey: newIdempotencyKey(),
    });
    await context.reload();
    flash(flashRegion, "ok", pick(suspend ? TEXT.suspended : TEXT.reinstated, lang));
  } catch (error) {
    flash(flashRegion, "error", failureText(error, lang));
    await context.reload();
  }
}
