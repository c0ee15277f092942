import { MAX_WASM_THREADS } from "@kora/tfjs";
import { describe, expect, it } from "vitest";
import { MAX_WASM_THREADS as CLI_MAX_WASM_THREADS } from "../support/options";
import { runCli, runKora } from "../test-support/run-cli";

interface BackendReport {
  backend: string;
  reason: string;
  threads: { count: number; requested: number | "auto" | null; reason: string } | null;
  installed: { name: string; installed: boolean }[];
  gemm: { size: number; iterations: number; seconds: number; gflops: number } | null;
}

async function backend(args: string[]): Promise<BackendReport> {
  const { code, stdout } = await runKora(["backend", ...args, "--json"]);
  expect(code).toBe(0);
  return JSON.parse(stdout);
}

describe.skipIf(process.env["KORA_BACKEND"] !== undefined)("kora backend", () => {
  it("--prefer cpu selects cpu and measures a GEMM rate", async () => {
    const report = await backend(["--prefer", "cpu", "--seconds", "0.2", "--size", "32"]);
    expect(report).toMatchObject({ backend: "cpu", reason: "--prefer" });
    expect(report.gemm).toMatchObject({ size: 32 });
    expect(report.gemm!.iterations).toBeGreaterThan(0);
    expect(report.gemm!.gflops).toBeGreaterThan(0);
    expect(report.installed.map((b) => [b.name, b.installed])).toContainEqual(["cpu", true]);
    expect(report.installed.map((b) => [b.name, b.installed])).toContainEqual(["wasm", true]);
  });

  it("without --prefer takes the first that works (wasm here: tfjs-node cannot be installed)", async () => {
    const report = await backend(["--seconds", "0"]);
    expect(report.reason).toBe("first available");
    const tensorflow = report.installed.find((b) => b.name === "tensorflow")!;
    expect(report.backend).toBe(tensorflow.installed ? "tensorflow" : "wasm");
    expect(report.gemm).toBeNull();
  });

  it("an unavailable backend exits 1 saying how to install it; a typo exits 2", async () => {
    const unavailable = await runKora(["backend", "--prefer", "tensorflow", "--seconds", "0"]);
    if (unavailable.code === 0) return; // tfjs-node is installed on this machine
    expect(unavailable.code).toBe(1);
    expect(unavailable.stderr).toMatch(
      /^kora: error: backend "tensorflow" is not available: .*install @tensorflow\/tfjs-node/,
    );
    const typo = await runKora(["backend", "--prefer", "wsam"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/--prefer <backend>.*did you mean wasm\?/);
  });

  it("--threads takes auto or 1-8: 0, 9 and x exit 2 naming the flag (kora backend and the model commands)", async () => {
    expect(CLI_MAX_WASM_THREADS).toBe(MAX_WASM_THREADS);
    for (const args of [
      ["backend", "--threads", "0"],
      ["backend", "--threads", "x"],
      ["train", "--threads", "9"],
      ["eval", "--threads", "1.5"],
    ]) {
      const result = await runKora(args);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(/--threads <n>.*expected auto or an integer from 1 to 8/);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
    }
  });

  // A new process each: the wasm thread count is fixed when the backend first initialises in a process.
  it("--prefer wasm --threads 2 reports wasm with 2 threads; KORA_WASM_THREADS overrides --threads", () => {
    const args = ["backend", "--prefer", "wasm", "--threads", "2", "--seconds", "0", "--json"];
    const two = runCli(args, { env: { KORA_WASM_THREADS: "" } });
    expect({ code: two.code, stderr: two.stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(two.stdout) as BackendReport).toMatchObject({
      backend: "wasm",
      reason: "--prefer",
      threads: { count: 2, requested: 2, reason: "--threads" },
    });
    const env = runCli(args, { env: { KORA_WASM_THREADS: "1" } });
    expect({ code: env.code, stderr: env.stderr }).toEqual({ code: 0, stderr: "" });
    expect((JSON.parse(env.stdout) as BackendReport).threads).toEqual({
      count: 1,
      requested: 1,
      reason: "KORA_WASM_THREADS",
    });
  });
});
