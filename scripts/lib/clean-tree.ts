/**
 * Proof that the repository stands on its own and that running it leaves it as it was:
 * no tracked file may point at a folder beside the clone (a user's clone has none), and
 * the run so far (the toolchain's `npm install` included) may not have modified a tracked
 * file such as the lockfile. Run as a script it prints what it found and exits 1 on a finding.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";

/**
 * Set by `scripts/toolchain/run.sh` before it installs anything: the tracked files that were
 * already modified (a developer's own edits), one per line, so only the run's changes count.
 */
export const START_CHANGES_ENV = "TOOLCHAIN_TRACKED_CHANGES_AT_START";

// Written with escapes so this file does not match itself.
const OUTSIDE_REFERENCE = /(?:\.\.\/)+shared(?:\/[\w.@-]+)*/g;

export interface OutsideReference {
  file: string;
  line: number;
  reference: string;
}

function git(root: string, args: readonly string[]): string {
  // --no-optional-locks: a status must not take the index lock others may be committing under.
  return execFileSync("git", ["--no-optional-locks", ...args], { cwd: root, encoding: "utf8", maxBuffer: 64 << 20 });
}

/**
 * References in one file's text to a `shared` folder that is not inside the repository: a
 * relative path resolved from the file's own folder that leaves the root or names nothing.
 * The consoles' own `src/shared/` modules resolve inside the repository and pass.
 */
export function outsideReferences(root: string, file: string, text: string): OutsideReference[] {
  const found: OutsideReference[] = [];
  const lines = text.split("\n");
  lines.forEach((content, index) => {
    for (const match of content.matchAll(OUTSIDE_REFERENCE)) {
      const target = path.resolve(root, path.dirname(file), match[0]);
      const inside = target.startsWith(path.resolve(root) + path.sep);
      if (!inside || !existsSync(target)) found.push({ file, line: index + 1, reference: match[0] });
    }
  });
  return found;
}

/** Every tracked file's references to a folder beside the clone (searched with `git grep`). */
export function trackedOutsideReferences(root: string): OutsideReference[] {
  let hits: string;
  try {
    hits = git(root, ["grep", "-I", "-n", "-E", "\\.\\./shared"]);
  } catch (error) {
    // git grep exits 1 when nothing matches.
    if ((error as { status?: number }).status === 1) return [];
    throw error;
  }
  const found: OutsideReference[] = [];
  for (const hit of hits.split("\n")) {
    const match = /^(.+?):(\d+):(.*)$/.exec(hit);
    if (match === null) continue;
    const [, file = "", line = "0", content = ""] = match;
    for (const reference of outsideReferences(root, file, content)) {
      found.push({ ...reference, line: Number(line) });
    }
  }
  return found;
}

/** Tracked files modified in the work tree (staged or not), from `git status --porcelain`. */
export function parseTrackedChanges(porcelain: string): string[] {
  return porcelain
    .split("\n")
    .filter((line) => line.length > 3 && !line.startsWith("??"))
    .map((line) => line.slice(3).replace(/^.* -> /, ""));
}

export function trackedChanges(root: string): string[] {
  return parseTrackedChanges(git(root, ["status", "--porcelain", "--untracked-files=no"]));
}

/** Changes now that were not there when the run started. */
export function changesSince(start: readonly string[], now: readonly string[]): string[] {
  const before = new Set(start);
  return now.filter((file) => !before.has(file));
}

export function checkCleanTree(root: string, startChanges: readonly string[] | null): string[] {
  const problems: string[] = [];
  for (const hit of trackedOutsideReferences(root)) {
    problems.push(`${hit.file}:${hit.line} refers to ${hit.reference}, outside the repository`);
  }
  if (startChanges !== null) {
    for (const file of changesSince(startChanges, trackedChanges(root))) {
      problems.push(`${file} is tracked and was modified by this run (git status --porcelain)`);
    }
  }
  return problems;
}

if (import.meta.main) {
  const root = path.resolve(import.meta.dirname, "../..");
  if (!existsSync(path.join(root, ".git"))) {
    console.log("not a git clone: nothing to compare against");
  } else {
    const start = process.env[START_CHANGES_ENV];
    if (start === undefined) {
      console.warn(`${START_CHANGES_ENV} is not set (not run through npm): only references are checked`);
    }
    const problems = checkCleanTree(
      root,
      start === undefined
        ? null
        : start
            .split("\n")
            .filter(Boolean)
            .map((file) => file.replace(/^.* -> /, "")),
    );
    for (const problem of problems) console.error(problem);
    console.log(problems.length === 0 ? "the tree is self-contained and unchanged by this run" : "");
    process.exitCode = problems.length === 0 ? 0 : 1;
  }
}
