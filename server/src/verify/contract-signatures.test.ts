import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Interface, Wallet, hexlify, id, randomBytes } from "ethers";

import { AppError } from "../errors/app-error.ts";
import {
  askContractSigner,
  askContractSigners,
  contractSigned,
  encodeIsValidSignature,
  ERC1271_MAGIC,
  isMagicAnswer,
  signatureKey,
} from "./contract-signatures.ts";
import type { RpcClient } from "./rpc.ts";

const erc1271 = new Interface(["function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)"]);
const WALLET = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const DIGEST = hexlify(randomBytes(32));
const SIGNATURE = Wallet.createRandom().signingKey.sign(DIGEST).serialized;
const MAGIC_WORD = erc1271.encodeFunctionResult("isValidSignature", [ERC1271_MAGIC]);

interface Call {
  to: string;
  data: string;
  block: string | undefined;
}

/** A node that answers `eth_call` by `answer`, recording each call. */
function fakeRpc(answer: (call: Call) => string): { rpc: RpcClient; calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    rpc: {
      chainId: () => Promise.resolve(31337n),
      ethCall: (to, data, block) => {
        const call = { to, data, block };
        calls.push(call);
        try {
          return Promise.resolve(answer(call));
        } catch (error) {
          return Promise.reject(error instanceof Error ? error : new Error(String(error)));
        }
      },
    },
  };
}

const rpcError = (error: string): AppError => new AppError("verify.rpc", { method: "eth_call", error });

describe("ERC-1271 encoding", () => {
  it("encodes isValidSignature(bytes32,bytes) as ethers does, for signatures of any length", () => {
    for (const signature of [SIGNATURE, "0x", hexlify(randomBytes(33)), hexlify(randomBytes(130))]) {
      assert.equal(
        encodeIsValidSignature(DIGEST, signature),
        erc1271.encodeFunctionData("isValidSignature", [DIGEST, signature]),
      );
    }
    assert.equal(ERC1271_MAGIC, id("isValidSignature(bytes32,bytes)").slice(0, 10));
  });

  it("takes only the magic value left-aligned in a whole word", () => {
    assert.equal(isMagicAnswer(MAGIC_WORD), true);
    assert.equal(isMagicAnswer(MAGIC_WORD.toUpperCase().replace("0X", "0x")), true);
    assert.equal(isMagicAnswer("0x1626ba7e"), false, "not a whole word");
    assert.equal(isMagicAnswer(`0x${"0".repeat(56)}1626ba7e`), false, "right-aligned");
    assert.equal(isMagicAnswer(`0x1626ba7e${"0".repeat(55)}1`), false, "dirty low bytes");
    assert.equal(isMagicAnswer(erc1271.encodeFunctionResult("isValidSignature", ["0xffffffff"])), false);
    assert.equal(isMagicAnswer("0x"), false);
  });
});

describe("askContractSigner", () => {
  it("is valid when the wallet answers the magic value, asked at the record's block", async () => {
    const { rpc, calls } = fakeRpc(() => MAGIC_WORD);
    const verdict = await askContractSigner(rpc, { digest: DIGEST, signature: SIGNATURE, signer: WALLET, block: 42 });
    assert.equal(verdict.valid, true);
    assert.match(verdict.detail, /agrees \(ERC-1271, at block 42\)/);
    assert.deepEqual(calls, [{ to: WALLET, data: encodeIsValidSignature(DIGEST, SIGNATURE), block: "0x2a" }]);
  });

  it("refuses a wrong value, a revert and a key with no code", async () => {
    const wrong = fakeRpc(() => erc1271.encodeFunctionResult("isValidSignature", ["0xffffffff"]));
    const query = { digest: DIGEST, signature: SIGNATURE, signer: WALLET, block: 7n };
    const refused = await askContractSigner(wrong.rpc, query);
    assert.equal(refused.valid, false);
    assert.match(refused.detail, /does not agree at block 7/);

    const reverting = fakeRpc(() => {
      throw rpcError("execution reverted: GS026");
    });
    const reverted = await askContractSigner(reverting.rpc, query);
    assert.equal(reverted.valid, false);
    assert.equal(reverting.calls.length, 1, "a revert is the wallet's answer: not asked again at latest");

    const key = fakeRpc(() => "0x");
    const noCode = await askContractSigner(key.rpc, { ...query, block: null });
    assert.equal(noCode.valid, false);
    assert.match(noCode.detail, /no contract wallet there at the latest block/);
    assert.equal(key.calls[0]?.block, undefined);
  });

  it("asks at the latest block when the node keeps no state of the record's, and says so", async () => {
    const { rpc, calls } = fakeRpc(({ block }) => {
      if (block !== undefined) throw rpcError("missing trie node");
      return MAGIC_WORD;
    });
    const verdict = await askContractSigner(rpc, { digest: DIGEST, signature: SIGNATURE, signer: WALLET, block: 9 });
    assert.equal(verdict.valid, true);
    assert.match(verdict.detail, /at the latest block \(the node keeps no state of block 9\)/);
    assert.deepEqual(
      calls.map((c) => c.block),
      ["0x9", undefined],
    );
    // And refused when the latest block refuses too.
    const down = fakeRpc(() => {
      throw rpcError("header not found");
    });
    assert.equal(
      (await askContractSigner(down.rpc, { digest: DIGEST, signature: SIGNATURE, signer: WALLET, block: 9 })).valid,
      false,
    );
  });

  it("offline, says a contract wallet could not be asked", async () => {
    const verdict = await askContractSigner(undefined, { digest: DIGEST, signature: SIGNATURE, signer: WALLET });
    assert.equal(verdict.valid, false);
    assert.match(verdict.detail, /no chain to ask whether it is a contract wallet/);
  });

  it("contractSigned keeps only the agreed signatures, keyed case-insensitively", async () => {
    const other = hexlify(randomBytes(65));
    const { rpc } = fakeRpc(({ data }) =>
      data === encodeIsValidSignature(DIGEST, SIGNATURE)
        ? MAGIC_WORD
        : erc1271.encodeFunctionResult("isValidSignature", ["0x00000000"]),
    );
    const agreed = await contractSigned(
      (queries) => askContractSigners(rpc, queries),
      [
        { digest: DIGEST, signature: SIGNATURE, signer: WALLET },
        { digest: DIGEST, signature: other, signer: WALLET },
      ],
    );
    assert.deepEqual(
      [...agreed],
      [signatureKey({ digest: DIGEST, signature: SIGNATURE, signer: WALLET.toLowerCase() })],
    );
  });
});
