/**
 * The compiled TraceRegistry (ABI and bytecode) as Hardhat writes it. Read at run time
 * from `artifacts/`, so the server always speaks the ABI of the contracts in this tree.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { Interface, type InterfaceAbi } from "ethers";
import { z } from "zod";

const artifactSchema = z.object({
  contractName: z.string(),
  abi: z.array(z.unknown()),
  bytecode: z.string().regex(/^0x[0-9a-fA-F]*$/),
});

export interface ContractArtifact {
  contractName: string;
  abi: InterfaceAbi;
  bytecode: string;
}

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export function loadArtifact(sourceName: string, contractName: string, root = projectRoot): ContractArtifact {
  const file = path.join(root, "artifacts", "contracts", sourceName, `${contractName}.json`);
  let raw: string;
  try {
    raw = readFileSync(file, "utf8");
  } catch (cause) {
    throw new Error(`contract artifact ${file} is missing: compile the contracts first (hardhat build)`, { cause });
  }
  const parsed = artifactSchema.parse(JSON.parse(raw));
  return { contractName: parsed.contractName, abi: parsed.abi as InterfaceAbi, bytecode: parsed.bytecode };
}

let registryArtifact: ContractArtifact | undefined;

export function traceRegistryArtifact(): ContractArtifact {
  registryArtifact ??= loadArtifact("TraceRegistry.sol", "TraceRegistry");
  return registryArtifact;
}

let registryInterface: Interface | undefined;

/** Parsed once per process (a few hundred milliseconds of a restart): an Interface is never changed by its users. */
export function traceRegistryInterface(): Interface {
  registryInterface ??= new Interface(traceRegistryArtifact().abi);
  return registryInterface;
}
