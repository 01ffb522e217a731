import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";

import { RLP } from "@ethereumjs/rlp";
import { SigningKey, computeAddress, getBytes, keccak256 } from "ethers";
import fc from "fast-check";

import { AppError, isAppError } from "../errors/app-error.ts";
import { HEADER_FIELD_NAMES, rpcBlockOf } from "../../../test/support/qbft-blocks.ts";
import { bytesToHex, hexToBytes } from "./bytes.ts";
import {
  decodeQbftExtraData,
  encodeQbftExtraData,
  qbftHeaderFromRlp,
  qbftHeaderFromRpcBlock,
  qbftQuorum,
  verifyQbftSeals,
  type QbftHeader,
} from "./qbft-seals.ts";

const DATA_DIR = path.resolve(import.meta.dirname, "../../../test/data/qbft");

interface RecordedHeader {
  headerRlp: string;
  commitPreimageRlp: string;
  commitHash: string;
  number: number;
  timestamp: number;
  stateRoot: string;
  round: number;
  validators: string[];
  sealCount: number;
}

interface ExtraDataVector {
  name: string;
  hex: string;
  vanity: string;
  validators: string[];
  vote: { recipient: string; add: boolean } | null;
  round: number;
  sealCount: number;
}

const recorded = JSON.parse(readFileSync(path.join(DATA_DIR, "recorded-besu-header.json"), "utf8")) as RecordedHeader;
const vectors = (
  JSON.parse(readFileSync(path.join(DATA_DIR, "extra-data-vectors.json"), "utf8")) as { vectors: ExtraDataVector[] }
).vectors;

const REAL_RLP = hexToBytes(recorded.headerRlp);
const EXTRA = 12;

/** The recorded header's fields, as plain RLP items (no code under test involved). */
function realFields(): Uint8Array[] {
  return RLP.decode(REAL_RLP) as Uint8Array[];
}

/** The recorded extraData's items, as plain RLP. */
function realExtraItems(): [Uint8Array, Uint8Array[], Uint8Array[], Uint8Array, Uint8Array[]] {
  const items = RLP.decode(realFields()[EXTRA]) as unknown[];
  return items as [Uint8Array, Uint8Array[], Uint8Array[], Uint8Array, Uint8Array[]];
}

function headerWithExtra(items: unknown[]): Uint8Array {
  const fields: unknown[] = realFields();
  fields[EXTRA] = RLP.encode(items as Uint8Array[]);
  return RLP.encode(fields as Uint8Array[]);
}

function withSeals(seals: Uint8Array[]): Uint8Array {
  const [vanity, validators, vote, round] = realExtraItems();
  return headerWithExtra([vanity, validators, vote, round, seals]);
}

/** A seal as Besu writes it: r ‖ s ‖ recovery id (0 or 1). */
function seal(key: SigningKey, digest: string): Uint8Array {
  const signature = key.sign(digest);
  return getBytes(`${signature.r}${signature.s.slice(2)}${signature.yParity === 0 ? "00" : "01"}`);
}

function assertCode(code: string) {
  return (error: unknown) => {
    assert.ok(error instanceof AppError, `expected an AppError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  };
}

describe("QBFT committed seals on a recorded Besu block", () => {
  it("the recorded block 7528 verifies with its four validators: three seals, quorum three", () => {
    const check = verifyQbftSeals(REAL_RLP, recorded.validators);
    assert.equal(check.ok, true, check.reason ?? "");
    assert.equal(check.reason, undefined);
    assert.equal(check.sealedBy.length, 3);
    assert.deepEqual(
      check.validatorsInHeader.map((a) => a.toLowerCase()),
      recorded.validators,
    );
    for (const signer of check.sealedBy) assert.ok(recorded.validators.includes(signer.toLowerCase()));
    // What the validators signed equals the recorded keccak of the header without its seals.
    assert.equal(check.commitHash, recorded.commitHash);
    assert.equal(keccak256(recorded.commitPreimageRlp), recorded.commitHash);
  });

  it("reads the block's number, timestamp, state root and round from the header", () => {
    const header = qbftHeaderFromRlp(REAL_RLP);
    assert.equal(header.number, BigInt(recorded.number));
    assert.equal(header.timestamp, BigInt(recorded.timestamp));
    assert.equal(header.stateRoot, recorded.stateRoot);
    assert.equal(header.extraData.round, recorded.round);
    assert.equal(header.extraData.seals.length, recorded.sealCount);
  });

  it("the block's hash leaves the round out (Besu's on-chain rule) and differs from what was sealed", () => {
    const [vanity, validators, vote] = realExtraItems();
    const fields: unknown[] = realFields();
    fields[EXTRA] = RLP.encode([vanity, validators, vote, new Uint8Array(0), []] as Uint8Array[]);
    const expected = keccak256(RLP.encode(fields as Uint8Array[]));
    const header = qbftHeaderFromRlp(REAL_RLP);
    assert.equal(header.hash, expected);
    assert.notEqual(header.hash, recorded.commitHash);
  });

  it("a flipped byte in any header field fails", () => {
    const fields = realFields();
    for (let index = 0; index < fields.length; index++) {
      const changed = fields.map((field) => field.slice());
      const field = changed[index] ?? new Uint8Array(0);
      if (index === EXTRA) continue; // its parts are changed one by one below
      if (field.length === 0) changed[index] = Uint8Array.of(1);
      // 0x02, not 0x01: difficulty is 1, and 0 written as one byte would be malformed rather than different.
      else field[field.length - 1] = (field[field.length - 1] ?? 0) ^ 0x02;
      const check = verifyQbftSeals(RLP.encode(changed), recorded.validators);
      assert.equal(check.ok, false, `${HEADER_FIELD_NAMES[index] ?? index} changed and still verified`);
      assert.match(check.reason ?? "", /3 of 4 pinned validators needed, 0 sealed/);
    }
  });

  it("a changed vanity, validator list, vote, round or seal in extraData fails", () => {
    const [vanity, validators, vote, round, seals] = realExtraItems();
    const flip = (bytes: Uint8Array, at = bytes.length - 1) => {
      const copy = bytes.slice();
      copy[at] = (copy[at] ?? 0) ^ 0x01;
      return copy;
    };
    const variants: Record<string, unknown[]> = {
      vanity: [flip(vanity), validators, vote, round, seals],
      validators: [vanity, [flip(validators[0] ?? new Uint8Array(20)), ...validators.slice(1)], vote, round, seals],
      "one validator dropped": [vanity, validators.slice(1), vote, round, seals],
      vote: [vanity, validators, [validators[0], Uint8Array.of(0xff)], round, seals],
      round: [vanity, validators, vote, Uint8Array.of(2), seals],
      "first seal": [vanity, validators, vote, round, [flip(seals[0] ?? new Uint8Array(65), 10), ...seals.slice(1)]],
      "last seal's recovery id": [
        vanity,
        validators,
        vote,
        round,
        [...seals.slice(0, 2), flip(seals[2] ?? new Uint8Array(65))],
      ],
    };
    for (const [name, items] of Object.entries(variants)) {
      const check = verifyQbftSeals(headerWithExtra(items), recorded.validators);
      assert.equal(check.ok, false, `${name} changed and still verified`);
    }
  });

  it("any single-byte change to the recorded header never verifies (property)", () => {
    fc.assert(
      fc.property(fc.nat({ max: REAL_RLP.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, mask) => {
        const changed = REAL_RLP.slice();
        changed[at] = (changed[at] ?? 0) ^ mask;
        try {
          return !verifyQbftSeals(changed, recorded.validators).ok;
        } catch (error) {
          // Malformed is a clear error with a code, never a crash of another kind.
          return isAppError(error, "verify.qbft_header") || isAppError(error, "verify.qbft_extra_data");
        }
      }),
      { numRuns: 80 },
    );
  });

  it("a seal removed below the quorum fails and says how many were needed", () => {
    const [, , , , seals] = realExtraItems();
    const check = verifyQbftSeals(withSeals(seals.slice(0, 2)), recorded.validators);
    assert.equal(check.ok, false);
    assert.equal(check.sealedBy.length, 2);
    assert.equal(check.reason, "3 of 4 pinned validators needed, 2 sealed");
  });

  it("a duplicated seal counts once", () => {
    const [, , , , seals] = realExtraItems();
    const [first, second, third] = seals as [Uint8Array, Uint8Array, Uint8Array];
    const duplicated = verifyQbftSeals(withSeals([first, first, first, second]), recorded.validators);
    assert.equal(duplicated.ok, false);
    assert.equal(duplicated.sealedBy.length, 2);
    assert.equal(duplicated.reason, "3 of 4 pinned validators needed, 2 sealed");
    const extra = verifyQbftSeals(withSeals([first, second, third, third]), recorded.validators);
    assert.equal(extra.ok, true);
    assert.equal(extra.sealedBy.length, 3);
  });

  it("a seal by an address that is not pinned does not count, though it is a valid seal", () => {
    const [, , , , seals] = realExtraItems();
    const outsider = new SigningKey(`0x${"42".repeat(32)}`);
    const forged = seal(outsider, recorded.commitHash);
    const header = withSeals([...seals.slice(0, 2), forged]);
    const check = verifyQbftSeals(header, recorded.validators);
    assert.equal(check.ok, false);
    assert.equal(
      check.reason,
      "3 of 4 pinned validators needed, 2 sealed; 1 seal by addresses not pinned did not count",
    );
    // The same seal counts once its signer is pinned: the refusal above is for who signed, not how.
    const outsiderAddress = computeAddress(outsider.publicKey);
    const pinnedWithOutsider = [...recorded.validators.slice(0, 3), outsiderAddress];
    const accepted = verifyQbftSeals(header, pinnedWithOutsider);
    assert.ok(accepted.sealedBy.includes(outsiderAddress));
  });

  it("validators pinned differently fail, and the reason names the differing list", () => {
    const strangers = [1, 2, 3, 4].map((i) =>
      computeAddress(new SigningKey(`0x${String(i).padStart(64, "0")}`).publicKey),
    );
    const check = verifyQbftSeals(REAL_RLP, strangers);
    assert.equal(check.ok, false);
    assert.deepEqual(check.sealedBy, []);
    assert.match(
      check.reason ?? "",
      /^3 of 4 pinned validators needed, 0 sealed; 3 seals by addresses not pinned did not count/,
    );
    assert.match(check.reason ?? "", /validator list differs from the pinned set/);

    // One sealer swapped for a stranger: two of the pinned sealed, three were needed.
    const sealers = verifyQbftSeals(REAL_RLP, recorded.validators).sealedBy;
    const swapped = [...recorded.validators.filter((a) => a !== sealers[0]?.toLowerCase()), strangers[0] ?? ""];
    const partly = verifyQbftSeals(REAL_RLP, swapped);
    assert.equal(partly.ok, false);
    assert.equal(partly.sealedBy.length, 2);
  });

  it("the pinned set is what counts: its quorum verifies even when the block lists other validators", () => {
    // Pinning the three sealers only: quorum ceil(6/3) = 2 of 3, and all three sealed.
    const sealers = verifyQbftSeals(REAL_RLP, recorded.validators).sealedBy;
    const check = verifyQbftSeals(REAL_RLP, sealers);
    assert.equal(check.ok, true);
    assert.equal(check.validatorsInHeader.length, 4);
  });

  it("nothing is trusted when no validators are pinned", () => {
    const check = verifyQbftSeals(REAL_RLP, []);
    assert.equal(check.ok, false);
    assert.match(check.reason ?? "", /no validators are pinned/);
  });

  it("a pinned validator that is not an address is a clear error", () => {
    assert.throws(() => verifyQbftSeals(REAL_RLP, ["0x1234"]), assertCode("verify.address"));
  });
});

describe("QBFT extraData codec", () => {
  it("decodes Besu's own codec vector and the recorded one to their documented values and re-encodes them byte for byte", () => {
    for (const vector of vectors) {
      const extra = decodeQbftExtraData(hexToBytes(vector.hex));
      assert.equal(bytesToHex(extra.vanity), vector.vanity, vector.name);
      assert.deepEqual(extra.validators, vector.validators, vector.name);
      assert.deepEqual(extra.vote, vector.vote, vector.name);
      assert.equal(extra.round, vector.round, vector.name);
      assert.equal(extra.seals.length, vector.sealCount, vector.name);
      assert.equal(bytesToHex(encodeQbftExtraData(extra, { withSeals: true })), vector.hex, vector.name);
    }
  });

  it("encodes without seals as Besu does: the round kept, an empty seal list; or round 0 for the block hash", () => {
    const vector = vectors[0];
    assert.ok(vector);
    const items = RLP.decode(hexToBytes(vector.hex)) as Uint8Array[];
    const extra = decodeQbftExtraData(hexToBytes(vector.hex));
    const noSeals = RLP.encode([items[0], items[1], items[2], items[3], []] as Uint8Array[]);
    assert.deepEqual(encodeQbftExtraData(extra, { withSeals: false }), noSeals);
    const roundZero = RLP.encode([items[0], items[1], items[2], new Uint8Array(0), []] as Uint8Array[]);
    assert.deepEqual(encodeQbftExtraData(extra, { withSeals: false, round: 0 }), roundZero);
  });

  it("reads a drop vote written as an empty kind or as 0x00, and writes it as Besu does (empty)", () => {
    const recipient = new Uint8Array(20).fill(7);
    for (const kind of [new Uint8Array(0), Uint8Array.of(0)]) {
      const bytes = RLP.encode([new Uint8Array(32), [], [recipient, kind], Uint8Array.of(1), []] as Uint8Array[]);
      const extra = decodeQbftExtraData(bytes);
      assert.deepEqual(extra.vote, { recipient: bytesToHex(recipient), add: false });
      const written = RLP.decode(encodeQbftExtraData(extra, { withSeals: true })) as unknown[];
      assert.deepEqual((written[2] as Uint8Array[])[1], new Uint8Array(0));
    }
  });

  it("malformed extraData is a clear error, not a crash", () => {
    const ok = realExtraItems();
    const [vanity, validators, vote, round, seals] = ok;
    const cases: Record<string, Uint8Array> = {
      "not RLP": Uint8Array.of(0xf9, 0xff),
      "not a list": RLP.encode(Uint8Array.of(1, 2, 3)),
      "four items": RLP.encode([vanity, validators, vote, round] as Uint8Array[]),
      "a 19-byte validator": RLP.encode([vanity, [new Uint8Array(19)], vote, round, seals] as Uint8Array[]),
      "validators not a list": RLP.encode([vanity, new Uint8Array(20), vote, round, seals] as Uint8Array[]),
      "a 64-byte seal": RLP.encode([vanity, validators, vote, round, [new Uint8Array(64)]] as Uint8Array[]),
      "a vote that is not a list": RLP.encode([vanity, validators, new Uint8Array(20), round, seals] as Uint8Array[]),
      "a vote of unknown kind": RLP.encode([
        vanity,
        validators,
        [new Uint8Array(20), Uint8Array.of(5)],
        round,
        seals,
      ] as Uint8Array[]),
      "a five-byte round": RLP.encode([vanity, validators, vote, Uint8Array.of(1, 0, 0, 0, 0), seals] as Uint8Array[]),
      "a round with a leading zero": RLP.encode([vanity, validators, vote, Uint8Array.of(0, 1), seals] as Uint8Array[]),
      "a negative round": RLP.encode([vanity, validators, vote, Uint8Array.of(0x80, 0, 0, 0), seals] as Uint8Array[]),
    };
    for (const [name, bytes] of Object.entries(cases)) {
      assert.throws(() => decodeQbftExtraData(bytes), assertCode("verify.qbft_extra_data"), name);
      assert.throws(
        () => verifyQbftSeals(replaceExtra(bytes), recorded.validators),
        assertCode("verify.qbft_extra_data"),
        name,
      );
    }
  });

  it("a malformed header is a clear error, not a crash", () => {
    const fields = realFields();
    const shortRoot = fields.map((f, i) => (i === 3 ? f.subarray(1) : f));
    const cases: Record<string, Uint8Array> = {
      "not RLP": Uint8Array.of(0xc5, 0x01),
      "fourteen fields": RLP.encode(fields.slice(0, 14)),
      "a 31-byte state root": RLP.encode(shortRoot),
      "a number with a leading zero": RLP.encode(fields.map((f, i) => (i === 8 ? Uint8Array.of(0, ...f) : f))),
      "a nested list": RLP.encode([...fields.slice(0, 14), [fields[14] ?? new Uint8Array(8)]] as Uint8Array[]),
    };
    for (const [name, bytes] of Object.entries(cases)) {
      assert.throws(() => verifyQbftSeals(bytes, recorded.validators), assertCode("verify.qbft_header"), name);
    }
  });
});

/** The recorded header with its extraData replaced by these bytes. */
function replaceExtra(extra: Uint8Array): Uint8Array {
  const fields = realFields();
  fields[EXTRA] = extra;
  return RLP.encode(fields);
}

describe("QBFT headers from eth_getBlockByNumber", () => {
  const realHash = qbftHeaderFromRlp(REAL_RLP).hash;

  it("the recorded block, given as an endpoint's JSON, is read back to the same header and verifies", () => {
    const header = qbftHeaderFromRpcBlock(rpcBlockOf(realFields(), realHash));
    assert.deepEqual(header.fields, realFields());
    assert.equal(header.stateRoot, recorded.stateRoot);
    assert.equal(verifyQbftSeals(header, recorded.validators).ok, true);
  });

  it("an answer whose fields do not hash to its hash is refused", () => {
    const block = rpcBlockOf(realFields(), realHash);
    block["stateRoot"] = `0x${"11".repeat(32)}`;
    assert.throws(() => qbftHeaderFromRpcBlock(block), assertCode("verify.qbft_header"));
    const otherHash = rpcBlockOf(realFields(), `0x${"22".repeat(32)}`);
    assert.throws(() => qbftHeaderFromRpcBlock(otherHash), assertCode("verify.qbft_header"));
  });

  it("answers that are not blocks, or miss or misshape a field, are clear errors", () => {
    const good = rpcBlockOf(realFields(), realHash);
    const variants: Array<[string, unknown]> = [
      ["null", null],
      ["an array", []],
      ["no stateRoot", { ...good, stateRoot: undefined }],
      ["a number as a JSON number", { ...good, number: 7528 }],
      ["a quantity with a leading zero", { ...good, number: "0x01d68" }],
      ["a 7-byte nonce", { ...good, nonce: "0x00000000000000" }],
      ["odd hex", { ...good, mixHash: "0x123" }],
      ["withdrawalsRoot without baseFeePerGas", { ...good, withdrawalsRoot: `0x${"00".repeat(32)}` }],
      ["no hash", { ...good, hash: undefined }],
    ];
    for (const [name, block] of variants) {
      assert.throws(() => qbftHeaderFromRpcBlock(block), assertCode("verify.qbft_header"), name);
    }
  });

  it("a Cancun-era block with seven validators verifies with five seals and not with four (constructed, see README)", () => {
    const keys = [1, 2, 3, 4, 5, 6, 7].map((i) => new SigningKey(`0x${(0x1000 + i).toString(16).padStart(64, "0")}`));
    const validators = keys.map((key) => computeAddress(key.publicKey));
    const vanity = new Uint8Array(32);
    const validatorBytes = validators.map((a) => getBytes(a));
    const round = Uint8Array.of(3);
    const fields: Uint8Array[] = [
      getBytes(`0x${"ab".repeat(32)}`),
      getBytes("0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347"),
      validatorBytes[2] ?? new Uint8Array(20),
      getBytes(`0x${"cd".repeat(32)}`),
      getBytes("0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"),
      getBytes("0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"),
      new Uint8Array(256),
      Uint8Array.of(1),
      Uint8Array.of(0x01, 0x00),
      Uint8Array.of(0x1f, 0xff, 0xff, 0xff),
      new Uint8Array(0),
      Uint8Array.of(0x68, 0x00, 0x00, 0x01),
      new Uint8Array(0), // extraData, set below
      getBytes("0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"),
      new Uint8Array(8),
      Uint8Array.of(0x07),
      getBytes(`0x${"ee".repeat(32)}`),
      new Uint8Array(0),
      new Uint8Array(0),
      getBytes(`0x${"ff".repeat(32)}`),
    ];
    // What Besu's validators sign: the header with extraData's seals emptied and its round kept.
    fields[EXTRA] = RLP.encode([vanity, validatorBytes, [], round, []] as Uint8Array[]);
    const commitHash = keccak256(RLP.encode(fields));
    // The block's hash: the round set to 0 as well.
    fields[EXTRA] = RLP.encode([vanity, validatorBytes, [], new Uint8Array(0), []] as Uint8Array[]);
    const blockHash = keccak256(RLP.encode(fields));
    const sealed = (count: number) => {
      const sealedFields = fields.slice();
      sealedFields[EXTRA] = RLP.encode([
        vanity,
        validatorBytes,
        [],
        round,
        keys.slice(0, count).map((key) => seal(key, commitHash)),
      ] as Uint8Array[]);
      return rpcBlockOf(sealedFields, blockHash);
    };
    assert.equal(qbftQuorum(7), 5);
    const five = verifyQbftSeals(qbftHeaderFromRpcBlock(sealed(5)), validators);
    assert.equal(five.ok, true, five.reason ?? "");
    assert.equal(five.commitHash, commitHash);
    assert.equal(five.hash, blockHash);
    const four = verifyQbftSeals(qbftHeaderFromRpcBlock(sealed(4)), validators);
    assert.equal(four.ok, false);
    assert.equal(four.reason, "5 of 7 pinned validators needed, 4 sealed");
  });

  it("a header object whose parts disagree is judged by its fields", () => {
    const header = qbftHeaderFromRlp(REAL_RLP);
    const [, , , , seals] = realExtraItems();
    const tampered: QbftHeader = {
      ...header,
      fields: header.fields.map((f, i) => (i === 3 ? new Uint8Array(32) : f)),
      extraData: { ...header.extraData, seals },
    };
    assert.equal(verifyQbftSeals(tampered, recorded.validators).ok, false);
  });
});

describe("the genesis block", () => {
  it("is hashed with its extraData as it is, and, having no seals, is never trusted by them", () => {
    // A Besu QBFT genesis extraData (four validators, round 0, no seals), from
    // datachainlab/besu-qbft-elc e2e/chains/chain1/network/genesis.json; the other fields are made here.
    const genesisExtra = getBytes(
      "0xf87aa00000000000000000000000000000000000000000000000000000000000000000f85494c09719b9508d76d9de1b82788bbc81f52f9f2bc094c1a765dad01fe8869c53c6a520bcc42dff42abb1944d7d7f66c08e076579638989ff0a2fefec46808e94f8110fa015efd6216c072b10ebe5190a0069e1b8c080c0",
    );
    const fields = realFields();
    fields[8] = new Uint8Array(0);
    fields[EXTRA] = genesisExtra;
    const rlp = RLP.encode(fields);
    const header = qbftHeaderFromRlp(rlp);
    assert.equal(header.number, 0n);
    assert.equal(header.hash, keccak256(rlp));
    assert.equal(header.extraData.validators.length, 4);
    const check = verifyQbftSeals(rlp, header.extraData.validators);
    assert.equal(check.ok, false);
    assert.equal(check.reason, "3 of 4 pinned validators needed, 0 sealed");
  });
});

describe("Besu's quorum", () => {
  it("is ceil(2n/3), Besu's fastDivCeiling(2n, 3), for 1 to 30 validators", () => {
    for (let n = 1; n <= 30; n++) assert.equal(qbftQuorum(n), Math.floor((2 * n + 3 - 1) / 3), `n = ${n}`);
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(qbftQuorum), [1, 2, 2, 3, 4, 4, 5]);
  });
});
