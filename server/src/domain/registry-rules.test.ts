import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";

import fc from "fast-check";

import { isAppError } from "../errors/app-error.ts";
import type { ErrorCode } from "../errors/registry.ts";
import {
  checkHarvestedAt,
  checkLedgerGtin,
  checkLedgerUnitAndCount,
  checkOccurredAt,
  ITEM_COUNT_MAX,
  ledgerSeconds,
  LOT_MAX_BYTES,
  UNIT_MAX_BYTES,
} from "./registry-rules.ts";
import { UNITS } from "./units.ts";

function throwsCode(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (error) => isAppError(error, code));
}

const contract = readFileSync(new URL("../../../contracts/TraceRegistry.sol", import.meta.url), "utf8");
function contractConstant(name: string): number {
  const match = new RegExp(`${name} = ([0-9e]+);`).exec(contract);
  assert.ok(match?.[1] !== undefined, `${name} not found in TraceRegistry.sol`);
  return Number(match[1]);
}

void describe("the registry's rules on the server", () => {
  void it("use the contract's own bounds", () => {
    assert.equal(LOT_MAX_BYTES, contractConstant("_LOT_MAX_LENGTH"));
    assert.equal(UNIT_MAX_BYTES, contractConstant("_UNIT_MAX_LENGTH"));
    for (const unit of Object.values(UNITS)) checkLedgerUnitAndCount(unit.code, 1);
  });

  void it("accept a harvest time exactly when the registry would: 0 < seconds ≤ now", () => {
    const now = Date.UTC(2026, 11, 6, 12);
    fc.assert(
      fc.property(fc.integer({ min: -1e13, max: 2e13 }), (ms) => {
        const accepted = ms >= 1000 && ms <= now;
        let threw = false;
        try {
          checkHarvestedAt(ms, now);
        } catch (error) {
          assert.ok(isAppError(error, "batch.harvested_at_out_of_range"));
          threw = true;
        }
        assert.equal(!threw, accepted, String(ms));
        if (accepted) {
          const seconds = ledgerSeconds(ms);
          assert.ok(seconds > 0n && seconds <= ledgerSeconds(now));
        }
      }),
      { numRuns: 2_000 },
    );
    throwsCode(() => {
      checkHarvestedAt(999, now);
    }, "batch.harvested_at_out_of_range");
    throwsCode(() => {
      checkHarvestedAt(now + 1, now);
    }, "batch.harvested_at_out_of_range");
    throwsCode(() => {
      checkHarvestedAt(Number.NaN, now);
    }, "batch.harvested_at_out_of_range");
  });

  void it("refuse an event at the epoch's first second, a zero GTIN, and counts or units out of range", () => {
    throwsCode(() => {
      checkOccurredAt(0);
    }, "event.before_harvest");
    throwsCode(() => {
      checkOccurredAt(999);
    }, "event.before_harvest");
    checkOccurredAt(1000);
    throwsCode(() => {
      checkLedgerGtin(0n);
    }, "gs1.gtin_range");
    throwsCode(() => {
      checkLedgerGtin(10n ** 14n);
    }, "gs1.gtin_range");
    checkLedgerGtin(10n ** 14n - 1n);
    throwsCode(() => {
      checkLedgerUnitAndCount("", 1);
    }, "units.unknown_unit");
    throwsCode(() => {
      checkLedgerUnitAndCount("X".repeat(UNIT_MAX_BYTES + 1), 1);
    }, "units.unknown_unit");
    throwsCode(() => {
      checkLedgerUnitAndCount("KGM", 0);
    }, "request.invalid");
    throwsCode(() => {
      checkLedgerUnitAndCount("KGM", ITEM_COUNT_MAX + 1);
    }, "request.invalid");
    checkLedgerUnitAndCount("KGM", ITEM_COUNT_MAX);
  });
});
