/**
 * `check-verifier --url URL (--cid CID | --release release.json)`: is the verifier hosted at
 * URL the published one? Fetches the page and the script it names, recomputes their SHA-256s,
 * the script's integrity and the directory's CID exactly as the build did, and names the file
 * that differs. A tampered script is also one the page's integrity attribute no longer admits.
 */
import { readFileSync } from "node:fs";

import {
  VERIFIER_PAGE,
  VERIFIER_SCRIPT_PATTERN,
  directoryCid,
  releaseSchema,
  scriptOfPage,
  sha256Hex,
  sha384Integrity,
  type VerifierRelease,
} from "../../lib/verifier-release.ts";
import { UsageError, required, type Options, type Verdict } from "./usage.ts";

async function download(url: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    throw new UsageError(`cannot fetch ${url}: ${(error as Error).message}`);
  }
  if (!response.ok) throw new UsageError(`${url} answered HTTP ${String(response.status)}`);
  return new Uint8Array(await response.arrayBuffer());
}

function readRelease(file: string): VerifierRelease {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new UsageError(`--release ${file}: ${(error as Error).message}`);
  }
  const release = releaseSchema.safeParse(parsed);
  if (!release.success) throw new UsageError(`--release ${file} is not a verifier release: ${release.error.message}`);
  return release.data;
}

/** What differs between a hosted copy and the release: each finding names its file. */
export interface VerifierCheck {
  cid: string;
  files: { name: string; sha256: string }[];
  problems: string[];
}

export async function checkHostedVerifier(
  url: string,
  expected: { cid?: string; release?: VerifierRelease },
): Promise<VerifierCheck> {
  const pageUrl = new URL(url);
  const page = await download(pageUrl.href);
  const html = new TextDecoder().decode(page);
  const tag = scriptOfPage(html);
  if (tag === null) return { cid: "", files: [], problems: [`${VERIFIER_PAGE}: names no script`] };
  const scriptUrl = new URL(tag.src, pageUrl);
  const scriptName = scriptUrl.pathname.split("/").at(-1) ?? "";
  if (!VERIFIER_SCRIPT_PATTERN.test(scriptName)) {
    return { cid: "", files: [], problems: [`${VERIFIER_PAGE}: names an unexpected script ${tag.src}`] };
  }
  const script = await download(scriptUrl.href);
  const problems: string[] = [];
  if (tag.integrity !== sha384Integrity(script)) {
    problems.push(`${scriptName}: does not match the page's integrity attribute (a browser refuses to run it)`);
  }
  const files = [
    { name: VERIFIER_PAGE, sha256: sha256Hex(page) },
    { name: scriptName, sha256: sha256Hex(script) },
  ];
  const cid = await directoryCid([
    { name: VERIFIER_PAGE, content: page },
    { name: scriptName, content: script },
  ]);
  const release = expected.release;
  if (release !== undefined) {
    if (scriptName !== release.script)
      problems.push(`${VERIFIER_PAGE}: names ${scriptName}, the release ${release.script}`);
    for (const file of files) {
      const published = release.files[file.name];
      if (published !== undefined && published.sha256 !== file.sha256) {
        problems.push(`${file.name}: SHA-256 ${file.sha256}, published ${published.sha256}`);
      }
    }
  }
  const expectedCid = expected.cid ?? release?.cid;
  if (expectedCid !== undefined && cid !== expectedCid) {
    // Without the release's file hashes, the page's integrity attribute still tells which file
    // changed: a script it admits is the one the page was built with.
    if (problems.length === 0) problems.push(`${VERIFIER_PAGE}: differs (the directory's CID is ${cid})`);
    problems.push(`CID ${cid}, published ${expectedCid}`);
  }
  return { cid, files, problems };
}

export async function checkVerifierCommand(values: Options): Promise<Verdict> {
  const url = required(values, "url");
  if (!/^https?:\/\//.test(url)) throw new UsageError("--url is the hosted verifier's http(s) address");
  if ((values.cid === undefined) === (values.release === undefined)) {
    throw new UsageError("give one of --cid CID or --release release.json");
  }
  const check = await checkHostedVerifier(
    url,
    values.release === undefined ? { cid: values.cid ?? "" } : { release: readRelease(values.release) },
  );
  for (const file of check.files) console.log(`${file.name.padEnd(26)} sha256 ${file.sha256}`);
  console.log(`CID ${check.cid}`);
  for (const problem of check.problems) console.log(`DIFFERS ${problem}`);
  console.log(check.problems.length === 0 ? "OK: the published verifier" : "NOT the published verifier");
  return check.problems.length === 0;
}
