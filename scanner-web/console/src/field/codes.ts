/**
 * What a scanned or typed code names: a batch (an item's or a lot's GS1 Digital Link, or the
 * batch id itself) or a case/pallet (its SSCC, bare or as a Digital Link with AI 00).
 */
import { parseDigitalLink } from "../../../../server/src/domain/gs1.ts";
import { batchIdOf } from "../../../../server/src/verify/batch-id.ts";

export type ScannedCode =
  | { kind: "batch"; batchId: string; gtin: string | null; lot: string | null; serial: string | null }
  | { kind: "container"; sscc: string };

/** The thing the code names, or null for a code that is none of these. */
export function readCode(input: string): ScannedCode | null {
  const text = input.trim();
  if (/^0x[0-9a-fA-F]{64}$/.test(text))
    return { kind: "batch", batchId: text.toLowerCase(), gtin: null, lot: null, serial: null };
  const bareSscc = /^(?:\(00\))?(\d{18})$/.exec(text.replace(/\s+/g, ""));
  if (bareSscc?.[1] !== undefined) return { kind: "container", sscc: bareSscc[1] };
  const ssccLink = /\/00\/(\d{18})(?:[/?#]|$)/.exec(text);
  if (ssccLink?.[1] !== undefined) return { kind: "container", sscc: ssccLink[1] };
  try {
    const link = parseDigitalLink(text.startsWith("/") || /^https?:/i.test(text) ? text : `/${text}`);
    if (link.lot === undefined) return null;
    return {
      kind: "batch",
      batchId: batchIdOf(link.gtin, link.lot),
      gtin: link.gtin,
      lot: link.lot,
      serial: link.serial ?? null,
    };
  } catch {
    return null;
  }
}
