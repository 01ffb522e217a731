import assert from "node:assert/strict";
import { describe, it } from "node:test";

import fc from "fast-check";

import { isAppError } from "../errors/app-error.ts";
import type { ErrorCode } from "../errors/registry.ts";
import {
  CSET82,
  buildDigitalLink,
  encodeDigitalLinkValue,
  firstNonCset82,
  gs1FullYear,
  gtinCheckDigit,
  gtinFromUint64,
  gtinToUint64,
  isValidGtin,
  normalizeGtin,
  parseDigitalLink,
  parseGs1Date,
  validateLot,
  validateSerial,
} from "./gs1.ts";

const REFERENCE_YEAR = 2026;

function throwsCode(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (error) => {
    assert.ok(isAppError(error), `expected an AppError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  });
}

/**
 * An independent check digit, written differently from the code under test: weights from
 * the left of the 13-digit body of a GTIN-14 (3, 1, 3, …).
 */
function referenceGtin14(body13: string): string {
  let sum = 0;
  for (let i = 0; i < 13; i++) sum += Number(body13[i]) * (i % 2 === 0 ? 3 : 1);
  return body13 + String((10 - (sum % 10)) % 10);
}

const gtin14 = fc.stringMatching(/^[0-9]{13}$/).map(referenceGtin14);
const cset82Value = fc.string({ unit: fc.constantFrom(...Array.from(CSET82)), minLength: 1, maxLength: 20 });

void describe("GTIN check digits", () => {
  // Published examples: GS1 Digital Link documentation (09506000134352, 09520123456788),
  // GS1's Barcode Syntax Engine tests (123123123123xx), Wikipedia's EAN-13, UPC-A and EAN-8 examples.
  const valid = [
    "09506000134352",
    "09520123456788",
    "12312312312326",
    "12312312312333",
    "4006381333931",
    "036000291452",
    "96385074",
  ];

  void it("accepts published GTINs and computes their check digits", () => {
    for (const gtin of valid) {
      assert.equal(isValidGtin(gtin), true, gtin);
      assert.equal(gtinCheckDigit(gtin.slice(0, -1)), Number(gtin.at(-1)), gtin);
    }
  });

  void it("rejects every single-digit change of a valid GTIN", () => {
    fc.assert(
      fc.property(gtin14, fc.nat(13), fc.integer({ min: 1, max: 9 }), (gtin, position, delta) => {
        const changed = `${gtin.slice(0, position)}${(Number(gtin[position]) + delta) % 10}${gtin.slice(position + 1)}`;
        assert.equal(isValidGtin(changed), false);
        throwsCode(() => normalizeGtin(changed), "gs1.check_digit");
      }),
    );
  });

  void it("pads GTIN-8, -12 and -13 to GTIN-14 (GS1 Barcode Syntax Engine's vectors)", () => {
    assert.equal(normalizeGtin("2112345678900"), "02112345678900");
    assert.equal(normalizeGtin("416000336108"), "00416000336108");
    assert.equal(normalizeGtin("02345673"), "00000002345673");
    assert.equal(normalizeGtin("09506000134352"), "09506000134352");
  });

  void it("refuses other lengths and non-digits", () => {
    for (const bad of ["", "1234567", "123456789", "0950600013435A", "095060001343520", " 9506000134352"]) {
      throwsCode(() => normalizeGtin(bad), "gs1.gtin_format");
    }
  });

  void it("round-trips through the ledger's uint64", () => {
    assert.equal(gtinToUint64("09506000134352"), 9506000134352n);
    assert.equal(gtinFromUint64(9506000134352n), "09506000134352");
    throwsCode(() => gtinFromUint64(9506000134353n), "gs1.check_digit");
    throwsCode(() => gtinFromUint64(0n), "gs1.gtin_range");
    throwsCode(() => gtinFromUint64(10n ** 14n), "gs1.gtin_range");
    fc.assert(
      fc.property(gtin14, (gtin) => {
        assert.equal(gtinFromUint64(gtinToUint64(gtin)), gtin);
      }),
    );
  });
});

void describe("AI (10) lot and AI (21) serial", () => {
  void it("CSET 82 is printable ASCII without # $ @ [ \\ ] ^ ` { | } ~ (GS1 syntax dictionary's cset82 tests)", () => {
    const excluded = "#$@[\\]^`{|}~";
    let expected = "";
    for (let code = 0x21; code <= 0x7e; code++) {
      if (!excluded.includes(String.fromCharCode(code))) expected += String.fromCharCode(code);
    }
    assert.equal(CSET82, expected);
    assert.equal(CSET82.length, 82);
    for (const value of [
      "!\"%&'()*+,-/012345",
      "6789:;<=>?ABCDEFGHIJ",
      "KLMNOPQRSTUVWXYZ_abc",
      "defghijklmnopqrstuvw",
      "xyz",
    ]) {
      assert.equal(firstNonCset82(value), -1, value);
    }
    for (const character of [" ", ...Array.from(excluded), "\x7f", "\x00", "é", "批", "\u00a0"]) {
      assert.equal(firstNonCset82(`AB${character}C`), 2, JSON.stringify(character));
    }
  });

  void it("accepts 1 to 20 CSET 82 characters", () => {
    fc.assert(
      fc.property(cset82Value, (value) => {
        assert.equal(validateLot(value), value);
        assert.equal(validateSerial(value), value);
      }),
    );
  });

  void it("refuses empty, too long and out-of-set values with their own codes", () => {
    throwsCode(() => validateLot(""), "gs1.lot_length");
    throwsCode(() => validateLot("A".repeat(21)), "gs1.lot_length");
    throwsCode(() => validateLot("LOT 1"), "gs1.lot_charset");
    throwsCode(() => validateLot("批次1"), "gs1.lot_charset");
    throwsCode(() => validateSerial(""), "gs1.serial_length");
    throwsCode(() => validateSerial("1".repeat(21)), "gs1.serial_length");
    throwsCode(() => validateSerial("AB#1"), "gs1.serial_charset");
  });
});

void describe("YYMMDD dates", () => {
  void it("places two-digit years in GS1's sliding century (General Specifications 7.12)", () => {
    assert.equal(gs1FullYear(76, 2026), 2076);
    assert.equal(gs1FullYear(77, 2026), 1977);
    assert.equal(gs1FullYear(0, 2026), 2000);
    assert.equal(gs1FullYear(10, 2060), 2110);
    assert.equal(gs1FullYear(11, 2060), 2011);
    assert.equal(gs1FullYear(99, 2001), 1999);
  });

  void it("checks real calendar dates, leap years by the resolved century", () => {
    const options = { allowDayZero: true, referenceYear: REFERENCE_YEAR };
    assert.deepEqual(parseGs1Date("261231", options), { year: 2026, month: 12, day: 31 });
    assert.deepEqual(parseGs1Date("280229", options), { year: 2028, month: 2, day: 29 });
    assert.deepEqual(parseGs1Date("000229", options), { year: 2000, month: 2, day: 29 });
    throwsCode(() => parseGs1Date("000229", { allowDayZero: true, referenceYear: 2080 }), "digital_link.date"); // 2100
    for (const bad of ["260229", "260431", "261301", "260001", "261232", "26123", "2612311", "26-231"]) {
      throwsCode(() => parseGs1Date(bad, options), "digital_link.date");
    }
  });

  void it("reads day 00 as a month-only date where the AI allows it", () => {
    assert.deepEqual(parseGs1Date("261200", { allowDayZero: true, referenceYear: REFERENCE_YEAR }), {
      year: 2026,
      month: 12,
      day: null,
    });
    throwsCode(
      () => parseGs1Date("261200", { allowDayZero: false, referenceYear: REFERENCE_YEAR }),
      "digital_link.date",
    );
  });
});

void describe("GS1 Digital Link: building", () => {
  void it("percent-encodes like GS1's reference encoder", () => {
    // GS1 Barcode Syntax Engine, test_dl_URIescape (its '#' is not in CSET 82).
    assert.equal(encodeDigitalLinkValue("!\"%&'()*+,/:;<=>?"), "%21%22%25%26%27%28%29%2A%2B%2C%2F%3A%3B%3C%3D%3E%3F");
    assert.equal(encodeDigitalLinkValue("0123456789-._~"), "0123456789-._~");
    assert.equal(encodeDigitalLinkValue("ABCxyz"), "ABCxyz");
  });

  void it("reproduces GS1 Barcode Syntax Engine's generated URIs", () => {
    assert.equal(
      buildDigitalLink({ host: "id.gs1.org", gtin: "12312312312326", serial: "abc123" }),
      "https://id.gs1.org/01/12312312312326/21/abc123",
    );
    assert.equal(
      buildDigitalLink({ host: "example.com", gtin: "12312312312326", cpv: "ABC", lot: "DEF", serial: "GHI" }),
      "https://example.com/01/12312312312326/22/ABC/10/DEF/21/GHI",
    );
    assert.equal(
      buildDigitalLink({ host: "example.com", gtin: "12312312312333", lot: "ABC+123" }),
      "https://example.com/01/12312312312333/10/ABC%2B123",
    );
  });

  void it("writes a batch item's link with expiry and link type", () => {
    assert.equal(
      buildDigitalLink({
        host: "trace.example.cn",
        gtin: "9506000134352",
        lot: "2026/A-07",
        serial: "7K3M9QX2D4HJW",
        dataAttributes: { "17": "261231" },
        params: [["linkType", "gs1:pip"]],
        referenceYear: REFERENCE_YEAR,
      }),
      "https://trace.example.cn/01/09506000134352/10/2026%2FA-07/21/7K3M9QX2D4HJW?17=261231&linkType=gs1%3Apip",
    );
    assert.equal(
      buildDigitalLink({ host: "localhost:8080", scheme: "http", gtin: "09506000134352" }),
      "http://localhost:8080/01/09506000134352",
    );
  });

  void it("refuses bad hosts, values, dates and digit-only parameter names", () => {
    for (const host of ["", "a/b", "a b", "user@host", "host:99999", "-a.com", "a.com?x"]) {
      throwsCode(() => buildDigitalLink({ host, gtin: "09506000134352" }), "digital_link.host");
    }
    throwsCode(() => buildDigitalLink({ host: "a.cn", gtin: "09506000134353" }), "gs1.check_digit");
    throwsCode(() => buildDigitalLink({ host: "a.cn", gtin: "09506000134352", lot: "" }), "gs1.lot_length");
    throwsCode(() => buildDigitalLink({ host: "a.cn", gtin: "09506000134352", serial: "A B" }), "gs1.serial_charset");
    throwsCode(
      () => buildDigitalLink({ host: "a.cn", gtin: "09506000134352", dataAttributes: { "17": "261331" } }),
      "digital_link.date",
    );
    throwsCode(
      () => buildDigitalLink({ host: "a.cn", gtin: "09506000134352", params: [["17", "261231"]] }),
      "digital_link.misplaced_ai",
    );
  });
});

void describe("GS1 Digital Link: parsing", () => {
  const parse = (uri: string): ReturnType<typeof parseDigitalLink> =>
    parseDigitalLink(uri, { referenceYear: REFERENCE_YEAR });

  void it("reads the examples of the GS1 Digital Link standard (as GS1's syntax engine tests them)", () => {
    const link = parse("https://id.gs1.org/01/09520123456788/10/ABC1/21/12345?17=180426");
    assert.equal(link.gtin, "09520123456788");
    assert.equal(link.lot, "ABC1");
    assert.equal(link.serial, "12345");
    assert.deepEqual(link.dataAttributes, { "17": "180426" });
    assert.deepEqual(link.expiry, { year: 2018, month: 4, day: 26 });
    assert.equal(link.host, "id.gs1.org");
    assert.equal(link.scheme, "https");

    assert.equal(parse("https://id.gs1.org/01/09520123456788/22/2A").cpv, "2A");
    assert.equal(parse("https://brand.example.com/01/9520123456788").gtin, "09520123456788");
    const prefixed = parse("https://brand.example.com/some-extra/pathinfo/01/9520123456788");
    assert.equal(prefixed.gtin, "09520123456788");
    assert.equal(prefixed.pathPrefix, "/some-extra/pathinfo");
    assert.equal(parse("https://a/00/faux/01/12312312312333").gtin, "12312312312333");
  });

  void it("decodes percent-escapes in the path, keeps '+' literal there and ignores fragments", () => {
    assert.equal(parse("https://a/01/12312312312333/22/ABC%2d123").cpv, "ABC-123");
    assert.equal(parse("https://a/01/12312312312333/22/ABC+123").cpv, "ABC+123");
    assert.equal(parse("https://a/01/12312312312333/10/2026%2FA-07").lot, "2026/A-07");
    assert.equal(parse("https://a/01/12312312312333/22/test/10/abc/21/xyz#fragment").serial, "xyz");
    assert.equal(parse("HTTPS://a/01/12312312312333").scheme, "https");
    assert.equal(parse("/01/12312312312333/21/X").host, undefined);
  });

  void it("keeps non-AI query parameters and skips empty pairs", () => {
    const link = parse("https://a/01/12312312312333?&&linkType=all&17=261200&singleton&&utm=x%20y");
    assert.equal(link.linkType, "all");
    assert.deepEqual(link.params, [
      ["linkType", "all"],
      ["singleton", ""],
      ["utm", "x y"],
    ]);
    assert.deepEqual(link.expiry, { year: 2026, month: 12, day: null });
    assert.deepEqual(parse("https://a/01/12312312312333?").params, []);
  });

  void it("validates the data attributes it knows", () => {
    assert.deepEqual(parse("/01/12312312312333?3103=000195&422=156&7007=260901260915").dataAttributes, {
      "3103": "000195",
      "422": "156",
      "7007": "260901260915",
    });
    throwsCode(() => parse("/01/12312312312333?17="), "digital_link.date");
    throwsCode(() => parse("/01/12312312312333?17=260230"), "digital_link.date");
    throwsCode(() => parse("/01/12312312312333?7006=261200"), "digital_link.date");
    throwsCode(() => parse("/01/12312312312333?7007=2609"), "digital_link.attribute_format");
    throwsCode(() => parse("/01/12312312312333?3103=19.5"), "digital_link.attribute_format");
    throwsCode(() => parse("/01/12312312312333?422=CN"), "digital_link.attribute_format");
  });

  void it("refuses what GS1's syntax engine refuses, each with its own code", () => {
    const cases: Array<[string, ErrorCode]> = [
      ["", "digital_link.syntax"],
      ["ftp://a/01/12312312312333", "digital_link.syntax"],
      ["https://a$/01/12312312312333", "digital_link.syntax"],
      ["https://a/stem/00/006141411234567890/", "digital_link.syntax"],
      ["https://a/01/12312312312333/22/ABC%2d123?99=ABC&98=XYZ+987", "digital_link.unknown_ai"],
      ["https://a/01/12312312312333?99=ABC&999=faux", "digital_link.unknown_ai"],
      ["https://example.com/01/09520123456788?10=ABC123", "digital_link.misplaced_ai"],
      ["https://id.gs1.org/01/09520123456788/10/ABC123?17=261231&17=261231", "digital_link.duplicate_ai"],
      ["https://id.gs1.org/01/09520123456788/10/ABC123/10/ABC123", "digital_link.duplicate_ai"],
      ["https://example.com/01/09520123456788/89/ABC123", "digital_link.unknown_ai"],
      ["https://a/01/12312312312333/21/XYZ/10/ABC", "digital_link.order"],
      ["https://a/01/12312312312333/10/ABC/22/TEST", "digital_link.order"],
      ["https://a/01/12312312312333/17/261231", "digital_link.misplaced_ai"],
      ["https://a/gtin/12312312312333", "digital_link.no_primary_key"],
      ["https://a/", "digital_link.no_primary_key"],
      ["https://a/01/12312312312333/10", "digital_link.syntax"],
      ["https://a/01/12312312312334", "gs1.check_digit"],
      ["https://a/01/1231231231233", "gs1.check_digit"],
      ["https://a/01/123123123123", "gs1.check_digit"],
      ["https://a/01/12312312312333/10/A%2", "digital_link.syntax"],
      ["https://a/01/12312312312333/10/%FF", "digital_link.syntax"],
      ["https://a/01/12312312312333/10/A B", "digital_link.syntax"],
      ["https://a/01/12312312312333/10/%20", "gs1.lot_charset"],
      ["https://a/01/12312312312333/21/%23", "gs1.serial_charset"],
      ["https://a/01/12312312312333/21/%E6%89%B9", "gs1.serial_charset"],
      [`https://a/01/12312312312333/21/${"A".repeat(21)}`, "gs1.serial_length"],
      ["https://a/01/12312312312333/22/%7E", "gs1.cpv_charset"],
      ["https://user@a/01/12312312312333", "digital_link.syntax"],
    ];
    for (const [uri, code] of cases) throwsCode(() => parse(uri), code);
  });

  void it("round-trips every link it builds", () => {
    fc.assert(
      fc.property(
        gtin14,
        fc.option(cset82Value, { nil: undefined }),
        fc.option(cset82Value, { nil: undefined }),
        fc.option(cset82Value, { nil: undefined }),
        (gtin, cpv, lot, serial) => {
          const uri = buildDigitalLink({
            host: "trace.example.cn",
            gtin,
            cpv,
            lot,
            serial,
            referenceYear: REFERENCE_YEAR,
          });
          const link = parse(uri);
          assert.deepEqual(
            { gtin: link.gtin, cpv: link.cpv, lot: link.lot, serial: link.serial },
            { gtin, cpv, lot, serial },
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  const validLink = fc.record({ gtin: gtin14, lot: cset82Value, serial: cset82Value });

  void it("rejects a changed GTIN digit, swapped qualifiers, a repeated or unknown AI, an out-of-set or overlong value", () => {
    fc.assert(
      fc.property(
        validLink,
        fc.nat(13),
        fc.integer({ min: 1, max: 9 }),
        fc.constantFrom(" ", "#", "@", "€", "批", "\n"),
        fc.stringMatching(/^[0-9]{2,4}$/).filter((ai) => !["01", "10", "21", "22"].includes(ai)),
        ({ gtin, lot, serial }, position, delta, badCharacter, unknownAi) => {
          const lotPart = `/10/${encodeDigitalLinkValue(lot)}`;
          const serialPart = `/21/${encodeDigitalLinkValue(serial)}`;
          const changedGtin = `${gtin.slice(0, position)}${(Number(gtin[position]) + delta) % 10}${gtin.slice(position + 1)}`;
          throwsCode(() => parse(`/01/${changedGtin}${lotPart}${serialPart}`), "gs1.check_digit");
          throwsCode(() => parse(`/01/${gtin}${serialPart}${lotPart}`), "digital_link.order");
          throwsCode(() => parse(`/01/${gtin}${lotPart}${lotPart}${serialPart}`), "digital_link.duplicate_ai");
          const unknownCode = [
            "11",
            "13",
            "15",
            "16",
            "17",
            "422",
            "3100",
            "3101",
            "3102",
            "3103",
            "3104",
            "3105",
            "7006",
            "7007",
          ].includes(unknownAi)
            ? "digital_link.misplaced_ai"
            : "digital_link.unknown_ai";
          throwsCode(() => parse(`/01/${gtin}${lotPart}/${unknownAi}/X${serialPart}`), unknownCode);
          const badLot = encodeDigitalLinkValue(`${lot.slice(0, 19)}${badCharacter}`);
          throwsCode(() => parse(`/01/${gtin}/10/${badLot}${serialPart}`), "gs1.lot_charset");
          throwsCode(
            () => parse(`/01/${gtin}${lotPart}/21/${encodeDigitalLinkValue(serial.padEnd(21, "x"))}`),
            "gs1.serial_length",
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  void it("never throws anything but an AppError on random mutations", () => {
    const alphabet = fc.constantFrom(
      ...Array.from("/%?&=#+:0123456789ABCabc-._~ é\u0000\uD800"),
      "%2",
      "%FF",
      "01",
      "10",
      "21",
      "17=",
    );
    fc.assert(
      fc.property(
        validLink,
        fc.array(fc.tuple(fc.nat(), fc.nat(2), alphabet), { maxLength: 6 }),
        ({ gtin, lot, serial }, edits) => {
          let uri = buildDigitalLink({ host: "a.cn", gtin, lot, serial, dataAttributes: { "17": "261231" } });
          for (const [at, kind, text] of edits) {
            const position = at % (uri.length + 1);
            if (kind === 0) uri = uri.slice(0, position) + text + uri.slice(position);
            else if (kind === 1) uri = uri.slice(0, position) + uri.slice(position + 1);
            else uri = uri.slice(0, position) + text + uri.slice(position + 1);
          }
          try {
            const link = parse(uri);
            // Whatever survives must still be a valid link.
            assert.equal(isValidGtin(link.gtin), true);
            if (link.lot !== undefined) validateLot(link.lot);
            if (link.serial !== undefined) validateSerial(link.serial);
          } catch (error) {
            assert.ok(isAppError(error), `${uri} threw ${String(error)}`);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
