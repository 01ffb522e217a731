import assert from "node:assert/strict";
import { describe, it } from "node:test";

import fc from "fast-check";

import { isAppError } from "../errors/app-error.ts";
import type { ErrorCode } from "../errors/registry.ts";
import { gtinCheckDigit } from "./gs1.ts";
import {
  allocatePlatformPrefix,
  type CompanyPrefix,
  companyPrefixOf,
  type EntitlementBindings,
  formatCompanyPrefix,
  gtinOwnerOf,
  gtinUnderPrefix,
  isEntitled,
  isValidCompanyPrefix,
  parseCompanyPrefix,
  platformAllocationSize,
  prefixBindingConflict,
  type PrefixBinding,
  prefixWithin,
} from "./gtin-entitlement.ts";

function throwsCode(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (error) => isAppError(error, code));
}

/** A GTIN-14 with a correct check digit from its first 13 digits. */
function gtinOf(body13: string): string {
  return body13 + String(gtinCheckDigit(body13));
}

const body13 = fc.stringMatching(/^[0-9]{13}$/);
const prefixArb = fc
  .integer({ min: 6, max: 12 })
  .chain((digits) =>
    fc.bigInt({ min: 0n, max: 10n ** BigInt(digits) - 1n }).map((value): CompanyPrefix => ({ value, digits })),
  );

void describe("company prefixes", () => {
  void it("parse with their leading zeros counted, 6 to 12 digits", () => {
    assert.deepEqual(parseCompanyPrefix("6901234"), { value: 6_901_234n, digits: 7 });
    assert.deepEqual(parseCompanyPrefix("0614141"), { value: 614_141n, digits: 7 });
    assert.deepEqual(parseCompanyPrefix("000000"), { value: 0n, digits: 6 });
    assert.equal(formatCompanyPrefix(parseCompanyPrefix("0614141")), "0614141");
    for (const bad of ["", "12345", "1234567890123", "69012a4", " 690123", "690123 ", "６９０１２３４", "-690123"]) {
      throwsCode(() => parseCompanyPrefix(bad), "company_prefix.invalid");
    }
    assert.equal(
      isValidCompanyPrefix({ value: 1_000_000n, digits: 6 }),
      false,
      "a value with more digits than it says",
    );
    assert.equal(isValidCompanyPrefix({ value: -1n, digits: 6 }), false);
    assert.equal(isValidCompanyPrefix({ value: 1n, digits: 13 }), false);
    throwsCode(() => formatCompanyPrefix({ value: 1_000_000n, digits: 6 }), "company_prefix.invalid");
  });

  void it("round-trip through their text form", () => {
    fc.assert(
      fc.property(prefixArb, (prefix) => {
        assert.deepEqual(parseCompanyPrefix(formatCompanyPrefix(prefix)), prefix);
      }),
      { numRuns: 2_000 },
    );
  });

  void it("of a GTIN are the digits after the indicator digit, as the registry computes them", () => {
    const gtin = gtinOf("0690123456789");
    assert.deepEqual(companyPrefixOf(gtin, 7), { value: 6_901_234n, digits: 7 });
    assert.deepEqual(companyPrefixOf("06901234567892".slice(1), 9), { value: 690_123_456n, digits: 9 });
    fc.assert(
      fc.property(body13, fc.integer({ min: 6, max: 12 }), (body, digits) => {
        const gtin = gtinOf(body);
        const asInteger = BigInt(gtin);
        // The registry's arithmetic on the uint64, literally.
        const onChain = (asInteger % 10n ** 13n) / 10n ** BigInt(13 - digits);
        assert.deepEqual(companyPrefixOf(gtin, digits), { value: onChain, digits });
        assert.deepEqual(companyPrefixOf(asInteger, digits), { value: onChain, digits });
        assert.ok(gtinUnderPrefix(gtin, { value: onChain, digits }));
      }),
      { numRuns: 2_000 },
    );
    throwsCode(() => companyPrefixOf(gtin, 5), "company_prefix.invalid");
    throwsCode(() => companyPrefixOf(gtin, 13), "company_prefix.invalid");
    throwsCode(() => companyPrefixOf("06901234567890", 7), "gs1.check_digit");
  });

  void it("lie within a shorter prefix they start with, and within themselves", () => {
    const outer = parseCompanyPrefix("690123");
    assert.ok(prefixWithin(parseCompanyPrefix("6901234"), outer));
    assert.ok(prefixWithin(outer, outer));
    assert.ok(!prefixWithin(outer, parseCompanyPrefix("6901234")));
    assert.ok(!prefixWithin(parseCompanyPrefix("0690123"), outer), "a leading zero makes another prefix");
    assert.ok(prefixWithin(parseCompanyPrefix("0690123"), parseCompanyPrefix("069012")));
  });
});

void describe("a GTIN's owner", () => {
  const coopA = "org-a";
  const coopB = "org-b";
  const packer = "org-packer";
  const bindings: EntitlementBindings<string> = {
    prefixes: [
      { prefix: parseCompanyPrefix("690123"), owner: coopA },
      { prefix: parseCompanyPrefix("6901239"), owner: coopB },
    ],
    gtins: [{ gtin: gtinOf("0690123100001"), owner: coopB }],
  };

  void it("is its own binding, else the longest bound prefix it starts with", () => {
    assert.deepEqual(gtinOwnerOf(gtinOf("0690123000001"), bindings), {
      owner: coopA,
      source: "company_prefix",
      prefix: parseCompanyPrefix("690123"),
    });
    assert.deepEqual(gtinOwnerOf(gtinOf("0690123900001"), bindings), {
      owner: coopB,
      source: "company_prefix",
      prefix: parseCompanyPrefix("6901239"),
    });
    assert.deepEqual(gtinOwnerOf(gtinOf("0690123100001"), bindings), { owner: coopB, source: "gtin" });
    assert.deepEqual(gtinOwnerOf(BigInt(gtinOf("0690123100001")), bindings), { owner: coopB, source: "gtin" });
    assert.equal(gtinOwnerOf(gtinOf("0690124000001"), bindings), null);
    assert.equal(gtinOwnerOf(gtinOf("1690123000001"), bindings)?.owner, coopA, "the indicator digit does not count");
    // A GTIN-13 as typed is the same GTIN.
    assert.equal(gtinOwnerOf(gtinOf("0690123000001").slice(1), bindings)?.owner, coopA);
  });

  void it("entitles its owner and its grantees, nobody else; an unbound GTIN entitles nobody", () => {
    const gtin = gtinOf("0690123000001");
    const grants = [{ gtin, grantee: packer }];
    assert.ok(isEntitled(coopA, gtin, bindings, []));
    assert.ok(!isEntitled(coopB, gtin, bindings, grants));
    assert.ok(isEntitled(packer, gtin, bindings, grants));
    assert.ok(!isEntitled(packer, gtinOf("0690123000002"), bindings, grants), "a grant is for one GTIN");
    // Grants are the owner's: a former owner's grant no longer counts, the current owner's does.
    assert.ok(!isEntitled(packer, gtin, bindings, [{ gtin, grantee: packer, owner: coopB }]));
    assert.ok(isEntitled(packer, gtin, bindings, [{ gtin, grantee: packer, owner: coopA }]));
    assert.ok(
      !isEntitled(coopA, gtinOf("0690124000001"), bindings, [{ gtin: gtinOf("0690124000001"), grantee: coopA }]),
    );
    const sameAddress = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
    const byAddress: EntitlementBindings<string> = {
      prefixes: [{ prefix: parseCompanyPrefix("690123"), owner: "0xAbC" }],
      gtins: [],
    };
    assert.ok(isEntitled("0xabc", gtin, byAddress, [], sameAddress));
  });

  void it("agrees with a plain model over random bindings (owner = own binding, else longest prefix)", () => {
    const owners = ["a", "b", "c"] as const;
    fc.assert(
      fc.property(
        body13,
        fc.array(fc.tuple(fc.integer({ min: 6, max: 12 }), fc.constantFrom(...owners)), { maxLength: 7 }),
        fc.option(fc.constantFrom(...owners)),
        fc.array(fc.constantFrom(...owners), { maxLength: 2 }),
        (body, prefixPicks, gtinOwner, grantees) => {
          const gtin = gtinOf(body);
          // Prefixes cut from this GTIN (so they cover it) and one that does not.
          const prefixes: PrefixBinding<string>[] = prefixPicks.map(([digits, owner]) => ({
            prefix: { value: BigInt(gtin.slice(1, 1 + digits)), digits },
            owner,
          }));
          prefixes.push({ prefix: { value: (BigInt(gtin.slice(1, 13)) + 1n) % 10n ** 12n, digits: 12 }, owner: "c" });
          const bindings: EntitlementBindings<string> = {
            prefixes,
            gtins: gtinOwner === null ? [] : [{ gtin, owner: gtinOwner }],
          };
          let expected: string | null = gtinOwner;
          if (expected === null) {
            let longest = 0;
            for (const [digits, owner] of prefixPicks) {
              if (digits > longest) {
                longest = digits;
                expected = owner;
              }
            }
          }
          assert.equal(gtinOwnerOf(gtin, bindings)?.owner ?? null, expected);
          const grants = grantees.map((grantee) => ({ gtin, grantee }));
          for (const org of owners) {
            assert.equal(
              isEntitled(org, gtin, bindings, grants),
              expected !== null && (org === expected || grantees.includes(org)),
            );
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });
});

void describe("binding a prefix", () => {
  const bound: PrefixBinding<string>[] = [{ prefix: parseCompanyPrefix("690123"), owner: "a" }];

  void it("is refused when bound already or inside another organisation's prefix, as the registry refuses it", () => {
    assert.equal(
      prefixBindingConflict(parseCompanyPrefix("690123"), "a", bound)?.owner,
      "a",
      "bound already, even to the same organisation",
    );
    assert.equal(prefixBindingConflict(parseCompanyPrefix("6901234"), "b", bound)?.owner, "a", "inside another's");
    assert.equal(prefixBindingConflict(parseCompanyPrefix("6901234"), "a", bound), null, "inside its own");
    assert.equal(
      prefixBindingConflict(parseCompanyPrefix("0690123"), "b", bound),
      null,
      "a leading zero is another prefix",
    );
    assert.equal(prefixBindingConflict(parseCompanyPrefix("690124"), "b", bound), null);
    // A shorter prefix over another's longer one is accepted by the registry: the longest still wins.
    assert.equal(
      prefixBindingConflict(parseCompanyPrefix("690123"), "b", [{ prefix: parseCompanyPrefix("6901234"), owner: "a" }]),
      null,
    );
  });
});

void describe("the platform's prefix, allocated per cooperative", () => {
  const platform = parseCompanyPrefix("6901234");

  void it("gives the next number after every prefix ever allocated, zero-padded", () => {
    const first = allocatePlatformPrefix(platform, 3, []);
    assert.equal(formatCompanyPrefix(first), "6901234000");
    const second = allocatePlatformPrefix(platform, 3, [first]);
    assert.equal(formatCompanyPrefix(second), "6901234001");
    // Released ones stay in the list given, so a gap is never refilled.
    assert.equal(formatCompanyPrefix(allocatePlatformPrefix(platform, 3, [second])), "6901234002");
    // Prefixes not from the platform's do not count.
    const others = [parseCompanyPrefix("6901235999"), parseCompanyPrefix("690123"), parseCompanyPrefix("69012340")];
    assert.equal(formatCompanyPrefix(allocatePlatformPrefix(platform, 3, others)), "6901234000");
    const upc = parseCompanyPrefix("061414");
    assert.equal(formatCompanyPrefix(allocatePlatformPrefix(upc, 2, [])), "06141400");
    assert.deepEqual(platformAllocationSize(platform, 3), { prefixes: 1000n, gtinsPerPrefix: 100n });
  });

  void it("is refused when exhausted or when the result would not be a prefix", () => {
    throwsCode(
      () => allocatePlatformPrefix(platform, 3, [parseCompanyPrefix("6901234999")]),
      "platform_prefix.exhausted",
    );
    throwsCode(() => allocatePlatformPrefix(platform, 6, []), "company_prefix.invalid");
    throwsCode(() => allocatePlatformPrefix(platform, 0, []), "company_prefix.invalid");
  });

  void it("never hands out a prefix already allocated, and each lies within the platform's", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.array(fc.nat({ max: 999 }), { maxLength: 20 }), (extra, taken) => {
        const scale = 10n ** BigInt(extra);
        const allocated = taken
          .filter((n) => BigInt(n) < scale)
          .map((n) => ({ value: platform.value * scale + BigInt(n), digits: platform.digits + extra }));
        let result: CompanyPrefix;
        try {
          result = allocatePlatformPrefix(platform, extra, allocated);
        } catch (error) {
          assert.ok(isAppError(error, "platform_prefix.exhausted"));
          assert.ok(allocated.some((prefix) => prefix.value === platform.value * scale + scale - 1n));
          return;
        }
        assert.ok(prefixWithin(result, platform));
        assert.equal(result.digits, platform.digits + extra);
        for (const prefix of allocated) assert.ok(result.value > prefix.value);
        assert.equal(
          prefixBindingConflict(
            result,
            "new",
            allocated.map((prefix) => ({ prefix, owner: "old" })),
          ),
          null,
        );
      }),
      { numRuns: 1_000 },
    );
  });
});
