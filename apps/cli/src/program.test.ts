import { describe, expect, it } from "vitest";
import { runCli, runKora } from "./test-support/run-cli";

describe("kora (program)", () => {
  it("prints help listing the commands, exit 0", () => {
    const { code, stdout } = runCli(["--help"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: kora \[options\] \[command\]/);
    for (const command of [
      "train",
      "eval",
      "transfer",
      "features",
      "merge",
      "export",
      "inspect",
      "cka",
      "predict",
      "datasets",
      "backend",
    ])
      expect(stdout).toMatch(new RegExp(`\\n  ${command}\\b`));
    expect(stdout).toContain("Exit codes: 0 ok, 1 failure, 2 bad usage");
  });

  it("without a command prints help to stderr and exits 2", () => {
    const { code, stdout, stderr } = runCli([]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain("Usage: kora");
  });

  it("prints its version", async () => {
    const { code, stdout } = await runKora(["--version"]);
    expect(code).toBe(0);
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("suggests a command for a typo, exit 2, one line", () => {
    const { code, stdout, stderr } = runCli(["inpsect"]);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toBe("kora: error: unknown command 'inpsect' (Did you mean inspect?)\n");
  });

  it("'help <command>' shows that command's help with the global flags", async () => {
    const { code, stdout } = await runKora(["help", "inspect"]);
    expect(code).toBe(0);
    expect(stdout).toContain("Usage: kora inspect [options]");
    expect(stdout).toContain("Global Options:");
    expect(stdout).toContain("--json");
    expect(stdout).toContain("--verbose");
  });

  it("a failure prints one line; --verbose adds the stack", () => {
    const args = ["inspect", "--config", "does-not-exist.json", "--method", "lora"];
    const quiet = runCli(args);
    expect(quiet.code).toBe(1);
    expect(quiet.stderr).toBe("kora: error: --config: does-not-exist.json does not exist\n");
    const verbose = runCli([...args, "--verbose"]);
    expect(verbose.code).toBe(1);
    expect(verbose.stderr.split("\n")[0]).toBe("kora: error: --config: does-not-exist.json does not exist");
    expect(verbose.stderr).toMatch(/\n\s+at .*cli\.js/);
    expect(verbose.stderr).toContain("caused by: Error: ENOENT");
  });

  it("colours only when asked, and NO_COLOR wins over FORCE_COLOR", async () => {
    const args = ["inspect", "--backbone", "vit-micro", "--method", "lora", "--classes", "10"];
    expect((await runKora(args)).stdout).not.toContain("\u001b[");
    expect((await runKora(args, { env: { FORCE_COLOR: "1" } })).stdout).toContain("\u001b[1m");
    expect((await runKora(args, { env: { FORCE_COLOR: "1", NO_COLOR: "1" } })).stdout).not.toContain(
      "\u001b[",
    );
    expect((await runKora([...args, "--no-color"], { env: { FORCE_COLOR: "1" } })).stdout).not.toContain(
      "\u001b[",
    );
    expect((await runKora([...args, "--json"], { env: { FORCE_COLOR: "1" } })).stdout).not.toContain(
      "\u001b[",
    );
  });
});
