/**
 * The Kubo adapter, tested without Kubo (none can be installed here). What is honest to test:
 * - a refused connection and a node that never answers are `unavailable` within the bound,
 *   for every operation, and never another kind of error;
 * - against a stand-in that answers in Kubo's RPC wire format: the add request carries
 *   exactly the import parameters that make CIDs match, and Kubo's error answers map to the
 *   right kinds. The stand-in's error text is Kubo's: "block was not found locally
 *   (offline): ipld: could not find …" with HTTP 500 (as captured from Kubo 0.38), boxo's
 *   "this dag node is a directory", and pin ls's "path '…' is not pinned".
 * Whether a real Kubo produces the same CIDs is covered by the importer tests against Kubo's
 * published vectors; this file checks that we ask Kubo for the same parameters.
 */
import assert from "node:assert/strict";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";

import { ContentError, parseCid, type ContentStore } from "./content-store.ts";
import { createKuboContentStore } from "./kubo.ts";

const HELLO_CID = "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4";
const TIMEOUT_MS = 300;

async function outcome(run: () => Promise<unknown>): Promise<{ kind: string; ms: number }> {
  const started = performance.now();
  try {
    await run();
    return { kind: "no error", ms: performance.now() - started };
  } catch (error) {
    const kind = error instanceof ContentError ? error.kind : `not a ContentError: ${String(error)}`;
    return { kind, ms: performance.now() - started };
  }
}

async function drain(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

/** Every operation of the interface, run once each. */
function everyOperation(store: ContentStore): Record<string, () => Promise<unknown>> {
  const cid = parseCid(HELLO_CID);
  return {
    add: () => store.add([Buffer.from("hello world\n")]),
    stat: () => store.stat(cid),
    cat: () => drain(store.cat(cid)),
    has: () => store.has(cid),
    pin: () => store.pin(cid),
    isPinned: () => store.isPinned(cid),
  };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: Server): Promise<void> {
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
}

void describe("Kubo adapter when Kubo is unreachable", () => {
  void it("says unavailable at once when the connection is refused", async () => {
    // A port that was just free: bind, note it, release it.
    const probe = createTcpServer();
    const url = await listen(probe);
    await close(probe);
    const store = await createKuboContentStore({ url, timeoutMs: 5_000 });
    for (const [name, run] of Object.entries(everyOperation(store))) {
      const { kind, ms } = await outcome(run);
      assert.equal(kind, "unavailable", name);
      assert.ok(ms < 1_000, `${name} took ${ms.toFixed(0)} ms`);
    }
  });

  void it("says unavailable within the timeout when Kubo accepts but never answers", async () => {
    const sockets = new Set<Socket>();
    const silent = createTcpServer((socket) => {
      sockets.add(socket);
      socket.resume(); // read requests (so uploads finish), answer nothing
    });
    const url = await listen(silent);
    try {
      const store = await createKuboContentStore({ url, timeoutMs: TIMEOUT_MS, pinTimeoutMs: TIMEOUT_MS });
      for (const [name, run] of Object.entries(everyOperation(store))) {
        const { kind, ms } = await outcome(run);
        assert.equal(kind, "unavailable", name);
        assert.ok(ms >= TIMEOUT_MS - 20 && ms < TIMEOUT_MS + 700, `${name} took ${ms.toFixed(0)} ms`);
      }
    } finally {
      for (const socket of sockets) socket.destroy();
      await close(silent);
    }
  });

  void it("says unavailable for a URL that is not one", async () => {
    assert.equal((await outcome(() => createKuboContentStore({ url: "not a url" }))).kind, "unavailable");
  });
});

void describe("Kubo adapter against a stand-in speaking Kubo's RPC format", () => {
  interface Seen {
    path: string;
    query: URLSearchParams;
    body: Buffer;
  }
  const seen: Seen[] = [];
  /** What the stand-in answers per RPC path; tests replace entries. */
  let answers: Record<string, (res: ServerResponse, query: URLSearchParams) => void> = {};
  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    req.on("data", (part: Buffer) => parts.push(part));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://stand-in");
      const path = url.pathname.replace(/^\/api\/v0\//, "");
      seen.push({ path, query: url.searchParams, body: Buffer.concat(parts) });
      const answer = answers[path];
      if (answer === undefined) kuboError(res, `unknown command ${path}`);
      else answer(res, url.searchParams);
    });
  });
  let store: ContentStore;

  function kuboError(res: ServerResponse, message: string): void {
    res.writeHead(500, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ Message: message, Code: 0, Type: "error" }));
  }

  function json(res: ServerResponse, body: unknown): void {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(`${JSON.stringify(body)}\n`);
  }

  const notFound = (res: ServerResponse, query: URLSearchParams): void => {
    kuboError(res, `block was not found locally (offline): ipld: could not find ${query.get("arg") ?? ""}`);
  };

  before(async () => {
    const url = await listen(server);
    store = await createKuboContentStore({ url, timeoutMs: TIMEOUT_MS });
  });

  after(async () => {
    await store.close();
    server.closeAllConnections();
    await close(server);
  });

  void it("adds with exactly the parameters that give our CIDs, pinning, and streams the bytes", async () => {
    seen.length = 0;
    answers = {
      add: (res) => {
        json(res, { Name: HELLO_CID, Hash: HELLO_CID, Size: "12" });
      },
    };
    const added = await store.add([Buffer.from("hello "), Buffer.from("world\n")]);
    assert.equal(added.cid.toString(), HELLO_CID);
    assert.equal(added.sizeBytes, 12);
    const request = seen.find((entry) => entry.path === "add");
    assert.ok(request !== undefined);
    const expected = {
      "cid-version": "1",
      "raw-leaves": "true",
      chunker: "size-262144",
      "max-file-links": "174",
      hash: "sha2-256",
      trickle: "false",
      pin: "true",
      "wrap-with-directory": "false",
      inline: "false",
    };
    for (const [name, value] of Object.entries(expected)) assert.equal(request.query.get(name), value, name);
    assert.ok(request.body.includes("hello world\n"), "the file bytes are in the multipart body");
  });

  void it("keeps the source's own error when the source fails mid-upload", async () => {
    answers = {
      add: (res) => {
        json(res, { Name: HELLO_CID, Hash: HELLO_CID, Size: "12" });
      },
    };
    assert.equal((await outcome(() => store.add([Buffer.alloc(20)], { maxBytes: 10 }))).kind, "too_large");
  });

  void it("reads stat, cat ranges and pins from Kubo's answers, offline", async () => {
    seen.length = 0;
    answers = {
      "files/stat": (res) => {
        json(res, { Hash: HELLO_CID, Size: 12, CumulativeSize: 12, Blocks: 0, Type: "file" });
      },
      cat: (res, query) => {
        const offset = Number(query.get("offset") ?? 0);
        const length = query.has("length") ? Number(query.get("length")) : undefined;
        res.writeHead(200, { "Content-Type": "text/plain" });
        res.end(Buffer.from("hello world\n").subarray(offset, length === undefined ? undefined : offset + length));
      },
      "block/stat": (res) => {
        json(res, { Key: HELLO_CID, Size: 12 });
      },
      "pin/add": (res) => {
        json(res, { Pins: [HELLO_CID] });
      },
      "pin/ls": (res) => {
        json(res, { Cid: HELLO_CID, Type: "recursive" });
      },
    };
    const cid = parseCid(HELLO_CID);
    assert.deepEqual(await store.stat(cid), { sizeBytes: 12 });
    assert.equal((await drain(store.cat(cid, { offset: 6, length: 5 }))).toString(), "world");
    assert.equal(await store.has(cid), true);
    await store.pin(cid);
    assert.equal(await store.isPinned(cid), true);
    for (const entry of seen) assert.equal(entry.query.get("offline"), "true", `${entry.path} is offline`);
    assert.equal(seen.find((entry) => entry.path === "cat")?.query.get("offset"), "6");
  });

  void it("maps Kubo's not-found, directory and not-pinned answers", async () => {
    answers = { "files/stat": notFound, cat: notFound, "block/stat": notFound, "pin/add": notFound };
    answers["pin/ls"] = (res, query) => {
      kuboError(res, `path '${query.get("arg") ?? ""}' is not pinned`);
    };
    const cid = parseCid(HELLO_CID);
    assert.equal(await store.stat(cid), null);
    assert.equal((await outcome(() => drain(store.cat(cid)))).kind, "not_found");
    assert.equal(await store.has(cid), false);
    assert.equal((await outcome(() => store.pin(cid))).kind, "not_found");
    assert.equal(await store.isPinned(cid), false);

    answers["files/stat"] = (res) => {
      json(res, { Hash: HELLO_CID, Size: 0, CumulativeSize: 4, Blocks: 0, Type: "directory" });
    };
    answers.cat = (res) => {
      kuboError(res, "this dag node is a directory");
    };
    assert.equal((await outcome(() => store.stat(cid))).kind, "not_a_file");
    assert.equal((await outcome(() => drain(store.cat(cid)))).kind, "not_a_file");

    answers["files/stat"] = (res) => {
      kuboError(res, "some internal failure");
    };
    assert.equal((await outcome(() => store.stat(cid))).kind, "unavailable");
  });

  void it("cuts a cat that stalls mid-body after the idle timeout, as unavailable", async () => {
    answers = {
      cat: (res) => {
        res.writeHead(200, { "Content-Type": "text/plain" });
        res.write("hello "); // and then nothing, with the connection open
      },
    };
    const received: string[] = [];
    const result = await outcome(async () => {
      for await (const chunk of store.cat(parseCid(HELLO_CID))) received.push(Buffer.from(chunk).toString());
    });
    assert.deepEqual(received, ["hello "]);
    assert.equal(result.kind, "unavailable");
    assert.ok(result.ms < TIMEOUT_MS + 700, `took ${result.ms.toFixed(0)} ms`);
  });
});
