/**
 * The QR decoder for browsers without BarcodeDetector (iOS Safari, desktop Firefox, headless
 * Chromium): built as its own bundle and loaded by the field console only when it needs it,
 * so phones that have BarcodeDetector never download it.
 */
import jsQRModule from "jsqr";

// The package is CommonJS whose export is the function, with itself as `default` too: this
// reads the same under esbuild's interop and under TypeScript's Node module resolution.
const jsQR = jsQRModule.default;

export function decodeQr(image: ImageData): string | null {
  return jsQR(image.data, image.width, image.height, { inversionAttempts: "attemptBoth" })?.data ?? null;
}
