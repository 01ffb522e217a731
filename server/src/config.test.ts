/**
 * The settings this file's schema adds for the HTTP edge: TRUST_PROXY in Express's
 * syntax (never "trust everyone"), the per-route body budget and the /rpc proxy's limits.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { ConfigError, loadConfig } from "./config.ts";

const base = {
  REGISTRY_ADDRESS: `0x${"11".repeat(20)}`,
  RELAYER_PRIVATE_KEY: `0x${"22".repeat(32)}`,
  KEYSTORE_SECRET: "k".repeat(16),
  HIDDEN_CODE_PEPPER: "p".repeat(16),
  ADMIN_TOKEN: "a".repeat(16),
};

describe("configuration of the HTTP edge", () => {
  it("trusts no proxy by default, and takes a hop count or addresses and CIDRs", () => {
    assert.equal(loadConfig(base).http.trustProxy, false);
    assert.equal(loadConfig({ ...base, TRUST_PROXY: "false" }).http.trustProxy, false);
    assert.equal(loadConfig({ ...base, TRUST_PROXY: "2" }).http.trustProxy, 2);
    assert.deepEqual(
      loadConfig({ ...base, TRUST_PROXY: "loopback, 10.0.0.0/8,fd00::/8,192.168.1.1" }).http.trustProxy,
      ["loopback", "10.0.0.0/8", "fd00::/8", "192.168.1.1"],
    );
  });

  it("refuses to trust every hop, and anything that is not an address", () => {
    for (const value of ["true", "10.0.0.0/33", "example.org", "10.0.0.1/8/1", "::1/129"]) {
      assert.throws(
        () => loadConfig({ ...base, TRUST_PROXY: value }),
        (error: unknown) => error instanceof ConfigError && error.issues.some((i) => i.startsWith("TRUST_PROXY")),
        value,
      );
    }
  });

  it("gives every route but uploads a short body budget, and bounds the /rpc proxy", () => {
    const config = loadConfig(base);
    assert.equal(config.http.bodyTimeoutMs, 20_000);
    assert.equal(config.http.headersTimeoutMs, 20_000);
    assert.equal(config.http.requestTimeoutMs, 6 * 3_600_000);
    assert.deepEqual(config.rpcProxy, {
      gasCap: 1_000_000,
      maxCallDataBytes: 4_096,
      maxLogBlockRange: 50_000,
      maxIndexedLogBlockRange: 100_000_000,
      callsPerMinute: 600,
      maxConcurrent: 4,
      upstreamTimeoutMs: 5_000,
    });
    assert.equal(loadConfig({ ...base, RPC_GAS_CAP: "30000", BODY_TIMEOUT_SECONDS: "5" }).rpcProxy.gasCap, 30_000);
  });
});

describe("configuration of the platform's GS1 prefix", () => {
  it("allocates nothing without one, and takes a prefix with its extra digits", () => {
    assert.equal(loadConfig(base).platformPrefix, undefined);
    assert.deepEqual(loadConfig({ ...base, PLATFORM_COMPANY_PREFIX: "0690123" }).platformPrefix, {
      prefix: "0690123",
      extraDigits: 3,
    });
    assert.deepEqual(
      loadConfig({ ...base, PLATFORM_COMPANY_PREFIX: "690123", PLATFORM_PREFIX_EXTRA_DIGITS: "6" }).platformPrefix,
      { prefix: "690123", extraDigits: 6 },
    );
  });

  it("refuses a prefix that is not one, or one whose allocations would pass 12 digits", () => {
    for (const [prefix, extra] of [
      ["69012", "3"],
      ["690123456789", "1"],
      ["69O1234", "3"],
      ["690123456", "4"],
      ["6901234", "0"],
    ] as const) {
      assert.throws(
        () => loadConfig({ ...base, PLATFORM_COMPANY_PREFIX: prefix, PLATFORM_PREFIX_EXTRA_DIGITS: extra }),
        (error: unknown) => error instanceof ConfigError && error.issues.some((i) => i.startsWith("PLATFORM_")),
        `${prefix}+${extra}`,
      );
    }
  });
});
