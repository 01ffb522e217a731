import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Interface, Wallet, ZeroAddress, keccak256, toUtf8Bytes, zeroPadValue } from "ethers";

import { gtinCheckDigit } from "../domain/gs1.ts";
import { bizStepIndex, type BizStep } from "../domain/typed-data.ts";
import { loadArtifact } from "../ledger/registry-artifact.ts";
import { judgeAuthority } from "./authority.ts";
import { readAuthorityLogs, type ChainEvent } from "./authority-read.ts";
import { eventHead } from "./hash-chain.ts";
import { LOG_TOPICS, REGULATOR_ROLE, type RawLog } from "./registry-logs.ts";
import type { LogFilter, RpcClient } from "./rpc.ts";

const iface = new Interface(loadArtifact("interfaces/ITraceRegistry.sol", "ITraceRegistry").abi);
/** The deployed contract's ABI: the role events are AccessControl's. */
const deployed = new Interface(loadArtifact("TraceRegistry.sol", "TraceRegistry").abi);
const REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const body = "0690123400001";
const GTIN = BigInt(`${body}${gtinCheckDigit(body)}`);
const batchId = keccak256(toUtf8Bytes("batch"));
/** An organisation's key: only its address is used. */
interface Party {
  address: string;
}
const coop: Party = Wallet.createRandom();
const carrier: Party = Wallet.createRandom();
const lab: Party = Wallet.createRandom();
const regulator: Party = Wallet.createRandom();

/** A node holding `logs`, answering filters as eth_getLogs does, and the views the reader calls. */
function node(logs: RawLog[], head: string): { rpc: RpcClient; filters: LogFilter[] } {
  const filters: LogFilter[] = [];
  const matches = (log: RawLog, filter: LogFilter): boolean =>
    filter.topics.every((wanted, i) => {
      if (wanted === null) return true;
      const topic = log.topics[i]?.toLowerCase();
      return typeof wanted === "string"
        ? topic === wanted.toLowerCase()
        : wanted.some((w) => w.toLowerCase() === topic);
    });
  const rpc: RpcClient = {
    chainId: () => Promise.resolve(31337n),
    ethCall: (_to, data) => {
      const call = iface.parseTransaction({ data });
      if (call?.name === "originOf") return Promise.resolve(zeroPadValue(String(call.args[0]), 32));
      if (call?.name === "batch") {
        return Promise.resolve(
          iface.encodeFunctionResult("batch", [
            [keccak256("0x01"), coop.address, 1, 1, head, ZeroAddress, ZeroAddress],
          ]),
        );
      }
      return Promise.reject(new Error(`unexpected call ${call?.name ?? data}`));
    },
    getLogs: (filter) => {
      filters.push(filter);
      return Promise.resolve(logs.filter((log) => matches(log, filter)));
    },
  };
  return { rpc, filters };
}

let block = 10;
function raw(name: string, args: unknown[], abi = iface): RawLog {
  const { topics, data } = abi.encodeEventLog(name, args);
  return { topics, data, blockNumber: `0x${(block++).toString(16)}`, logIndex: "0x0" };
}

function events(steps: [Party, BizStep, Party | null][]): { chain: ChainEvent[]; logs: RawLog[] } {
  const digests: string[] = [];
  const chain: ChainEvent[] = [];
  const logs: RawLog[] = [];
  for (const [actor, step, counterparty] of steps) {
    digests.push(keccak256(toUtf8Bytes(`${digests.length}${step}`)));
    const event: ChainEvent = {
      actor: actor.address,
      bizStep: bizStepIndex(step),
      occurredAt: 1_767_225_600n + BigInt(digests.length),
      counterparty: counterparty?.address ?? ZeroAddress,
      newHead: eventHead(digests),
    };
    chain.push(event);
    logs.push(
      raw("EventRecorded", [
        batchId,
        event.actor,
        event.bizStep,
        event.occurredAt,
        "0x01",
        event.counterparty,
        1n,
        2n,
        "0x",
        event.newHead,
      ]),
    );
  }
  return { chain, logs };
}

describe("reading who was entitled over JSON-RPC", () => {
  const setup = (steps: [Party, BizStep, Party | null][], requestFirst: boolean) => {
    block = 10;
    const registered = [
      raw("RoleGranted", [REGULATOR_ROLE, regulator.address, coop.address], deployed),
      raw("OrganisationRegistered", [coop.address, 1, 330106, "0x01"]),
      raw("OrganisationRegistered", [carrier.address, 3, 330106, "0x01"]),
      raw("OrganisationRegistered", [lab.address, 5, 330106, "0x01"]),
      raw("CompanyPrefixBound", [6_901_234n, 7, coop.address]),
      raw("BatchAttested", [batchId, coop.address, GTIN, "L", batchId, 1, 1n, "KGM", 1n, "0x01", 1n, 2n, "0x"]),
    ];
    // A regulator's request (no signature), before or after the lab's event.
    const request = (): RawLog => raw("InspectionRequested", [batchId, lab.address, regulator.address, 0n, 0n, "0x"]);
    const before = requestFirst ? [request()] : [];
    const { chain, logs } = events(steps);
    const after = requestFirst ? [] : [request()];
    return { chain, all: [...registered, ...before, ...logs, ...after] };
  };
  const steps: [Party, BizStep, Party | null][] = [
    [coop, "harvesting", null],
    [lab, "inspecting", null],
    [coop, "packing", null],
  ];
  const domain = { chainId: 31337n, verifyingContract: REGISTRY };

  it("reads only the inspectors' event logs when the caller holds the events, and judges the same", async () => {
    const { chain, all } = setup(steps, true);
    const head = chain.at(-1)?.newHead ?? "";
    const full = node(all, head);
    const fromLogs = await readAuthorityLogs(full.rpc, {
      registry: REGISTRY,
      batchId,
      gtin: GTIN,
      keys: [coop.address],
      fromBlock: 0,
    });
    const lean = node(all, head);
    const fromEvents = await readAuthorityLogs(lean.rpc, {
      registry: REGISTRY,
      batchId,
      gtin: GTIN,
      keys: [coop.address, lab.address],
      fromBlock: 0,
      events: () => chain,
      inspectors: [lab.address],
    });
    const judge = (read: typeof fromLogs) => judgeAuthority({ domain, batchId, ...read });
    const expected = judge(fromLogs);
    assert.deepEqual(expected.findings, []);
    assert.deepEqual(
      expected.events.map((e) => [e.step, e.basis, e.requestedBy]),
      [
        ["harvesting", "cooperative", null],
        ["inspecting", "requested_inspector", "regulator"],
        ["packing", "cooperative", null],
      ],
    );
    const lean_ = judge(fromEvents);
    assert.deepEqual(
      lean_.events.map((e) => [e.step, e.basis, e.newHead]),
      expected.events.map((e) => [e.step, e.basis, e.newHead]),
    );
    // Only the lab's event log was read: one filter names it, and no filter reads every event.
    const eventFilters = lean.filters.filter((f) =>
      JSON.stringify(f.topics).includes(iface.getEvent("EventRecorded")?.topicHash ?? "-"),
    );
    assert.equal(eventFilters.length, 1);
    assert.equal(eventFilters[0]?.topics[2]?.[0], zeroPadValue(lab.address, 32));
    // The regulator role's grants were read, by the role's topic.
    assert.ok(
      lean.filters.some(
        (f) => JSON.stringify(f.topics[0]).includes(LOG_TOPICS.RoleGranted) && f.topics[1] === REGULATOR_ROLE,
      ),
    );
  });

  it("does not count an unsigned request from an account the chain never gave the regulator role", async () => {
    const { chain, all } = setup(steps, true);
    const withoutGrant = all.filter((log) => log.topics[0] !== LOG_TOPICS.RoleGranted);
    const { rpc } = node(withoutGrant, chain.at(-1)?.newHead ?? "");
    const read = await readAuthorityLogs(rpc, {
      registry: REGISTRY,
      batchId,
      gtin: GTIN,
      keys: [coop.address, lab.address],
      fromBlock: 0,
      events: () => chain,
      inspectors: [lab.address],
    });
    const report = judgeAuthority({ domain, batchId, ...read });
    assert.deepEqual(
      report.findings.map((f) => f.code),
      ["inspection_request_not_regulator", "no_custody"],
    );
  });

  it("places a stand-in event after a request only when the chain did: a request after the lab's event does not count", async () => {
    const { chain, all } = setup(steps, false);
    const { rpc } = node(all, chain.at(-1)?.newHead ?? "");
    const read = await readAuthorityLogs(rpc, {
      registry: REGISTRY,
      batchId,
      gtin: GTIN,
      keys: [coop.address, lab.address],
      fromBlock: 0,
      events: () => chain,
      inspectors: [lab.address],
    });
    const report = judgeAuthority({ domain, batchId, ...read });
    assert.deepEqual(
      report.findings.map((f) => (f.code === "no_custody" ? [f.code, f.index] : [f.code])),
      [["no_custody", 1]],
    );
  });

  it("judges only the events the chain's head covers: a pending one is left out", async () => {
    const { chain, all } = setup(steps, true);
    const { rpc } = node(all, chain[1]?.newHead ?? "");
    const read = await readAuthorityLogs(rpc, {
      registry: REGISTRY,
      batchId,
      gtin: GTIN,
      keys: [coop.address],
      fromBlock: 0,
      events: () => chain,
      inspectors: [lab.address],
    });
    assert.deepEqual(
      judgeAuthority({ domain, batchId, ...read }).events.map((e) => e.step),
      ["harvesting", "inspecting"],
    );
  });
});
