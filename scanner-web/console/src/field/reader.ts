/**
 * Reads a code from what the camera sees or from a photo: BarcodeDetector where the browser
 * has it; otherwise the small QR decoder, fetched the first time it is needed (its bundle's
 * name is written in at build time as QR_DECODER_URL).
 */
declare const QR_DECODER_URL: string;

interface Detector {
  detect: (source: CanvasImageSource) => Promise<{ rawValue: string }[]>;
}
type DetectorConstructor = new (options: { formats: string[] }) => Detector;
type DecodeQr = (image: ImageData) => string | null;

let decoder: Promise<DecodeQr> | null = null;

function loadDecoder(): Promise<DecodeQr> {
  decoder ??= (
    import(/* a runtime URL: the decoder is a bundle of its own */ QR_DECODER_URL) as Promise<{
      decodeQr: DecodeQr;
    }>
  ).then((module) => module.decodeQr);
  return decoder;
}

/** What is drawn of a frame or photo, scaled so its longer side is at most 1,024 px (enough for a label's code). */
function pixels(source: CanvasImageSource, width: number, height: number): ImageData {
  const scale = Math.min(1, 1_024 / Math.max(width, height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  const context = canvas.getContext("2d", { willReadFrequently: true });
  if (context === null) throw new Error("no 2D canvas");
  context.drawImage(source, 0, 0, canvas.width, canvas.height);
  return context.getImageData(0, 0, canvas.width, canvas.height);
}

/** A reader for frames or photos: the code's text, or null when none is seen. */
export async function codeReader(): Promise<(source: HTMLVideoElement | ImageBitmap) => Promise<string | null>> {
  const Native = (globalThis as { BarcodeDetector?: DetectorConstructor }).BarcodeDetector;
  if (Native !== undefined) {
    const detector = new Native({ formats: ["qr_code", "data_matrix", "code_128"] });
    return async (source) => (await detector.detect(source).catch(() => []))[0]?.rawValue ?? null;
  }
  const decode = await loadDecoder();
  return (source) => {
    const width = source instanceof HTMLVideoElement ? source.videoWidth : source.width;
    const height = source instanceof HTMLVideoElement ? source.videoHeight : source.height;
    return Promise.resolve(width === 0 || height === 0 ? null : decode(pixels(source, width, height)));
  };
}
