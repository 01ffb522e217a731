/**
 * What each kind of outbox entry holds and which contract call it becomes. Payloads are
 * stored as JSON (integers as decimal strings, bytes as 0x-hex) and parsed again before
 * use: data read back from the database is not trusted to have the right shape.
 */
import { z } from "zod";

import type { KindSpec } from "./writer.ts";

const uint = z.string().regex(/^\d{1,78}$/, "decimal integer");
const hex = z.string().regex(/^0x([0-9a-fA-F]{2})*$/, "0x-hex bytes");
const bytes32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "32 bytes of hex");
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "address");

export const attestationPayload = z.object({
  attester: address,
  gtin: uint,
  lot: z.string().min(1).max(20),
  itemsRoot: bytes32,
  itemCount: uint,
  quantityMilli: uint,
  unit: z.string().min(1).max(8),
  harvestedAt: uint,
  metadataCid: hex,
  nonce: uint,
  deadline: uint,
  signature: hex,
});
export type AttestationPayload = z.infer<typeof attestationPayload>;

export const eventPayload = z.object({
  actor: address,
  batchId: bytes32,
  bizStep: z.number().int().min(0).max(255),
  occurredAt: uint,
  payloadCid: hex,
  nonce: uint,
  deadline: uint,
  signature: hex,
});
export type EventPayload = z.infer<typeof eventPayload>;

export const recallPayload = z.object({
  attester: address,
  batchId: bytes32,
  reasonCid: hex,
  nonce: uint,
  deadline: uint,
  signature: hex,
});
export type RecallPayload = z.infer<typeof recallPayload>;

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

export const OUTBOX_KINDS: KindSpec[] = [
  {
    kind: "organisation",
    sender: "admin",
    packable: false,
    encode: ([payload]) => {
      const p = organisationPayload.parse(payload);
      return { functionName: "registerOrganisation", args: [p.signer, p.kind, p.regionCode, p.metadataCid] };
    },
  },
  {
    kind: "attestation",
    sender: "relayer",
    packable: true,
    waitsFor: ["OrganisationUnknown"],
    encode: (payloads) => ({
      functionName: "attestBatches",
      args: [
        payloads.map((payload) => {
          const p = attestationPayload.parse(payload);
          return {
            ...p,
            gtin: BigInt(p.gtin),
            itemCount: BigInt(p.itemCount),
            quantityMilli: BigInt(p.quantityMilli),
            harvestedAt: BigInt(p.harvestedAt),
            nonce: BigInt(p.nonce),
            deadline: BigInt(p.deadline),
          };
        }),
      ],
    }),
  },
  {
    kind: "event",
    sender: "relayer",
    packable: true,
    waitsFor: ["OrganisationUnknown", "BatchUnknown"],
    encode: (payloads) => ({
      functionName: "recordEvents",
      args: [
        payloads.map((payload) => {
          const p = eventPayload.parse(payload);
          return { ...p, occurredAt: BigInt(p.occurredAt), nonce: BigInt(p.nonce), deadline: BigInt(p.deadline) };
        }),
      ],
    }),
  },
  {
    kind: "suspension",
    sender: "regulator",
    packable: false,
    waitsFor: ["OrganisationUnknown"],
    encode: ([payload]) => {
      const p = regulatorActionPayload.parse(payload);
      return { functionName: "suspendOrganisation", args: [p.subject, p.reasonCid] };
    },
  },
  {
    kind: "reinstatement",
    sender: "regulator",
    packable: false,
    waitsFor: ["OrganisationNotSuspended"],
    encode: ([payload]) => {
      const p = regulatorActionPayload.parse(payload);
      return { functionName: "reinstateOrganisation", args: [p.subject, p.reasonCid] };
    },
  },
  {
    kind: "regulator_recall",
    sender: "regulator",
    packable: false,
    waitsFor: ["BatchUnknown"],
    encode: ([payload]) => {
      const p = regulatorActionPayload.parse(payload);
      return { functionName: "recallBatchAsRegulator", args: [p.subject, p.reasonCid] };
    },
  },
  {
    kind: "recall",
    sender: "relayer",
    packable: false,
    waitsFor: ["BatchUnknown"],
    encode: ([payload]) => {
      const p = recallPayload.parse(payload);
      return {
        functionName: "recallBatch",
        args: [{ ...p, nonce: BigInt(p.nonce), deadline: BigInt(p.deadline) }],
      };
    },
  },
];
