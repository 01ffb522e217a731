/**
 * People inside an organisation (issue 15): what each may do is a closed set of capabilities,
 * and every write path of the API needs one of them. An organisation's API token (no person)
 * is not limited by capabilities; a person's device session is. Paths not named here need
 * every capability (the chair's): a write added later is closed to members until it is named.
 */

export const CAPABILITIES = ["batches", "events", "members"] as const;
export type Capability = (typeof CAPABILITIES)[number];

export const MEMBER_ROLES = ["chair", "member"] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

/** A chair may do everything; a member what the chair gave. */
export function capabilitiesOf(role: MemberRole, given: readonly Capability[]): Capability[] {
  return role === "chair" ? [...CAPABILITIES] : CAPABILITIES.filter((capability) => given.includes(capability));
}

/** Any one of the listed capabilities is enough; an empty list: any person with a session. */
interface Rule {
  method: string;
  path: RegExp;
  anyOf: readonly Capability[];
}

const SEGMENT = "[^/]+";
const RULES: readonly Rule[] = [
  { method: "POST", path: /^\/api\/v1\/batches$/, anyOf: ["batches"] },
  { method: "POST", path: new RegExp(`^/api/v1/batches/${SEGMENT}/certificates$`), anyOf: ["batches"] },
  { method: "POST", path: /^\/api\/v1\/certificates$/, anyOf: ["batches"] },
  { method: "POST", path: new RegExp(`^/api/v1/batches/${SEGMENT}/(recall|label-links)$`), anyOf: ["batches"] },
  { method: "POST", path: new RegExp(`^/api/v1/batches/${SEGMENT}/inspection-requests$`), anyOf: ["batches"] },
  { method: "POST", path: /^\/api\/v1\/products$/, anyOf: ["batches"] },
  { method: "POST", path: new RegExp(`^/api/v1/organisations/${SEGMENT}/(plots|certifications)$`), anyOf: ["batches"] },
  { method: "POST", path: new RegExp(`^/api/v1/batches/${SEGMENT}/events$`), anyOf: ["events"] },
  { method: "*", path: /^\/api\/v1\/containers(\/|$)/, anyOf: ["events"] },
  { method: "*", path: /^\/api\/v1\/orders(\/|$)/, anyOf: ["events"] },
  { method: "POST", path: /^\/epcis\/capture$/, anyOf: ["events"] },
  { method: "POST", path: /^\/api\/v1\/media$/, anyOf: ["batches", "events"] },
  { method: "*", path: /^\/api\/v1\/media\/uploads(\/|$)/, anyOf: ["batches", "events"] },
  { method: "POST", path: new RegExp(`^/api/v1/signature-requests/${SEGMENT}$`), anyOf: ["batches", "events"] },
  {
    method: "*",
    path: new RegExp(`^/api/v1/organisations/${SEGMENT}/(members|sign-in-links|sessions)(/|$)`),
    anyOf: ["members"],
  },
  // Public writes and a person's own sign-out need no capability.
  { method: "POST", path: new RegExp(`^/api/v1/claims/`), anyOf: [] },
  // The read-only JSON-RPC proxy: a POST that reads the chain.
  { method: "POST", path: /^\/rpc$/, anyOf: [] },
  // Applying and signing in are public; deciding an application is not (unlisted: the chair's).
  { method: "POST", path: /^\/api\/v1\/(applications|applications\/licence|sign-in)$/, anyOf: [] },
  { method: "DELETE", path: /^\/api\/v1\/me\/session$/, anyOf: [] },
];

const READS = new Set(["GET", "HEAD", "OPTIONS"]);

function ruleFor(method: string, path: string): Rule | undefined {
  return RULES.find((r) => (r.method === "*" || r.method === method) && r.path.test(path));
}

/**
 * Whether a person holding `held` may make the request: reads always; a named write with any
 * one of its capabilities (none needed for the public ones); an unnamed write with all of them.
 */
export function mayWrite(held: readonly Capability[], method: string, path: string): boolean {
  if (READS.has(method)) return true;
  const rule = ruleFor(method, path);
  if (rule === undefined) return CAPABILITIES.every((capability) => held.includes(capability));
  return rule.anyOf.length === 0 || rule.anyOf.some((capability) => held.includes(capability));
}
