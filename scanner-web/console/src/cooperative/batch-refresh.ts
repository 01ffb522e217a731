/**
 * Fetches the cooperative's batches, the open batches' events and the products they name,
 * and keeps polling while anything is still on its way to the ledger.
 */
import { NetworkFailure } from "../shared/api.ts";
import { failureText, flash } from "../shared/ui.ts";
import { loadProduct } from "./products.ts";
import { flashRegion, render, state, type BatchView, type EventView } from "./state.ts";

let refreshTimer: number | undefined;

/** What the list shows, to redraw only when something changed. */
function listFingerprint(): string {
  return JSON.stringify([state.batches, [...state.events.entries()], [...state.products.keys()]]);
}

export async function refreshBatches(): Promise<void> {
  if (state.api === null) return;
  const before = listFingerprint();
  try {
    state.batches = (await state.api.get<{ batches: BatchView[] }>("/api/v1/batches?limit=200")).batches;
    await Promise.all([...state.openBatches].map((id) => loadEvents(id)));
    await Promise.all([...new Set(state.batches.map((b) => b.gtin))].map((gtin) => loadProduct(gtin)));
  } catch (error) {
    if (!(error instanceof NetworkFailure)) flash(flashRegion, "error", failureText(error, state.lang));
  }
  if (state.view === "batches" && listFingerprint() !== before) render();
  scheduleRefresh();
}

/** Polls while anything is still on its way to the ledger; stops when all is settled. */
function scheduleRefresh(): void {
  window.clearTimeout(refreshTimer);
  const unsettled = (ledgerState: string): boolean => ledgerState === "pending" || ledgerState === "submitted";
  const busy =
    state.batches.some((b) => unsettled(b.ledger.state)) ||
    [...state.events.values()].some((list) => list.some((e) => unsettled(e.ledger.state)));
  if (busy && state.api !== null) refreshTimer = window.setTimeout(() => void refreshBatches(), 2_000);
}

export async function loadEvents(batchId: string): Promise<void> {
  if (state.api === null) return;
  state.events.set(batchId, (await state.api.get<{ events: EventView[] }>(`/api/v1/batches/${batchId}/events`)).events);
}
