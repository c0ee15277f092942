import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { describe, expect, it, vi } from "vitest";
import { selectBackend, selectedWasmThreads } from "./backend";
import { assertFreshBuild } from "./test-support/fresh-build";
import { rejection } from "./test-support/rejection";
import { MAX_WASM_THREADS, parseThreadsEnv, resolveWasmThreads } from "./wasm-threads";

// The children import the BUILT package (dist/), as a user would; CI runs `pnpm build` before `pnpm test`.
const here = dirname(fileURLToPath(import.meta.url));
const child = join(here, "test-support", "threads-child.mjs");
const dist = join(here, "..", "..", "dist", "index.js");

interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the child with no timeout of its own: the test's timeout catches a process the workers keep alive. */
function run(threads: string, extra: string[] = []): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, "--threads", threads, ...extra], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    proc.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    proc.on("error", reject);
    proc.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function parse<T = { threads: number; selected: number; sha256: string }>(result: ChildResult): T {
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout.trim().split("\n").at(-1) ?? "");
}

describe("wasm threads in Node", () => {
  it("2 threads start, give bit-identical results to 1 thread, and let the process exit by itself", async () => {
    assertFreshBuild(dist, join(here, ".."));
    const one = parse(await run("1"));
    const two = parse(await run("2"));
    expect(one.threads).toBe(1);
    expect(two.threads).toBe(2);
    expect([one.selected, two.selected]).toEqual([1, 2]);
    expect(two.sha256).toBe(one.sha256);
    expect(two.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("running out of wasm heap with threads is OUT_OF_MEMORY (not a hung process), and the backend survives", {
    timeout: 180_000,
  }, async () => {
    assertFreshBuild(dist, join(here, ".."));
    const result = parse<{ code: string; message: string; heldBytes: number; after: number }>(
      await run("2", ["--exhaust"]),
    );
    expect(result.code).toBe("OUT_OF_MEMORY");
    expect(result.message).toMatch(
      /wasm heap \(4 GiB\) cannot hold another 64\.0 MiB tensor \[16, 1024, 1024\]/,
    );
    expect(result.heldBytes).toBeGreaterThan(3.5 * 2 ** 30);
    expect(result.after).toBe(64);
  });

  it("single-threaded too, running out of wasm heap is OUT_OF_MEMORY instead of RuntimeError: Aborted()", {
    timeout: 180_000,
  }, async () => {
    assertFreshBuild(dist, join(here, ".."));
    const result = parse<{ code: string; heldBytes: number; after: number }>(await run("1", ["--exhaust"]));
    expect(result.code).toBe("OUT_OF_MEMORY");
    expect(result.heldBytes).toBeGreaterThan(3.5 * 2 ** 30);
    expect(result.after).toBe(64);
  });

  it("validates the count: 1…8 or auto; KORA_WASM_THREADS likewise", async () => {
    for (const bad of [0, 9, 1.5, -1, Number.NaN]) {
      const error = await rejection(resolveWasmThreads(bad));
      expect(error.code).toBe("INVALID_ARGUMENT");
      expect(error.message).toMatch(/threads must be "auto" or an integer from 1 to 8/);
    }
    const auto = await resolveWasmThreads("auto");
    expect(auto).toBeGreaterThanOrEqual(1);
    expect(auto).toBeLessThanOrEqual(MAX_WASM_THREADS);
    expect(parseThreadsEnv(" AUTO ")).toBe("auto");
    expect(parseThreadsEnv("2")).toBe(2);
    expect(() => parseThreadsEnv("two")).toThrow(/KORA_WASM_THREADS must be "auto" or an integer/);
    const env = await rejection(selectBackend({ prefer: "wasm", env: { KORA_WASM_THREADS: "many" } }));
    expect(env.code).toBe("INVALID_ARGUMENT");
    expect(env.path).toBe("KORA_WASM_THREADS");
  });

  it("the count is fixed at the first initialisation: the same count is fine, another is an error", async () => {
    // This process initialises wasm single-threaded (as tfjs does in Node).
    await tf.setBackend("wasm");
    const log = vi.fn();
    expect(await selectBackend({ prefer: "wasm", threads: 1, env: {}, log })).toBe("wasm");
    expect(log.mock.calls.at(-1)?.[0]).toMatch(/using the wasm backend \(1 thread\)/);
    expect(selectedWasmThreads()).toBe(1);
    const error = await rejection(selectBackend({ prefer: "wasm", threads: 2, env: {}, log }));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toMatch(/already initialised with 1 thread\(s\).*asked for 2/);
    const fromEnv = await rejection(selectBackend({ env: { KORA_WASM_THREADS: "2" }, log }));
    expect(fromEnv.message).toMatch(/already initialised with 1 thread/);
    await tf.setBackend("cpu");
    expect(selectedWasmThreads()).toBeNull();
  });
});
