/**
 * The tea batch of `teaFixture` with a case of its items: packed by the processor and
 * despatched to the retailer in one signed request (its document holds the AggregationEvent
 * and the shipping ObjectEvent, naming the order and the despatch advice), then received by
 * the retailer (a step whose document could not be read: the export writes the record).
 */
import type { ExportContainer, ExportInput } from "../../server/src/exports/types.ts";
import { ORGANISATIONS, TEA_GTIN, fakeCid, teaFixture } from "./export-fixtures.ts";

export const CASE_SSCC = "069012340000000017";
const PACKED_AT = Date.UTC(2026, 3, 3, 2, 0);

export function caseOfTea(serials: readonly string[]): ExportContainer {
  const { processor, retailer } = ORGANISATIONS;
  const lot = "AJ2026-0401";
  const parent = `https://id.gs1.org/00/${CASE_SSCC}`;
  const bizTransactionList = [
    { type: "po", bizTransaction: "https://trace.example.cn/orders/ord-1/po/SH-0001" },
    { type: "desadv", bizTransaction: "https://trace.example.cn/orders/ord-1/desadv/1" },
  ];
  return {
    sscc: CASE_SSCC,
    containerKey: `0x${"c1".repeat(32)}`,
    steps: [
      {
        digest: `0x${"a1".repeat(32)}`,
        action: "packing",
        occurredAtMs: PACKED_AT,
        actor: processor,
        counterparty: retailer,
        payloadCid: fakeCid("case-packing"),
        ledger: { state: "anchored", txHash: `0x${"b1".repeat(32)}` },
        events: [
          {
            type: "AggregationEvent",
            eventTime: new Date(PACKED_AT).toISOString(),
            eventTimeZoneOffset: "+08:00",
            parentID: parent,
            childEPCs: serials.map((serial) => `https://id.gs1.org/01/${TEA_GTIN}/10/${lot}/21/${serial}`),
            action: "ADD",
            bizStep: "packing",
            bizTransactionList,
          },
          {
            type: "ObjectEvent",
            eventTime: new Date(PACKED_AT).toISOString(),
            eventTimeZoneOffset: "+08:00",
            epcList: [parent],
            action: "OBSERVE",
            bizStep: "shipping",
            disposition: "in_transit",
            bizTransactionList,
          },
        ],
      },
      {
        digest: `0x${"a2".repeat(32)}`,
        action: "receiving",
        occurredAtMs: PACKED_AT + 86_400_000,
        actor: retailer,
        counterparty: null,
        payloadCid: fakeCid("case-receiving"),
        ledger: { state: "pending", txHash: null },
        events: [],
      },
    ],
  };
}

/** The tea export with the case attached to its batch. */
export function teaWithCase(serials: readonly string[] = ["S0001", "S0002", "S0003"]): ExportInput {
  const { input } = teaFixture();
  return { batches: input.batches.map((entry) => ({ ...entry, containers: [caseOfTea(serials)] })) };
}
