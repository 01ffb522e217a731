/**
 * The audit's rules for cases and pallets: pure functions from the containers gathered
 * from the registry's logs and their payload documents (`containers.ts`) to findings. The
 * chain sees only roots, never leaves (docs/aggregation.md), so what the leaves say is
 * judged here: an item listed by two containers live at once, a document whose leaves do
 * not give the logged root, a serial its batch never issued, a case shipped after one of
 * its items was sold, a case shipped on its own out of a live pallet, and per lot the items
 * packed against those registered.
 */
import type { ContainerLeaf, ContainerStepEvidence, GatheredContainer, GatheredContainers } from "./containers.ts";
import type { AuditFinding } from "./report.ts";

type Message = Pick<AuditFinding, "code" | "severity" | "en" | "zh">;

export const CONTAINER_MESSAGES = {
  itemInTwoLive: {
    code: "container.item_in_two_live",
    severity: "critical",
    en: "An item is listed in two cases or pallets at once (both packed, neither unpacked): one of them is a forged aggregation or a copied code.",
    zh: "同一件商品同时出现在两个箱或托盘中（均已装箱且均未拆箱）：其中之一是伪造的装箱记录或被复制的码。",
  },
  shippedAfterSold: {
    code: "container.shipped_after_sold",
    severity: "critical",
    en: "A case or pallet was shipped after an item in it had been sold to a consumer.",
    zh: "箱或托盘在其中某件商品已售给消费者之后仍被发运。",
  },
  rootMismatch: {
    code: "container.root_mismatch",
    severity: "critical",
    en: "A packing's document does not match what was signed on the ledger (its items do not give the logged root or count, name a batch the packing does not list, or a serial never issued).",
    zh: "装箱文件与账本上签名的内容不符（商品无法重建链上的默克尔根或数量、含有装箱未列出的批次，或含有从未发放的序列号）。",
  },
  caseShippedAlone: {
    code: "container.case_shipped_alone",
    severity: "warning",
    en: "A case was shipped on its own while the pallet holding it was still packed.",
    zh: "某箱在其所在托盘仍处于装箱状态时被单独发运。",
  },
  signature: {
    code: "container.signature",
    severity: "critical",
    en: "A container's request is not signed by its actor.",
    zh: "某箱或托盘的操作请求并非由其操作方签名。",
  },
  stateChain: {
    code: "container.state_chain",
    severity: "critical",
    en: "A container's logged states do not follow from one another.",
    zh: "某箱或托盘在日志中的状态无法逐一衔接。",
  },
  packedOverRegistered: {
    code: "lot.packed_over_registered",
    severity: "critical",
    en: "More items of the lot are packed in cases than the lot registered.",
    zh: "装箱中的本批次商品数量超过本批次登记的商品数量。",
  },
} as const satisfies Record<string, Message>;

const M = CONTAINER_MESSAGES;

function finding(message: Message, evidence: Record<string, unknown>): AuditFinding {
  return { ...message, evidence };
}

/** What the platform records and the chain cannot say: when a consumer claimed an item (bought it). */
export interface ContainerContext {
  /** Claim time in ms by `${batchId}/${serial}` (batch id in lower case). */
  claims: ReadonlyMap<string, number>;
}

/** Per lot: what is registered, packed now and ever, and the orders the despatches name. */
export interface LotPacking {
  batchId: string;
  registered: number;
  /** Items of the lot in containers packed now (an item in two live cases counts twice). */
  packedLive: number;
  /** Distinct items of the lot ever packed. */
  packedEver: number;
  containers: { containerKey: string; sscc: string | null; live: boolean; custodian: string }[];
  /** The po/desadv references of the despatches (EPCIS bizTransactionList). */
  bizTransactions: { type: string; id: string }[];
}

/** A place in the registry's order. */
function position(step: ContainerStepEvidence): number {
  return step.blockNumber * 1_000_000 + step.logIndex;
}

interface Live {
  container: GatheredContainer;
  packing: ContainerStepEvidence;
  start: number;
  /** The unpacking that ended it; Infinity while it holds. */
  end: number;
}

/** Each packing of each container with the span of the registry's order it was live. */
function liveSpans(containers: readonly GatheredContainer[]): Live[] {
  const spans: Live[] = [];
  for (const container of containers) {
    container.steps.forEach((step, index) => {
      if (step.action !== "packing") return;
      const unpacking = container.steps.slice(index + 1).find((s) => s.action === "unpacking");
      spans.push({
        container,
        packing: step,
        start: position(step),
        end: unpacking === undefined ? Infinity : position(unpacking),
      });
    });
  }
  return spans;
}

const itemKey = (batchId: string, serial: string): string => `${batchId.toLowerCase()}/${serial}`;

function itemLeaves(span: Live): Extract<ContainerLeaf, { type: "item" }>[] {
  return (span.packing.packing?.leaves ?? []).filter(
    (l): l is Extract<ContainerLeaf, { type: "item" }> => l.type === "item",
  );
}

function label(container: GatheredContainer): Record<string, unknown> {
  return { sscc: container.sscc, containerKey: container.containerKey };
}

function itemsInTwoLive(spans: readonly Live[], scope: ReadonlySet<string>): AuditFinding[] {
  const byItem = new Map<string, { leaf: ContainerLeaf & { type: "item" }; span: Live }[]>();
  for (const span of spans) {
    for (const leaf of itemLeaves(span)) {
      if (!scope.has(leaf.batchId.toLowerCase())) continue;
      const key = itemKey(leaf.batchId, leaf.serial);
      byItem.set(key, [...(byItem.get(key) ?? []), { leaf, span }]);
    }
  }
  const findings: AuditFinding[] = [];
  for (const entries of byItem.values()) {
    const clashing = new Map<string, Live>();
    for (const [i, a] of entries.entries()) {
      for (const b of entries.slice(i + 1)) {
        if (a.span.container === b.span.container) continue;
        if (a.span.start < b.span.end && b.span.start < a.span.end) {
          clashing.set(a.span.container.containerKey, a.span);
          clashing.set(b.span.container.containerKey, b.span);
        }
      }
    }
    const first = entries[0];
    if (clashing.size === 0 || first === undefined) continue;
    findings.push(
      finding(M.itemInTwoLive, {
        item: first.leaf.epc,
        batchId: first.leaf.batchId,
        serial: first.leaf.serial,
        containers: [...clashing.values()].map((span) => ({
          ...label(span.container),
          packedBy: span.packing.actor,
          tx: span.packing.transactionHash,
        })),
      }),
    );
  }
  return findings;
}

/** The items in `container` at `at`, through its live packing and those of the cases it holds. */
function itemsAt(
  container: GatheredContainer,
  at: number,
  spansOf: ReadonlyMap<string, Live[]>,
  depth = 0,
): Extract<ContainerLeaf, { type: "item" }>[] {
  if (depth > 4) return [];
  const span = (spansOf.get(container.containerKey) ?? []).find((s) => s.start < at && at < s.end);
  if (span === undefined) return [];
  const items = itemLeaves(span);
  for (const leaf of span.packing.packing?.leaves ?? []) {
    if (leaf.type !== "container") continue;
    const child = spansOf.get(leaf.containerKey.toLowerCase())?.[0]?.container;
    if (child !== undefined) items.push(...itemsAt(child, at, spansOf, depth + 1));
  }
  return items;
}

function spansByContainer(spans: readonly Live[]): Map<string, Live[]> {
  const map = new Map<string, Live[]>();
  for (const span of spans) {
    const key = span.container.containerKey.toLowerCase();
    map.set(key, [...(map.get(key) ?? []), span]);
  }
  return map;
}

function shippedAfterSold(
  containers: readonly GatheredContainer[],
  spans: readonly Live[],
  context: ContainerContext,
): AuditFinding[] {
  if (context.claims.size === 0) return [];
  const spansOf = spansByContainer(spans);
  const findings: AuditFinding[] = [];
  for (const container of containers) {
    for (const step of container.steps) {
      if (step.action !== "shipping" && !(step.action === "packing" && step.state.pendingReceiver !== ZERO_ADDRESS)) {
        continue;
      }
      // A despatch ships in the packing's own request: its items are those it packs.
      const at = step.action === "packing" ? position(step) + 0.5 : position(step);
      for (const leaf of itemsAt(container, at, spansOf)) {
        const claimedAt = context.claims.get(itemKey(leaf.batchId, leaf.serial));
        if (claimedAt === undefined || claimedAt >= step.occurredAt * 1000) continue;
        findings.push(
          finding(M.shippedAfterSold, {
            ...label(container),
            item: leaf.epc,
            shippedAt: new Date(step.occurredAt * 1000).toISOString(),
            soldAt: new Date(claimedAt).toISOString(),
            soldBy: "the consumer's claim of the item's hidden code (platform record)",
            tx: step.transactionHash,
          }),
        );
      }
    }
  }
  return findings;
}

const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

function casesShippedAlone(containers: readonly GatheredContainer[], spans: readonly Live[]): AuditFinding[] {
  const findings: AuditFinding[] = [];
  for (const container of containers) {
    for (const step of container.steps) {
      if (step.action !== "shipping") continue;
      const at = position(step);
      const pallet = spans.find(
        (span) =>
          span.container !== container &&
          span.start < at &&
          at < span.end &&
          (span.packing.packing?.childContainers ?? []).some(
            (child) => child.toLowerCase() === container.containerKey.toLowerCase(),
          ),
      );
      if (pallet === undefined) continue;
      findings.push(
        finding(M.caseShippedAlone, {
          case: label(container),
          pallet: label(pallet.container),
          shippedAt: new Date(step.occurredAt * 1000).toISOString(),
          tx: step.transactionHash,
        }),
      );
    }
  }
  return findings;
}

function packingMismatches(
  container: GatheredContainer,
  step: ContainerStepEvidence,
  issued: GatheredContainers["issued"],
): AuditFinding[] {
  const packing = step.packing;
  // An unreadable or missing document is the integrity rules' finding (its CID).
  if (packing?.leaves == null) return [];
  const base = { ...label(container), tx: step.transactionHash, payloadCid: step.payloadCid };
  const findings: AuditFinding[] = [];
  const distinct = new Set(
    packing.leaves.map((l) => (l.type === "item" ? itemKey(l.batchId, l.serial) : l.containerKey)),
  );
  if (packing.recomputedRoot?.toLowerCase() !== packing.childrenRoot.toLowerCase()) {
    findings.push(
      finding(M.rootMismatch, {
        ...base,
        reason: "root",
        logged: packing.childrenRoot,
        recomputed: packing.recomputedRoot,
      }),
    );
  }
  if (distinct.size !== packing.childCount) {
    findings.push(
      finding(M.rootMismatch, { ...base, reason: "count", logged: packing.childCount, listed: distinct.size }),
    );
  }
  const listed = new Set(packing.batchIds.map((id) => id.toLowerCase()));
  const children = new Set(packing.childContainers.map((key) => key.toLowerCase()));
  const issuedSets = new Map<string, Set<string> | null>();
  for (const leaf of packing.leaves) {
    if (leaf.type === "container") {
      if (!children.has(leaf.containerKey.toLowerCase())) {
        findings.push(finding(M.rootMismatch, { ...base, reason: "child_not_listed", child: leaf.epc }));
      }
      continue;
    }
    if (!listed.has(leaf.batchId.toLowerCase())) {
      findings.push(finding(M.rootMismatch, { ...base, reason: "batch_not_listed", item: leaf.epc }));
      continue;
    }
    let serials = issuedSets.get(leaf.batchId);
    if (serials === undefined) {
      const list = issued[leaf.batchId];
      serials = list == null || list.length === 0 ? null : new Set(list);
      issuedSets.set(leaf.batchId, serials);
    }
    if (serials !== null && !serials.has(leaf.serial)) {
      findings.push(finding(M.rootMismatch, { ...base, reason: "serial_not_issued", item: leaf.epc }));
    }
  }
  for (const epc of packing.unreadable) {
    findings.push(finding(M.rootMismatch, { ...base, reason: "unreadable_epc", epc }));
  }
  return findings;
}

/** The findings over the containers holding `batchIds`' items (and the pallets holding those). */
export function auditContainers(
  gathered: GatheredContainers,
  batchIds: readonly string[],
  context: ContainerContext,
): AuditFinding[] {
  const scope = new Set(batchIds.map((id) => id.toLowerCase()));
  const spans = liveSpans(gathered.containers);
  const findings: AuditFinding[] = [];
  for (const container of gathered.containers) {
    for (const step of container.steps) {
      const evidence = { ...label(container), action: step.action, actor: step.actor, tx: step.transactionHash };
      if (!step.signatureValid) findings.push(finding(M.signature, evidence));
      if (!step.stateValid) findings.push(finding(M.stateChain, { ...evidence, logged: step.stateHash }));
      if (step.action === "packing") findings.push(...packingMismatches(container, step, gathered.issued));
    }
  }
  findings.push(...itemsInTwoLive(spans, scope));
  findings.push(...shippedAfterSold(gathered.containers, spans, context));
  findings.push(...casesShippedAlone(gathered.containers, spans));
  return findings;
}

/** Per lot: items packed now and ever against the registered count, and the containers and orders. */
export function lotPacking(gathered: GatheredContainers, batchId: string, registered: number): LotPacking {
  const id = batchId.toLowerCase();
  const ever = new Set<string>();
  let packedLive = 0;
  const containers: LotPacking["containers"] = [];
  const bizTransactions: LotPacking["bizTransactions"] = [];
  for (const span of liveSpans(gathered.containers)) {
    const mine = itemLeaves(span).filter((leaf) => leaf.batchId.toLowerCase() === id);
    for (const leaf of mine) ever.add(leaf.serial);
    if (span.end === Infinity) packedLive += mine.length;
  }
  for (const container of gathered.containers) {
    const last = container.steps.at(-1);
    if (last === undefined) continue;
    containers.push({
      containerKey: container.containerKey,
      sscc: container.sscc,
      live: last.state.childrenRoot !== `0x${"0".repeat(64)}`,
      custodian: last.state.custodian,
    });
    for (const step of container.steps) {
      for (const b of step.bizTransactions) {
        if (!bizTransactions.some((x) => x.type === b.type && x.id === b.id)) bizTransactions.push(b);
      }
    }
  }
  return { batchId, registered, packedLive, packedEver: ever.size, containers, bizTransactions };
}

export function packedOverRegistered(packing: LotPacking): AuditFinding[] {
  if (packing.packedLive <= packing.registered && packing.packedEver <= packing.registered) return [];
  return [
    finding(M.packedOverRegistered, {
      batchId: packing.batchId,
      registered: packing.registered,
      packedLive: packing.packedLive,
      packedEver: packing.packedEver,
    }),
  ];
}
