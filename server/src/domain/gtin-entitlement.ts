/**
 * Who may use a GTIN: the registry's entitlement rule (`gtinOwner`, `mayAttest`,
 * `bindCompanyPrefix` in contracts/TraceRegistry.sol), written once so the server refuses
 * first what the registry would refuse, and a verifier (the scan page, the audit) can say
 * who was entitled from the same bindings.
 *
 * A GS1 company prefix is its digits as an integer plus its length (6..12): "0614141" is
 * 614141 with 7 digits, so a UPC prefix's leading zero is kept. A GTIN-14's prefix of
 * length L is the L digits after the indicator digit. A GTIN belongs to its own binding,
 * else to the longest bound prefix it starts with; others may use it only when its owner
 * granted it to them.
 *
 * Organisations are generic (`O`): the server passes its organisation ids, a verifier the
 * chain's origin addresses. Pure and browser-safe.
 */
import { AppError } from "../errors/app-error.ts";
import { normalizeGtin } from "./gs1.ts";

export const COMPANY_PREFIX_MIN_DIGITS = 6;
export const COMPANY_PREFIX_MAX_DIGITS = 12;
/** A GTIN bound on its own is reported by the registry as a "prefix" of 14 digits. */
export const GTIN_BINDING_DIGITS = 14;

/** A GS1 company prefix: `value` < 10^digits. */
export interface CompanyPrefix {
  readonly value: bigint;
  readonly digits: number;
}

export interface PrefixBinding<O> {
  readonly prefix: CompanyPrefix;
  readonly owner: O;
}

export interface GtinBinding<O> {
  /** GTIN-14 (normalised, check digit included). */
  readonly gtin: string;
  readonly owner: O;
}

/** The bindings in force (released ones left out). */
export interface EntitlementBindings<O> {
  readonly prefixes: readonly PrefixBinding<O>[];
  readonly gtins: readonly GtinBinding<O>[];
}

export interface GtinGrant<O> {
  readonly gtin: string;
  readonly grantee: O;
  /**
   * Who granted it. The registry keeps grants per owner: when a GTIN passes to another owner
   * (a prefix released and bound again), the old owner's grants stop counting. Left out, the
   * grant is taken to be the current owner's.
   */
  readonly owner?: O;
}

export type GtinOwnership<O> =
  | { readonly owner: O; readonly source: "gtin" }
  | { readonly owner: O; readonly source: "company_prefix"; readonly prefix: CompanyPrefix };

const PREFIX_TEXT = /^[0-9]{6,12}$/;

/** "6901234" → {value: 6901234n, digits: 7}; leading zeros count. Throws `company_prefix.invalid`. */
export function parseCompanyPrefix(text: string): CompanyPrefix {
  if (!PREFIX_TEXT.test(text)) throw new AppError("company_prefix.invalid", { prefix: text });
  return { value: BigInt(text), digits: text.length };
}

/** Whether `prefix` is one the registry would accept: 6..12 digits and a value that fits them. */
export function isValidCompanyPrefix(prefix: CompanyPrefix): boolean {
  return (
    Number.isInteger(prefix.digits) &&
    prefix.digits >= COMPANY_PREFIX_MIN_DIGITS &&
    prefix.digits <= COMPANY_PREFIX_MAX_DIGITS &&
    prefix.value >= 0n &&
    prefix.value < 10n ** BigInt(prefix.digits)
  );
}

/** The prefix as printed, zero-padded to its length. Throws `company_prefix.invalid` for an impossible one. */
export function formatCompanyPrefix(prefix: CompanyPrefix): string {
  if (!isValidCompanyPrefix(prefix)) {
    throw new AppError("company_prefix.invalid", { prefix: prefix.value.toString(), digits: prefix.digits });
  }
  return prefix.value.toString().padStart(prefix.digits, "0");
}

export function samePrefix(a: CompanyPrefix, b: CompanyPrefix): boolean {
  return a.value === b.value && a.digits === b.digits;
}

/** The GTIN-14 of a GTIN given as text (any GTIN length) or as the ledger's integer. */
function gtin14(gtin: string | bigint): string {
  return normalizeGtin(typeof gtin === "bigint" ? gtin.toString().padStart(14, "0") : gtin);
}

/**
 * The company prefix of `digits` digits a GTIN would have: the digits after the indicator
 * digit, as the registry computes it (`(gtin % 1e13) / 10**(13 - digits)`).
 */
export function companyPrefixOf(gtin: string | bigint, digits: number): CompanyPrefix {
  if (!Number.isInteger(digits) || digits < COMPANY_PREFIX_MIN_DIGITS || digits > COMPANY_PREFIX_MAX_DIGITS) {
    throw new AppError("company_prefix.invalid", { digits });
  }
  const text = gtin14(gtin);
  return { value: BigInt(text.slice(1, 1 + digits)), digits };
}

/** Whether `inner` starts with `outer` (a prefix lies within itself). */
export function prefixWithin(inner: CompanyPrefix, outer: CompanyPrefix): boolean {
  if (inner.digits < outer.digits) return false;
  return inner.value / 10n ** BigInt(inner.digits - outer.digits) === outer.value;
}

/** Whether a GTIN lies under a company prefix. */
export function gtinUnderPrefix(gtin: string | bigint, prefix: CompanyPrefix): boolean {
  return samePrefix(companyPrefixOf(gtin, prefix.digits), prefix);
}

/** Who owns a GTIN: its own binding, else the longest bound prefix it starts with; null when none. */
export function gtinOwnerOf<O>(gtin: string | bigint, bindings: EntitlementBindings<O>): GtinOwnership<O> | null {
  const text = gtin14(gtin);
  const own = bindings.gtins.find((binding) => binding.gtin === text);
  if (own !== undefined) return { owner: own.owner, source: "gtin" };
  let best: PrefixBinding<O> | undefined;
  for (const binding of bindings.prefixes) {
    if (!gtinUnderPrefix(text, binding.prefix)) continue;
    if (best === undefined || binding.prefix.digits > best.prefix.digits) best = binding;
  }
  return best === undefined ? null : { owner: best.owner, source: "company_prefix", prefix: best.prefix };
}

/**
 * Whether `org` may use the GTIN (register its product, attest its batches): it owns it
 * or its current owner granted it. An unbound GTIN entitles nobody. `same` compares organisations
 * (ids by default; addresses compared case-insensitively by the caller's own function).
 */
export function isEntitled<O>(
  org: O,
  gtin: string | bigint,
  bindings: EntitlementBindings<O>,
  grants: readonly GtinGrant<O>[],
  same: (a: O, b: O) => boolean = Object.is,
): boolean {
  const ownership = gtinOwnerOf(gtin, bindings);
  if (ownership === null) return false;
  if (same(ownership.owner, org)) return true;
  const text = gtin14(gtin);
  return grants.some(
    (grant) =>
      grant.gtin === text &&
      same(grant.grantee, org) &&
      (grant.owner === undefined || same(grant.owner, ownership.owner)),
  );
}

/**
 * Why binding `prefix` to `owner` would be refused, as the registry refuses it: the prefix
 * is bound already (to anyone), or it lies within a prefix bound to another organisation.
 * Null when it may be bound. A shorter prefix over others' longer ones may be bound: the
 * longest still wins for the GTINs under it.
 */
export function prefixBindingConflict<O>(
  prefix: CompanyPrefix,
  owner: O,
  bindings: readonly PrefixBinding<O>[],
  same: (a: O, b: O) => boolean = Object.is,
): PrefixBinding<O> | null {
  for (const binding of bindings) {
    if (samePrefix(binding.prefix, prefix)) return binding;
  }
  for (const binding of bindings) {
    if (!same(binding.owner, owner) && prefixWithin(prefix, binding.prefix)) return binding;
  }
  return null;
}

/**
 * The prefix a cooperative without its own GS1 membership is given: the platform's member
 * prefix followed by `extraDigits` digits, the lowest number above every prefix ever
 * allocated from it (`allocated` includes released ones: a GTIN once used by one
 * cooperative is never handed to another, as GS1 asks of reused GTINs). Throws
 * `platform_prefix.exhausted` when none is left.
 */
export function allocatePlatformPrefix(
  platform: CompanyPrefix,
  extraDigits: number,
  allocated: readonly CompanyPrefix[],
): CompanyPrefix {
  const digits = platform.digits + extraDigits;
  if (
    !isValidCompanyPrefix(platform) ||
    !Number.isInteger(extraDigits) ||
    extraDigits < 1 ||
    digits > COMPANY_PREFIX_MAX_DIGITS
  ) {
    throw new AppError("company_prefix.invalid", { prefix: platform.value.toString(), digits });
  }
  const scale = 10n ** BigInt(extraDigits);
  const first = platform.value * scale;
  let next = 0n;
  for (const prefix of allocated) {
    if (prefix.digits === digits && prefixWithin(prefix, platform)) {
      const n = prefix.value - first + 1n;
      if (n > next) next = n;
    }
  }
  if (next >= scale) throw new AppError("platform_prefix.exhausted", { platformPrefix: formatCompanyPrefix(platform) });
  return { value: first + next, digits };
}

/** How many prefixes a platform prefix gives out, and so how many item numbers each holds. */
export function platformAllocationSize(
  platform: CompanyPrefix,
  extraDigits: number,
): { prefixes: bigint; gtinsPerPrefix: bigint } {
  const digits = platform.digits + extraDigits;
  // A GTIN-13 is the prefix, the item reference and the check digit.
  return { prefixes: 10n ** BigInt(extraDigits), gtinsPerPrefix: 10n ** BigInt(12 - digits) };
}
