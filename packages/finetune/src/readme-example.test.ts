import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const example = join(root, "examples", "quick-start.mjs");

describe("the README's example", () => {
  it("is examples/quick-start.mjs verbatim", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const code = readFileSync(example, "utf8").split("\n").slice(1).join("\n").trim();
    expect(readme).toContain(code);
  });

  it("runs against the built package: trains, and the reloaded model scores the same", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [example], { cwd: root });
    const [trained, reloaded] = [...stdout.matchAll(/RMSE ([\d.]+) m/g)].map((m) => Number(m[1]));
    expect(stdout).toMatch(/^8 steps, loss [\d.]+;/);
    expect(trained).toBeGreaterThan(0);
    expect(reloaded).toBe(trained);
  });
});
