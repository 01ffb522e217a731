/**
 * An answer's JSON text in pieces: what many answers share (a batch's part of every item's
 * resolution, built once) and what is one answer's own. The HTTP layer joins them for a JSON
 * client, or compresses each shared piece once and only an answer's own text per response.
 */

/** Text shared by many answers; its identity is what derived forms (compressed bytes) are kept by. */
export interface SharedText {
  readonly text: string;
}

export type TextPiece = string | SharedText;

export function sharedText(text: string): SharedText {
  return Object.freeze({ text });
}

export function textOf(piece: TextPiece): string {
  return typeof piece === "string" ? piece : piece.text;
}

export function joinText(pieces: readonly TextPiece[]): string {
  return pieces.map(textOf).join("");
}

/**
 * JSON text that may sit inside an HTML `<script>` element: `<` is escaped (still the same
 * JSON value), so no string in it can close the element.
 */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

/**
 * The text of an object with members, open at its end (`{"a":1,`): the start of a larger
 * object whose other members one answer adds with `objectClosing`.
 */
export function objectOpening(members: Record<string, unknown>): string {
  const text = scriptSafeJson(members);
  if (text === "{}") throw new TypeError("an object's opening needs members");
  return `${text.slice(0, -1)},`;
}

/** The text of an object with members, without its opening brace (`"b":2}`): what ends an `objectOpening`. */
export function objectClosing(members: Record<string, unknown>): string {
  const text = scriptSafeJson(members);
  if (text === "{}") throw new TypeError("an object's closing needs members");
  return text.slice(1);
}

/** UTF-8 bytes of shared pieces, encoded once: a batch's part is most of every answer's bytes. */
const sharedBytes = new WeakMap<SharedText, Buffer>();

/** The answer's text as UTF-8, shared pieces encoded once. */
export function utf8Of(pieces: readonly TextPiece[]): Buffer {
  return Buffer.concat(
    pieces.map((piece) => {
      if (typeof piece === "string") return Buffer.from(piece, "utf8");
      let bytes = sharedBytes.get(piece);
      if (bytes === undefined) {
        bytes = Buffer.from(piece.text, "utf8");
        sharedBytes.set(piece, bytes);
      }
      return bytes;
    }),
  );
}
