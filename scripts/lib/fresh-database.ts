/**
 * A fresh, empty PostgreSQL database on a server whose role may create databases, so each
 * test or crash run starts on its own schema and leaves the others' alone.
 */
import { randomBytes } from "node:crypto";

/** Creates `<prefix>_<random>` on the server at `baseUrl`; its URL. */
export async function freshPostgresDatabase(baseUrl: string, prefix: string): Promise<string> {
  // Loaded here, not at the top: a run on SQLite never needs the driver.
  const { default: pg } = await import("pg");
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  await client.query(`create database ${name}`);
  await client.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
