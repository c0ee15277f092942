import { describe, expect, it } from "vitest";
import { runKora } from "../test-support/run-cli";

interface BackendReport {
  backend: string;
  reason: string;
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
});
