/** verify-link: the item behind a scanned link, verified as the scan page does (or, given several endpoints, as the independent verifier does). */
import { isAddress } from "ethers";

import { verifyLink } from "../../lib/verify-link.ts";
import { UsageError, parseQuorum, required, type Options } from "./usage.ts";

/** `--validators ADDR,ADDR,...`: each must be an address. */
function parseValidators(text: string | undefined): string[] {
  if (text === undefined) return [];
  const validators = text.split(",").filter((v) => v !== "");
  for (const v of validators) {
    const valid: boolean = isAddress(v);
    if (!valid) throw new UsageError(`--validators has an entry that is not an address: "${v}"`);
  }
  if (validators.length === 0) throw new UsageError("--validators needs at least one address");
  return validators;
}

export async function verifyLinkCommand(
  values: Options,
  _regulators: readonly string[],
  rpcs: readonly string[],
): Promise<boolean> {
  const link = required(values, "url");
  if (!URL.canParse(link)) throw new UsageError(`--url is not a URL: "${link}"`);
  for (const rpc of rpcs) if (!URL.canParse(rpc)) throw new UsageError(`--rpc is not a URL: "${rpc}"`);
  const { registry, "chain-id": chainId, "typed-data-version": typedDataVersion, "from-block": fromBlock } = values;
  const registryValid: boolean = registry === undefined || isAddress(registry);
  if (!registryValid) throw new UsageError(`--registry is not an address: "${registry ?? ""}"`);
  if (chainId !== undefined && !/^\d+$/.test(chainId)) throw new UsageError("--chain-id must be a decimal chain id");
  if (fromBlock !== undefined && !/^\d+$/.test(fromBlock)) throw new UsageError("--from-block must be a block number");
  if (typedDataVersion !== undefined && !/^\d+$/.test(typedDataVersion)) {
    throw new UsageError("--typed-data-version must be a version number such as 2");
  }
  const validators = parseValidators(values.validators);
  const maxAge = values["max-block-age"];
  if (maxAge !== undefined && !/^[1-9]\d{0,9}$/.test(maxAge)) {
    throw new UsageError("--max-block-age must be a whole number of seconds");
  }
  const quorum = parseQuorum(values.quorum, rpcs.length);
  const outcome = await verifyLink(link, {
    rpcs,
    ...(quorum === undefined ? {} : { quorum }),
    validators,
    ...(registry === undefined ? {} : { registry }),
    ...(chainId === undefined ? {} : { chainId }),
    ...(typedDataVersion === undefined ? {} : { typedDataVersion }),
    ...(fromBlock === undefined ? {} : { fromBlock }),
    ...(maxAge === undefined ? {} : { maxBlockAgeSeconds: Number(maxAge) }),
  });
  return outcome.kind === "verdict" && outcome.verdict === "verified";
}
