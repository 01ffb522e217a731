/** What crosses between the server and its worker threads (see heavy.ts and heavy-worker.ts). */

/** Hidden-code HMACs travel as their 64 hex digits, ASCII, one after another. */
export const HMAC_HEX_LENGTH = 64;

export interface IssueInput {
  count: number;
  hiddenCodes: boolean;
  pepper: Uint8Array;
  batchId: string;
  /** The keystore secret, which keys the encrypted items archive. */
  archiveSecret: string;
}

export interface IssueOutput {
  /** `count` serials of SERIAL_LENGTH ASCII characters, in leaf order. */
  serials: Uint8Array;
  /** `count` HMACs of HMAC_HEX_LENGTH ASCII hex digits, or null without hidden codes. */
  hmacs: Uint8Array | null;
  /** The item tree's root, 0x-hex. */
  root: string;
  /** The sealed items archive (items-archive.ts), ready to publish. */
  archive: Uint8Array;
}

export interface OpenArchiveInput {
  archiveSecret: string;
  batchId: string;
  sealed: Uint8Array;
}

export interface OpenArchiveOutput {
  /** The batch id as the archive spells it. */
  batchId: string;
  count: number;
  /** Serials in leaf order, joined with "\n". */
  serials: string;
  /** HMACs joined with "\n", an empty line for an item without a hidden code. */
  hmacs: string;
}

export interface TreeInput {
  /** Serials in leaf order, joined with "\n" (AI 21 has no control characters): one string crosses faster than a million. */
  serials: string;
}

export interface TreeOutput {
  nodes: Uint8Array;
  nodeOfInput: Uint32Array;
}
