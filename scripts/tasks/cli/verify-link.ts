/** verify-link: the item behind a scanned link, verified as the scan page does. */
import { verifyLink } from "../../lib/verify-link.ts";
import { UsageError, required, type Options } from "./usage.ts";

export async function verifyLinkCommand(values: Options): Promise<boolean> {
  const link = required(values, "url");
  if (!URL.canParse(link)) throw new UsageError(`--url is not a URL: "${link}"`);
  const { rpc, registry, "chain-id": chainId } = values;
  const outcome = await verifyLink(link, { rpc, registry, chainId });
  return outcome.kind === "verdict" && outcome.verdict === "verified";
}
