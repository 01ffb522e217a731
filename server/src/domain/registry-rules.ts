/**
 * What `TraceRegistry` refuses on the fields the relayer passes through, as rules the
 * server applies before anything is stored or queued: an accepted write that the chain
 * then refuses would fail after the caller was told 202 and, for a batch, hold its lot.
 * Each rule names the contract check it mirrors (contracts/TraceRegistry.sol,
 * `_validateAttestationFields` and `_recordEvent`). Rules the contract has that the server
 * meets by construction are listed at the end, so a reader can tick off the whole list.
 *
 * Chain time: the registry refuses `harvestedAt > block.timestamp`. The server judges it
 * against its own clock at acceptance, not the latest block: the attestation is mined
 * after it is accepted, so a time not later than the server's clock is not later than the
 * block's as long as the two clocks agree (both follow NTP; a Hardhat node stamps blocks
 * with the wall clock). Reading the latest block would add a chain round trip to every
 * registration and make registration fail while the chain is away, which the outbox is
 * there to allow. The former 24-hour allowance for clock skew is gone: it is exactly what
 * let a lot be burned by a time the registry refused.
 */
import { AppError } from "../errors/app-error.ts";
import { AI_VALUE_MAX_LENGTH } from "./gs1.ts";

/** Times go on chain as whole seconds (uint64); the registry refuses 0 for harvest and event times. */
export function ledgerSeconds(ms: number): bigint {
  return BigInt(Math.floor(ms / 1000));
}

/** The earliest instant the registry accepts for a harvest or an event: 1970-01-01T00:00:01Z. */
export const EARLIEST_LEDGER_TIME_MS = 1000;

/** `RegistryLotTooLong`: a lot is at most 20 bytes (GS1 AI (10) characters are ASCII, so bytes = characters). */
export const LOT_MAX_BYTES = AI_VALUE_MAX_LENGTH;

/** `RegistryUnitTooLong`: the contract allows at most 8 bytes of unit code. */
export const UNIT_MAX_BYTES = 8;

/** `itemCount` is a uint32 in the typed data and the registry. */
export const ITEM_COUNT_MAX = 2 ** 32 - 1;

/**
 * `RegistryHarvestedAtZero` and `RegistryHarvestedAtInFuture`: 0 < harvestedAt (seconds) ≤
 * chain time, judged against the server's clock (see the module comment).
 */
export function checkHarvestedAt(harvestedAtMs: number, nowMs: number): void {
  if (!Number.isFinite(harvestedAtMs) || harvestedAtMs < EARLIEST_LEDGER_TIME_MS) {
    throw new AppError(
      "batch.harvested_at_out_of_range",
      { harvestedAtMs },
      { detail: "harvestedAt: the registry refuses times before 1970-01-01T00:00:01Z" },
    );
  }
  if (harvestedAtMs > nowMs) {
    throw new AppError(
      "batch.harvested_at_out_of_range",
      { harvestedAtMs, nowMs },
      { detail: `harvestedAt: later than the server's clock (${new Date(nowMs).toISOString()})` },
    );
  }
}

/** `RegistryOccurredAtZero`: an event's time is at least one second after the epoch. */
export function checkOccurredAt(occurredAtMs: number): void {
  if (!Number.isFinite(occurredAtMs) || occurredAtMs < EARLIEST_LEDGER_TIME_MS) {
    throw new AppError(
      "event.before_harvest",
      { occurredAtMs },
      { detail: "occurredAt: the registry refuses times before 1970-01-01T00:00:01Z" },
    );
  }
}

/** `RegistryGtinOutOfRange`: 0 < gtin < 10^14 (a GTIN of all zeros passes its check digit). */
export function checkLedgerGtin(gtin: bigint): void {
  if (gtin <= 0n || gtin >= 10n ** 14n) throw new AppError("gs1.gtin_range", { value: gtin.toString() });
}

/** `RegistryUnitEmpty` / `RegistryUnitTooLong`, and `RegistryItemCountZero` with the uint32 bound. */
export function checkLedgerUnitAndCount(unit: string, itemCount: number): void {
  const unitBytes = new TextEncoder().encode(unit).length;
  if (unitBytes === 0 || unitBytes > UNIT_MAX_BYTES) throw new AppError("units.unknown_unit", { unit });
  if (!Number.isInteger(itemCount) || itemCount < 1 || itemCount > ITEM_COUNT_MAX) {
    throw new AppError("request.invalid", {}, { detail: `itemCount: 1 to ${String(ITEM_COUNT_MAX)}` });
  }
}

/*
 * Met by construction, so not checked again here:
 * - `RegistryLotEmpty` / `RegistryLotTooLong`: `validateLot` (gs1.ts) allows 1–20 CSET 82 characters.
 * - `RegistryQuantityMilliZero` and the uint64 bound: `quantityMilli` (units.ts) refuses 0 and overflow.
 * - `RegistryItemsRootZero`, `RegistryMetadataCidEmpty`, `RegistryPayloadCidEmpty`,
 *   `RegistryReasonCidEmpty`: a Merkle root and CIDs the server computes are never zero or empty.
 * - `RegistrySignatureExpired`: the server sets deadline = now + SIGNATURE_TTL_SECONDS, and a
 *   wallet's signature is refused once its request has expired (sign-and-submit.ts); an entry
 *   the writer could not send in time fails on chain and frees its lot (removeFailedBatch).
 * - `RegistryNonceAlreadyUsed`: nonces are allocated by the server per signer.
 * - `RegistryOrganisationSuspended` / `…KindNotAllowed`: `activeOrganisation` checks status and kind.
 * - `RegistryBatchAlreadyRegistered`: the store refuses a second pending or anchored batch (batch.exists).
 * - `RegistryBatchUnknown` on events and recalls: the store's batch must exist and not have failed
 *   (batch.attestation_failed); a pending batch's attestation is sent before its events.
 * - `RegistryBatchAlreadyRecalled`: batch.recalled.
 * - bizStep: an enum the typed data encodes from the same list as the contract's.
 */
