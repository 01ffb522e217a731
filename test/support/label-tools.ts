/**
 * Test-only helpers of the label tests: the Debian tools that read what we print
 * (zbarimg decodes QR codes from images, pdftoppm rasterises PDF pages, rsvg-convert
 * rasterises SVG) and the CJK font, installed on demand, and thin wrappers around them.
 */
import { execFile } from "node:child_process";

import { ensureDebianPackages, requireOrSkip, type DebianPackage } from "../../scripts/lib/debian-packages.ts";

export const ZBAR: DebianPackage = { name: "zbar-tools", probe: "zbarimg" };
export const POPPLER: DebianPackage = { name: "poppler-utils", probe: "pdftoppm" };
export const RSVG: DebianPackage = { name: "librsvg2-bin", probe: "rsvg-convert" };
export const WQY_FONT: DebianPackage = {
  name: "fonts-wqy-microhei",
  probe: "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
};

/** True when every package is (or could be made) present; see `requireOrSkip` for what happens otherwise. */
export async function haveTools(packages: readonly DebianPackage[], what: string): Promise<boolean> {
  const { missing } = await ensureDebianPackages(packages);
  return requireOrSkip(missing, what);
}

export function run(command: string, args: readonly string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
      if (error === null) {
        resolve({ code: 0, stdout });
        return;
      }
      if (typeof error.code === "number") resolve({ code: error.code, stdout });
      else reject(new Error(`${command} could not run: ${error.message}`, { cause: error }));
    });
  });
}

/**
 * Every QR code zbarimg finds in an image file, one string each. zbarimg exits 4 when it
 * finds none, which is an answer here (an empty list), not a failure.
 */
export async function decodeQrCodes(imageFile: string): Promise<string[]> {
  const { code, stdout } = await run("zbarimg", ["--raw", "-q", "-Sdisable", "-Sqrcode.enable", imageFile]);
  if (code !== 0 && code !== 4) throw new Error(`zbarimg ${imageFile} exited with ${code}`);
  return stdout.split("\n").filter((line) => line !== "");
}

/** A greyscale image: one byte a pixel, rows top to bottom. */
export interface GreyImage {
  width: number;
  height: number;
  pixels: Uint8Array;
}

/** Reads a binary PGM (P5, maxval 255), what `pdftoppm -gray` writes. */
export function parsePgm(bytes: Uint8Array): GreyImage {
  const header = /^P5\s+(\d+)\s+(\d+)\s+255\s/.exec(new TextDecoder("latin1").decode(bytes.subarray(0, 64)));
  if (header === null) throw new Error("not a binary PGM with maxval 255");
  const width = Number(header[1]);
  const height = Number(header[2]);
  const pixels = bytes.subarray(header[0].length, header[0].length + width * height);
  if (pixels.length !== width * height) throw new Error("PGM is truncated");
  return { width, height, pixels };
}

/** A binary PGM of the given rectangle of `image`. */
export function cropPgm(image: GreyImage, x: number, y: number, width: number, height: number): Buffer {
  const header = Buffer.from(`P5\n${width} ${height}\n255\n`, "latin1");
  const body = Buffer.alloc(width * height);
  for (let row = 0; row < height; row++) {
    const start = (y + row) * image.width + x;
    body.set(image.pixels.subarray(start, start + width), row * width);
  }
  return Buffer.concat([header, body]);
}
