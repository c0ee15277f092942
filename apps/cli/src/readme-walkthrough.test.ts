import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const app = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const root = resolve(app, "../..");
const readme = readFileSync(join(app, "README.md"), "utf8");
const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe("the README walk-through", () => {
  it("moves into a git-ignored folder before writing anything, so the repository stays clean", () => {
    const setup = blocks[0]!;
    const cd = /^mkdir -p (\S+) && cd \1\b/m.exec(setup);
    expect(cd, "the first block makes and enters the walk-through's folder").not.toBeNull();
    const folder = cd![1]!;
    // every output of the walk-through lands under it: git ignores the folder
    const ignored = spawnSync("git", ["check-ignore", "-q", `${folder}/runs/kora/run.json`], { cwd: root });
    expect(ignored.status).toBe(0);
    // nothing runs before the cd but the install, the build and the function definition
    const before = setup
      .slice(0, cd!.index)
      .split("\n")
      .map((line) => line.replace(/#.*/, "").trim());
    expect(before.filter((line) => line !== "")).toEqual([
      "pnpm install",
      "pnpm build",
      'kora() { node "$PWD/apps/cli/dist/cli.js" "$@"; }',
    ]);
  });
});
