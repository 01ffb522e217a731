/**
 * Custodial signing keys for organisations without a wallet of their own. Each key is
 * stored as a standard Web3 Secret Storage (v3) JSON keystore — scrypt + AES-128-CTR, as
 * every Ethereum wallet reads it — encrypted with the server's keystore secret, so an
 * organisation can later take its key out and leave the platform.
 */
import { Wallet, encryptKeystoreJson } from "ethers";

/** scrypt N = 2^15: about 0.1 s per operation here; keys are decrypted once and then cached. */
const SCRYPT_N = 2 ** 15;

export interface CustodialKey {
  address: string;
  keystoreJson: string;
}

export async function createCustodialKey(secret: string): Promise<CustodialKey> {
  const wallet = Wallet.createRandom();
  const keystoreJson = await encryptKeystoreJson({ address: wallet.address, privateKey: wallet.privateKey }, secret, {
    scrypt: { N: SCRYPT_N },
  });
  return { address: wallet.address, keystoreJson };
}

export interface KeyRing {
  /** The wallet of a custodial key; decrypts on first use and keeps it in memory. */
  unlock: (keystoreJson: string) => Promise<Wallet>;
}

export function createKeyRing(secret: string): KeyRing {
  const unlocked = new Map<string, Promise<Wallet>>();
  return {
    unlock(keystoreJson) {
      let wallet = unlocked.get(keystoreJson);
      if (wallet === undefined) {
        wallet = Wallet.fromEncryptedJson(keystoreJson, secret).then((w) => new Wallet(w.privateKey));
        // A failed decryption must not stay cached: the next call should try again and fail loudly.
        wallet.catch(() => unlocked.delete(keystoreJson));
        unlocked.set(keystoreJson, wallet);
      }
      return wallet;
    },
  };
}
