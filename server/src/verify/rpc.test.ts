import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { AbiCoder, Interface, Wallet, hexlify } from "ethers";
import fc from "fast-check";

import { AppError } from "../errors/app-error.ts";
import {
  RPC_BATCH_MAX,
  createRpcClient,
  decodeBatchRecord,
  decodeOrganisation,
  encodeBatchCall,
  encodeOrganisationCall,
  type FetchLike,
} from "./rpc.ts";

const registry = new Interface([
  "function batch(bytes32 batchId) view returns (tuple(bytes32 itemsRoot, address attester, uint32 itemCount, uint8 status, bytes32 eventHead))",
  "function organisation(address signer) view returns (tuple(address signer, uint8 kind, uint8 status, uint32 regionCode, bytes metadataCid))",
]);
const word = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => hexlify(bytes));
const address = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((bytes) => hexlify(bytes));

describe("registry view ABI", () => {
  it("encodes calls as ethers' Interface does", () => {
    fc.assert(
      fc.property(word, address, (batchId, signer) => {
        assert.equal(encodeBatchCall(batchId), registry.encodeFunctionData("batch", [batchId]));
        assert.equal(encodeOrganisationCall(signer), registry.encodeFunctionData("organisation", [signer]));
      }),
      { numRuns: 50 },
    );
  });

  it("decodes batch(bytes32) results as ethers encodes them", () => {
    fc.assert(
      fc.property(
        word,
        address,
        fc.nat({ max: 2 ** 32 - 1 }),
        fc.nat({ max: 2 }),
        word,
        (root, attester, count, status, head) => {
          const data = registry.encodeFunctionResult("batch", [[root, attester, count, status, head]]);
          const decoded = decodeBatchRecord(data);
          assert.equal(decoded.itemsRoot, root);
          assert.equal(decoded.attester.toLowerCase(), attester);
          assert.equal(decoded.itemCount, count);
          assert.equal(decoded.status, (["none", "active", "recalled"] as const)[status]);
          assert.equal(decoded.eventHead, head);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("decodes organisation(address) results (a dynamic tuple) as ethers encodes them", () => {
    fc.assert(
      fc.property(
        address,
        fc.nat({ max: 5 }),
        fc.nat({ max: 2 }),
        fc.nat({ max: 999_999 }),
        fc.uint8Array({ maxLength: 70 }),
        (signer, kind, status, region, cid) => {
          const data = registry.encodeFunctionResult("organisation", [[signer, kind, status, region, cid]]);
          const decoded = decodeOrganisation(data);
          assert.equal(decoded.signer.toLowerCase(), signer);
          assert.equal(
            decoded.kind,
            (["none", "cooperative", "processor", "logistics", "retailer", "inspector"] as const)[kind],
          );
          assert.equal(decoded.status, (["none", "active", "suspended"] as const)[status]);
          assert.equal(decoded.regionCode, region);
          assert.equal(decoded.metadataCid, hexlify(cid));
        },
      ),
      { numRuns: 100 },
    );
  });

  it("refuses short data, an out-of-range enum and dirty address words", () => {
    const good = registry.encodeFunctionResult("batch", [
      [hexlify(new Uint8Array(32)), Wallet.createRandom().address, 1, 1, hexlify(new Uint8Array(32))],
    ]);
    assert.throws(() => decodeBatchRecord(good.slice(0, -64)), AppError);
    assert.throws(() => decodeBatchRecord("0x"), AppError);
    const badStatus = AbiCoder.defaultAbiCoder().encode(
      ["bytes32", "address", "uint32", "uint8", "bytes32"],
      [hexlify(new Uint8Array(32)), Wallet.createRandom().address, 1, 3, hexlify(new Uint8Array(32))],
    );
    assert.throws(() => decodeBatchRecord(badStatus), AppError);
    const dirty = good.slice(0, 66) + "ff" + good.slice(68);
    assert.throws(() => decodeBatchRecord(dirty), AppError);
  });
});

describe("JSON-RPC client", () => {
  type Call = { id: number; method: string; params: unknown[] };
  /** A node that answers eth_chainId and echoes eth_call data, batches in reverse order; records each POST. */
  function fakeNode(
    answer: (call: Call) => unknown = (call) => ({
      result:
        call.method === "eth_chainId"
          ? "0x7a69"
          : call.params.length > 0
            ? (call.params[0] as { data: string }).data
            : "0x",
    }),
  ) {
    const posts: unknown[] = [];
    const fetch: FetchLike = (_url, init) => {
      const body = JSON.parse(typeof init.body === "string" ? init.body : "null") as Call | Call[];
      posts.push(body);
      const reply = (call: Call) => ({ jsonrpc: "2.0", id: call.id, ...(answer(call) as object) });
      const out = Array.isArray(body) ? body.map(reply).reverse() : reply(body);
      return Promise.resolve(new Response(JSON.stringify(out), { headers: { "content-type": "application/json" } }));
    };
    return { fetch, posts };
  }

  it("sends the calls started together as one batch and matches answers by id", async () => {
    const node = fakeNode();
    const rpc = createRpcClient("http://node.test/rpc", { fetch: node.fetch });
    const [chainId, a, b] = await Promise.all([
      rpc.chainId(),
      rpc.ethCall("0x01", "0xaa"),
      rpc.ethCall("0x01", "0xbb"),
    ]);
    assert.equal(chainId, 31337n);
    assert.equal(a, "0xaa");
    assert.equal(b, "0xbb");
    assert.equal(node.posts.length, 1);
    assert.ok(Array.isArray(node.posts[0]));
    assert.equal((node.posts[0] as unknown[]).length, 3);
  });

  it("sends a lone call as a plain request, and one call per request when batching is off", async () => {
    const node = fakeNode();
    await createRpcClient("http://node.test/rpc", { fetch: node.fetch }).chainId();
    assert.equal(Array.isArray(node.posts[0]), false);
    const unbatched = fakeNode();
    const rpc = createRpcClient("http://node.test/rpc", { fetch: unbatched.fetch, batch: false });
    await Promise.all([rpc.chainId(), rpc.ethCall("0x01", "0xaa")]);
    assert.equal(unbatched.posts.length, 2);
  });

  it("never sends more than the proxy's batch limit in one request", async () => {
    const node = fakeNode();
    const rpc = createRpcClient("http://node.test/rpc", { fetch: node.fetch });
    const results = await Promise.all(
      Array.from({ length: 45 }, (_, i) => rpc.ethCall("0x01", `0x${i.toString(16).padStart(2, "0")}`)),
    );
    assert.deepEqual(
      results,
      Array.from({ length: 45 }, (_, i) => `0x${i.toString(16).padStart(2, "0")}`),
    );
    assert.deepEqual(
      node.posts.map((p) => (p as unknown[]).length),
      [RPC_BATCH_MAX, RPC_BATCH_MAX, 5],
    );
  });

  it("fails only the call whose answer is an error, and every call when the endpoint fails", async () => {
    const node = fakeNode((call) =>
      call.method === "eth_call" ? { error: { code: -32601, message: "refused" } } : { result: "0x1" },
    );
    const rpc = createRpcClient("http://node.test/rpc", { fetch: node.fetch });
    const [chainId, refused] = await Promise.allSettled([rpc.chainId(), rpc.ethCall("0x01", "0xaa")]);
    assert.equal(chainId.status, "fulfilled");
    assert.ok(refused.status === "rejected" && refused.reason instanceof AppError);

    const down = createRpcClient("http://node.test/rpc", {
      fetch: () => Promise.resolve(new Response("no", { status: 502 })),
    });
    const outcomes = await Promise.allSettled([down.chainId(), down.ethCall("0x01", "0xaa")]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ["rejected", "rejected"],
    );
  });
});
