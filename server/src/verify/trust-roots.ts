/**
 * What an independent verifier pins at build time, and what its chain reads report. The
 * platform's own page trusts the platform for all of this (the registry and chain its answer
 * names, its `/rpc` proxy); the independent verifier trusts only these roots and the chain
 * reads that several endpoints, or the pinned validators' seals, vouch for.
 *
 * Shared interface of the quorum/proof client (`trusted-rpc.ts`), the QBFT seal check
 * (`qbft-seals.ts`), the verifier page (`scanner-web/verifier/`) and the CLI.
 */

/** The roots a verifier build pins (its `verifier.config.json`, or the CLI's flags). */
export interface TrustRoots {
  /** Decimal chain id. A resolution or an endpoint on another chain fails. */
  chainId: string;
  /** The registry's address. A resolution naming another registry fails. */
  registry: string;
  /** The registry's typed-data version ("2"): a resolution claiming another is refused, so no check can be skipped by claiming "1". */
  typedDataVersion: string;
  /** The registry's deployment block (decimal): logs are read from here, whatever the resolution says. */
  deploymentBlock: string;
  /** Absolute JSON-RPC endpoints run by different parties (the bureau's, the federation's, a public one). */
  endpoints: string[];
  /** How many endpoints must agree on the block read at and on every answer not proven against it (1..endpoints.length). */
  quorum: number;
  /**
   * A QBFT consortium chain's validators (addresses). When given, a block is trusted when at
   * least two thirds of them sealed it, so one honest endpoint suffices.
   */
  validators?: string[];
  /**
   * The oldest the block read at may be, in seconds, by the verifier's clock. A chain that
   * makes a block every few seconds (a QBFT consortium's) should pin this: endpoints that
   * agree on an old block, or one serving an old sealed block, could otherwise show a batch
   * as it was before its recall. Unset: any age (a development chain mines only on demand).
   */
  maxBlockAgeSeconds?: number;
}

/** How one endpoint fared. */
export interface EndpointOutcome {
  endpoint: string;
  /** `agreed`: its answers matched the trusted ones; `lied`: an answer contradicted them or a proof failed; `unreachable`: no answer. */
  status: "agreed" | "lied" | "unreachable";
  /** What it got wrong or why it could not be read, in plain English (for the page and the CLI). */
  detail?: string;
}

/** What the chain reads rested on: shown by the verifier page and printed by the CLI. */
export interface ChainTrustReport {
  mode: "quorum" | "seals";
  /** The block every read was made at, once one was trusted. */
  block: { number: string; hash: string; stateRoot: string } | null;
  endpoints: EndpointOutcome[];
  /** In seals mode: the validators whose seals verified on the block. */
  sealedBy?: string[];
}
