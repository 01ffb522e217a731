/**
 * The encrypted archive of a batch's serials (see `itemsArchiveCid` in domain/documents.ts).
 * AES-256-GCM from node:crypto under a key derived with HKDF from the keystore secret,
 * bound to the batch id as associated data so an archive cannot be passed off as
 * another batch's.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

import { z } from "zod";

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

function archiveKey(secret: string): Buffer {
  return Buffer.from(hkdfSync("sha256", secret, "oioc", "oioc:items-archive:v1", 32));
}

const archiveContent = z.object({
  batchId: z.string(),
  serials: z.array(z.string()),
  /** Leaf order is serial order: `serials[i]` is leaf i of the item tree. */
  hiddenCodeHmacs: z.array(z.string().nullable()),
});
export type ItemsArchive = z.infer<typeof archiveContent>;

export function sealItemsArchive(secret: string, archive: ItemsArchive): Uint8Array {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", archiveKey(secret), iv);
  cipher.setAAD(Buffer.from(archive.batchId.toLowerCase()));
  const body = Buffer.concat([cipher.update(JSON.stringify(archive), "utf8"), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
}

export function openItemsArchive(secret: string, batchId: string, sealed: Uint8Array): ItemsArchive {
  const bytes = Buffer.from(sealed);
  if (bytes[0] !== VERSION) throw new Error("unknown items archive version");
  const iv = bytes.subarray(1, 1 + IV_BYTES);
  const tag = bytes.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
  const decipher = createDecipheriv("aes-256-gcm", archiveKey(secret), iv);
  decipher.setAAD(Buffer.from(batchId.toLowerCase()));
  decipher.setAuthTag(tag);
  const text = Buffer.concat([decipher.update(bytes.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
    "utf8",
  );
  const archive = archiveContent.parse(JSON.parse(text));
  if (archive.batchId.toLowerCase() !== batchId.toLowerCase()) throw new Error("items archive of another batch");
  return archive;
}
