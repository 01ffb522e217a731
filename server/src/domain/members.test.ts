import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { capabilitiesOf, mayWrite, type Capability } from "./members.ts";

describe("people's capabilities", () => {
  it("gives the chair every capability and a member only what was given", () => {
    assert.deepEqual(capabilitiesOf("chair", []), ["batches", "events", "members"]);
    assert.deepEqual(capabilitiesOf("member", ["members", "events"]), ["events", "members"]);
  });

  it("lets each write through only with its capability, and closes unnamed writes to all but the chair", () => {
    const all: Capability[] = ["batches", "events", "members"];
    const cases: [Capability[], string, string, boolean][] = [
      [[], "GET", "/api/v1/batches", true],
      [[], "POST", "/api/v1/applications", true],
      [[], "POST", "/api/v1/applications/licence", true],
      [[], "POST", "/api/v1/sign-in", true],
      [[], "DELETE", "/api/v1/me/session", true],
      [[], "POST", "/rpc", true],
      [["events"], "POST", "/api/v1/batches", false],
      [["batches"], "POST", "/api/v1/batches", true],
      [["batches"], "POST", "/api/v1/batches/0xab/certificates", true],
      [["batches"], "POST", "/api/v1/batches/0xab/events", false],
      [["events"], "POST", "/api/v1/batches/0xab/events", true],
      [["events"], "POST", "/api/v1/containers/012345678901234560/ship", true],
      [["batches"], "POST", "/api/v1/orders", false],
      [["events"], "POST", "/api/v1/orders", true],
      [["events"], "POST", "/api/v1/media", true],
      [["events"], "POST", "/api/v1/organisations/org_1/members", false],
      [["members"], "DELETE", "/api/v1/organisations/org_1/members/mem_1/sessions/cred_1", true],
      // Unnamed writes: deciding an application, suspending, onboarding.
      [["events", "members"], "POST", "/api/v1/applications/app_1/approve", false],
      [all, "POST", "/api/v1/applications/app_1/approve", true],
      [["batches", "events"], "POST", "/api/v1/organisations/org_1/suspend", false],
    ];
    for (const [held, method, path, allowed] of cases) {
      assert.equal(mayWrite(held, method, path), allowed, `${held.join("+") || "nothing"} ${method} ${path}`);
    }
  });
});
