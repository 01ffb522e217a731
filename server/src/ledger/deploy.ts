/**
 * Deploys the registry and hands out its roles. Used by the demo, the integration tests
 * and `scripts/cli.ts deploy` for a real network, so every deployment is made the same way.
 */
import {
  Contract,
  ContractFactory,
  NonceManager,
  id,
  type ContractRunner,
  type Signer,
  type TransactionReceipt,
} from "ethers";

import { traceRegistryArtifact } from "./registry-artifact.ts";

export const REGULATOR_ROLE = id("REGULATOR_ROLE");
export const RELAYER_ROLE = id("RELAYER_ROLE");

export interface RegistryDeployment {
  address: string;
  chainId: bigint;
  deployedAtBlock: number;
}

export interface DeployOptions {
  admin: string;
  regulators: readonly string[];
  relayers: readonly string[];
}

export function traceRegistryAt(address: string, runner: ContractRunner): Contract {
  return new Contract(address, traceRegistryArtifact().abi, runner);
}

/** Deploys with `deployer`, who must be `options.admin` when roles are to be granted here. */
export async function deployTraceRegistry(signer: Signer, options: DeployOptions): Promise<RegistryDeployment> {
  // Counts nonces locally: a provider's short-lived cache may still report the nonce
  // from before the deployment when the first role is granted right after it.
  const deployer = new NonceManager(signer);
  const artifact = traceRegistryArtifact();
  const factory = new ContractFactory(artifact.abi, artifact.bytecode, deployer);
  const contract = await factory.deploy(options.admin);
  const receipt = await contract.deploymentTransaction()?.wait();
  if (!receipt) throw new Error("the deployment transaction has no receipt");
  const address = await contract.getAddress();
  const registry = traceRegistryAt(address, deployer);
  for (const account of options.regulators) {
    await sendAndWait(registry, "grantRole", [REGULATOR_ROLE, account]);
  }
  for (const account of options.relayers) {
    await sendAndWait(registry, "grantRole", [RELAYER_ROLE, account]);
  }
  const network = await deployer.provider?.getNetwork();
  if (!network) throw new Error("the deployer has no provider");
  return { address, chainId: network.chainId, deployedAtBlock: receipt.blockNumber };
}

/** Sends a state-changing call and waits for its receipt; throws when it reverted or vanished. */
export async function sendAndWait(
  contract: Contract,
  functionName: string,
  args: unknown[],
): Promise<TransactionReceipt> {
  const response = await contract.getFunction(functionName).send(...args);
  const receipt = await response.wait();
  if (receipt === null) throw new Error(`${functionName}: the transaction has no receipt`);
  return receipt;
}
