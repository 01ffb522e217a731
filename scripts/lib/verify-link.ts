/**
 * `npm run cli -- verify-link URL`: the scan page's verification, on the command line. The
 * item's resolution is read from its Digital Link (as JSON), then checked with the same core
 * the page runs (`server/src/verify/`): authenticity first, then the safety findings in
 * plain words, then the verdict. The chain is read over `--rpc` when given (an endpoint the
 * caller trusts), else over the endpoint the resolution names; `--registry` and `--chain-id`
 * pin what the caller knows independently of the server.
 */
import type { ItemResolution, UnknownItemResolution } from "../../server/src/domain/resolution.ts";
import { createRpcClient, verifyResolution, type Verdict } from "../../server/src/verify/index.ts";

export interface VerifyLinkOptions {
  rpc?: string;
  registry?: string;
  chainId?: string;
  /** Where lines go (the CLI prints them). */
  print?: (line: string) => void;
}

export type VerifyLinkOutcome =
  | { kind: "verdict"; verdict: Verdict; findingCodes: string[] }
  | { kind: "unknown" }
  | { kind: "bad_code"; code: string }
  | { kind: "unreachable"; detail: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/** Reads and verifies the item behind `link`; prints what the scan page would say. */
export async function verifyLink(link: string, options: VerifyLinkOptions = {}): Promise<VerifyLinkOutcome> {
  const print =
    options.print ??
    ((line: string) => {
      console.log(line);
    });
  let status: number;
  let body: unknown;
  try {
    const response = await fetch(link, {
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(20_000),
    });
    status = response.status;
    body = await response.json().catch(() => null);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    print(`cannot reach the resolver: ${detail}`);
    return { kind: "unreachable", detail };
  }
  if (isObject(body) && body.type === "oioc.item-unknown") {
    const { message } = body as unknown as UnknownItemResolution;
    print(`verdict: UNKNOWN CODE\n  ${message.zh}\n  ${message.en ?? ""}`);
    return { kind: "unknown" };
  }
  if (status === 400 && isObject(body) && typeof body.code === "string") {
    const message = isObject(body.message) ? body.message : {};
    print(`verdict: MALFORMED CODE (${body.code})`);
    for (const text of [message.zh, message.en]) if (typeof text === "string") print(`  ${text}`);
    return { kind: "bad_code", code: body.code };
  }
  if (!isObject(body) || body.type !== "oioc.item-resolution") {
    const detail = `the resolver answered ${String(status)} without an item resolution`;
    print(detail);
    return { kind: "unreachable", detail };
  }
  const resolution = body as unknown as ItemResolution;
  const expected = {
    ...(options.registry === undefined ? {} : { registry: options.registry }),
    ...(options.chainId === undefined ? {} : { chainId: options.chainId }),
  };
  const report = await verifyResolution(resolution, {
    baseUrl: link,
    ...(options.rpc === undefined ? {} : { rpc: createRpcClient(options.rpc) }),
    expected,
  });
  for (const check of report.checks) {
    const mark = check.ok === true ? "ok  " : check.ok === false ? "FAIL" : "wait";
    print(`${mark} ${check.id}: ${check.detail}`);
  }
  for (const finding of report.findings) {
    print(`! ${finding.code}\n  ${finding.zh}\n  ${finding.en}`);
  }
  for (const signal of report.verdict === "suspicious" ? resolution.scans.signals : []) {
    print(`? ${signal.code}: ${signal.en}`);
  }
  if (!report.chainReachable) print("the chain could not be read: this says nothing against the item; try again");
  print(`verdict: ${report.verdict.toUpperCase().replace("_", " ")}`);
  return { kind: "verdict", verdict: report.verdict, findingCodes: report.findings.map((f) => f.code) };
}
