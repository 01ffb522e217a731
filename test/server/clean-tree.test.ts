import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";

import { changesSince, checkCleanTree, outsideReferences, parseTrackedChanges } from "../../scripts/lib/clean-tree.ts";

// Built from parts so this file itself holds no such reference.
const UP = "..";
const outside = `${UP}/shared/DESIGN.md`;

describe("the clean-tree check of npm test", () => {
  const root = mkdtempSync(path.join(tmpdir(), "clean-tree-"));
  after(() => {
    rmSync(root, { recursive: true, force: true });
  });

  function git(...args: string[]): void {
    execFileSync("git", ["-c", "user.email=t@example.org", "-c", "user.name=t", ...args], { cwd: root });
  }

  mkdirSync(path.join(root, "src/shared"), { recursive: true });
  mkdirSync(path.join(root, "src/app"), { recursive: true });
  writeFileSync(path.join(root, "src/shared/api.ts"), "export const x = 1;\n");
  writeFileSync(path.join(root, "src/app/main.ts"), `import { x } from "${UP}/shared/api.ts";\n`);
  writeFileSync(path.join(root, "README.md"), "# r\n\nnothing beside the clone\n");
  writeFileSync(path.join(root, "package-lock.json"), "{}\n");
  git("init", "-q");
  git("add", ".");
  git("commit", "-qm", "init");

  it("accepts a reference that resolves inside the repository", () => {
    assert.deepEqual(outsideReferences(root, "src/app/main.ts", `from "${UP}/shared/api.ts"`), []);
    assert.deepEqual(checkCleanTree(root, []), []);
  });

  it("finds a reference to a folder beside the clone, or to nothing", () => {
    assert.deepEqual(outsideReferences(root, "README.md", `see ${outside}`), [
      { file: "README.md", line: 1, reference: outside },
    ]);
    assert.equal(outsideReferences(root, "src/app/main.ts", `"${UP}/shared/missing.ts"`).length, 1);
  });

  it("reports a committed outside reference and a tracked file the run modified", () => {
    writeFileSync(path.join(root, "README.md"), `# r\n\nSee \`${outside}\`.\n`);
    git("commit", "-qam", "link outside");
    writeFileSync(path.join(root, "package-lock.json"), '{"rewritten": true}\n');
    const problems = checkCleanTree(root, []);
    assert.equal(problems.length, 2, problems.join("\n"));
    assert.match(problems[0] ?? "", /^README\.md:3 refers to /);
    assert.match(problems[1] ?? "", /^package-lock\.json is tracked and was modified/);
    // A change that was there before the run is the developer's, not the run's.
    assert.equal(checkCleanTree(root, ["package-lock.json"]).length, 1);
  });

  it("reads porcelain status lines", () => {
    assert.deepEqual(parseTrackedChanges(" M package-lock.json\nM  a.ts\nR  old.ts -> new.ts\n?? scratch\n"), [
      "package-lock.json",
      "a.ts",
      "new.ts",
    ]);
    assert.deepEqual(changesSince(["a.ts"], ["a.ts", "b.ts"]), ["b.ts"]);
  });
});
