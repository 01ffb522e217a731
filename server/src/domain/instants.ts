/**
 * Dates and times the ledger can hold. The registry and the signed typed data carry times
 * as unsigned seconds since 1970-01-01T00:00:00Z (uint64), so an earlier instant can never
 * be signed or anchored: it is refused at the boundary as the caller's mistake (400) rather
 * than found by the signer as a crash.
 */
import { z } from "zod";

export const BEFORE_EPOCH_MESSAGE = "must not be before 1970-01-01T00:00:00Z";

/** An ISO 8601 date-time with a zone offset, at or after the Unix epoch. */
export const isoInstant = z.iso
  .datetime({ offset: true })
  .refine((text) => Date.parse(text) >= 0, { message: BEFORE_EPOCH_MESSAGE });

/** An ISO 8601 calendar date (YYYY-MM-DD), 1970-01-01 or later. */
export const isoDay = z.iso.date().refine((text) => text >= "1970-01-01", { message: BEFORE_EPOCH_MESSAGE });
