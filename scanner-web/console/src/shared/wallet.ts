/**
 * Organisations that hold their own key sign in their own wallet: the server answers a
 * write with the EIP-712 typed data, the wallet (any EIP-1193 provider: MetaMask, a
 * hardware wallet bridge, an imToken WebView) signs it with `eth_signTypedData_v4`, and
 * the signature goes back to the request's submit URL. The key never meets the platform.
 */
import type { Api } from "./api.ts";

export interface SignatureRequestView {
  id: string;
  kind: string;
  expiresAt: string;
  typedData: {
    domain: Record<string, string>;
    types: Record<string, { name: string; type: string }[]>;
    primaryType: string;
    message: Record<string, string>;
  };
  submitUrl: string;
}

interface Eip1193Provider {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

export class WalletMissing extends Error {}

function provider(): Eip1193Provider {
  const candidate = (window as unknown as { ethereum?: unknown }).ethereum;
  if (
    typeof candidate !== "object" ||
    candidate === null ||
    typeof (candidate as Eip1193Provider).request !== "function"
  ) {
    throw new WalletMissing("no wallet in this browser");
  }
  return candidate as Eip1193Provider;
}

/** Signs with the organisation's account (or an owner of its contract wallet), and submits. */
export async function signAndSubmit(api: Api, request: SignatureRequestView, signerAddress: string): Promise<unknown> {
  const wallet = provider();
  const accounts = (await wallet.request({ method: "eth_requestAccounts" })) as string[];
  // The organisation's own account if the wallet holds it; otherwise an owner of its
  // contract wallet (ERC-1271) signs, and the server asks that wallet whether it agrees.
  const account = accounts.find((a) => a.toLowerCase() === signerAddress.toLowerCase()) ?? accounts[0];
  if (account === undefined) throw new WalletMissing("the wallet shared no account");
  const { domain, types, primaryType, message } = request.typedData;
  const typedData = {
    domain: { ...domain, chainId: Number(domain.chainId) },
    types: {
      EIP712Domain: [
        { name: "name", type: "string" },
        { name: "version", type: "string" },
        { name: "chainId", type: "uint256" },
        { name: "verifyingContract", type: "address" },
      ],
      ...types,
    },
    primaryType,
    message,
  };
  const signature = await wallet.request({
    method: "eth_signTypedData_v4",
    params: [account, JSON.stringify(typedData)],
  });
  return (
    await api.json(request.submitUrl, {
      method: "POST",
      body: { signature },
      idempotencyKey: `sig-${request.id.replace(/[^A-Za-z0-9.:-]/g, "-")}`,
    })
  ).body;
}
