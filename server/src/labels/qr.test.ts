import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { buildDigitalLink } from "../domain/gs1.ts";
import { generateSerials } from "../domain/serials.ts";
import { isAppError } from "../errors/app-error.ts";
import { QR_QUIET_ZONE_MODULES, QR_TEXT_MAX_BYTES, qrMatrix, qrPng, qrSegments, qrSvg, qrTerminal } from "./qr.ts";
import { RSVG, ZBAR, decodeQrCodes, haveTools, run } from "../../../test/support/label-tools.ts";

const [serial = ""] = generateSerials(1);
const uri = buildDigitalLink({ host: "trace.example.cn", gtin: "06901234567892", lot: "LJ2026-04", serial });

/** The PNG's width and height from its IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  assert.equal(png.subarray(1, 4).toString("latin1"), "PNG");
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/** Reads `qrTerminal` output back into modules: each character cell is two rows (upper and lower half). */
function terminalModules(text: string): boolean[][] {
  // eslint-disable-next-line no-control-regex -- the output is ANSI colour codes around block characters.
  const plain = text.replace(/\u001b\[[0-9;]*m/g, "");
  const rows: boolean[][] = [];
  for (const line of plain.split("\n")) {
    const upper: boolean[] = [];
    const lower: boolean[] = [];
    for (const character of line) {
      upper.push(character === "█" || character === "▀");
      lower.push(character === "█" || character === "▄");
    }
    rows.push(upper, lower);
  }
  return rows;
}

/** A binary PGM of a module matrix, `scale` pixels a module, dark modules black. */
function modulesToPgm(modules: boolean[][], scale: number): Buffer {
  const height = modules.length * scale;
  const width = Math.max(...modules.map((row) => row.length)) * scale;
  const body = Buffer.alloc(width * height, 255);
  modules.forEach((row, r) => {
    row.forEach((dark, c) => {
      if (!dark) return;
      for (let y = 0; y < scale; y++)
        body.fill(0, (r * scale + y) * width + c * scale, (r * scale + y) * width + (c + 1) * scale);
    });
  });
  return Buffer.concat([Buffer.from(`P5\n${width} ${height}\n255\n`, "latin1"), body]);
}

describe("QR codes", () => {
  let dir = "";
  let zbar = false;
  let rsvg = false;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "oioc-qr-"));
    zbar = await haveTools([ZBAR], "decoding QR codes with zbarimg");
    rsvg = zbar && (await haveTools([RSVG], "rasterising QR SVGs with rsvg-convert"));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("qrPng decodes back to the URI with zbarimg, at the size asked for", async (t) => {
    if (!zbar) {
      t.skip("zbarimg missing");
      return;
    }
    const png = await qrPng(uri, { sizePx: 300 });
    assert.deepEqual(pngSize(png), { width: 300, height: 300 });
    const file = path.join(dir, "qr.png");
    writeFileSync(file, png);
    assert.deepEqual(await decodeQrCodes(file), [uri]);
  });

  it("qrSvg, rasterised by librsvg, decodes back to the URI, with a 4-module quiet zone", async (t) => {
    if (!rsvg) {
      t.skip("rsvg-convert or zbarimg missing");
      return;
    }
    const svg = await qrSvg(uri);
    const { size } = qrMatrix(uri);
    assert.match(
      svg,
      new RegExp(`viewBox="0 0 ${size + 2 * QR_QUIET_ZONE_MODULES} ${size + 2 * QR_QUIET_ZONE_MODULES}"`),
    );
    const svgFile = path.join(dir, "qr.svg");
    const pngFile = path.join(dir, "qr-from-svg.png");
    writeFileSync(svgFile, svg);
    const converted = await run("rsvg-convert", [
      "--width",
      "400",
      "--height",
      "400",
      "--background-color",
      "white",
      "-o",
      pngFile,
      svgFile,
    ]);
    assert.equal(converted.code, 0);
    assert.deepEqual(await decodeQrCodes(pngFile), [uri]);
  });

  it("qrTerminal draws every module with the full quiet zone, and the drawing scans", async (t) => {
    const text = await qrTerminal(uri);
    const drawn = terminalModules(text);
    const { size, isDark } = qrMatrix(uri);
    const quiet = QR_QUIET_ZONE_MODULES;
    for (let row = 0; row < size + 2 * quiet; row++) {
      for (let column = 0; column < size + 2 * quiet; column++) {
        const inside = row >= quiet && row < size + quiet && column >= quiet && column < size + quiet;
        const expected = inside && isDark(row - quiet, column - quiet);
        assert.equal(drawn[row]?.[column] ?? false, expected, `module ${row},${column}`);
      }
    }
    if (!zbar) {
      t.skip("zbarimg missing");
      return;
    }
    const file = path.join(dir, "terminal.pgm");
    writeFileSync(file, modulesToPgm(drawn, 6));
    assert.deepEqual(await decodeQrCodes(file), [uri]);
  });

  it("uses error-correction level M unless told otherwise", async () => {
    assert.equal(await qrSvg(uri), await qrSvg(uri, { errorCorrectionLevel: "M" }));
    assert.notEqual(await qrSvg(uri), await qrSvg(uri, { errorCorrectionLevel: "H" }));
    // Level M holds more data than H in the same version, so H of the same link is never smaller.
    assert.ok(qrMatrix(uri, { errorCorrectionLevel: "H" }).version > qrMatrix(uri).version);
  });

  it("packs a Digital Link's path in alphanumeric mode and its host in byte mode", () => {
    const segments = qrSegments(uri);
    assert.deepEqual(
      segments.map((segment) => segment.mode),
      ["byte", "alphanumeric"],
    );
    assert.equal(segments[1]?.data, uri.slice("https://trace.example.cn".length));
    // Lower-case letters at the end leave no worthwhile alphanumeric tail.
    assert.deepEqual(
      qrSegments("https://example.org/abc").map((segment) => segment.mode),
      ["byte"],
    );
  });

  it("refuses empty and over-long input with typed errors", async () => {
    for (const render of [qrSvg, qrPng, qrTerminal]) {
      await assert.rejects(render(""), (error) => isAppError(error, "labels.qr_text_empty"));
      await assert.rejects(render("x".repeat(QR_TEXT_MAX_BYTES + 1)), (error) =>
        isAppError(error, "labels.qr_text_too_long"),
      );
    }
    assert.throws(
      () => qrMatrix(""),
      (error) => isAppError(error, "labels.qr_text_empty"),
    );
    // The limit counts UTF-8 bytes, not characters: 200 Chinese characters are 600 bytes.
    assert.throws(
      () => qrMatrix("苹".repeat(200)),
      (error) => isAppError(error, "labels.qr_text_too_long") && error.details.bytes === 600,
    );
    assert.equal(qrMatrix("x".repeat(QR_TEXT_MAX_BYTES)).size > 0, true);
  });

  it("refuses PNG sizes out of range", async () => {
    for (const sizePx of [0, 10, 63, 4097, 100.5, Number.NaN]) {
      await assert.rejects(qrPng(uri, { sizePx }), (error) => isAppError(error, "labels.qr_size"), String(sizePx));
    }
  });
});
