/**
 * A local deployment for the demo and the integration tests: the registry deployed on a
 * Hardhat node with its well-known development accounts in the three roles, and the
 * environment a server needs to run against it. Development keys only: they are public.
 */
import { randomBytes } from "node:crypto";

import { HDNodeWallet, JsonRpcProvider, Wallet } from "ethers";

import { deployTraceRegistry } from "../../server/src/ledger/deploy.ts";

const DEV_MNEMONIC = "test test test test test test test test test test test junk";

export function devAccount(index: number): HDNodeWallet {
  return HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`);
}

export interface LocalDeployment {
  registry: string;
  chainId: bigint;
  deployedAtBlock: number;
  /** Everything `loadConfig` needs, as environment variables. */
  env: Record<string, string>;
}

export async function deployLocalRegistry(rpcUrl: string): Promise<LocalDeployment> {
  const provider = new JsonRpcProvider(rpcUrl, undefined, {
    staticNetwork: true,
    pollingInterval: 100,
    cacheTimeout: -1,
  });
  const admin = devAccount(0).connect(provider);
  const regulator = devAccount(1);
  const relayer = devAccount(2);
  try {
    const deployment = await deployTraceRegistry(admin, {
      admin: admin.address,
      regulators: [regulator.address],
      relayers: [relayer.address],
    });
    return {
      registry: deployment.address,
      chainId: deployment.chainId,
      deployedAtBlock: deployment.deployedAtBlock,
      env: {
        CHAIN_RPC_URL: rpcUrl,
        CHAIN_ID: deployment.chainId.toString(),
        REGISTRY_ADDRESS: deployment.address,
        REGISTRY_DEPLOYED_AT_BLOCK: String(deployment.deployedAtBlock),
        RELAYER_PRIVATE_KEY: relayer.privateKey,
        LEDGER_ADMIN_PRIVATE_KEY: admin.privateKey,
        LEDGER_REGULATOR_PRIVATE_KEY: regulator.privateKey,
        KEYSTORE_SECRET: randomBytes(24).toString("base64url"),
        HIDDEN_CODE_PEPPER: randomBytes(32).toString("base64url"),
        ADMIN_TOKEN: `admin_${randomBytes(24).toString("base64url")}`,
        CONFIRMATIONS: "1",
        LEDGER_MAX_WAIT_MS: "300",
        LEDGER_POLL_MS: "200",
      },
    };
  } finally {
    provider.destroy();
  }
}

/** A server's settings that reach no chain: for tests that never anchor anything (workers off, throwaway keys). */
export function offlineServerEnv(dataDir: string): Record<string, string> {
  return {
    CHAIN_RPC_URL: "http://127.0.0.1:9",
    CHAIN_ID: "31337",
    REGISTRY_ADDRESS: Wallet.createRandom().address,
    RELAYER_PRIVATE_KEY: Wallet.createRandom().privateKey,
    KEYSTORE_SECRET: randomBytes(24).toString("base64url"),
    HIDDEN_CODE_PEPPER: randomBytes(32).toString("base64url"),
    ADMIN_TOKEN: `admin_${randomBytes(24).toString("base64url")}`,
    WORKERS: "off",
    PORT: "0",
    DATA_DIR: dataDir,
  };
}
