/**
 * What the operator console holds between renders, in one mutable object every module reads,
 * and the entry's render, registered here so a panel can redraw without importing the entry.
 */
import type { Api } from "../shared/api.ts";
import { renderHook } from "../shared/shell.ts";
import { storedLang, type Lang } from "../shared/text.ts";
import { h } from "../shared/ui.ts";

export type View = "organisations" | "applications" | "keys" | "relayer" | "outbox";

/** A panel's answer: not asked yet, the answer, or what went wrong asking. */
export type Loaded<T> = { value: T | null; error: string | null; loading: boolean };

export interface OperatorState {
  lang: Lang;
  api: Api | null;
  view: View;
}

export const state: OperatorState = { lang: storedLang(), api: null, view: "organisations" };

export const flashRegion = h("div", { class: "flash-region", "aria-live": "polite" });

const hook = renderHook();

export const registerRender = hook.register;

/** Redraws the whole console from the state. */
export const render = hook.render;
