/**
 * A loopback TCP proxy that can be taken down and brought back on the same port: how the
 * fault tests make a chain node unreachable for a while without losing its state (a
 * Hardhat node that is stopped forgets its chain; one that is unreachable does not).
 */
import { once } from "node:events";
import { createConnection, createServer, type Server, type Socket } from "node:net";

export interface TcpProxy {
  port: number;
  url: string;
  /** Refuses new connections and cuts open ones, as a node that went down. */
  down: () => Promise<void>;
  up: () => Promise<void>;
  close: () => Promise<void>;
}

export async function startTcpProxy(targetPort: number, listenPort = 0): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = listenPort;

  async function listen(): Promise<void> {
    const s = createServer((client) => {
      const upstream = createConnection({ host: "127.0.0.1", port: targetPort });
      sockets.add(client);
      sockets.add(upstream);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on("error", drop).on("close", drop);
      upstream.on("error", drop).on("close", drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    s.listen(port, "127.0.0.1");
    await once(s, "listening");
    const address = s.address();
    if (address !== null && typeof address === "object") port = address.port;
    server = s;
  }

  async function down(): Promise<void> {
    const s = server;
    server = null;
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    if (s !== null)
      await new Promise<void>((resolve) =>
        s.close(() => {
          resolve();
        }),
      );
  }

  await listen();
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    down,
    up: async () => {
      if (server === null) await listen();
    },
    close: down,
  };
}
