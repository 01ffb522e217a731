/**
 * What the regulator console holds between renders, in one mutable object so every
 * module reads the current value; and the entry's render, registered here so a module can
 * redraw the console without importing the entry (which imports every module).
 */
import { renderHook } from "../shared/shell.ts";
import type { BatchAuditReport, ScopeAuditReport } from "../../../../server/src/services/audit/report.ts";
import type { batchView } from "../../../../server/src/http/routes/views.ts";
import type { organisationView } from "../../../../server/src/http/routes/organisations.ts";
import type { Api } from "../shared/api.ts";
import type { BatchRecord } from "./batch-record.ts";
import { storedLang, type Lang } from "../shared/text.ts";
import { h } from "../shared/ui.ts";

export type BatchView = ReturnType<typeof batchView>;
export type OrganisationView = ReturnType<typeof organisationView>;
export type AuditReport = BatchAuditReport | ScopeAuditReport;

export type View = "batches" | "organisations" | "audit" | "applications" | "record";
export type SortKey = "lot" | "gtin" | "cooperative" | "region" | "harvestedAt" | "itemCount" | "status";

export interface RegulatorState {
  lang: Lang;
  api: Api | null;
  signedInAs: OrganisationView | null;
  view: View;
  organisations: OrganisationView[];
  batches: BatchView[] | null;
  filters: Record<string, string>;
  sortKey: SortKey;
  sortDescending: boolean;
  report: { path: string; value: AuditReport | null; error: string | null } | null;
  /** The batch opened from the search ("record" view), each part as it arrives. */
  record: BatchRecord | null;
}

export const state: RegulatorState = {
  lang: storedLang(),
  api: null,
  signedInAs: null,
  view: "batches",
  organisations: [],
  batches: null,
  filters: {},
  sortKey: "harvestedAt",
  sortDescending: true,
  report: null,
  record: null,
};

export const flashRegion = h("div", { class: "flash-region", "aria-live": "polite" });

const hook = renderHook();

export const registerRender = hook.register;

/** Redraws the whole console from the state. */
export const render = hook.render;
