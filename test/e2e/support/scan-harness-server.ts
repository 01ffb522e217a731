/**
 * A stand-in for the resolver while the real server is built: a `node:http` server that
 * serves the built scan page for Digital Link paths (the resolution inlined, or as JSON
 * when asked for), `/web/` assets, `/ipfs/{cid}` from memory (single ranges answered 206)
 * and a lying `/ipfs-tampered/` gateway,
 * `/rpc` proxied to the chain node, and a hidden-code claim endpoint with the real one's
 * answers. It sends the real server's Content-Security-Policy, so the page is tested
 * under it.
 */
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import path from "node:path";

import { admitStyle, inlineStyleSource } from "../../../server/src/http/routes/web-assets.ts";

export interface HarnessRoute {
  status: 200 | 404;
  body: unknown;
  /** Inline the JSON into the page (the server's usual answer) or let the page fetch it. */
  inline: boolean;
}

export interface HarnessOptions {
  distDir: string;
  chainRpcUrl: string;
  blobs: ReadonlyMap<string, Uint8Array>;
  /** What a dishonest gateway at `/ipfs-tampered/` serves instead of the real bytes. */
  tamperedBlobs: ReadonlyMap<string, Uint8Array>;
  routes: ReadonlyMap<string, HarnessRoute>;
  /** The hidden code every item accepts. */
  hiddenCode: string;
}

export interface HarnessServer {
  baseUrl: string;
  close: () => Promise<void>;
}

// The server's own sources for images and media (helmet's policy in server/src/http/app.ts).
const CSP = "default-src 'self';img-src 'self' data: blob:;media-src 'self' blob:";

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function sendJson(res: ServerResponse, status: number, body: unknown, type = "application/json"): void {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

function sendBlob(req: IncomingMessage, res: ServerResponse, bytes: Uint8Array, cid: string): void {
  const headers = {
    "content-type": cid.length > 0 && bytes[0] === 0x7b ? "application/json" : "video/mp4",
    "accept-ranges": "bytes",
    etag: `"${cid}"`,
    "cache-control": "public, max-age=29030400, immutable",
  };
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? "");
  if (range !== null && (range[1] !== "" || range[2] !== "")) {
    const size = bytes.length;
    const start = range[1] === "" ? size - Number(range[2]) : Number(range[1]);
    const end = range[1] === "" || range[2] === "" ? size - 1 : Math.min(Number(range[2]), size - 1);
    if (start < 0 || start > end || start >= size) {
      res.writeHead(416, { "content-range": `bytes */${size}` });
      res.end();
      return;
    }
    res.writeHead(206, {
      ...headers,
      "content-range": `bytes ${start}-${end}/${size}`,
      "content-length": end - start + 1,
    });
    res.end(bytes.subarray(start, end + 1));
    return;
  }
  res.writeHead(200, { ...headers, "content-length": bytes.length });
  res.end(bytes);
}

export async function startHarnessServer(options: HarnessOptions): Promise<HarnessServer> {
  const pagePath = path.join(options.distDir, "scan.html");
  if (!existsSync(pagePath)) throw new Error(`${pagePath} is missing: build the page first`);
  const claimed = new Map<string, number>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://harness");
    const pathname = decodeURIComponent(url.pathname);
    if (req.method === "POST" && pathname === "/rpc") {
      const upstream = await fetch(options.chainRpcUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: await readBody(req),
      });
      res.writeHead(upstream.status, { "content-type": "application/json" });
      res.end(await upstream.text());
      return;
    }
    if (req.method === "POST" && pathname.startsWith("/api/v1/claims/")) {
      const body = JSON.parse(await readBody(req)) as { code?: unknown };
      if (body.code !== options.hiddenCode) {
        sendJson(
          res,
          400,
          { type: "about:blank", title: "Wrong code", status: 400, code: "claim.wrong_code" },
          "application/problem+json",
        );
        return;
      }
      const before = claimed.get(pathname);
      if (before === undefined) claimed.set(pathname, Date.now());
      sendJson(res, 200, { firstClaim: before === undefined, claimedAtMs: before ?? claimed.get(pathname) });
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405).end();
      return;
    }
    if (pathname.startsWith("/web/")) {
      const file = path.join(options.distDir, path.basename(pathname));
      if (!existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      const type = file.endsWith(".js")
        ? "text/javascript"
        : file.endsWith(".css")
          ? "text/css"
          : "application/octet-stream";
      res.writeHead(200, { "content-type": `${type}; charset=utf-8` });
      res.end(readFileSync(file));
      return;
    }
    const gateway = /^\/(ipfs|ipfs-tampered)\/([a-z2-7]+)$/.exec(pathname);
    if (gateway !== null) {
      const cid = gateway[2] ?? "";
      const bytes =
        (gateway[1] === "ipfs-tampered" ? options.tamperedBlobs.get(cid) : undefined) ?? options.blobs.get(cid);
      if (bytes === undefined) {
        res.writeHead(404).end();
        return;
      }
      sendBlob(req, res, bytes, cid);
      return;
    }
    const route = options.routes.get(pathname);
    if (route !== undefined) {
      if ((req.headers.accept ?? "").includes("application/json")) {
        sendJson(res, route.status, route.body);
        return;
      }
      let html = readFileSync(pagePath, "utf8");
      if (route.inline) {
        const json = JSON.stringify(route.body).replace(/</g, "\\u003c");
        html = html.replace("</head>", `<script type="application/json" id="resolution">${json}</script></head>`);
      }
      res.writeHead(route.status, {
        "content-type": "text/html; charset=utf-8",
        // The page's inline style is admitted by its hash, as the server does.
        "content-security-policy": ((style) => (style === null ? CSP : admitStyle(CSP, style)))(
          inlineStyleSource(html),
        ),
        "cache-control": "no-store",
      });
      res.end(html);
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" }).end("not found");
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(error));
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the harness server has no port");
  return {
    baseUrl: `http://127.0.0.1:${address.port}`,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}
