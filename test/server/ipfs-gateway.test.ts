/**
 * The /ipfs/{cid} path gateway over HTTP: a real Express app on 127.0.0.1 with the embedded
 * store in a temporary directory, spoken to with fetch().
 */
import assert from "node:assert/strict";
import { createCipheriv } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";

import * as dagPb from "@ipld/dag-pb";
import express, { type NextFunction, type Request, type Response } from "express";
import { base32upper } from "multiformats/bases/base32";
import type { CID } from "multiformats/cid";

import { sendProblem, toProblem } from "../../server/src/http/problem.ts";
import { parseCid, type ContentStore } from "../../server/src/ipfs/content-store.ts";
import { openEmbeddedContentStore } from "../../server/src/ipfs/embedded.ts";
import { createIpfsGatewayRouter } from "../../server/src/ipfs/gateway.ts";

const CHUNK = 256 * 1024;
const IMMUTABLE = "public, max-age=29030400, immutable";
const HELLO_CID = "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4";
/** The UnixFS spec's empty directory (appendix: test vectors). */
const EMPTY_DIRECTORY_CID = "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354";

function patternBytes(length: number, seed: number): Buffer {
  return createCipheriv("chacha20", Buffer.alloc(32, seed), Buffer.alloc(16)).update(Buffer.alloc(length));
}

function blockFile(dataDir: string, cid: CID): string {
  const name = base32upper.encode(cid.multihash.bytes);
  return path.join(dataDir, "blocks", name.slice(-2), `${name}.data`);
}

/** A stand-in for the application's one error handler. */
function problemHandler(error: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) {
    next(error);
    return;
  }
  sendProblem(res, toProblem(error));
}

async function startApp(
  store: ContentStore,
  contentType?: (cid: CID) => string | undefined,
): Promise<{ base: string; server: Server }> {
  const app = express();
  app.use(createIpfsGatewayRouter({ store, ...(contentType === undefined ? {} : { contentType }) }));
  app.use(problemHandler);
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, "127.0.0.1", () => {
      resolve(listening);
    });
  });
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
}

async function body(response: globalThis.Response): Promise<Buffer> {
  return Buffer.from(await response.arrayBuffer());
}

async function problemCode(response: globalThis.Response): Promise<unknown> {
  assert.equal(response.headers.get("content-type"), "application/problem+json; charset=utf-8");
  const parsed: unknown = await response.json();
  return typeof parsed === "object" && parsed !== null && "code" in parsed ? parsed.code : undefined;
}

void describe("IPFS path gateway", () => {
  let dataDir: string;
  let store: ContentStore;
  let base: string;
  let server: Server;
  /** A file of 176 chunks: two DAG levels, the second subtree starting at 174 × 256 KiB. */
  let video: Buffer;
  let videoCid: CID;
  let smallCid: CID;
  let jpegCid: CID;
  let xmlCid: CID;
  let declaredCid: CID;
  let emptyCid: CID;

  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "ipfs-gateway-"));
    store = await openEmbeddedContentStore({ dataDir, durable: false });
    video = patternBytes(175 * CHUNK + 4321, 1);
    videoCid = (await store.add([video])).cid;
    smallCid = (await store.add([Buffer.from("hello world\n")])).cid;
    const jpeg = Buffer.concat([Buffer.from("ffd8ffe000104a46494600010100000100010000", "hex"), patternBytes(300, 2)]);
    jpegCid = (await store.add([jpeg])).cid;
    xmlCid = (await store.add([Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>')])).cid;
    declaredCid = (await store.add([patternBytes(1000, 3)])).cid;
    emptyCid = (await store.add([])).cid;
    // A directory block, written where the store keeps blocks (the store itself adds files only).
    const directory = dagPb.encode({ Data: Uint8Array.of(0x08, 0x01), Links: [] });
    const file = blockFile(dataDir, parseCid(EMPTY_DIRECTORY_CID));
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, directory);
    ({ base, server } = await startApp(store, (cid) => (cid.equals(declaredCid) ? "video/mp4" : undefined)));
  });

  after(async () => {
    await stop(server);
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  void describe("GET of a whole file", () => {
    void it("answers 200 with the bytes and the immutable, CID-keyed headers", async () => {
      const response = await fetch(`${base}/ipfs/${HELLO_CID}`);
      assert.equal(response.status, 200);
      assert.equal((await body(response)).toString(), "hello world\n");
      assert.equal(smallCid.toString(), HELLO_CID);
      assert.equal(response.headers.get("content-type"), "application/octet-stream");
      assert.equal(response.headers.get("content-length"), "12");
      assert.equal(response.headers.get("etag"), `"${HELLO_CID}"`);
      assert.equal(response.headers.get("cache-control"), IMMUTABLE);
      assert.equal(response.headers.get("accept-ranges"), "bytes");
      assert.equal(response.headers.get("x-content-type-options"), "nosniff");
      assert.equal(response.headers.get("content-security-policy"), null);
    });

    void it("serves a two-level multi-chunk file byte for byte", async () => {
      const response = await fetch(`${base}/ipfs/${videoCid.toString()}`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-length"), String(video.length));
      assert.ok((await body(response)).equals(video));
    });

    void it("accepts the CIDv0 of a dag-pb file and answers with the CID as given", async () => {
      const v0 = videoCid.toV0().toString();
      const response = await fetch(`${base}/ipfs/${v0}`, { headers: { Range: "bytes=0-3" } });
      assert.equal(response.status, 206);
      assert.equal(response.headers.get("etag"), `"${v0}"`);
      assert.ok((await body(response)).equals(video.subarray(0, 4)));
    });

    void it("sniffs the type from the first bytes, or takes the one the lookup knows", async () => {
      const jpeg = await fetch(`${base}/ipfs/${jpegCid.toString()}`);
      assert.equal(jpeg.headers.get("content-type"), "image/jpeg");
      await body(jpeg);
      const declared = await fetch(`${base}/ipfs/${declaredCid.toString()}`);
      assert.equal(declared.headers.get("content-type"), "video/mp4");
      await body(declared);
    });

    void it("sandboxes types a browser would run as a page (XML, SVG, HTML)", async () => {
      const response = await fetch(`${base}/ipfs/${xmlCid.toString()}`);
      assert.equal(response.headers.get("content-type"), "application/xml");
      assert.equal(response.headers.get("content-security-policy"), "sandbox");
      await body(response);
    });

    void it("serves the empty file as 200 with no bytes", async () => {
      const response = await fetch(`${base}/ipfs/${emptyCid.toString()}`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-length"), "0");
      assert.equal((await body(response)).length, 0);
    });
  });

  void describe("HEAD", () => {
    void it("answers the GET headers without a body, ignoring Range", async () => {
      const response = await fetch(`${base}/ipfs/${videoCid.toString()}`, {
        method: "HEAD",
        headers: { Range: "bytes=0-9" },
      });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-length"), String(video.length));
      assert.equal(response.headers.get("etag"), `"${videoCid.toString()}"`);
      assert.equal(response.headers.get("cache-control"), IMMUTABLE);
      assert.equal(response.headers.get("accept-ranges"), "bytes");
      assert.equal((await body(response)).length, 0);
    });
  });

  void describe("single ranges", () => {
    const size = (): number => video.length;
    const cases: [string, (n: number) => string, (n: number) => [number, number]][] = [
      ["the first byte", () => "bytes=0-0", () => [0, 1]],
      ["the last byte, as a suffix", () => "bytes=-1", (n) => [n - 1, n]],
      ["the last byte, by position", (n) => `bytes=${n - 1}-${n - 1}`, (n) => [n - 1, n]],
      ["a range across a chunk boundary", () => `bytes=${CHUNK - 3}-${CHUNK + 2}`, () => [CHUNK - 3, CHUNK + 3]],
      [
        "a range across the seam of the two subtrees",
        () => `bytes=${174 * CHUNK - 7}-${174 * CHUNK + 7}`,
        () => [174 * CHUNK - 7, 174 * CHUNK + 8],
      ],
      ["an open-ended range", () => `bytes=${174 * CHUNK + 100}-`, (n) => [174 * CHUNK + 100, n]],
      ["a suffix longer than the file (the whole file)", (n) => `bytes=-${n + 10}`, (n) => [0, n]],
      ["a last position past the end (clamped)", (n) => `bytes=${n - 5}-${n + 1000}`, (n) => [n - 5, n]],
      ["a position beyond 2^53 as the last position", () => "bytes=3-99999999999999999999", (n) => [3, n]],
      ["a case-insensitive unit with spaces and an empty list element", () => " BYTES=5-9, ", () => [5, 10]],
    ];
    for (const [name, header, expected] of cases) {
      void it(`answers 206 for ${name}`, async () => {
        const n = size();
        const [start, end] = expected(n);
        const response = await fetch(`${base}/ipfs/${videoCid.toString()}`, { headers: { Range: header(n) } });
        assert.equal(response.status, 206);
        assert.equal(response.headers.get("content-range"), `bytes ${start}-${end - 1}/${n}`);
        assert.equal(response.headers.get("content-length"), String(end - start));
        assert.equal(response.headers.get("etag"), `"${videoCid.toString()}"`);
        assert.equal(response.headers.get("cache-control"), IMMUTABLE);
        assert.ok((await body(response)).equals(video.subarray(start, end)));
      });
    }

    void it("answers 416 problem+json with Content-Range: bytes */size when nothing can be served", async () => {
      const n = size();
      for (const header of [`bytes=${n}-`, `bytes=${n + 5}-${n + 9}`, "bytes=-0", "bytes=99999999999999999999-"]) {
        const response = await fetch(`${base}/ipfs/${videoCid.toString()}`, { headers: { Range: header } });
        assert.equal(response.status, 416, header);
        assert.equal(response.headers.get("content-range"), `bytes */${n}`);
        assert.notEqual(response.headers.get("cache-control"), IMMUTABLE);
        assert.equal(await problemCode(response), "ipfs.range_not_satisfiable");
      }
      const empty = await fetch(`${base}/ipfs/${emptyCid.toString()}`, { headers: { Range: "bytes=0-" } });
      assert.equal(empty.status, 416);
      assert.equal(empty.headers.get("content-range"), "bytes */0");
      await body(empty);
    });

    void it("answers 200 with everything for several ranges (RFC 9110 allows it)", async () => {
      const response = await fetch(`${base}/ipfs/${videoCid.toString()}`, { headers: { Range: "bytes=0-1,10-11" } });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-range"), null);
      assert.ok((await body(response)).equals(video));
    });

    void it("ignores a malformed Range header and answers 200", async () => {
      for (const header of [
        "bytes=abc",
        "items=0-1",
        "bytes=9-5",
        "bytes 0-1",
        "bytes=-",
        "bytes=1-2-3",
        "bytes=0x10-",
      ]) {
        const response = await fetch(`${base}/ipfs/${HELLO_CID}`, { headers: { Range: header } });
        assert.equal(response.status, 200, header);
        assert.equal((await body(response)).toString(), "hello world\n");
      }
    });

    void it("honours If-Range only when it names this CID", async () => {
      const matching = await fetch(`${base}/ipfs/${HELLO_CID}`, {
        headers: { Range: "bytes=6-10", "If-Range": `"${HELLO_CID}"` },
      });
      assert.equal(matching.status, 206);
      assert.equal((await body(matching)).toString(), "world");
      for (const ifRange of [`"${videoCid.toString()}"`, `W/"${HELLO_CID}"`, "Wed, 21 Oct 2015 07:28:00 GMT"]) {
        const response = await fetch(`${base}/ipfs/${HELLO_CID}`, {
          headers: { Range: "bytes=6-10", "If-Range": ifRange },
        });
        assert.equal(response.status, 200, ifRange);
        assert.equal((await body(response)).toString(), "hello world\n");
      }
    });
  });

  void describe("conditional requests", () => {
    void it("answers 304 when If-None-Match holds the ETag, strong, weak or in a list", async () => {
      for (const header of [`"${HELLO_CID}"`, `W/"${HELLO_CID}"`, `"other", "${HELLO_CID}"`, "*"]) {
        const response = await fetch(`${base}/ipfs/${HELLO_CID}`, { headers: { "If-None-Match": header } });
        assert.equal(response.status, 304, header);
        assert.equal(response.headers.get("etag"), `"${HELLO_CID}"`);
        assert.equal(response.headers.get("cache-control"), IMMUTABLE);
        assert.equal((await body(response)).length, 0);
      }
    });

    void it("answers 200 when If-None-Match names something else", async () => {
      const response = await fetch(`${base}/ipfs/${HELLO_CID}`, {
        headers: { "If-None-Match": `"${videoCid.toString()}"` },
      });
      assert.equal(response.status, 200);
      assert.equal((await body(response)).toString(), "hello world\n");
    });
  });

  void describe("errors", () => {
    void it("answers 400 ipfs.cid_malformed for a path that is not a CID", async () => {
      for (const text of ["not-a-cid", "bafy", "QmNotReally", "z".repeat(300)]) {
        const response = await fetch(`${base}/ipfs/${text}`);
        assert.equal(response.status, 400, text);
        assert.equal(await problemCode(response), "ipfs.cid_malformed");
      }
    });

    void it("answers 404 ipfs.not_found for a CID stored nowhere here, and caches nothing", async () => {
      const response = await fetch(`${base}/ipfs/bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy`);
      assert.equal(response.status, 404);
      assert.equal(response.headers.get("cache-control"), "no-store");
      assert.notEqual(response.headers.get("etag"), `"bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"`);
      assert.equal(await problemCode(response), "ipfs.not_found");
    });

    void it("answers 404 ipfs.not_a_file for a directory", async () => {
      const response = await fetch(`${base}/ipfs/${EMPTY_DIRECTORY_CID}`);
      assert.equal(response.status, 404);
      assert.equal(await problemCode(response), "ipfs.not_a_file");
    });

    void it("answers 405 with Allow for other methods", async () => {
      const response = await fetch(`${base}/ipfs/${HELLO_CID}`, { method: "POST" });
      assert.equal(response.status, 405);
      assert.equal(response.headers.get("allow"), "GET, HEAD");
      assert.equal(await problemCode(response), "method.not_allowed");
    });

    void it("answers 500 (not a truncated 200) when the first block to send is damaged", async () => {
      const damagedFile = patternBytes(2 * CHUNK, 9);
      const { cid } = await store.add([damagedFile]);
      const root = dagPb.decode(await readFile(blockFile(dataDir, cid)));
      const secondLeaf = root.Links[1]?.Hash;
      assert.ok(secondLeaf !== undefined);
      await writeFile(blockFile(dataDir, secondLeaf), patternBytes(CHUNK, 10));
      const response = await fetch(`${base}/ipfs/${cid.toString()}`, { headers: { Range: `bytes=${CHUNK}-` } });
      assert.equal(response.status, 500);
      assert.equal(await problemCode(response), "internal.error");
      // The intact first leaf is still served.
      const intact = await fetch(`${base}/ipfs/${cid.toString()}`, { headers: { Range: `bytes=0-${CHUNK - 1}` } });
      assert.equal(intact.status, 206);
      assert.ok((await body(intact)).equals(damagedFile.subarray(0, CHUNK)));
    });
  });

  void it("answers 503 ipfs.unavailable when the store is down", async () => {
    const downDir = await mkdtemp(path.join(tmpdir(), "ipfs-gateway-down-"));
    const downStore = await openEmbeddedContentStore({ dataDir: downDir, durable: false });
    await downStore.add([Buffer.from("hello world\n")]);
    await rm(path.join(downDir, "blocks"), { recursive: true });
    const down = await startApp(downStore);
    try {
      for (const method of ["GET", "HEAD"]) {
        const response = await fetch(`${down.base}/ipfs/${HELLO_CID}`, { method });
        assert.equal(response.status, 503, method);
        assert.equal(response.headers.get("cache-control"), "no-store");
        if (method === "GET") assert.equal(await problemCode(response), "ipfs.unavailable");
        else await body(response);
      }
      await downStore.close();
      const closed = await fetch(`${down.base}/ipfs/${HELLO_CID}`);
      assert.equal(closed.status, 503);
      assert.equal(await problemCode(closed), "ipfs.unavailable");
    } finally {
      await stop(down.server);
      await rm(downDir, { recursive: true, force: true });
    }
  });

  void it("stops reading the store when the client goes away mid-body", async () => {
    // An object, so the checks below see what the generator's closure writes.
    const watch = { chunksServed: 0, released: false, signals: [] as (AbortSignal | undefined)[] };
    const watched: ContentStore = {
      ...store,
      cat(cid, options) {
        watch.signals.push(options?.signal);
        // The signal is withheld from the store, so only ending the iteration can release it.
        const inner = store.cat(cid, { ...options, signal: undefined });
        return (async function* () {
          try {
            for await (const chunk of inner) {
              watch.chunksServed++;
              yield chunk;
            }
          } finally {
            watch.released = true;
          }
        })();
      },
    };
    const app = await startApp(watched, () => "application/octet-stream");
    try {
      const controller = new AbortController();
      const response = await fetch(`${app.base}/ipfs/${videoCid.toString()}`, { signal: controller.signal });
      assert.equal(response.status, 200);
      const reader = response.body?.getReader();
      assert.ok(reader !== undefined);
      await reader.read();
      controller.abort();
      const deadline = Date.now() + 5_000;
      while (!watch.released && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.ok(watch.released, "the store's stream was not released");
      // Far from all 176 chunks: the server stopped pulling once the client left.
      assert.ok(watch.chunksServed < 100, `${watch.chunksServed} chunks were read for a client that left`);
      // And the store was told to stop, too (a Kubo request in flight would be aborted).
      assert.ok(watch.signals.length > 0);
      for (const signal of watch.signals) assert.equal(signal?.aborted, true);
    } finally {
      await stop(app.server);
    }
  });
});
