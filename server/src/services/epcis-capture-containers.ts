/**
 * Captured container events (domain/epcis-container-mapping.ts) recorded through the very
 * services `POST /api/v1/containers…` runs (services/containers.ts), inside the capture's
 * transaction: role, custody, suspension, the SSCC's check digit, items already in a live
 * container and the receiver are judged there, and a refusal rolls the document back.
 */
import type { CapturedChild, MappedContainerEvent } from "../domain/epcis-container-mapping.ts";
import { normalizeGtin } from "../domain/gs1.ts";
import { normalizeSscc } from "../domain/sscc.ts";
import { AppError } from "../errors/app-error.ts";
import { getBatch } from "../storage/batches.ts";
import { getContainerBySscc, packingLeaves, ssccsOfKeys } from "../storage/containers.ts";
import {
  containerEventRequest,
  packContainer,
  packRequest,
  recordContainerEvent,
  type ContainerWrite,
} from "./containers.ts";
import type { ServiceContext } from "./context.ts";
import type { WriteOrigin } from "./write-log.ts";

/** A container step a capture recorded, as the capture job names it. */
/** A step stored, or the signature request it waits for (an organisation holding its own key). */
export type CapturedContainerStep = { sscc: string; stepId: string } | { sscc: string; signatureRequestId: string };

function childKey(child: CapturedChild): string {
  return child.kind === "sscc"
    ? `sscc:${normalizeSscc(child.sscc)}`
    : `item:${normalizeGtin(child.gtin)}/${child.serial}`;
}

/**
 * Refuses a DELETE whose childEPCs name only some of the case's children: the registry keeps
 * one root per packing and clears it whole, so a partial unpacking cannot be signed.
 */
async function requireWholeUnpacking(ctx: ServiceContext, packingId: string, children: CapturedChild[]) {
  const leaves = await packingLeaves(ctx.db, packingId);
  const held = new Set<string>();
  const batches = new Map<string, string>();
  const keys = leaves.map((leaf) => leaf.childContainerKey).filter((key): key is string => key !== null);
  const ssccs = await ssccsOfKeys(ctx.db, keys);
  for (const leaf of leaves) {
    if (leaf.childContainerKey !== null) {
      held.add(`sscc:${ssccs.get(leaf.childContainerKey.toLowerCase()) ?? leaf.childContainerKey}`);
    } else if (leaf.batchId !== null && leaf.serial !== null) {
      let gtin = batches.get(leaf.batchId);
      if (gtin === undefined) {
        gtin = (await getBatch(ctx.db, leaf.batchId))?.gtin ?? "";
        batches.set(leaf.batchId, gtin);
      }
      held.add(`item:${normalizeGtin(gtin)}/${leaf.serial}`);
    }
  }
  const named = new Set(children.map(childKey));
  const whole = named.size === held.size && [...named].every((key) => held.has(key));
  if (!whole) {
    throw new AppError(
      "epcis.event_unmappable",
      { named: named.size, held: held.size },
      {
        detail:
          "a partial DELETE: the registry clears the whole case, so childEPCs must be absent or name every child it holds",
      },
    );
  }
}

/** Records one captured container event; answers the steps it stored (one per SSCC). */
export async function recordCapturedContainerEvent(
  ctx: ServiceContext,
  origin: WriteOrigin,
  mapped: MappedContainerEvent,
): Promise<CapturedContainerStep[]> {
  const bizTransactions = mapped.bizTransactions.length === 0 ? undefined : mapped.bizTransactions;
  const named = (accepted: ContainerWrite, sscc: string): CapturedContainerStep =>
    "awaitingSignature" in accepted
      ? { sscc, signatureRequestId: accepted.awaitingSignature.id }
      : { sscc: accepted.sscc, stepId: accepted.step.id };
  if (mapped.kind === "packing") {
    const items = mapped.children.filter((child) => child.kind === "item").map((child) => child.link);
    const containers = mapped.children.filter((child) => child.kind === "sscc").map((child) => child.sscc);
    const request = packRequest.parse({
      sscc: mapped.sscc,
      ...(items.length === 0 ? {} : { items }),
      ...(containers.length === 0 ? {} : { containers }),
      occurredAt: mapped.occurredAt,
      ...(bizTransactions === undefined ? {} : { bizTransactions }),
    });
    return [named(await packContainer(ctx, origin, request), normalizeSscc(mapped.sscc))];
  }
  if (mapped.kind === "unpacking") {
    const before = await getContainerBySscc(ctx.db, normalizeSscc(mapped.sscc));
    const request = containerEventRequest.parse({
      action: "unpacking",
      occurredAt: mapped.occurredAt,
      ...(bizTransactions === undefined ? {} : { bizTransactions }),
    });
    // The service judges role and custody first, so a stranger learns nothing of the contents;
    // a partial DELETE refused after it still rolls the whole document back.
    const accepted = await recordContainerEvent(ctx, origin, mapped.sscc, request);
    if (mapped.children !== null && before?.livePacking != null) {
      await requireWholeUnpacking(ctx, before.livePacking.packingId, mapped.children);
    }
    return [named(accepted, normalizeSscc(mapped.sscc))];
  }
  const steps: CapturedContainerStep[] = [];
  for (const sscc of mapped.ssccs) {
    const request = containerEventRequest.parse({
      action: mapped.kind,
      occurredAt: mapped.occurredAt,
      ...(mapped.receiver === undefined ? {} : { receiver: mapped.receiver }),
      ...(bizTransactions === undefined ? {} : { bizTransactions }),
    });
    steps.push(named(await recordContainerEvent(ctx, origin, sscc, request), normalizeSscc(sscc)));
  }
  return steps;
}
