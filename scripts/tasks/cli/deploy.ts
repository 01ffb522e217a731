/** deploy: a new registry, administered by the key in DEPLOYER_PRIVATE_KEY, and the server settings for it. */
import { JsonRpcProvider, Wallet, isAddress } from "ethers";

import { deployTraceRegistry } from "../../../server/src/ledger/deploy.ts";
import { UsageError, required, type Options } from "./usage.ts";

export async function deployCommand(values: Options, regulators: readonly string[]): Promise<boolean> {
  const key = process.env.DEPLOYER_PRIVATE_KEY;
  if (key === undefined || !/^0x[0-9a-fA-F]{64}$/.test(key)) {
    throw new UsageError("DEPLOYER_PRIVATE_KEY must hold the admin's 0x-prefixed private key");
  }
  const rpc = required(values, "rpc");
  const relayer = required(values, "relayer");
  if (!isAddress(relayer)) throw new UsageError("--relayer is not an address");
  for (const r of regulators) if (!isAddress(r)) throw new UsageError("a --regulator is not an address");
  const provider = new JsonRpcProvider(rpc);
  try {
    const admin = new Wallet(key, provider);
    const deployment = await deployTraceRegistry(admin, {
      admin: admin.address,
      regulators: [...regulators],
      relayers: [relayer],
    });
    console.log(`TraceRegistry deployed at ${deployment.address} on chain ${deployment.chainId.toString()}, block ${deployment.deployedAtBlock}
Server settings (see .env.example):
  CHAIN_RPC_URL=${rpc}
  CHAIN_ID=${deployment.chainId.toString()}
  REGISTRY_ADDRESS=${deployment.address}
  REGISTRY_DEPLOYED_AT_BLOCK=${deployment.deployedAtBlock}`);
    return true;
  } finally {
    provider.destroy();
  }
}
