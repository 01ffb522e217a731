/**
 * `npm run cli -- verify-link URL`: the scan page's verification, on the command line. The
 * item's resolution is read from its Digital Link (as JSON), then checked with the same core
 * the page runs (`server/src/verify/`): authenticity first, then the safety findings in
 * plain words, then the verdict. The chain is read over `--rpc` when given once (an endpoint
 * the caller trusts), else over the endpoint the resolution names; `--registry`, `--chain-id`,
 * `--typed-data-version` and `--from-block` pin what the caller knows independently of the
 * server. Given several endpoints (or validators), reads go through the quorum and proof
 * client, as the independent verifier's do: no single endpoint is trusted.
 */
import type { ItemResolution, UnknownItemResolution } from "../../server/src/domain/resolution.ts";
import {
  AppError,
  createRpcClient,
  createTrustedRpcClient,
  verifyResolution,
  type ChainTrustReport,
  type RpcClient,
  type Verdict,
} from "../../server/src/verify/index.ts";

export interface VerifyLinkOptions {
  /** One endpoint, trusted as it is. */
  rpc?: string;
  /** Several independent endpoints: read with a quorum and storage proofs. */
  rpcs?: readonly string[];
  /** How many of `rpcs` must agree (default: a majority). */
  quorum?: number;
  /** A QBFT chain's validators: a block sealed by two thirds of them is trusted. */
  validators?: readonly string[];
  registry?: string;
  chainId?: string;
  typedDataVersion?: string;
  fromBlock?: string;
  /** The oldest the block read at may be (`TrustRoots.maxBlockAgeSeconds`). */
  maxBlockAgeSeconds?: number;
  /** Where lines go (the CLI prints them). */
  print?: (line: string) => void;
}

/** A majority of `n` endpoints. */
export function majorityOf(n: number): number {
  return Math.floor(n / 2) + 1;
}

/** The lines saying what the chain reads rested on. */
export function trustLines(report: ChainTrustReport, quorum: number): string[] {
  const lines: string[] = [];
  const n = report.endpoints.length;
  if (report.block === null) lines.push(`no block could be trusted (quorum ${quorum} of ${n})`);
  else {
    const basis =
      report.mode === "seals"
        ? `sealed by ${report.sealedBy?.length ?? 0} pinned validators (${(report.sealedBy ?? []).join(", ")})`
        : `quorum ${quorum} of ${n}`;
    lines.push(`read at block ${report.block.number} (${report.block.hash}), ${basis}`);
  }
  for (const e of report.endpoints) {
    const label = e.status === "lied" ? "LIED" : e.status;
    lines.push(`  ${label.padEnd(11)} ${e.endpoint}${e.detail === undefined ? "" : `: ${e.detail}`}`);
  }
  return lines;
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
    ...(options.typedDataVersion === undefined ? {} : { typedDataVersion: options.typedDataVersion }),
    ...(options.fromBlock === undefined ? {} : { fromBlock: options.fromBlock }),
  };
  const endpoints = [...(options.rpcs ?? []), ...(options.rpc === undefined ? [] : [options.rpc])];
  const validators = options.validators ?? [];
  const quorum = options.quorum ?? majorityOf(endpoints.length);
  let report: Awaited<ReturnType<typeof verifyResolution>>;
  try {
    let rpc: RpcClient | undefined;
    if (endpoints.length > 1 || validators.length > 0) {
      // The roots are the caller's: the registry and chain pinned by flags, else (said so) the resolution's.
      if (options.registry === undefined || options.chainId === undefined) {
        print("note: --registry and --chain-id not given: the resolution's are used, so the server still names them");
      }
      rpc = createTrustedRpcClient({
        chainId: options.chainId ?? resolution.chain.chainId,
        registry: options.registry ?? resolution.chain.registry,
        typedDataVersion: options.typedDataVersion ?? resolution.chain.typedDataVersion,
        deploymentBlock: options.fromBlock ?? resolution.chain.fromBlock ?? "0",
        endpoints,
        quorum,
        ...(validators.length > 0 ? { validators: [...validators] } : {}),
        ...(options.maxBlockAgeSeconds === undefined ? {} : { maxBlockAgeSeconds: options.maxBlockAgeSeconds }),
      });
    } else if (endpoints[0] !== undefined) rpc = createRpcClient(endpoints[0]);
    report = await verifyResolution(resolution, { baseUrl: link, ...(rpc === undefined ? {} : { rpc }), expected });
  } catch (error) {
    // A bad quorum or an empty endpoint list: nothing was read.
    const detail = error instanceof AppError ? error.message : String(error);
    print(`cannot read the chain: ${detail}`);
    return { kind: "unreachable", detail };
  }
  if (report.chainTrust !== null) for (const line of trustLines(report.chainTrust, quorum)) print(line);
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
  if (!report.chainReachable) {
    print(
      report.chainTrust === null
        ? "the chain could not be read: this says nothing against the item; try again"
        : "cannot reach a quorum of agreeing endpoints: the chain could not be read; this says nothing against the item; try again",
    );
  }
  print(`verdict: ${report.verdict.toUpperCase().replace("_", " ")}`);
  return { kind: "verdict", verdict: report.verdict, findingCodes: report.findings.map((f) => f.code) };
}
