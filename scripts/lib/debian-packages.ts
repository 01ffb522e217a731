/**
 * Debian packages a test or script needs from the machine (a decoder, a rasteriser, a
 * font), installed on demand the way `postgres.ts` installs PostgreSQL: each package is
 * named with a probe (a binary on PATH or an absolute file) that tells whether it is
 * there; what is absent is installed with apt-get when we run as root.
 *
 * Whatever still cannot be had is returned, and `requireOrSkip` decides: in CI
 * (CI=true) that is an error, because a silently skipped check is an unchecked one; on a
 * developer's machine it is a loud warning and the caller skips.
 */
import { execFile } from "node:child_process";
import { accessSync, constants, existsSync } from "node:fs";
import path from "node:path";

export interface DebianPackage {
  /** The Debian package name, e.g. `zbar-tools`. */
  name: string;
  /** A binary name looked up on PATH (`zbarimg`) or an absolute file path the package installs. */
  probe: string;
}

/** apt waits this long for another apt/dpkg (another engineer's test run) to let go of its lock. */
const APT_LOCK_TIMEOUT_SECONDS = 600;

function run(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error === null) resolve(stdout);
        else reject(new Error(`${[command, ...args].join(" ")} failed:\n${stdout}${stderr}`, { cause: error }));
      },
    );
  });
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether the probe is present: an absolute path must exist; a bare name must be an executable on PATH. */
export function probeFound(probe: string): boolean {
  if (path.isAbsolute(probe)) return existsSync(probe);
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir !== "" && isExecutable(path.join(dir, probe))) return true;
  }
  // Debian puts some tools in sbin, which a non-login PATH may lack.
  return ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"].some((dir) =>
    isExecutable(path.join(dir, probe)),
  );
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** `apt-get update` runs at most once per process, however many callers ask for packages. */
let aptUpdate: Promise<string> | undefined;

/** Serialises installs within this process, so two test files' calls do not race on dpkg. */
let installQueue: Promise<unknown> = Promise.resolve();

/**
 * Installs (as root, with apt-get) every package whose probe is absent, and returns the
 * names whose probe is still absent afterwards. Never throws for a failed install: the
 * failure is logged to stderr and the package counts as missing, so `requireOrSkip` can
 * decide what that means here.
 */
export async function ensureDebianPackages(packages: readonly DebianPackage[]): Promise<{ missing: string[] }> {
  const absent = (): DebianPackage[] => packages.filter((pkg) => !probeFound(pkg.probe));
  const before = absent();
  if (before.length === 0 || !isRoot()) return { missing: unique(before.map((pkg) => pkg.name)) };

  const install = installQueue.then(async () => {
    const stillAbsent = absent();
    if (stillAbsent.length === 0) return;
    const names = unique(stillAbsent.map((pkg) => pkg.name));
    const lock = ["-o", `DPkg::Lock::Timeout=${APT_LOCK_TIMEOUT_SECONDS}`];
    const install = (list: readonly string[]) =>
      run("apt-get", [...lock, "install", "-y", "--no-install-recommends", ...list]);
    try {
      aptUpdate ??= run("apt-get", [...lock, "update"]);
      await aptUpdate;
      console.error(`installing Debian packages: ${names.join(" ")}`);
      await install(names);
    } catch (error) {
      console.error(`could not install ${names.join(" ")}: ${error instanceof Error ? error.message : String(error)}`);
      // One unknown name fails the whole command; try the others one by one so they still arrive.
      if (names.length > 1) {
        for (const name of names) await install([name]).catch(() => undefined);
      }
    }
  });
  installQueue = install;
  await install;
  return { missing: unique(absent().map((pkg) => pkg.name)) };
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names)];
}

/**
 * True when nothing is missing. Otherwise throws in CI (CI=true: nothing may be skipped
 * there), or prints a loud warning naming the packages and `what` goes untested, and
 * returns false so the caller skips.
 */
export function requireOrSkip(missing: readonly string[], what: string): boolean {
  if (missing.length === 0) return true;
  const install = `apt-get install -y --no-install-recommends ${missing.join(" ")}`;
  if (process.env.CI === "true") {
    throw new Error(`${what} needs the Debian package(s) ${missing.join(", ")}, which are missing in CI (${install})`);
  }
  const bar = "!".repeat(78);
  console.error(
    [
      "",
      bar,
      `!! ${what} is NOT tested in this run.`,
      `!! Missing Debian package(s): ${missing.join(", ")}`,
      `!! Install them as root: ${install}`,
      "!! Set CI=true to make this an error.",
      bar,
      "",
    ].join("\n"),
  );
  return false;
}
