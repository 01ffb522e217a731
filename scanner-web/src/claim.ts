/**
 * The hidden-code check: the consumer types the digits under the scratch-off and the
 * server says whether this is the first claim. Answers are read defensively: anything
 * unexpected is "cannot check right now", never a verdict.
 */
export type ClaimOutcome =
  | { kind: "first" }
  | { kind: "claimed_before"; claimedAtMs: number }
  | { kind: "wrong_code" }
  | { kind: "rate_limited" }
  | { kind: "error" };

export async function claimHiddenCode(
  item: { gtin: string; lot: string; serial: string },
  code: string,
): Promise<ClaimOutcome> {
  const path = [item.gtin, item.lot, item.serial].map(encodeURIComponent).join("/");
  let response: Response;
  try {
    response = await fetch(`/api/v1/claims/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ code }),
    });
  } catch {
    return { kind: "error" };
  }
  const body: unknown = await response.json().catch(() => null);
  const fields = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  if (response.status === 200 && typeof fields.firstClaim === "boolean") {
    if (fields.firstClaim) return { kind: "first" };
    return typeof fields.claimedAtMs === "number"
      ? { kind: "claimed_before", claimedAtMs: fields.claimedAtMs }
      : { kind: "error" };
  }
  if (response.status === 400 && fields.code === "claim.wrong_code") return { kind: "wrong_code" };
  if (response.status === 429) return { kind: "rate_limited" };
  return { kind: "error" };
}
