import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const scripts = (
  JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }
).scripts;
const temp = mkdtempSync(join(tmpdir(), "kora-root-scripts-"));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe("the repository's `pnpm kora` script", () => {
  it("builds the CLI and what it imports before running it (so it works right after `pnpm start`)", () => {
    const steps = scripts["kora"]!.split("&&").map((step) => step.trim());
    const build = steps.findIndex(
      (step) => /^turbo run build\b/.test(step) && /--filter=kora\.\.\.(\s|$)/.test(step),
    );
    const run = steps.findIndex((step) => step.startsWith("node "));
    expect(build).toBeGreaterThanOrEqual(0);
    expect(run).toBeGreaterThan(build);
    // turbo's summary goes to stderr: `pnpm kora … --json` keeps stdout for the JSON document
    expect(steps[build]).toMatch(/1>&2$/);
  });

  it("resolves relative paths from the caller's directory (INIT_CWD), not the repository root", () => {
    const run = scripts["kora"]!.split("&&")
      .map((step) => step.trim())
      .find((step) => step.startsWith("node "))!;
    const launcher = join(root, run.split(/\s+/)[1]!);
    const caller = join(temp, "caller");
    mkdirSync(join(caller, "model"), { recursive: true });
    writeFileSync(
      join(caller, "model", "config.json"),
      JSON.stringify({
        hidden_size: 32,
        num_hidden_layers: 2,
        num_attention_heads: 2,
        intermediate_size: 64,
        patch_size: 16,
        image_size: 32,
        num_channels: 3,
        id2label: { 0: "a", 1: "b" },
      }),
    );
    const args = ["inspect", "--config", "model/config.json", "--method", "lora", "--json"];
    // pnpm runs root scripts in the repository root and puts where the user stood in INIT_CWD
    const result = spawnSync(process.execPath, [launcher, ...args], {
      cwd: root,
      env: { ...process.env, INIT_CWD: caller },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect((JSON.parse(result.stdout) as { backbone: { shape: { dim: number } } }).backbone.shape.dim).toBe(
      32,
    );
  });
});
