import assert from "node:assert/strict";
import { describe, it } from "node:test";

import fc from "fast-check";

import {
  authorityFor,
  foldCustody,
  INITIAL_CUSTODY,
  judgeEvents,
  stepAllowed,
  type CustodyState,
  type EventClaim,
  type Party,
} from "./custody.ts";
import { ORGANISATION_KINDS, type OrganisationKind } from "./enumerations.ts";
import { STEP_ACTORS } from "./step-actors.ts";
import { BIZ_STEPS, type BizStep } from "./typed-data.ts";

const coop: Party = { id: "coop", kind: "cooperative" };
const carrier: Party = { id: "carrier", kind: "logistics" };
const shop: Party = { id: "shop", kind: "retailer" };
const lab: Party = { id: "lab", kind: "inspector" };
const rival: Party = { id: "rival", kind: "logistics" };

function claim(actor: Party, step: BizStep, counterparty: Party | null = null): EventClaim {
  return { actor, step, counterparty };
}

void describe("custody rules", () => {
  void it("take the step table from STEP_ACTORS, and never allow recalling as an event", () => {
    for (const step of BIZ_STEPS) {
      for (const kind of ORGANISATION_KINDS) {
        const expected = step !== "recalling" && STEP_ACTORS[step].includes(kind);
        assert.equal(stepAllowed(kind, step), expected, `${kind} ${step}`);
      }
      assert.equal(stepAllowed(null, step), false);
    }
  });

  void it("let the cooperative record its steps, and refuse a rival's shipping on its batch", () => {
    assert.deepEqual(authorityFor(claim(coop, "harvesting"), INITIAL_CUSTODY, "coop", []), { basis: "cooperative" });
    assert.deepEqual(authorityFor(claim(rival, "shipping", shop), INITIAL_CUSTODY, "coop", []), {
      refused: "no_custody",
    });
    assert.deepEqual(authorityFor(claim(shop, "harvesting"), INITIAL_CUSTODY, "coop", []), {
      refused: "step_not_allowed",
    });
  });

  void it("check a shipping's receiver and refuse a counterparty on any other step", () => {
    const refused = (c: EventClaim): unknown => authorityFor(c, INITIAL_CUSTODY, "coop", []);
    assert.deepEqual(refused(claim(coop, "shipping")), { refused: "receiver_required" });
    assert.deepEqual(refused(claim(coop, "shipping", coop)), { refused: "receiver_invalid" });
    assert.deepEqual(refused(claim(coop, "shipping", lab)), { refused: "receiver_invalid" });
    assert.deepEqual(refused(claim(coop, "shipping", { id: "0xnobody", kind: null })), {
      refused: "receiver_invalid",
    });
    assert.deepEqual(refused(claim(coop, "packing", carrier)), { refused: "counterparty_unexpected" });
  });

  void it("hand a batch over coop → carrier → shop, each step only to the right party", () => {
    const events: EventClaim[] = [
      claim(coop, "harvesting"),
      claim(coop, "shipping", carrier),
      claim(carrier, "receiving"),
      claim(carrier, "cooling"),
      claim(carrier, "shipping", shop),
      claim(shop, "receiving"),
      claim(shop, "retail_selling"),
      claim(carrier, "cooling"), // the previous custodian, after handing over
      claim(shop, "receiving"), // again: now as the custodian, handing nothing over
    ];
    const { judged, state } = judgeEvents(events, "coop", []);
    assert.deepEqual(
      judged.map((j) => j.authority),
      [
        { basis: "cooperative" },
        { basis: "cooperative" },
        { basis: "receiver" },
        { basis: "custodian" },
        { basis: "custodian" },
        { basis: "receiver" },
        { basis: "custodian" },
        { refused: "no_custody" },
        { basis: "custodian" },
      ],
    );
    assert.deepEqual(
      judged.map((j) => j.handover),
      [null, null, { from: null, to: "carrier" }, null, null, { from: "carrier", to: "shop" }, null, null, null],
    );
    assert.deepEqual(state, { custodian: "shop", pendingReceiver: null });
  });

  void it("let only the named receiver receive, and a later shipping replace the pending receiver", () => {
    const shipped: CustodyState = { custodian: null, pendingReceiver: "carrier" };
    assert.deepEqual(authorityFor(claim(rival, "receiving"), shipped, "coop", []), { refused: "no_custody" });
    const { state } = judgeEvents([claim(coop, "shipping", carrier), claim(coop, "shipping", rival)], "coop", []);
    assert.deepEqual(state, { custodian: null, pendingReceiver: "rival" });
    assert.deepEqual(authorityFor(claim(carrier, "receiving"), state, "coop", []), { refused: "no_custody" });
    assert.deepEqual(authorityFor(claim(rival, "receiving"), state, "coop", []), { basis: "receiver" });
  });

  void it("let an inspector inspect or certify only when asked", () => {
    assert.deepEqual(authorityFor(claim(lab, "inspecting"), INITIAL_CUSTODY, "coop", []), { refused: "no_custody" });
    assert.deepEqual(authorityFor(claim(lab, "inspecting"), INITIAL_CUSTODY, "coop", ["lab"]), {
      basis: "requested_inspector",
    });
    assert.deepEqual(authorityFor(claim(lab, "certifying"), INITIAL_CUSTODY, "coop", new Set(["lab"])), {
      basis: "requested_inspector",
    });
    assert.deepEqual(authorityFor(claim(lab, "inspecting"), INITIAL_CUSTODY, "coop", ["other-lab"]), {
      refused: "no_custody",
    });
  });
});

// ---------------------------------------------------------------- properties

const IDS = ["coop", "a", "b", "c", "d"] as const;
const kindOf: Record<(typeof IDS)[number], OrganisationKind> = {
  coop: "cooperative",
  a: "logistics",
  b: "processor",
  c: "retailer",
  d: "inspector",
};
const party = (id: (typeof IDS)[number]): Party => ({ id, kind: kindOf[id] });
const arbitraryClaim: fc.Arbitrary<EventClaim> = fc.record({
  actor: fc.constantFrom(...IDS).map(party),
  step: fc.constantFrom(...BIZ_STEPS),
  counterparty: fc.option(fc.constantFrom(...IDS).map(party)),
});
const arbitraryHistory = fc.array(arbitraryClaim, { maxLength: 30 });

void describe("custody properties", () => {
  void it("accept an event only from the cooperative, the custodian, the named receiver or an asked inspector", () => {
    fc.assert(
      fc.property(arbitraryHistory, fc.subarray<string>([...IDS]), (events, requested) => {
        const replayed: EventClaim[] = [];
        let state = INITIAL_CUSTODY;
        for (const event of events) {
          const authority = authorityFor(event, state, "coop", requested);
          const { judged, state: next } = judgeEvents([...replayed, event], "coop", requested);
          const last = judged.at(-1);
          assert.deepEqual(last?.authority, authority);
          if ("basis" in authority) {
            const id = event.actor.id;
            assert.ok(
              id === "coop" ||
                id === state.custodian ||
                (event.step === "receiving" && id === state.pendingReceiver) ||
                ((event.step === "inspecting" || event.step === "certifying") && requested.includes(id)),
              `${id} recorded ${event.step} without custody`,
            );
            assert.ok(stepAllowed(event.actor.kind, event.step));
            replayed.push(event);
          }
          state = next;
        }
      }),
      { numRuns: 5_000 },
    );
  });

  void it("never give custody to anyone but a receiver a shipping named, and fold what judgeEvents replays", () => {
    fc.assert(
      fc.property(arbitraryHistory, (events) => {
        const { judged, state } = judgeEvents(events, "coop", []);
        const accepted = events.filter((_, i) => "basis" in (judged[i]?.authority ?? { refused: "" }));
        const folded = foldCustody(
          accepted.map((e) => ({ actor: e.actor.id, step: e.step, counterparty: e.counterparty?.id ?? null })),
        );
        assert.deepEqual(folded, state);
        const named = new Set(accepted.filter((e) => e.step === "shipping").map((e) => e.counterparty?.id));
        if (state.custodian !== null) assert.ok(named.has(state.custodian));
        assert.notEqual(state.custodian, "coop");
        // A stranger (never named, not the cooperative, never asked) has no say at the end.
        const stranger: Party = { id: "stranger", kind: "logistics" };
        assert.deepEqual(authorityFor(claim(stranger, "cooling"), state, "coop", []), { refused: "no_custody" });
      }),
      { numRuns: 5_000 },
    );
  });
});
