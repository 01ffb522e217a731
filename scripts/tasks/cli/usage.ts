/** What every command shares: the usage text, the usage error and the checks of required options. */
import { isHexString } from "ethers";

export class UsageError extends Error {}

/** Exit status of verify-item, verify-batch and verify-certificate when what verifies has been recalled. */
export const EXIT_RECALLED = 3;

/** What a verification found: verified, recalled (genuine but withdrawn) or not verified. */
export type Verdict = boolean | "recalled";

/** The options of one command, as `parseArgs` hands them over (every option is a single string). */
export type Options = Record<string, string | undefined>;

export const USAGE = `usage: npm run cli -- <command> [options]

commands:
  verify-item   --rpc URL --registry ADDRESS --gtin GTIN14 --lot LOT --serial SERIAL --proof HEX[,HEX...]
                [--from-block N]
                Checks on chain that the item belongs to the batch (Merkle proof against the root), and
                from the registry's logs that whoever registered the batch was entitled to the GTIN.
  verify-link   --url LINK [--rpc URL ...] [--quorum N] [--validators ADDRESS,...] [--registry ADDRESS]
                [--chain-id N] [--typed-data-version V] [--from-block N] [--max-block-age SECONDS]
                Verifies the item behind a scanned link as the scan page does: authenticity against the
                chain, then safety findings (excursion, certificate, failed test, recall); exits 0 only
                when it is verified. With --rpc given several times, reads as the independent verifier
                does: the block read at must be reported alike by --quorum endpoints (default: a majority),
                the registry's records are checked by storage proofs (eth_getProof) against that block's
                state root, other reads must agree across the quorum; each endpoint's outcome is printed.
                --validators pins a QBFT chain's validators: a block they sealed (two thirds) is trusted
                from one endpoint. Pin --registry and --chain-id: otherwise the server still names them.
                --max-block-age refuses a block older than that (stalled or withholding endpoints): pin
                it on a chain that makes blocks steadily, such as a QBFT consortium's.
  verify-certificate --url URL [--rpc URL] [--registry ADDRESS] [--issuer ADDRESS]
                Verifies a 合格证 (URL: its page …/c/0x…, what its QR code holds, or its JSON) and each
                certificate it was issued from, to 8 levels: document hash, signed fields, id, signature,
                and that the signer is registered and active in the registry (read through --rpc, default
                the platform's /rpc). A certificate covering a batch recalled since is RECALLED (exit 3).
                With --issuer, offline: the signer must be that key, no chain read.
  verify-batch  --rpc URL --registry ADDRESS --gtin GTIN14 --lot LOT [--from-block N] [--gateway URL]
                Re-verifies the attestation signature, every event signature and the event hash chain,
                and from the registry's logs who was entitled: the GTIN's owner or its grantee, each
                event's say about the batch (cooperative, custodian, receiver, asked inspector), handovers.
                A recalled batch is RECALLED, with who recalled it and the reason (its document fetched
                from --gateway, an IPFS path gateway such as the platform's, and checked against its CID).
  audit         --rpc URL --registry ADDRESS --batch BATCH_ID --server URL (token in REGULATOR_TOKEN)
                [--gateway URL] [--from-block N] [--html FILE] [--json FILE]
                Audits a batch from sources you choose: the chain over your JSON-RPC endpoint, every file
                from an IPFS gateway (default: the platform's) re-hashed here; exits 1 on a critical finding.
  labels        --server URL --batch BATCH_ID --out FILE.pdf [--columns N --rows N --margin-mm N --gap-mm N]
                Downloads the batch's A4 label sheet (token in COOPERATIVE_TOKEN), streamed to FILE.
  deploy        --rpc URL --relayer ADDRESS [--regulator ADDRESS ...]
                Deploys the registry with the key in DEPLOYER_PRIVATE_KEY (which becomes its admin)
                and prints the server's settings for it.
  reindex       Rebuilds the server's query store from the chain and IPFS alone (configured as for
                \`npm start\`: environment variables, or the local demo's settings); run it on an empty database.
  unbound-products
                Lists the products no company prefix or GTIN binding covers (configured as for reindex):
                nobody may register their batches until the operator binds them to an organisation.
  error-codes   Rewrites docs/error-codes.md from the error catalogues.
  check-verifier --url URL (--cid CID | --release release.json)
                Checks that the independent verifier hosted at URL is the published build: fetches its
                page and script, recomputes their SHA-256s and the directory's IPFS CID, and exits 1
                naming the file that differs.

--rpc may be given several times to verify-item, verify-batch and audit too: they then read through
a fallback provider that needs --quorum endpoints (default: a majority) to answer alike; storage proofs
are checked only by verify-link.

exit status: 0 verified (or done); 1 not verified: unknown, not in the batch, a bad signature or
             hash chain, a registrant or an actor with no entitlement, a critical audit finding; 2 usage or source error; 3 RECALLED (verify-item,
             verify-batch, verify-certificate): the records are genuine, but the batch has been recalled.
`;

export function required(values: Options, name: string): string {
  const value = values[name];
  if (value === undefined || value === "") throw new UsageError(`--${name} is required`);
  return value;
}

export function parseGtin(text: string): bigint {
  if (!/^\d{14}$/.test(text)) throw new UsageError(`--gtin must be 14 digits, got "${text}"`);
  return BigInt(text);
}

/** `--quorum N` for `endpoints` endpoints: 1..endpoints, or undefined (the caller's default, a majority). */
export function parseQuorum(text: string | undefined, endpoints: number): number | undefined {
  if (text === undefined) return undefined;
  const quorum = Number(text);
  if (!/^\d+$/.test(text) || quorum < 1 || quorum > Math.max(endpoints, 1)) {
    throw new UsageError(`--quorum must be a whole number from 1 to the number of --rpc endpoints (${endpoints})`);
  }
  return quorum;
}

/** A 32-byte hex batch id from --batch. */
export function requiredBatchId(values: Options): string {
  const batchId = required(values, "batch");
  if (!isHexString(batchId, 32)) throw new UsageError("--batch is a 32-byte hex batch id");
  return batchId;
}
