/**
 * The parts of an item's resolution beyond its batch's records: the cases and pallets it
 * travelled in (each step signed, with the state after it), and the 合格证 covering its
 * batch. The page verifies the containers itself (verify/containers.ts); the certificates
 * are listed for display, each verified on its own page.
 */
import type {
  CloneSignal,
  ResolvedCertificate,
  ResolvedContainer,
  ResolvedContainerStep,
  ResolvedParty,
} from "../domain/resolution.ts";
import { certificateDocument } from "../domain/certificate.ts";
import {
  containersOfItem,
  getContainerBySscc,
  type StoredContainerStep,
  type StoredItemContainer,
} from "../storage/containers.ts";
import { getOrganisation, type Organisation } from "../storage/organisations.ts";
import { certificatesOfBatch, storedCertificate } from "./certificates.ts";
import type { ServiceContext } from "./context.ts";

const ZERO_ADDRESS = /^0x0{40}$/;

/**
 * A container's steps from the packing holding the item to its latest: after an unpacking
 * the container may be packed again, and the chain's stored state is then one of those later
 * steps', which a verifier must reach from the steps shown.
 */
async function stepsToLatest(ctx: ServiceContext, container: StoredItemContainer): Promise<StoredContainerStep[]> {
  const own = container.steps.filter((step) => step.ledgerState !== "failed");
  const last = own.at(-1);
  if (container.live || last === undefined) return own;
  const whole = await getContainerBySscc(ctx.db, container.sscc);
  const later = (whole?.steps ?? []).filter((step) => step.sequence > last.sequence && step.ledgerState !== "failed");
  return [...own, ...later];
}

function partyOf(organisation: Organisation | undefined, organisationId: string, signer: string): ResolvedParty {
  return {
    organisationId,
    signer,
    name: { zh: organisation?.nameZh ?? "", en: organisation?.nameEn ?? null },
    kind: organisation?.kind ?? "unknown",
    regionCode: organisation?.regionCode ?? "",
  };
}

/** The value as the page hashes it: strings, and the packing's lists as arrays of strings. */
function jsonValue(value: Record<string, unknown>): Record<string, string | string[]> {
  return Object.fromEntries(
    Object.entries(value).map(([name, field]) => [
      name,
      Array.isArray(field) ? field.map((entry) => String(entry)) : String(field),
    ]),
  );
}

/** The item's cases (oldest first), then the pallets holding them. */
export async function itemContainers(
  ctx: ServiceContext,
  batchId: string,
  serial: string,
): Promise<ResolvedContainer[]> {
  const stored = await containersOfItem(ctx.db, batchId, serial);
  if (stored.length === 0) return [];
  const withSteps = await Promise.all(
    stored.map(async (container) => ({ container, steps: await stepsToLatest(ctx, container) })),
  );
  const ids = new Set<string>();
  for (const { steps } of withSteps) {
    for (const step of steps) {
      ids.add(step.actorOrganisationId);
      if (step.counterpartyOrganisationId !== null) ids.add(step.counterpartyOrganisationId);
    }
  }
  const organisations = new Map<string, Organisation>();
  for (const id of ids) {
    const organisation = await getOrganisation(ctx.db, id);
    if (organisation !== null) organisations.set(id, organisation);
  }
  return withSteps.map(({ container, steps }) => ({
    sscc: container.sscc,
    leaf: container.leaf.type === "item" ? { type: "item" } : { type: "container", sscc: container.leaf.sscc },
    proof: container.proof,
    steps: steps.map((step): ResolvedContainerStep => {
      const counterparty = typeof step.value.counterparty === "string" ? step.value.counterparty : "";
      return {
        primaryType: step.primaryType,
        action: step.action,
        value: jsonValue(step.value),
        signature: step.signature,
        state: step.state,
        actor: partyOf(organisations.get(step.actorOrganisationId), step.actorOrganisationId, String(step.value.actor)),
        counterparty:
          step.counterpartyOrganisationId === null || ZERO_ADDRESS.test(counterparty)
            ? null
            : partyOf(
                organisations.get(step.counterpartyOrganisationId),
                step.counterpartyOrganisationId,
                counterparty,
              ),
        ledgerState: step.ledgerState,
      };
    }),
    live: container.live,
  }));
}

/** "In two live cases at once": the platform's own say; the page judges the signed packings itself. */
export function containerSignals(containers: readonly ResolvedContainer[]): CloneSignal[] {
  const live = containers.filter((c) => c.leaf.type === "item" && c.live);
  if (live.length < 2) return [];
  const ssccs = live.map((c) => c.sscc);
  return [
    {
      code: "in_two_live_containers",
      en: `This item is listed in two cases at once: ${ssccs.join(", ")}. Its code may have been copied.`,
      zh: `此商品同时登记在两个箱中：${ssccs.join("、")}。此码可能被复制。`,
    },
  ];
}

/** The batch's 合格证, as the certificate page names them. */
export async function batchCertificates(ctx: ServiceContext, batchId: string): Promise<ResolvedCertificate[]> {
  const summaries = await certificatesOfBatch(ctx, batchId);
  const out: ResolvedCertificate[] = [];
  for (const summary of summaries) {
    const stored = await storedCertificate(ctx, summary.id);
    const parsed = certificateDocument.safeParse(JSON.parse(stored.documentText));
    if (!parsed.success) {
      ctx.logger.warn({ id: summary.id }, "certificate document unreadable");
      continue;
    }
    out.push({
      id: summary.id,
      issuer: parsed.data.issuer.name,
      basis: parsed.data.basis,
      issuedOn: summary.issuedOn,
      mixed: summary.mixed,
    });
  }
  return out;
}
