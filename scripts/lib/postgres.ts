/**
 * A throwaway PostgreSQL cluster for the test command: its own data directory in a temp
 * folder, listening on 127.0.0.1 only on a free port, its unix socket in that folder, a
 * random password for TCP. Nothing of the machine's own PostgreSQL (if any) is touched.
 *
 * When the binaries are missing, root installs Debian's `postgresql` package. If that is
 * impossible, a developer's run says so loudly and goes on without PostgreSQL; in CI
 * (CI=true) it fails instead, because a silently skipped engine is an untested engine.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, chownSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";

export interface PostgresInstance {
  /** postgres:// URL of a fresh, empty database whose role may create further databases. */
  url: string;
  stop: () => Promise<void>;
}

interface CommandOptions {
  env?: NodeJS.ProcessEnv;
  /** Run as this user (root only): initdb and postgres refuse to run as root. */
  asUser?: string;
}

function run(command: string, args: readonly string[], options: CommandOptions = {}): Promise<string> {
  const [file, argv] =
    options.asUser === undefined ? [command, args] : ["runuser", ["-u", options.asUser, "--", command, ...args]];
  return new Promise((resolve, reject) => {
    execFile(
      file,
      argv,
      { env: { ...process.env, ...options.env }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error === null) resolve(stdout);
        else reject(new Error(`${[command, ...args].join(" ")} failed:\n${stdout}${stderr}`, { cause: error }));
      },
    );
  });
}

/** Debian keeps each major version's binaries apart; take the newest, else whatever PATH has. */
function findBinDir(): string | null {
  const debianRoot = "/usr/lib/postgresql";
  if (existsSync(debianRoot)) {
    const versions = readdirSync(debianRoot)
      .filter((name) => /^\d+$/.test(name) && existsSync(path.join(debianRoot, name, "bin", "pg_ctl")))
      .sort((a, b) => Number(b) - Number(a));
    const newest = versions[0];
    if (newest !== undefined) return path.join(debianRoot, newest, "bin");
  }
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir !== "" && existsSync(path.join(dir, "initdb")) && existsSync(path.join(dir, "pg_ctl"))) return dir;
  }
  return null;
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

async function installPostgres(log: (line: string) => void): Promise<void> {
  log("PostgreSQL binaries not found; installing Debian's postgresql package (apt-get)");
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  await run("apt-get", ["update"], { env });
  await run("apt-get", ["install", "-y", "--no-install-recommends", "postgresql"], { env });
}

function loudSkip(reason: string): void {
  const bar = "!".repeat(78);
  console.error(
    `\n${bar}\n!! PostgreSQL is NOT tested in this run: ${reason}\n!! Set CI=true to make this an error.\n${bar}\n`,
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === "object") resolve(address.port);
        else reject(new Error("could not find a free port"));
      });
    });
  });
}

async function userIds(user: string): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run("id", ["-u", user]), run("id", ["-g", user])]);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

/**
 * Starts a throwaway cluster, or returns null (after saying so loudly) when PostgreSQL
 * cannot be had outside CI. Throws in CI, or when a present PostgreSQL fails to start.
 */
export async function startPostgres(
  options: { log?: (line: string) => void; database?: string } = {},
): Promise<PostgresInstance | null> {
  const log =
    options.log ??
    ((line: string) => {
      console.log(line);
    });
  const ci = process.env.CI === "true";
  let binDir = findBinDir();
  if (binDir === null && isRoot()) {
    try {
      await installPostgres(log);
    } catch (error) {
      if (ci) throw error;
      log(String(error));
    }
    binDir = findBinDir();
  }
  if (binDir === null) {
    const reason = isRoot()
      ? "the postgresql package could not be installed"
      : "initdb/pg_ctl are not installed (and installing them needs root)";
    if (ci) throw new Error(`PostgreSQL is required in CI: ${reason}`);
    loudSkip(reason);
    return null;
  }

  const asUser = isRoot() ? "postgres" : undefined;
  const bin = (name: string) => path.join(binDir, name);
  const root = mkdtempSync(path.join(os.tmpdir(), "oioc-pg-"));
  const dataDir = path.join(root, "data");
  const passwordFile = path.join(root, "password");
  const password = randomBytes(18).toString("base64url");
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  if (asUser !== undefined) {
    const { uid, gid } = await userIds(asUser);
    chownSync(root, uid, gid);
    chownSync(passwordFile, uid, gid);
  }

  let started = false;
  const stop = async (): Promise<void> => {
    if (started) {
      started = false;
      await run(bin("pg_ctl"), ["-D", dataDir, "stop", "-m", "fast", "-w"], { asUser }).catch((error: unknown) => {
        log(`stopping PostgreSQL failed: ${String(error)}`);
      });
    }
    rmSync(root, { recursive: true, force: true });
  };

  try {
    // --no-sync: the cluster lives for one test run; its own durability settings stay default.
    await run(
      bin("initdb"),
      [
        "-D",
        dataDir,
        "-U",
        "postgres",
        "--pwfile",
        passwordFile,
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        "-E",
        "UTF8",
        "--locale=C",
        "--no-sync",
      ],
      { asUser },
    );
    const port = await freePort();
    await run(
      bin("pg_ctl"),
      [
        "-D",
        dataDir,
        "-l",
        path.join(root, "server.log"),
        "-w",
        "-t",
        "60",
        "-o",
        // pg_ctl hands this string to a shell, hence the quotes around the path.
        `-c listen_addresses=127.0.0.1 -p ${port} -k '${root}'`,
        "start",
      ],
      { asUser },
    );
    started = true;
    const database = options.database ?? "trace_test";
    await run(bin("createdb"), ["-h", root, "-p", String(port), "-U", "postgres", database], { asUser });
    const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
    const version = (await run(bin("pg_ctl"), ["--version"])).trim();
    log(`${version}: a throwaway cluster on 127.0.0.1:${port}, data in ${dataDir}`);
    return { url, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
