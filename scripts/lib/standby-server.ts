/**
 * A server process started ahead of need, for the keyed crash cycles (keyed-crash.ts): it reads the
 * code now and starts the server (`main`, as `npm start` does) only when a line arrives
 * on its stdin, the moment the previous process has been killed.
 */
import { main } from "../../server/src/main.ts";

process.stdin.once("data", () => {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
});
process.stdout.write("standby-ready\n");
