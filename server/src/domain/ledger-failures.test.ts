import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Interface } from "ethers";

import { traceRegistryArtifact } from "../ledger/registry-artifact.ts";
import { EXPLAINED_LEDGER_ERRORS, explainLedgerFailure } from "./ledger-failures.ts";

describe("ledger failure explanations", () => {
  it("explain every custom error the registry can raise, and nothing it cannot", () => {
    const errors: string[] = [];
    new Interface(traceRegistryArtifact().abi).forEachError((error) => errors.push(error.name));
    assert.ok(errors.length > 5, "the registry's ABI lists its custom errors");
    assert.deepEqual([...EXPLAINED_LEDGER_ERRORS].sort(), [...new Set(errors)].sort());
  });

  it("read the error name from the writer's text, with or without arguments or the retry mark", () => {
    assert.equal(explainLedgerFailure(null), null);
    assert.equal(explainLedgerFailure("RegistrySignatureExpired(1700000000, 1700000100)")?.code, "SignatureExpired");
    assert.equal(explainLedgerFailure("waiting: RegistryBatchUnknown(0xab)")?.code, "BatchUnknown");
    assert.equal(explainLedgerFailure("RegistrySignatureExpired")?.code, "SignatureExpired");
    const unknown = explainLedgerFailure("reverted without a known error");
    assert.equal(unknown?.code, "unknown");
    assert.match(unknown.zh, /管理员/);
  });

  it("report the codes the API reported before the registry's errors took their prefix", () => {
    assert.equal(explainLedgerFailure("RegistryOrganisationSuspended(0x01)")?.code, "OrganisationSuspendedError");
    for (const field of ["RegistryLotTooLong(21, 20)", "RegistryAdminZero()", "RegistryHarvestedAtInFuture(9, 8)"]) {
      assert.equal(explainLedgerFailure(field)?.code, "InvalidField", field);
    }
    // Reasons stored before the rename still explain as they did.
    const stored = explainLedgerFailure("SignatureExpired(1700000000, 1700000100)");
    assert.deepEqual(stored, explainLedgerFailure("RegistrySignatureExpired(1700000000, 1700000100)"));
    assert.equal(explainLedgerFailure("OrganisationSuspendedError(0x01)")?.code, "OrganisationSuspendedError");
    assert.equal(explainLedgerFailure('InvalidField("lot")')?.code, "InvalidField");
  });

  it("never explain a name that merely looks like a property of the table", () => {
    assert.equal(explainLedgerFailure("constructor(1)")?.code, "unknown");
    assert.equal(explainLedgerFailure("toString")?.code, "unknown");
  });
});
