/**
 * Who may record which step of a batch's life. The server enforces it; the consoles offer
 * an organisation only the steps it may record, from the same table.
 */
import type { OrganisationKind } from "./enumerations.ts";
import type { BizStep } from "./typed-data.ts";

/** Which kinds of organisation may record which steps. Recalls have their own endpoint. */
export const STEP_ACTORS: Record<Exclude<BizStep, "recalling">, readonly OrganisationKind[]> = {
  planting: ["cooperative"],
  input_application: ["cooperative"],
  harvesting: ["cooperative"],
  cooling: ["cooperative", "processor", "logistics"],
  transforming: ["cooperative", "processor"],
  packing: ["cooperative", "processor"],
  shipping: ["cooperative", "processor", "logistics"],
  receiving: ["processor", "logistics", "retailer"],
  inspecting: ["inspector"],
  certifying: ["inspector"],
  retail_selling: ["retailer"],
};

/** Steps done on the farm itself, which only the batch's own cooperative can attest. */
export const OWN_FARM_STEPS: ReadonlySet<BizStep> = new Set(["planting", "input_application", "harvesting"]);

/** The steps an organisation of `kind` may record. */
export function stepsFor(kind: OrganisationKind): Exclude<BizStep, "recalling">[] {
  return (Object.keys(STEP_ACTORS) as Exclude<BizStep, "recalling">[]).filter((step) =>
    STEP_ACTORS[step].includes(kind),
  );
}
