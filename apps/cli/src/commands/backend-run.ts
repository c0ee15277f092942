import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { selectBackend, selectedWasmThreads } from "@kora/tfjs";
import * as tf from "@tensorflow/tfjs";
import type { Output } from "../output/context";
import { renderFields, renderTable } from "../output/table";
import { quietTfjs } from "../support/backend";

/** One backend and whether its package can be loaded here. */
interface InstalledBackend {
  name: "tensorflow" | "wasm" | "cpu";
  installed: boolean;
  package: string | null;
}

function resolvable(specifier: string, from: string): boolean {
  try {
    createRequire(from).resolve(specifier);
    return true;
  } catch {
    return false;
  }
}

/**
 * Which backend packages are installed. TODO(@kora/tfjs): selectBackend stops at the first backend that works;
 * a `listBackends()` there would answer this without the CLI repeating the package names.
 */
function installedBackends(): InstalledBackend[] {
  const fromCli = import.meta.url;
  const fromTfjs = import.meta.resolve("@kora/tfjs");
  const node = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"].find((p) =>
    resolvable(p, fileURLToPath(fromCli)),
  );
  const wasm = "@tensorflow/tfjs-backend-wasm";
  return [
    { name: "tensorflow", installed: node !== undefined, package: node ?? null },
    { name: "wasm", installed: resolvable(wasm, fileURLToPath(fromTfjs)), package: wasm },
    { name: "cpu", installed: true, package: "@tensorflow/tfjs" },
  ];
}

/** Multiplies two `size`×`size` float32 matrices repeatedly for about `seconds` and reports GFLOP/s (2·n³ per product). */
async function gemmRate(size: number, seconds: number) {
  const a = tf.randomNormal([size, size], 0, 1, "float32", 1);
  const b = tf.randomNormal([size, size], 0, 1, "float32", 2);
  try {
    const warm = tf.matMul(a, b);
    await warm.data();
    warm.dispose();
    let iterations = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < seconds * 1000 || iterations === 0) {
      const c = tf.matMul(a, b);
      await c.data();
      c.dispose();
      iterations++;
      elapsed = performance.now() - start;
    }
    const gflops = (2 * size ** 3 * iterations) / (elapsed / 1000) / 1e9;
    return { size, iterations, seconds: elapsed / 1000, gflops };
  } finally {
    a.dispose();
    b.dispose();
  }
}

/** The wasm backend's thread count and where it came from. */
interface WasmThreads {
  count: number;
  requested: number | "auto" | null;
  reason: "KORA_WASM_THREADS" | "--threads" | "default";
}

/**
 * The wasm thread count as the backend reports it (`selectedWasmThreads()` of @kora/tfjs), and what was asked for
 * (`KORA_WASM_THREADS` over `--threads`; without a request, tfjs's single thread in Node).
 */
function wasmThreadCount(flag: number | "auto" | undefined): WasmThreads {
  const env = process.env["KORA_WASM_THREADS"];
  // selectBackend has validated KORA_WASM_THREADS already.
  const fromEnv = env === undefined || env.trim() === "" ? undefined : env.trim().toLowerCase();
  const requested = fromEnv === undefined ? flag : fromEnv === "auto" ? "auto" : Number(fromEnv);
  // selectBackend has just chosen wasm, so the backend reports its count (tfjs's single thread without a request).
  const count = selectedWasmThreads() ?? 1;
  const reason = fromEnv !== undefined ? "KORA_WASM_THREADS" : flag !== undefined ? "--threads" : "default";
  return { count, requested: requested ?? null, reason };
}

/** Options of `kora backend`, as commander parses them. */
export interface BackendOptions {
  prefer?: "tensorflow" | "wasm" | "cpu";
  threads?: number | "auto";
  seconds: number;
  size: number;
}

/** Runs `kora backend`. */
export async function runBackend(options: BackendOptions, output: Output): Promise<void> {
  const messages: string[] = [];
  quietTfjs(output);
  const backend = await selectBackend({
    ...(options.prefer === undefined ? {} : { prefer: options.prefer }),
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    log: (message) => messages.push(message),
  });
  const threads = backend === "wasm" ? wasmThreadCount(options.threads) : null;
  const installed = installedBackends();
  const gemm = options.seconds > 0 ? await gemmRate(options.size, options.seconds) : null;
  const reason =
    process.env["KORA_BACKEND"] !== undefined && process.env["KORA_BACKEND"] !== ""
      ? "KORA_BACKEND"
      : options.prefer !== undefined
        ? "--prefer"
        : "first available";
  output.result(
    () => ({ backend, reason, threads, tfjsVersion: tf.version.tfjs, installed, gemm }),
    () => {
      const fields: [string, string][] = [
        ["backend", `${backend} (${reason})`],
        ["tfjs", tf.version.tfjs],
      ];
      if (threads !== null) {
        const auto = threads.requested === "auto" ? ", auto" : "";
        fields.push(["threads", `${threads.count} (${threads.reason}${auto})`]);
      }
      if (gemm !== null) {
        fields.push([
          "GEMM",
          `${gemm.gflops.toFixed(2)} GFLOP/s (${gemm.size}×${gemm.size} float32, ${gemm.iterations} products in ${gemm.seconds.toFixed(2)} s)`,
        ]);
      }
      const table = renderTable(
        [{ header: "backend" }, { header: "installed" }, { header: "package" }],
        installed.map((b) => [
          b.name,
          b.installed ? "yes" : "no",
          b.package ?? "@tensorflow/tfjs-node(-gpu)",
        ]),
        (t) => output.style("bold", t),
      );
      return `${renderFields(fields, (t) => output.style("bold", t))}\n\n${table}`;
    },
  );
}
