/**
 * Bindings and grants as the registry's logs tell them, for a store that lacks them: a
 * reindex into an empty database (or a binding made on chain outside this server). Without
 * them a rebuilt store would refuse every batch. The logs of transactions this server sent
 * are left alone: their rows are in the store already (the outbox marks them anchored), and
 * may have changed since.
 */
import { getAddress } from "ethers";

import { formatCompanyPrefix } from "../domain/gtin-entitlement.ts";
import { gtinFromUint64 } from "../domain/gs1.ts";
import type { DecodedLog } from "../ledger/indexer.ts";
import {
  grantInForce,
  gtinBindingInForce,
  insertGrant,
  insertGtinBinding,
  insertPrefixBinding,
  mirrorEntitlementLedger,
  prefixBindingOf,
  releaseGtinBinding,
  releasePrefixBinding,
  RELEASE_SUFFIX,
  sentByThisServer,
  withdrawGrant,
} from "../storage/entitlements.ts";
import { getOrganisationBySigner } from "../storage/organisations.ts";
import type { Trx } from "../storage/transaction.ts";

/** The outbox kind whose entries send the transactions behind each log. */
const KIND_OF_LOG: Readonly<Record<string, string | undefined>> = {
  CompanyPrefixBound: "company_prefix",
  CompanyPrefixReleased: "company_prefix",
  GtinBound: "gtin_binding",
  GtinReleased: "gtin_binding",
  GtinGrantChanged: "gtin_grant",
};

export const ENTITLEMENT_LOGS: ReadonlySet<string> = new Set(Object.keys(KIND_OF_LOG));

function arg(log: DecodedLog, name: string): string {
  const value = log.args[name];
  if (value === undefined) throw new Error(`${log.name} log without ${name}`);
  return value;
}

async function organisationId(trx: Trx, log: DecodedLog, name: string): Promise<string> {
  const organisation = await getOrganisationBySigner(trx, getAddress(arg(log, name)));
  if (organisation === null) throw new Error(`${log.name} names an unknown organisation ${arg(log, name)}`);
  return organisation.id;
}

/** The id a restored row gets: the same for the same log, so applying a range twice adds nothing. */
function restoredId(prefix: string, log: DecodedLog): string {
  return `${prefix}_${log.txHash.slice(2, 18)}${String(log.logIndex)}`;
}

async function anchor(trx: Trx, kind: string, referenceId: string, log: DecodedLog, nowMs: number): Promise<void> {
  await mirrorEntitlementLedger(
    trx,
    [{ kind, reference_id: referenceId }],
    { state: "anchored", txHash: log.txHash, blockNumber: log.blockNumber, failureReason: null },
    nowMs,
  );
}

/**
 * Applies one entitlement log. `platformPrefix` marks prefixes allocated from the
 * operator's, so a rebuilt store never allocates one of them again.
 */
export async function projectEntitlementLog(
  trx: Trx,
  log: DecodedLog,
  options: { platformPrefix?: string; nowMs: number },
): Promise<void> {
  const { nowMs } = options;
  const kind = KIND_OF_LOG[log.name];
  // What this server sent is in its store already, perhaps changed since (a prefix released
  // and bound again): the log of the older change must not undo the newer one.
  if (kind === undefined || (await sentByThisServer(trx, kind, log.txHash))) return;
  switch (log.name) {
    case "CompanyPrefixBound": {
      const prefix = formatCompanyPrefix({ value: BigInt(arg(log, "prefix")), digits: Number(arg(log, "digits")) });
      if ((await prefixBindingOf(trx, prefix)) !== null) return;
      const platform = options.platformPrefix;
      const binding = await insertPrefixBinding(
        trx,
        {
          id: restoredId("cpb", log),
          prefix,
          organisationId: await organisationId(trx, log, "owner"),
          origin:
            platform !== undefined && prefix.length > platform.length && prefix.startsWith(platform)
              ? "platform"
              : "own",
          createdBy: "reindex",
        },
        nowMs,
      );
      await anchor(trx, "company_prefix", binding.id, log, nowMs);
      return;
    }
    case "CompanyPrefixReleased": {
      const prefix = formatCompanyPrefix({ value: BigInt(arg(log, "prefix")), digits: Number(arg(log, "digits")) });
      const binding = await prefixBindingOf(trx, prefix);
      if (binding !== null && (await releasePrefixBinding(trx, binding.id, nowMs))) {
        await anchor(trx, "company_prefix", `${binding.id}${RELEASE_SUFFIX}`, log, nowMs);
      }
      return;
    }
    case "GtinBound": {
      const gtin = gtinFromUint64(BigInt(arg(log, "gtin")));
      if ((await gtinBindingInForce(trx, gtin)) !== null) return;
      const binding = await insertGtinBinding(
        trx,
        {
          id: restoredId("gtb", log),
          gtin,
          organisationId: await organisationId(trx, log, "owner"),
          origin: "operator",
          createdBy: "reindex",
        },
        nowMs,
      );
      await anchor(trx, "gtin_binding", binding.id, log, nowMs);
      return;
    }
    case "GtinReleased": {
      const binding = await gtinBindingInForce(trx, gtinFromUint64(BigInt(arg(log, "gtin"))));
      if (binding !== null && (await releaseGtinBinding(trx, binding.id, nowMs))) {
        await anchor(trx, "gtin_binding", `${binding.id}${RELEASE_SUFFIX}`, log, nowMs);
      }
      return;
    }
    case "GtinGrantChanged": {
      const gtin = gtinFromUint64(BigInt(arg(log, "gtin")));
      const grantee = await organisationId(trx, log, "grantee");
      const existing = await grantInForce(trx, gtin, grantee);
      if (arg(log, "granted") === "true") {
        if (existing !== null) return;
        const grant = await insertGrant(
          trx,
          {
            id: restoredId("grant", log),
            gtin,
            ownerOrganisationId: await organisationId(trx, log, "owner"),
            granteeOrganisationId: grantee,
            createdBy: "reindex",
          },
          nowMs,
        );
        await anchor(trx, "gtin_grant", grant.id, log, nowMs);
      } else if (existing !== null && (await withdrawGrant(trx, existing.id, nowMs))) {
        await anchor(trx, "gtin_grant", `${existing.id}${RELEASE_SUFFIX}`, log, nowMs);
      }
      return;
    }
    default:
      return;
  }
}
