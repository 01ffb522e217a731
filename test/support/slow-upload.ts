/**
 * A media upload sent as a weak uplink sends it: pieces with pauses between them, and
 * optionally a sender that goes silent (a phone out of coverage) without closing.
 */
import { createHash } from "node:crypto";
import { once } from "node:events";
import { request as httpRequest, type IncomingMessage } from "node:http";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface TrickledUpload {
  status: number;
  body: unknown;
  /** Of what was sent, to compare with what was stored. */
  sha256: string;
  ms: number;
}

/**
 * Sends `pieces` copies of `piece`, waiting `gapMs` between them; with `stall`, stops
 * sending (without closing) after `stall.after` pieces and waits up to `stall.waitMs` for
 * the server to hang up. Resolves with the answer, or "closed" when the server hangs up
 * first, or "still open" when a stalled upload was never cut.
 */
export async function trickleUpload(
  baseUrl: string,
  token: string,
  options: { piece: Buffer; pieces: number; gapMs: number; stall?: { after: number; waitMs: number } },
): Promise<TrickledUpload | "closed" | "still open"> {
  const { piece, pieces, gapMs, stall } = options;
  const started = performance.now();
  const request = httpRequest(new URL("/api/v1/media", baseUrl), {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "video/mp4",
      "content-length": String(pieces * piece.length),
    },
  });
  const answer = new Promise<IncomingMessage | "closed">((resolve) => {
    request.once("response", resolve);
    request.once("error", () => {
      resolve("closed");
    });
    request.once("close", () => {
      resolve("closed");
    });
  });
  const digest = createHash("sha256");
  for (let i = 0; i < pieces; i++) {
    if (stall !== undefined && i === stall.after) {
      // Wait for the server to hang up, but not for ever: a server that never does fails the test.
      const outcome = await Promise.race([answer, sleep(stall.waitMs).then(() => "open")]);
      request.destroy();
      return outcome === "closed" ? "closed" : "still open";
    }
    digest.update(piece);
    if (!request.write(piece)) await once(request, "drain");
    await sleep(gapMs);
  }
  request.end();
  const response = await answer;
  if (response === "closed") return response;
  const parts: Buffer[] = [];
  for await (const part of response) parts.push(part as Buffer);
  return {
    status: response.statusCode ?? 0,
    body: JSON.parse(Buffer.concat(parts).toString("utf8")) as unknown,
    sha256: digest.digest("hex"),
    ms: performance.now() - started,
  };
}
