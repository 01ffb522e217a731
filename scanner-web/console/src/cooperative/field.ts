/** A form control inside its label, so tapping the words focuses the control. */
import { h } from "../shared/ui.ts";

export function field(label: string, control: HTMLElement, extra: Record<string, string> = {}): HTMLElement {
  return h("label", extra, label, control);
}
