/**
 * The yardstick for resolve throughput: a bare Express app answering `GET /hello`, in its
 * own process, loaded by the same autocannon settings as the resolver in the same run.
 * `GET /body` sends a fixed body of `BODY_BYTES` bytes (the resolver's JSON answer's size) as
 * JSON: what an answer of that size costs to send, without the resolver's work.
 * Prints `listening <port>` once it accepts connections.
 */
import express from "express";

const app = express();
app.disable("x-powered-by");
app.get("/hello", (_req, res) => {
  res.send("hello");
});
const body = Buffer.alloc(Number(process.env.BODY_BYTES ?? 0), "0");
app.get("/body", (_req, res) => {
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.setHeader("Content-Length", String(body.byteLength));
  res.end(body);
});
const server = app.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const address = server.address();
  console.log(`listening ${typeof address === "object" && address !== null ? address.port : 0}`);
});
process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
});
