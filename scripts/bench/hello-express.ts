/**
 * The yardstick for resolve throughput: a bare Express app answering `GET /hello`, in its
 * own process, loaded by the same autocannon settings as the resolver in the same run.
 * Prints `listening <port>` once it accepts connections.
 */
import express from "express";

const app = express();
app.disable("x-powered-by");
app.get("/hello", (_req, res) => {
  res.send("hello");
});
const server = app.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const address = server.address();
  console.log(`listening ${typeof address === "object" && address !== null ? address.port : 0}`);
});
process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
});
