/** Exports and printable reports: fetched with the token, saved as a file, and said so. */
import { failureText, flash, saveResponse } from "../shared/ui.ts";
import { flashRegion, state } from "./state.ts";
import { t } from "./text.ts";

export async function download(path: string, fallbackName: string): Promise<void> {
  if (state.api === null) return;
  try {
    const name = await saveResponse(await state.api.fetch(path, { accept: "*/*" }), fallbackName);
    flash(flashRegion, "ok", `${t("downloaded")}${name}`);
  } catch (error) {
    flash(flashRegion, "error", failureText(error, state.lang));
  }
}
