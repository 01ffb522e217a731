/**
 * What the cooperative console holds between renders, in one mutable object so every
 * module reads the current value; and the entry's render, registered here so a module can
 * redraw the console without importing the entry (which imports every module).
 */
import { renderHook } from "../shared/shell.ts";
import type { batchView, eventView } from "../../../../server/src/http/routes/views.ts";
import type { organisationView } from "../../../../server/src/http/routes/organisations.ts";
import type { Certification, Plot, Product } from "../../../../server/src/storage/catalogue.ts";
import { newIdempotencyKey, type Api } from "../shared/api.ts";
import type { OfflineQueue } from "../shared/offline-queue.ts";
import { storedLang, type Lang } from "../shared/text.ts";
import { chinaLocalInputNow, h } from "../shared/ui.ts";
import type { UploadHandle } from "../shared/upload.ts";

export type BatchView = ReturnType<typeof batchView>;
export type EventView = ReturnType<typeof eventView>;
export type OrganisationView = ReturnType<typeof organisationView>;

export interface Me {
  organisation: OrganisationView | null;
  roles: string[];
  /** A person's device session; null for the organisation's API token. */
  member?: { id: string; capabilities: string[] } | null;
  plots: Plot[];
  certifications: Certification[];
}

/** The register form survives re-renders (a language switch must not lose a half-typed batch or an upload). */
export interface Draft {
  values: Record<string, string>;
  checked: Record<string, boolean>;
  idempotencyKey: string;
  video: { name: string; fraction: number; cid: string | null; error: string | null; handle: UploadHandle | null };
}

export function freshDraft(): Draft {
  return {
    values: { harvestedAt: chinaLocalInputNow(), unit: "kg", itemCount: "100" },
    checked: { hiddenCodes: true },
    idempotencyKey: newIdempotencyKey(),
    video: { name: "", fraction: 0, cid: null, error: null, handle: null },
  };
}

export type View = "batches" | "register" | "records" | "people" | "orders";

export interface CooperativeState {
  lang: Lang;
  api: Api | null;
  me: Me | null;
  queue: OfflineQueue | null;
  view: View;
  batches: BatchView[];
  events: Map<string, EventView[]>;
  products: Map<string, Product | null>;
  openBatches: Set<string>;
  draft: Draft;
}

export const state: CooperativeState = {
  lang: storedLang(),
  api: null,
  me: null,
  queue: null,
  view: "batches",
  batches: [],
  events: new Map(),
  products: new Map(),
  openBatches: new Set(),
  draft: freshDraft(),
};

export const flashRegion = h("div", { class: "flash-region", "aria-live": "polite" });

const hook = renderHook();

export const registerRender = hook.register;

/** Redraws the whole console from the state. */
export const render = hook.render;
