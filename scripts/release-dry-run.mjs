#!/usr/bin/env node
// Release dry run: copy the repository (tracked and untracked-but-not-ignored files) to a scratch folder, run
// `changeset version` there, and check that every package named by a pending changeset got a higher version and
// a CHANGELOG.md entry, and that workspace dependants were bumped (updateInternalDependencies: patch).
// Nothing is published and the real repository is not touched.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const changesetBin = join(root, "node_modules", "@changesets", "cli", "bin.js");

function readJson(path) {
  return JSON.parse(readFileSync(path, "utf8"));
}

function packageDirs(base) {
  const dirs = [];
  for (const group of ["packages", "apps"]) {
    if (!existsSync(join(base, group))) continue;
    for (const name of readdirSync(join(base, group))) {
      if (existsSync(join(base, group, name, "package.json"))) dirs.push(join(group, name));
    }
  }
  return dirs;
}

function compareVersions(a, b) {
  const pa = a.split(/[.-]/).map(Number);
  const pb = b.split(/[.-]/).map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

// Which packages do the pending changesets name?
const pending = readdirSync(join(root, ".changeset")).filter((f) => f.endsWith(".md") && f !== "README.md");
const named = new Set();
for (const file of pending) {
  const text = readFileSync(join(root, ".changeset", file), "utf8");
  const front = /^---\n([\s\S]*?)\n---/.exec(text);
  if (front === null) throw new Error(`.changeset/${file}: no front matter`);
  for (const line of front[1].split("\n")) {
    const match = /^\s*["']?([^"':]+)["']?\s*:\s*(major|minor|patch)\s*$/.exec(line);
    if (match) named.add(match[1]);
    else if (line.trim() !== "")
      throw new Error(`.changeset/${file}: cannot read front-matter line "${line}"`);
  }
}
if (named.size === 0) {
  console.log("release dry run: no pending changesets, nothing to version");
  process.exit(0);
}

const scratch = mkdtempSync(join(tmpdir(), "kora-release-dry-run-"));
try {
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: root,
    encoding: "utf8",
  })
    .split("\0")
    .filter((f) => f !== "" && existsSync(join(root, f)));
  for (const file of files) {
    mkdirSync(dirname(join(scratch, file)), { recursive: true });
    cpSync(join(root, file), join(scratch, file));
  }
  const before = new Map(packageDirs(scratch).map((d) => [d, readJson(join(scratch, d, "package.json"))]));
  execFileSync("git", ["init", "-q"], { cwd: scratch });
  execFileSync("node", [changesetBin, "version"], { cwd: scratch, stdio: "inherit" });

  let problems = 0;
  for (const [dir, old] of before) {
    const now = readJson(join(scratch, dir, "package.json"));
    if (!named.has(old.name)) continue;
    const changelog = join(scratch, dir, "CHANGELOG.md");
    if (compareVersions(now.version, old.version) <= 0) {
      console.error(`✗ ${old.name}: version ${old.version} → ${now.version} was not bumped`);
      problems++;
    } else if (!existsSync(changelog) || !readFileSync(changelog, "utf8").includes(`## ${now.version}`)) {
      console.error(`✗ ${old.name}: CHANGELOG.md has no "## ${now.version}" section`);
      problems++;
    } else {
      console.log(`✓ ${old.name}: ${old.version} → ${now.version}, CHANGELOG.md written`);
    }
  }
  const left = readdirSync(join(scratch, ".changeset")).filter((f) => f.endsWith(".md") && f !== "README.md");
  if (left.length > 0) {
    console.error(`✗ changeset version left ${left.length} changeset(s) unconsumed: ${left.join(", ")}`);
    problems++;
  }
  if (problems > 0) process.exit(1);
  console.log(`release dry run: ${named.size} package(s) versioned in a scratch copy; nothing published`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
