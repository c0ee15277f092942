import { KoraError } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import type { TfjsErrorCode } from "../errors";
import { guardWasmHeap, type WasmBackendInternals } from "./heap-guard";
import { importAtRunTime } from "./lazy-modules";
import { shareWasmIdentity } from "./wasm-kernels";
import { parseThreadsEnv, resolveWasmThreads, setWasmBackendWithThreads } from "./wasm-threads";

/** The backends {@link selectBackend} knows: native TensorFlow (tfjs-node), WebAssembly, plain JavaScript. */
export type BackendName = "tensorflow" | "wasm" | "cpu";

const BACKENDS: readonly BackendName[] = ["tensorflow", "wasm", "cpu"];

/** Options of {@link selectBackend}. */
export interface SelectBackendOptions {
  /**
   * The backend to use. Without it the first that works of `tensorflow` (when `@tensorflow/tfjs-node-gpu` or
   * `@tensorflow/tfjs-node` is installed), `wasm`, `cpu` is chosen. A named backend that cannot be used is an
   * error, never a silent fallback. The `KORA_BACKEND` environment variable, when set, overrides this.
   */
  prefer?: BackendName;
  /**
   * XNNPACK threads of the `wasm` backend: an integer from 1 to 8, or `"auto"` (one per CPU core, at most 8).
   * Without it the backend runs as tfjs sets it up (single-threaded in Node). In Node, more than one thread
   * starts the threaded SIMD build with `worker_threads` (tfjs itself does not in Node); results are identical
   * to the single-threaded backend's. The count is fixed when the wasm backend is first initialised in the
   * process. The `KORA_WASM_THREADS` environment variable, when set, overrides this. Ignored by other backends.
   */
  threads?: number | "auto";
  /** Where the one-time "using backend …" line goes (default `console.info`). */
  log?: (message: string) => void;
  /**
   * Environment to read `KORA_BACKEND` from (default `process.env`).
   * @internal
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Loads an optional module by name (default: dynamic `import()`); tests inject one.
   * @internal
   */
  importModule?: (specifier: string) => Promise<unknown>;
}

const NODE_PACKAGES = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"] as const;
let loggedBackend: string | undefined;
let wasmThreads: number | null = null;

/**
 * The XNNPACK thread count of the wasm backend as tfjs-backend-wasm reports it after {@link selectBackend} chose
 * wasm (1 unless `threads` asked for more); `null` before that or when another backend was chosen.
 */
export function selectedWasmThreads(): number | null {
  return tf.getBackend() === "wasm" ? wasmThreads : null;
}

function defaultImport(specifier: string): Promise<unknown> {
  // Through the package's one run-time importer: bundlers and TypeScript leave the optional peers alone.
  return importAtRunTime(specifier);
}

function unavailable(backend: BackendName, why: string, cause?: unknown): KoraError {
  const install =
    backend === "tensorflow"
      ? "install @tensorflow/tfjs-node (CPU) or @tensorflow/tfjs-node-gpu (CUDA) next to @tensorflow/tfjs " +
        "(`npm install @tensorflow/tfjs-node`); it downloads libtensorflow at install time"
      : backend === "wasm"
        ? "install @tensorflow/tfjs-backend-wasm (a dependency of @kora/tfjs) and make its .wasm files loadable"
        : "the cpu backend ships with @tensorflow/tfjs; install @tensorflow/tfjs";
  return new KoraError<TfjsErrorCode>({
    code: "BACKEND_UNAVAILABLE",
    message: `backend "${backend}" is not available: ${why}. To use it, ${install}.`,
    ...(cause === undefined ? {} : { cause }),
  });
}

async function tryTensorflow(importModule: (s: string) => Promise<unknown>): Promise<string | KoraError> {
  const failures: string[] = [];
  let cause: unknown;
  for (const name of NODE_PACKAGES) {
    try {
      await importModule(name);
    } catch (error) {
      failures.push(`${name}: ${(error as Error)?.message ?? String(error)}`.split("\n")[0] as string);
      cause ??= error;
      continue;
    }
    if (tf.findBackendFactory("tensorflow") === null) {
      failures.push(`${name} loaded but registered no "tensorflow" backend`);
      continue;
    }
    if (await tf.setBackend("tensorflow")) return name;
    failures.push(`${name} loaded but the "tensorflow" backend failed to initialise`);
  }
  return unavailable("tensorflow", `neither package could be used (${failures.join("; ")})`, cause);
}

async function trySimple(
  backend: "wasm" | "cpu",
  importModule: (s: string) => Promise<unknown>,
  threads: number | undefined,
) {
  let wasmModule: Parameters<typeof setWasmBackendWithThreads>[0] | undefined;
  if (backend === "wasm" && (tf.findBackendFactory("wasm") === null || threads !== undefined)) {
    try {
      wasmModule = (await importModule("@tensorflow/tfjs-backend-wasm")) as typeof wasmModule;
    } catch (error) {
      return unavailable("wasm", "@tensorflow/tfjs-backend-wasm cannot be imported", error);
    }
  }
  if (tf.findBackendFactory(backend) === null) return unavailable(backend, "no such backend is registered");
  try {
    const ok =
      backend === "wasm" && threads !== undefined && wasmModule?.setThreadsCount !== undefined
        ? await setWasmBackendWithThreads(wasmModule, threads)
        : await tf.setBackend(backend);
    if (ok) return backend;
  } catch (error) {
    if (KoraError.isInstance(error)) return error;
    return unavailable(backend, "it failed to initialise", error);
  }
  return unavailable(backend, "it failed to initialise");
}

function parseBackend(value: string, source: string): BackendName {
  if ((BACKENDS as readonly string[]).includes(value)) return value as BackendName;
  throw new KoraError<TfjsErrorCode>({
    code: "INVALID_ARGUMENT",
    message: `${source} must be one of ${BACKENDS.join(", ")}, got "${value}"`,
    path: source,
  });
}

/**
 * Selects and initialises the tfjs backend: `KORA_BACKEND` (environment) if set, else `prefer` if given, else the
 * first that works of `tensorflow` (tfjs-node-gpu, then tfjs-node; optional peers loaded only here, at run time),
 * `wasm`, `cpu`. An explicitly requested backend that cannot be used throws `BACKEND_UNAVAILABLE` saying how to
 * install it. Logs the chosen backend once per process (again only if it changes).
 *
 * @returns the backend now active.
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<BackendName> {
  const env = options.env ?? (typeof process === "undefined" ? {} : process.env);
  const importModule = options.importModule ?? defaultImport;
  const fromEnv = env["KORA_BACKEND"];
  const requested =
    fromEnv !== undefined && fromEnv !== ""
      ? parseBackend(fromEnv.trim().toLowerCase(), "KORA_BACKEND")
      : options.prefer === undefined
        ? undefined
        : parseBackend(options.prefer, "prefer");
  const threadsEnv = env["KORA_WASM_THREADS"];
  const threadsRequest =
    threadsEnv !== undefined && threadsEnv !== "" ? parseThreadsEnv(threadsEnv) : options.threads;
  const threads = threadsRequest === undefined ? undefined : await resolveWasmThreads(threadsRequest);
  let chosen: BackendName | undefined;
  let detail = "";
  const candidates = requested === undefined ? BACKENDS : [requested];
  const errors: KoraError[] = [];
  for (const backend of candidates) {
    const result =
      backend === "tensorflow"
        ? await tryTensorflow(importModule)
        : await trySimple(backend, importModule, threads);
    if (result instanceof KoraError) {
      // Threads were asked for: a wasm backend without them is not a silent fallback either.
      if (backend === "wasm" && threads !== undefined && threads > 1) throw result;
      errors.push(result);
      continue;
    }
    chosen = backend;
    if (backend === "tensorflow") detail = ` (${result})`;
    if (backend === "wasm" && threads !== undefined)
      detail = ` (${threads} thread${threads === 1 ? "" : "s"})`;
    break;
  }
  if (chosen === undefined) {
    if (requested !== undefined && errors[0] !== undefined) throw errors[0];
    throw new KoraError<TfjsErrorCode>({
      code: "BACKEND_UNAVAILABLE",
      message: `no tfjs backend could be initialised: ${errors.map((e) => e.message).join(" | ")}`,
    });
  }
  await tf.ready();
  if (chosen === "wasm") {
    shareWasmIdentity();
    // The threaded build installed the guard as it started; the single-threaded one gets it here, so running out
    // of heap is `OUT_OF_MEMORY` there too instead of `RuntimeError: Aborted()`, and the heap's room is known.
    guardWasmHeap(tf.findBackend("wasm") as unknown as WasmBackendInternals);
    try {
      const wasm = (await importModule("@tensorflow/tfjs-backend-wasm")) as {
        getThreadsCount?: () => number;
      };
      wasmThreads = typeof wasm.getThreadsCount === "function" ? wasm.getThreadsCount() : null;
    } catch {
      wasmThreads = null;
    }
  }
  const line = `@kora/tfjs: using the ${chosen} backend${detail}${fromEnv ? " (KORA_BACKEND)" : ""}`;
  if (loggedBackend !== chosen + detail) {
    loggedBackend = chosen + detail;
    (options.log ?? console.info)(line);
  }
  return chosen;
}
