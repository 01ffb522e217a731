/** The problem+json bodies the one error type renders into, family by family. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { z } from "zod";

import { AppError } from "../errors/app-error.ts";
import { ERRORS, isErrorCode } from "../errors/registry.ts";
import { PROBLEM_CODES, problemBody, toProblem } from "./problem.ts";

describe("problem+json bodies", () => {
  it("are made from registry codes only (an unknown code fails the type check)", () => {
    // @ts-expect-error "no.such_code" is not in the registry: `tsc` fails if this line stops being an error
    const unknown = new AppError("no.such_code");
    assert.equal(isErrorCode(unknown.code), false);
    assert.equal(isErrorCode("gs1.check_digit"), true);
  });

  it("gives a request-level code its details as top-level members, with its status and both messages", () => {
    const body = problemBody(
      new AppError("batch.too_many_items", { maxItems: 5 }, { detail: "6 items; at most 5" }),
      "/x",
    );
    assert.deepEqual(body, {
      maxItems: 5,
      type: "/problems/batch.too_many_items",
      title: ERRORS["batch.too_many_items"].en,
      status: 413,
      code: "batch.too_many_items",
      message: { en: ERRORS["batch.too_many_items"].en, zh: ERRORS["batch.too_many_items"].zh },
      detail: "6 items; at most 5",
      instance: "/x",
    });
  });

  it("gives a domain refusal its details under `details`, even when there are none", () => {
    const withDetails = problemBody(new AppError("gs1.check_digit", { gtin: "06901234567891" }));
    assert.deepEqual(withDetails.details, { gtin: "06901234567891" });
    assert.equal(withDetails.status, 400);
    assert.equal(withDetails.type, "/problems/gs1.check_digit");
    assert.deepEqual(problemBody(new AppError("merkle.empty")).details, {});
    assert.equal(problemBody(new AppError("labels.font_missing")).status, 503);
  });

  it("answers a fault on our side as internal.error, keeping the original as the cause", () => {
    for (const code of ["ipfs.corrupt", "export.event_data_invalid", "verify.rpc"] as const) {
      const thrown = new AppError(code, { secret: "kept out" }, { detail: "kept out too" });
      const body = problemBody(thrown);
      assert.equal(body.code, "internal.error");
      assert.equal(body.status, 500);
      assert.equal(JSON.stringify(body).includes("kept out"), false, code);
      const problem = toProblem(thrown);
      assert.equal(problem.code, "internal.error");
      assert.equal(problem.cause, thrown);
      assert.equal(PROBLEM_CODES.includes(code), false);
    }
  });

  it("turns what libraries throw into the code their meaning has", () => {
    const zod = z.object({ gtin: z.string() }).safeParse({ gtin: 1 });
    assert.ok(!zod.success);
    const invalid = problemBody(toProblem(zod.error));
    assert.equal(invalid.code, "request.invalid");
    assert.deepEqual(invalid.issues, [{ path: ["gtin"], message: zod.error.issues[0]?.message }]);
    assert.match(invalid.detail ?? "", /^gtin: /);
    assert.equal(toProblem(new URIError("URI malformed")).code, "request.invalid");
    const unknown = new Error("boom");
    assert.equal(toProblem(unknown).code, "internal.error");
    assert.equal(toProblem(unknown).cause, unknown);
  });
});
