/**
 * Turns a revert into the contract's custom error name and arguments, so a failed
 * submission says "RegistryBatchAlreadyRegistered(0x…)" rather than "execution reverted".
 */
import type { Interface } from "ethers";

export interface DecodedRevert {
  name: string;
  args: string[];
  /** Human-readable form, e.g. `RegistrySignatureExpired(1700000000, 1700000100)`. */
  text: string;
}

function revertData(error: unknown): string | null {
  // ethers wraps the node's answer at different depths depending on the call path.
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (typeof current === "object" && current !== null && !seen.has(current)) {
    seen.add(current);
    const record = current as Record<string, unknown>;
    const data = record.data;
    if (typeof data === "string" && /^0x[0-9a-fA-F]{8,}$/.test(data)) return data;
    if (typeof data === "object" && data !== null) {
      const nested = (data as Record<string, unknown>).data;
      if (typeof nested === "string" && /^0x[0-9a-fA-F]{8,}$/.test(nested)) return nested;
    }
    current = record.error ?? record.info ?? record.cause;
  }
  return null;
}

export function decodeRevert(contractInterface: Interface, error: unknown): DecodedRevert | null {
  const data = revertData(error);
  if (data === null) return null;
  try {
    const parsed = contractInterface.parseError(data);
    if (parsed === null) return null;
    const args = parsed.args.map((value: unknown) => String(value));
    return { name: parsed.name, args, text: `${parsed.name}(${args.join(", ")})` };
  } catch {
    return null;
  }
}

/** Whether the failure came from the contract (final) rather than from getting there (retry). */
export function isContractRevert(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const code = (error as { code?: unknown }).code;
  return code === "CALL_EXCEPTION" || revertData(error) !== null;
}
