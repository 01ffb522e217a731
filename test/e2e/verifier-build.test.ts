/**
 * The independent verifier's build: reproducible (two builds give the same bytes and CID,
 * whatever order the config's keys came in), pinned (another registry is another script,
 * another CID), its CID the UnixFS directory Kubo would make of the two files (rebuilt here
 * by hand from dag-pb), a bad config refused; and `check-verifier --release` naming a hosted
 * copy's altered page.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { promisify } from "node:util";

import * as dagPb from "@ipld/dag-pb";
import { UnixFS } from "ipfs-unixfs";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import * as Digest from "multiformats/hashes/digest";

import { serveStaticSite } from "../../scripts/lib/static-site.ts";
import { releaseSchema } from "../../scripts/lib/verifier-release.ts";
import { buildVerifier } from "../../scripts/tasks/build-verifier.ts";

const projectRoot = path.resolve(import.meta.dirname, "../..");
const execFileAsync = promisify(execFile);
const SHA2_256 = 0x12;

const PINS = {
  chainId: "31337",
  registry: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  typedDataVersion: "2",
  deploymentBlock: "1",
  endpoints: ["https://rpc.bureau.example.cn/", "https://rpc.federation.example.org/", "https://public.example.net/"],
  quorum: 2,
};

function sha256(bytes: Uint8Array): Uint8Array {
  return createHash("sha256").update(bytes).digest();
}

/** What `ipfs add -r --cid-version=1` makes of a folder of small files: raw leaves under one dag-pb directory. */
function kuboDirectoryCid(files: { name: string; content: Uint8Array }[]): string {
  const links = [...files]
    .sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)))
    .map((file) => ({
      Name: file.name,
      Hash: CID.createV1(raw.code, Digest.create(SHA2_256, sha256(file.content))),
      Tsize: file.content.byteLength,
    }));
  const node = dagPb.encode(dagPb.prepare({ Data: new UnixFS({ type: "directory" }).marshal(), Links: links }));
  return CID.createV1(dagPb.code, Digest.create(SHA2_256, sha256(node))).toString();
}

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await execFileAsync(process.execPath, ["scripts/tasks/cli.ts", ...args], { cwd: projectRoot });
    return { code: 0, out: stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, out: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

describe("the independent verifier's build", () => {
  const dirs: string[] = [];
  const temp = (name: string): string => {
    const dir = mkdtempSync(path.join(tmpdir(), name));
    dirs.push(dir);
    return dir;
  };
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("is reproducible: two builds into two folders give the same bytes and CID, the CID Kubo would give", async () => {
    const first = await buildVerifier(PINS, { outDir: temp("verifier-a-") });
    // The same roots, keys in another order: the pins are written in one canonical order.
    const shuffled = Object.fromEntries(Object.entries(PINS).reverse());
    const second = await buildVerifier(shuffled, { outDir: temp("verifier-b-") });
    assert.equal(second.release.cid, first.release.cid);
    const names = readdirSync(first.outDir).sort();
    assert.deepEqual(names, ["index.html", "release.json", first.release.script].sort());
    assert.deepEqual(readdirSync(second.outDir).sort(), names);
    for (const name of names) {
      assert.ok(
        readFileSync(path.join(first.outDir, name)).equals(readFileSync(path.join(second.outDir, name))),
        `${name} differs between two builds`,
      );
    }
    const release = releaseSchema.parse(JSON.parse(readFileSync(path.join(first.outDir, "release.json"), "utf8")));
    assert.deepEqual(release.pins, PINS);
    const published = [release.page, release.script].map((name) => ({
      name,
      content: new Uint8Array(readFileSync(path.join(first.outDir, name))),
    }));
    for (const file of published) {
      assert.equal(release.files[file.name]?.sha256, createHash("sha256").update(file.content).digest("hex"));
    }
    assert.equal(release.cid, kuboDirectoryCid(published));
    const html = new TextDecoder().decode(published[0]?.content);
    const integrity = `sha384-${createHash("sha384")
      .update(published[1]?.content ?? new Uint8Array())
      .digest("base64")}`;
    assert.ok(
      html.includes(`src="./${release.script}" integrity="${integrity}"`),
      "the script tag carries its integrity",
    );
    assert.match(html, /Content-Security-Policy" content="default-src 'none'; script-src 'self'/);
    assert.match(html, /data-boot/);
    // The pins are in the script, so in its hash and the CID.
    const script = new TextDecoder().decode(published[1]?.content);
    for (const endpoint of PINS.endpoints) assert.ok(script.includes(endpoint));
  });

  it("pins: another registry makes another script and another CID; a bad config is refused", async () => {
    const genuine = await buildVerifier(PINS, { outDir: temp("verifier-c-") });
    const other = await buildVerifier(
      { ...PINS, registry: "0x00000000000000000000000000000000DeaDBeef" },
      { outDir: temp("verifier-d-") },
    );
    assert.notEqual(other.release.script, genuine.release.script);
    assert.notEqual(other.release.cid, genuine.release.cid);

    const config = path.join(temp("verifier-config-"), "verifier.config.json");
    writeFileSync(config, JSON.stringify({ ...PINS, quorum: 4 }));
    const refused = await execFileAsync(process.execPath, ["scripts/tasks/build-verifier.ts", "--config", config], {
      cwd: projectRoot,
    }).then(
      () => ({ code: 0, err: "" }),
      (error: unknown) => ({
        code: (error as { code?: number }).code ?? -1,
        err: (error as { stderr?: string }).stderr ?? "",
      }),
    );
    assert.equal(refused.code, 2);
    assert.match(refused.err, /quorum is at most the number of endpoints/);
  });

  it("check-verifier --release: a faithful copy passes, a copy with an altered page is named", async () => {
    const build = await buildVerifier(PINS, { outDir: temp("verifier-e-") });
    const releaseFile = path.join(build.outDir, "release.json");
    const altered = temp("verifier-altered-");
    cpSync(build.outDir, altered, { recursive: true });
    const page = path.join(altered, "index.html");
    // A host loosening the page's policy so it could inject a script of its own.
    writeFileSync(page, readFileSync(page, "utf8").replace("script-src 'self'", "script-src *"));
    const faithful = await serveStaticSite(build.outDir);
    const tampered = await serveStaticSite(altered);
    try {
      const ok = await cli(["check-verifier", "--url", faithful.url, "--release", releaseFile]);
      assert.equal(ok.code, 0, ok.out);
      assert.match(ok.out, /OK: the published verifier/);
      const bad = await cli(["check-verifier", "--url", tampered.url, "--release", releaseFile]);
      assert.equal(bad.code, 1, bad.out);
      assert.match(bad.out, /DIFFERS index\.html: SHA-256/);
      assert.doesNotMatch(bad.out, new RegExp(`DIFFERS ${build.release.script.replace(".", "\\.")}`));
      const usage = await cli(["check-verifier", "--url", faithful.url]);
      assert.equal(usage.code, 2, usage.out);
    } finally {
      await faithful.close();
      await tampered.close();
    }
  });
});
