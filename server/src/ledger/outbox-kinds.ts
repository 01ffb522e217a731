/**
 * What each kind of outbox entry holds and which contract call it becomes. Payloads are
 * stored as JSON and decoded again before use: data read back from the database is not
 * trusted to have the right shape. Signed values go through their one codec
 * (`domain/typed-data.ts`); the table below is keyed by kind, so a kind without a contract
 * call, or a call for an unknown kind, fails the type check.
 */
import { z } from "zod";

import {
  TYPED_CODECS,
  type BatchAttestationValue,
  type PrimaryType,
  type TraceEventValue,
  type TypedJson,
  type TypedValue,
} from "../domain/typed-data.ts";
import type { KindSpec } from "./writer.ts";

const hex = z.string().regex(/^0x([0-9a-fA-F]{2})*$/, "0x-hex bytes");
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "address");

/** A value signed by an organisation, as the contract takes it. */
export interface Signed<V> {
  value: V;
  signature: string;
}

const signatureField = z.object({ signature: hex });

/** The stored form of a signed value: its JSON form with the signature beside the fields. */
function signedPayload<P extends PrimaryType>(primaryType: P) {
  const codec = TYPED_CODECS[primaryType];
  return {
    encode: ({ value, signature }: Signed<TypedValue<P>>): TypedJson<P> & { signature: string } => ({
      ...codec.encode(value),
      signature,
    }),
    decode: (json: unknown): Signed<TypedValue<P>> => ({
      value: codec.decode(json),
      signature: signatureField.parse(json).signature,
    }),
  };
}

/** Limits the contract sets on an attestation's text, checked before the transaction is built. */
const attestationText = z.object({ lot: z.string().min(1).max(20), unit: z.string().min(1).max(8) });

const attestation = signedPayload("BatchAttestation");
const event = signedPayload("TraceEvent");

export const organisationPayload = z.object({
  signer: address,
  kind: z.number().int().min(1).max(5),
  regionCode: z.number().int().min(100_000).max(999_999),
  metadataCid: hex,
});
export type OrganisationPayload = z.infer<typeof organisationPayload>;

/** A regulator's action on an organisation or a batch, anchored with the regulator's own key. */
export const regulatorActionPayload = z.object({
  /** The organisation's signer (suspend / reinstate) or the batch id (recall). */
  subject: z.string().regex(/^0x([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/),
  reasonCid: hex,
});
export type RegulatorActionPayload = z.infer<typeof regulatorActionPayload>;

/** A regulator's own request that an inspector inspect a batch, anchored with the regulator's key. */
export const regulatorInspectionPayload = z.object({
  batchId: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
  inspector: address,
});
export type RegulatorInspectionPayload = z.infer<typeof regulatorInspectionPayload>;

/**
 * The admin binds (or releases) a company prefix or one GTIN to an organisation, named by
 * its signer. A prefix is its zero-padded digits (the length is its number of digits).
 */
export const prefixBindingPayload = z.object({
  action: z.enum(["bind", "release"]),
  prefix: z.string().regex(/^[0-9]{6,12}$/),
  owner: address,
});
export type PrefixBindingPayload = z.infer<typeof prefixBindingPayload>;

export const gtinBindingPayload = z.object({
  action: z.enum(["bind", "release"]),
  /** GTIN-14. */
  gtin: z.string().regex(/^[0-9]{14}$/),
  owner: address,
});
export type GtinBindingPayload = z.infer<typeof gtinBindingPayload>;

const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "bytes32");

/** A container's state as the contract takes it (`ContainerState`): not signed, rebuilt from the store. */
export const containerStatePayload = z.object({
  childrenRoot: bytes32,
  custodian: address,
  pendingReceiver: address,
  link: bytes32,
});
export type ContainerStatePayload = z.infer<typeof containerStatePayload>;

const packingExtras = z.object({
  current: containerStatePayload,
  childStates: z.array(containerStatePayload).max(10_000),
});
const eventExtras = z.object({ current: containerStatePayload });

const containerPacking = signedPayload("ContainerPacking");
const containerEvent = signedPayload("ContainerEvent");

/** A signed container request with the state it applies to (and, for a packing, its children's). */
export type ContainerPackingPayload = Signed<TypedValue<"ContainerPacking">> & z.infer<typeof packingExtras>;
export type ContainerEventPayload = Signed<TypedValue<"ContainerEvent">> & z.infer<typeof eventExtras>;

/** A payload that needs no conversion: stored as it is, checked against its schema when read. */
function plainPayload<T>(schema: z.ZodType<T>) {
  return { encode: (payload: T): T => payload, decode: (json: unknown): T => schema.parse(json) };
}

/** Each kind's payload: how it is stored and read back. */
const PAYLOADS = {
  organisation: plainPayload(organisationPayload),
  attestation: {
    encode: attestation.encode,
    decode: (json: unknown): Signed<BatchAttestationValue> => {
      attestationText.parse(json);
      return attestation.decode(json);
    },
  },
  event: {
    // Outbox entries have always held the business step as a JSON number; new ones do too.
    encode: (signed: Signed<TraceEventValue>) => ({ ...event.encode(signed), bizStep: Number(signed.value.bizStep) }),
    decode: event.decode,
  },
  recall: signedPayload("Recall"),
  company_prefix: plainPayload(prefixBindingPayload),
  gtin_binding: plainPayload(gtinBindingPayload),
  gtin_grant: signedPayload("GtinGrant"),
  inspection_request: signedPayload("InspectionRequest"),
  regulator_inspection_request: plainPayload(regulatorInspectionPayload),
  suspension: plainPayload(regulatorActionPayload),
  reinstatement: plainPayload(regulatorActionPayload),
  regulator_recall: plainPayload(regulatorActionPayload),
  container_packing: {
    encode: ({ current, childStates, ...signed }: ContainerPackingPayload) => ({
      ...containerPacking.encode(signed),
      current,
      childStates,
    }),
    decode: (json: unknown): ContainerPackingPayload => ({
      ...containerPacking.decode(json),
      ...packingExtras.parse(json),
    }),
  },
  container_event: {
    encode: ({ current, ...signed }: ContainerEventPayload) => ({ ...containerEvent.encode(signed), current }),
    decode: (json: unknown): ContainerEventPayload => ({ ...containerEvent.decode(json), ...eventExtras.parse(json) }),
  },
};

export type OutboxKind = keyof typeof PAYLOADS;

/** What services put into an entry of each kind. */
export type OutboxPayload<K extends OutboxKind> = ReturnType<(typeof PAYLOADS)[K]["decode"]>;

/** An outbox entry of `kind`, its payload in its stored form, for `enqueueOutbox`. */
export function outboxEntry<K extends OutboxKind>(
  kind: K,
  referenceId: string,
  payload: OutboxPayload<K>,
): { kind: K; referenceId: string; payload: unknown } {
  const encode = PAYLOADS[kind].encode as (payload: OutboxPayload<K>) => unknown;
  return { kind, referenceId, payload: encode(payload) };
}

/** How the entries of one kind become one contract call, from their decoded payloads. */
interface CallSpec<K extends OutboxKind> extends Omit<KindSpec, "kind" | "encode"> {
  call: (payloads: OutboxPayload<K>[]) => { functionName: string; args: unknown[] };
}

/** The contract takes integers as bigints and bytes as 0x-hex: the decoded value, with its signature. */
function signedArgument<V>({ value, signature }: Signed<V>): V & { signature: string } {
  return { ...value, signature };
}

/** The payload of a kind that is not packable: the writer hands it one entry at a time. */
function only<T>(payloads: readonly T[]): T {
  const [payload] = payloads;
  if (payload === undefined || payloads.length !== 1) throw new Error("this kind takes one entry per call");
  return payload;
}

/**
 * Kinds anchored strictly in the order they were accepted, whatever their sender: an
 * organisation before its bindings, a binding or grant before an attestation it entitles.
 */
const ENTITLEMENT_ORDER = ["organisation", "company_prefix", "gtin_binding", "gtin_grant", "attestation"] as const;

function entitlementOrderExcept(kind: (typeof ENTITLEMENT_ORDER)[number]): string[] {
  return ENTITLEMENT_ORDER.filter((other) => other !== kind);
}

function regulatorAction(functionName: string, { subject, reasonCid }: RegulatorActionPayload) {
  return { functionName, args: [subject, reasonCid] };
}

const CALLS: { [K in OutboxKind]: CallSpec<K> } = {
  organisation: {
    sender: "admin",
    packable: false,
    call: (payloads) => {
      const p = only(payloads);
      return { functionName: "registerOrganisation", args: [p.signer, p.kind, p.regionCode, p.metadataCid] };
    },
  },
  // Bindings and grants go in the order the server accepted them with the attestations that
  // need them (see ENTITLEMENT_ORDER): a binding before a batch of its GTINs, a release or a
  // withdrawal after the batches accepted while it still held.
  company_prefix: {
    sender: "admin",
    packable: false,
    after: entitlementOrderExcept("company_prefix"),
    call: (payloads) => {
      const { action, prefix, owner } = only(payloads);
      const args = [BigInt(prefix), prefix.length];
      return action === "bind"
        ? { functionName: "bindCompanyPrefix", args: [...args, owner] }
        : { functionName: "releaseCompanyPrefix", args };
    },
  },
  gtin_binding: {
    sender: "admin",
    packable: false,
    after: entitlementOrderExcept("gtin_binding"),
    call: (payloads) => {
      const { action, gtin, owner } = only(payloads);
      return action === "bind"
        ? { functionName: "bindGtin", args: [BigInt(gtin), owner] }
        : { functionName: "releaseGtin", args: [BigInt(gtin)] };
    },
  },
  gtin_grant: {
    sender: "relayer",
    packable: true,
    after: entitlementOrderExcept("gtin_grant"),
    call: (payloads) => ({ functionName: "changeGtinGrants", args: [payloads.map(signedArgument)] }),
  },
  attestation: {
    sender: "relayer",
    packable: true,
    after: entitlementOrderExcept("attestation"),
    waitsFor: ["RegistryOrganisationUnknown"],
    call: (payloads) => ({ functionName: "attestBatches", args: [payloads.map(signedArgument)] }),
  },
  // Before events, so an inspector's event finds its request on chain.
  inspection_request: {
    sender: "relayer",
    packable: true,
    after: ["organisation", "attestation"],
    waitsFor: ["RegistryOrganisationUnknown", "RegistryBatchUnknown"],
    call: (payloads) => ({ functionName: "requestInspections", args: [payloads.map(signedArgument)] }),
  },
  regulator_inspection_request: {
    sender: "regulator",
    packable: false,
    after: ["organisation", "attestation"],
    waitsFor: ["RegistryOrganisationUnknown", "RegistryBatchUnknown"],
    call: (payloads) => {
      const { batchId, inspector } = only(payloads);
      return { functionName: "requestInspectionAsRegulator", args: [batchId, inspector] };
    },
  },
  event: {
    sender: "relayer",
    packable: true,
    // Not before the batch, the organisations and the inspection requests accepted before it
    // are on chain: tried earlier, an event waits out a back-off that grows with each try.
    after: ["organisation", "attestation", "inspection_request", "regulator_inspection_request"],
    // A receiving event waits for the shipping that named its receiver, an inspector's for
    // the request that asked it: the server accepted both in order, the chain may lag.
    waitsFor: ["RegistryOrganisationUnknown", "RegistryBatchUnknown", "RegistryActorWithoutCustody"],
    call: (payloads) => ({ functionName: "recordEvents", args: [payloads.map(signedArgument)] }),
  },
  // Cases and pallets (docs/aggregation.md): after the batch events accepted before them, so
  // custody a batch event moved is on chain; packings and container events in the order they
  // were accepted (a shipping signs the state its packing produced). Within a kind, entries
  // go in acceptance order, each with the state it applies to.
  container_packing: {
    sender: "relayer",
    packable: true,
    after: ["organisation", "attestation", "event", "container_event"],
    waitsFor: ["RegistryOrganisationUnknown", "RegistryBatchUnknown", "RegistryActorWithoutCustody"],
    call: (payloads) => ({
      functionName: "packContainers",
      args: [
        payloads.map(({ value, signature, current, childStates }) => ({ ...value, signature, current, childStates })),
      ],
    }),
  },
  container_event: {
    sender: "relayer",
    packable: true,
    after: ["organisation", "attestation", "event", "container_packing"],
    waitsFor: ["RegistryOrganisationUnknown"],
    call: (payloads) => ({
      functionName: "recordContainerEvents",
      args: [payloads.map(({ value, signature, current }) => ({ ...value, signature, current }))],
    }),
  },
  suspension: {
    sender: "regulator",
    packable: false,
    waitsFor: ["RegistryOrganisationUnknown"],
    call: (payloads) => regulatorAction("suspendOrganisation", only(payloads)),
  },
  reinstatement: {
    sender: "regulator",
    packable: false,
    waitsFor: ["RegistryOrganisationNotSuspended"],
    call: (payloads) => regulatorAction("reinstateOrganisation", only(payloads)),
  },
  regulator_recall: {
    sender: "regulator",
    packable: false,
    waitsFor: ["RegistryBatchUnknown"],
    call: (payloads) => regulatorAction("recallBatchAsRegulator", only(payloads)),
  },
  recall: {
    sender: "relayer",
    packable: false,
    waitsFor: ["RegistryBatchUnknown"],
    call: (payloads) => ({ functionName: "recallBatch", args: [signedArgument(only(payloads))] }),
  },
};

function kindSpec(kind: OutboxKind): KindSpec {
  // Each kind's call takes that kind's payloads, which is what its own decoder yields.
  const { call, ...spec } = CALLS[kind] as CallSpec<OutboxKind>;
  const decode: (json: unknown) => OutboxPayload<OutboxKind> = PAYLOADS[kind].decode;
  return { ...spec, kind, encode: (payloads) => call(payloads.map(decode)) };
}

/** The writer's table, in the order it serves the kinds on each pass: the order of CALLS. */
export const OUTBOX_KINDS: KindSpec[] = (Object.keys(CALLS) as OutboxKind[]).map(kindSpec);
