/**
 * ERC-1271: an organisation whose key is a smart-contract wallet (a Safe multisig held by
 * a cooperative federation, say) signs by the wallet's own rule, which only the wallet can
 * judge. The registry asks it through OpenZeppelin's SignatureChecker; the server asks it
 * the same question, over JSON-RPC, before accepting the signature.
 */
import { Contract, type Provider } from "ethers";

/** `bytes4(keccak256("isValidSignature(bytes32,bytes)"))`: what a wallet returns for yes. */
const ERC1271_MAGIC_VALUE = "0x1626ba7e";

const ERC1271_ABI = ["function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)"];

export type ContractSignatureVerdict = "valid" | "invalid" | "not_a_contract";

/** Asks `account` whether it accepts `signature` over `digest`; throws only when the chain cannot be reached. */
export type ContractSignatureChecker = (
  account: string,
  digest: string,
  signature: string,
) => Promise<ContractSignatureVerdict>;

export function contractSignatureChecker(provider: Provider): ContractSignatureChecker {
  return async (account, digest, signature) => {
    if ((await provider.getCode(account)) === "0x") return "not_a_contract";
    const wallet = new Contract(account, ERC1271_ABI, provider);
    try {
      const answer: unknown = await wallet.getFunction("isValidSignature").staticCall(digest, signature);
      return typeof answer === "string" && answer.toLowerCase() === ERC1271_MAGIC_VALUE ? "valid" : "invalid";
    } catch (error) {
      // A wallet that reverts or answers garbage refuses; SignatureChecker reads it the same way.
      if (isCallFailure(error)) return "invalid";
      throw error;
    }
  };
}

function isCallFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "CALL_EXCEPTION" || code === "BAD_DATA";
}
