/**
 * What identifies a release of the independent verifier: each file's SHA-256, the browser's
 * sub-resource integrity of its script, and the IPFS CID of the directory holding the page and
 * its script. The build prints them and `check-verifier` recomputes them from a hosted copy, so
 * both must compute them the same way: here, once.
 *
 * The CID is a UnixFS directory made with the importer settings the server uses for every
 * file it stores (`IMPORT_PARAMETERS`: CIDv1, raw leaves, 256 KiB chunks, 174 links per node),
 * which are Kubo's `ipfs add -r --cid-version=1`: whoever pins the two files with Kubo gets
 * the CID the build printed.
 */
import { createHash } from "node:crypto";

import { importer } from "ipfs-unixfs-importer";
import { fixedSize } from "ipfs-unixfs-importer/chunker";
import { balanced } from "ipfs-unixfs-importer/layout";
import { z } from "zod";

import { IMPORT_PARAMETERS } from "../../server/src/ipfs/content-store.ts";

/** The page a host serves at the directory's root. */
export const VERIFIER_PAGE = "index.html";

/** `verifier-0123456789.js`, the one script the page loads. */
export const VERIFIER_SCRIPT_PATTERN = /^verifier-[0-9a-f]{10}\.js$/;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The `integrity` attribute a browser checks the script against before running it. */
export function sha384Integrity(bytes: Uint8Array): string {
  return `sha384-${createHash("sha384").update(bytes).digest("base64")}`;
}

export interface ReleaseFile {
  name: string;
  content: Uint8Array;
}

/** The UnixFS directory CID (base32 CIDv1) of `files`, as Kubo's `ipfs add -r --cid-version=1` gives it. */
export async function directoryCid(files: readonly ReleaseFile[]): Promise<string> {
  // The importer wants a block store; the blocks are not kept, only the root's CID.
  const discard = { put: (cid: unknown) => Promise.resolve(cid) };
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let root: string | null = null;
  for await (const entry of importer(
    sorted.map((file) => ({ path: file.name, content: file.content })),
    discard as never,
    {
      cidVersion: IMPORT_PARAMETERS.cidVersion,
      rawLeaves: IMPORT_PARAMETERS.rawLeaves,
      leafType: "file",
      reduceSingleLeafToSelf: true,
      chunker: fixedSize({ chunkSize: IMPORT_PARAMETERS.chunkSizeBytes }),
      layout: balanced({ maxChildrenPerNode: IMPORT_PARAMETERS.maxLinksPerNode }),
      wrapWithDirectory: true,
    },
  )) {
    if (entry.path === "") root = entry.cid.toString();
  }
  if (root === null) throw new Error("the importer made no directory");
  return root;
}

const hex40 = /^0x[0-9a-fA-F]{40}$/;

/** The trust roots a build pins (`TrustRoots` in server/src/verify/trust-roots.ts), validated. */
export const trustRootsSchema = z
  .object({
    chainId: z.string().regex(/^[1-9]\d{0,19}$/, "a decimal chain id"),
    registry: z.string().regex(hex40, "a 20-byte hex address"),
    typedDataVersion: z.enum(["1", "2"]),
    deploymentBlock: z.string().regex(/^(0|[1-9]\d{0,15})$/, "a decimal block number"),
    endpoints: z
      .array(z.url({ protocol: /^https?$/ }))
      .min(1)
      .max(16)
      .refine((list) => new Set(list).size === list.length, "each endpoint once"),
    quorum: z.number().int().min(1),
    validators: z.array(z.string().regex(hex40, "a 20-byte hex address")).min(1).optional(),
    maxBlockAgeSeconds: z.number().int().min(1).optional(),
  })
  .strict()
  .refine((roots) => roots.quorum <= roots.endpoints.length, {
    message: "quorum is at most the number of endpoints",
    path: ["quorum"],
  });

/** The roots as validated: a `TrustRoots` whose version is one the registry has. */
export type PinnedRoots = z.infer<typeof trustRootsSchema>;

/** `release.json`: beside the directory, not inside it (it names the directory's CID). */
export const releaseSchema = z.object({
  type: z.literal("oioc.verifier-release"),
  cid: z.string().min(1),
  page: z.literal(VERIFIER_PAGE),
  script: z.string().regex(VERIFIER_SCRIPT_PATTERN),
  integrity: z.string().startsWith("sha384-"),
  files: z.record(z.string(), z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int() })),
  pins: trustRootsSchema,
});

export type VerifierRelease = z.infer<typeof releaseSchema>;

/** The script the page names, with its integrity attribute; null when the page names none. */
export function scriptOfPage(html: string): { src: string; integrity: string | null } | null {
  const tag = /<script\b[^>]*\bsrc="([^"]+)"[^>]*>/.exec(html);
  if (tag === null) return null;
  const integrity = /\bintegrity="([^"]+)"/.exec(tag[0]);
  return { src: tag[1] ?? "", integrity: integrity?.[1] ?? null };
}
