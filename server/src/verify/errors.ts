/**
 * The one error the verification core throws, for input it cannot even read (a field that
 * is not hex, an integer out of its type's range). `verifyResolution` never lets it out: a
 * malformed resolution is a failed check, and the page shows a verdict, not a stack trace.
 */
export type VerifyErrorCode =
  | "verify.hex"
  | "verify.address"
  | "verify.uint_range"
  | "verify.signature_format"
  | "verify.cid_format"
  | "verify.abi_decode"
  | "verify.rpc"
  | "verify.unknown_type";

export class VerifyError extends Error {
  readonly code: VerifyErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: VerifyErrorCode, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(
      `${code}: ${JSON.stringify(details, (_key, value: unknown) => (typeof value === "bigint" ? String(value) : value))}`,
      options,
    );
    this.name = "VerifyError";
    this.code = code;
    this.details = details;
  }
}
