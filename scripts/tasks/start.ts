/** `npm start`: the production server (see server/src/main.ts). */
import { main } from "../../server/src/main.ts";

await main();
