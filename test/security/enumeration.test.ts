/**
 * Guessing serials: each client is held to the configured request rate (every route,
 * the resolver included), and the serial space makes guessing hopeless at that rate. The
 * figure is stated here and checked: 65 random bits per serial.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import { pino } from "pino";

import { offlineServerEnv } from "../../scripts/lib/local-stack.ts";
import { loadConfig } from "../../server/src/config.ts";
import { SERIAL_ENTROPY_BITS, generateSerial } from "../../server/src/domain/serials.ts";
import { startServer, type RunningServer } from "../../server/src/server.ts";

const RATE_PER_MINUTE = 30;

describe("enumerating serials", () => {
  let dataDir: string;
  let server: RunningServer;

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), "enumeration-"));
    server = await startServer(
      loadConfig({ ...offlineServerEnv(dataDir), RATE_LIMIT_PER_MINUTE: String(RATE_PER_MINUTE) }),
      { logger: pino({ level: "silent" }) },
    );
  });

  after(async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("holds one client to the configured rate on the resolver", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < RATE_PER_MINUTE + 10; i++) {
      const response = await fetch(`${server.url}/01/06901234567892/10/LOT1/21/${generateSerial()}`, {
        headers: { accept: "application/json" },
      });
      statuses.push(response.status);
      await response.arrayBuffer();
    }
    assert.equal(statuses.filter((s) => s === 404).length, RATE_PER_MINUTE, "unknown codes until the limit");
    assert.equal(statuses.filter((s) => s === 429).length, 10, "then refused");
  });

  it("makes guessing a valid serial hopeless at that rate", () => {
    assert.ok(SERIAL_ENTROPY_BITS >= 64);
    const itemsIssued = 1_000_000;
    // About 3.7 × 10^13 guesses, over 100,000 years at the default 600 requests a minute.
    const expectedGuesses = 2 ** SERIAL_ENTROPY_BITS / itemsIssued;
    const yearsAtDefaultRate = expectedGuesses / (600 * 60 * 24 * 365);
    assert.ok(expectedGuesses > 3e13);
    assert.ok(yearsAtDefaultRate > 1e5, `${yearsAtDefaultRate.toExponential(1)} years per client`);
  });
});
