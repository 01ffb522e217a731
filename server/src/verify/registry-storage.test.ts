/**
 * The registry's storage layout the proof reads rely on, checked against what the pinned
 * solc says about `contracts/TraceRegistry.sol` (a moved slot or offset fails here, not in a
 * consumer's browser), and the views' answers rebuilt from words, decoded by the same
 * decoders the core runs on `eth_call` answers.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { describe, it } from "node:test";

import { addressWord, bytesToHex, concatBytes, keccak256, uintWord, wordToBigInt } from "./bytes.ts";
import {
  answerFromStorage,
  initialSlots,
  REGISTRY_LAYOUT,
  registryViewOf,
  type RegistryView,
} from "./registry-storage.ts";
import {
  decodeBatchRecord,
  decodeOrganisation,
  encodeBatchCall,
  encodeOrganisationCall,
  encodeOriginOfCall,
} from "./rpc.ts";

const projectRoot = path.resolve(import.meta.dirname, "../../..");
const require = createRequire(import.meta.url);
const solc = require("solc") as { compile(input: string, callbacks: { import: (p: string) => unknown }): string };

interface LayoutEntry {
  label: string;
  slot: string;
  offset: number;
  type: string;
}
interface StorageLayout {
  storage: LayoutEntry[];
  types: Record<string, { members?: LayoutEntry[] }>;
}

function compiledLayout(): StorageLayout {
  const source = "contracts/TraceRegistry.sol";
  const input = {
    language: "Solidity",
    sources: { [source]: { content: readFileSync(path.join(projectRoot, source), "utf8") } },
    settings: { outputSelection: { [source]: { TraceRegistry: ["storageLayout"] } } },
  };
  const findImport = (name: string): unknown => {
    const file = name.startsWith("@") ? path.join(projectRoot, "node_modules", name) : path.join(projectRoot, name);
    try {
      return { contents: readFileSync(file, "utf8") };
    } catch {
      return { error: `not found: ${name}` };
    }
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts: Record<string, Record<string, { storageLayout: StorageLayout }>>;
  };
  const errors = (output.errors ?? []).filter((e) => e.severity === "error");
  assert.deepEqual(
    errors.map((e) => e.formattedMessage),
    [],
  );
  const layout = output.contracts[source]?.TraceRegistry?.storageLayout;
  assert.ok(layout !== undefined);
  return layout;
}

function membersOf(layout: StorageLayout, struct: string): Record<string, { slot: number; offset: number }> {
  const entry = Object.entries(layout.types).find(([name]) => name.startsWith(`t_struct(${struct})`));
  assert.ok(entry?.[1].members !== undefined, `struct ${struct} in the layout`);
  return Object.fromEntries(entry[1].members.map((m) => [m.label, { slot: Number(m.slot), offset: m.offset }]));
}

describe("registry storage layout", () => {
  it("is where solc puts TraceRegistry's state and structs", () => {
    const layout = compiledLayout();
    const variables = Object.fromEntries(layout.storage.map((v) => [v.label, Number(v.slot)]));
    for (const [name, slot] of Object.entries(REGISTRY_LAYOUT.variables)) {
      assert.equal(variables[name], slot, `${name} at slot ${slot}`);
    }
    assert.deepEqual(membersOf(layout, "BatchRecord"), REGISTRY_LAYOUT.batchRecord);
    assert.deepEqual(membersOf(layout, "Organisation"), REGISTRY_LAYOUT.organisation);
  });
});

const SIGNER = "0x1111111111111111111111111111111111111111";
const ORIGIN = "0x2222222222222222222222222222222222222222";
const word = (hex: string): bigint => BigInt(hex);

/** A storage map of the given words, every other slot zero (as the proofs say of absent slots). */
function storage(entries: [bigint, bigint][]): (view: RegistryView) => Map<bigint, bigint> {
  return (view) => {
    const values = new Map<bigint, bigint>(initialSlots(view).map((slot) => [slot, 0n]));
    for (const [slot, value] of entries) values.set(slot, value);
    return values;
  };
}

const mappingSlot = (key: Uint8Array, slot: number): bigint =>
  wordToBigInt(keccak256(concatBytes(key, uintWord(BigInt(slot)))));

describe("views rebuilt from storage words", () => {
  it("recognises exactly the three views, with clean arguments", () => {
    const batchId = `0x${"ab".repeat(32)}`;
    assert.deepEqual(registryViewOf(encodeBatchCall(batchId)), { kind: "batch", batchId });
    assert.deepEqual(registryViewOf(encodeOrganisationCall(SIGNER)), { kind: "organisation", signer: SIGNER });
    assert.deepEqual(registryViewOf(encodeOriginOfCall(SIGNER)), { kind: "originOf", signer: SIGNER });
    // A dirty address word, a trailing byte, another selector: not for the proof path.
    assert.equal(
      registryViewOf(`${encodeOrganisationCall(SIGNER).slice(0, 10)}ff${"00".repeat(11)}${SIGNER.slice(2)}`),
      null,
    );
    assert.equal(registryViewOf(`${encodeBatchCall(batchId)}00`), null);
    assert.equal(registryViewOf(`0x12345678${"00".repeat(32)}`), null);
  });

  it("answers batch(bytes32) from its five slots, packed fields where solc packs them", () => {
    const batchId = `0x${"cd".repeat(32)}`;
    const base = mappingSlot(uintWord(BigInt(batchId)), REGISTRY_LAYOUT.variables._batches);
    // attester | itemCount (uint32 at byte 20) | status (byte 24) in one word.
    const packed = word(SIGNER) | (1234n << 160n) | (2n << 192n);
    const view: RegistryView = { kind: "batch", batchId };
    const values = storage([
      [base, word(`0x${"11".repeat(32)}`)],
      [base + 1n, packed],
      [base + 2n, word(`0x${"22".repeat(32)}`)],
      [base + 3n, word(ORIGIN)],
    ])(view);
    assert.deepEqual(initialSlots(view), [base, base + 1n, base + 2n, base + 3n, base + 4n]);
    const answer = answerFromStorage(view, values);
    assert.ok("data" in answer);
    assert.deepEqual(decodeBatchRecord(answer.data), {
      itemsRoot: `0x${"11".repeat(32)}`,
      attester: SIGNER,
      itemCount: 1234,
      status: "recalled",
      eventHead: `0x${"22".repeat(32)}`,
      custodian: ORIGIN,
      pendingReceiver: "0x0000000000000000000000000000000000000000",
    });
  });

  it("answers organisation(address) with a short and a long metadataCid, asking for words it lacks", () => {
    const view: RegistryView = { kind: "organisation", signer: SIGNER };
    const base = mappingSlot(addressWord(SIGNER), REGISTRY_LAYOUT.variables._organisations);
    const word0 = word(SIGNER) | (3n << 160n) | (1n << 168n) | (330106n << 176n);
    // Short form: the bytes in the high end, twice the length in the low byte.
    const short = Uint8Array.from([1, 2, 3, 4, 5]);
    const shortWord = (BigInt(`0x${Buffer.from(short).toString("hex")}`) << BigInt(8 * (32 - short.length))) | 10n;
    const shortAnswer = answerFromStorage(
      view,
      storage([
        [base, word0],
        [base + 1n, shortWord],
      ])(view),
    );
    assert.ok("data" in shortAnswer);
    assert.deepEqual(decodeOrganisation(shortAnswer.data), {
      signer: SIGNER,
      kind: "logistics",
      status: "active",
      regionCode: 330106,
      metadataCid: "0x0102030405",
    });

    // Long form (a CIDv1 is 36 bytes): 2·length+1 in the slot, the words from keccak(slot).
    const cid = Uint8Array.from({ length: 70 }, (_, i) => i + 1);
    const dataStart = wordToBigInt(keccak256(uintWord(base + 1n)));
    const words = [0, 1, 2].map((i) =>
      BigInt(
        `0x${Buffer.from(cid.subarray(32 * i, 32 * i + 32))
          .toString("hex")
          .padEnd(64, "0")}`,
      ),
    );
    const firstRound = storage([
      [base, word0],
      [base + 1n, BigInt(2 * cid.length + 1)],
      [dataStart, words[0] ?? 0n],
      [dataStart + 1n, words[1] ?? 0n],
    ])(view);
    // The first round asked for two data words; a 70-byte value needs a third.
    assert.deepEqual(initialSlots(view).slice(2), [dataStart, dataStart + 1n]);
    const needMore = answerFromStorage(view, firstRound);
    assert.deepEqual(needMore, { need: [dataStart + 2n] });
    firstRound.set(dataStart + 2n, words[2] ?? 0n);
    const full = answerFromStorage(view, firstRound);
    assert.ok("data" in full);
    assert.equal(decodeOrganisation(full.data).metadataCid, `0x${Buffer.from(cid).toString("hex")}`);

    // A forged length cannot make a verifier read without end.
    assert.throws(
      () =>
        answerFromStorage(
          view,
          storage([
            [base, word0],
            [base + 1n, 2n * 10_000n + 1n],
          ])(view),
        ),
      /bytes too long/,
    );
  });

  it("answers containerState(bytes32) from its one slot", () => {
    const containerKey = `0x${"ef".repeat(32)}`;
    const call = `${bytesToHex(keccak256(new TextEncoder().encode("containerState(bytes32)")).subarray(0, 4))}${containerKey.slice(2)}`;
    const view = registryViewOf(call);
    assert.deepEqual(view, { kind: "containerState", containerKey });
    const slot = mappingSlot(uintWord(BigInt(containerKey)), REGISTRY_LAYOUT.variables._containers);
    assert.deepEqual(initialSlots(view), [slot]);
    const state = `0x${"5a".repeat(32)}`;
    assert.deepEqual(answerFromStorage(view, storage([[slot, word(state)]])(view)), { data: state });
    assert.deepEqual(answerFromStorage(view, new Map()), { need: [slot] });
  });

  it("answers originOf(address) as the view decides", () => {
    const view: RegistryView = { kind: "originOf", signer: SIGNER };
    const base = mappingSlot(addressWord(SIGNER), REGISTRY_LAYOUT.variables._organisations);
    const successors = mappingSlot(addressWord(SIGNER), REGISTRY_LAYOUT.variables._successors);
    const origins = mappingSlot(addressWord(SIGNER), REGISTRY_LAYOUT.variables._origins);
    const originOf = (entries: [bigint, bigint][]): string => {
      const answer = answerFromStorage(view, storage(entries)(view));
      assert.ok("data" in answer);
      return `0x${answer.data.slice(-40)}`;
    };
    const active = word(SIGNER) | (1n << 160n) | (1n << 168n);
    assert.equal(originOf([]), "0x0000000000000000000000000000000000000000", "never registered");
    assert.equal(originOf([[base, active]]), SIGNER.toLowerCase(), "its own origin");
    assert.equal(
      originOf([
        [base, active],
        [origins, word(ORIGIN)],
      ]),
      ORIGIN.toLowerCase(),
      "rotated to",
    );
    assert.equal(originOf([[successors, word(ORIGIN)]]), SIGNER.toLowerCase(), "a retired key");
  });
});
