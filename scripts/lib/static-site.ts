/**
 * A static host for the independent verifier, as a bureau's web server or an IPFS gateway
 * would serve it: the files of one folder, `index.html` at `/`, compressed as the browser
 * accepts (brotli, else gzip). It is a different origin from the platform's: the demo, the
 * e2e test and the bench serve the verifier with it.
 */
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { brotliCompressSync, gzipSync } from "node:zlib";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
};

export interface StaticSite {
  url: string;
  port: number;
  close: () => Promise<void>;
}

/** Serves `dir` on `host:port` (0: a free port). */
export async function serveStaticSite(
  dir: string,
  options: { host?: string; port?: number } = {},
): Promise<StaticSite> {
  const root = path.resolve(dir);
  const server: Server = createServer((req, res) => {
    void (async () => {
      const pathname = decodeURIComponent(new URL(req.url ?? "/", "http://host").pathname);
      const name = pathname === "/" ? "index.html" : pathname.slice(1);
      const file = path.resolve(root, name);
      const type = TYPES[path.extname(file)];
      if (!file.startsWith(root + path.sep) || type === undefined || (req.method !== "GET" && req.method !== "HEAD")) {
        res.writeHead(404).end();
        return;
      }
      let content: Buffer;
      try {
        content = await readFile(file);
      } catch {
        res.writeHead(404).end();
        return;
      }
      const accepts = req.headers["accept-encoding"] ?? "";
      const encoding = /\bbr\b/.test(accepts) ? "br" : /\bgzip\b/.test(accepts) ? "gzip" : null;
      const body = encoding === "br" ? brotliCompressSync(content) : encoding === "gzip" ? gzipSync(content) : content;
      res.writeHead(200, {
        "content-type": type,
        "content-length": String(body.byteLength),
        "cache-control": "no-cache",
        vary: "accept-encoding",
        ...(encoding === null ? {} : { "content-encoding": encoding }),
      });
      res.end(req.method === "HEAD" ? undefined : body);
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host === undefined || options.host === "0.0.0.0" ? "127.0.0.1" : options.host}:${String(port)}/`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
