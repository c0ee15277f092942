// Multi-threaded wasm backend in Node.
//
// tfjs-backend-wasm ships a threaded SIMD build (XNNPACK on a pthreadpool of emscripten pthreads) but never uses
// it in Node, for three reasons this module works around, all at backend initialisation only:
//   1. the `WASM_HAS_MULTITHREAD_SUPPORT` flag returns false when `IS_NODE` (tensorflow/tfjs#3830) → we set it;
//   2. the pthread workers are started from `blob:` URLs (the worker script and the main script are Blobs), which
//      Node's `worker_threads.Worker` cannot load → while the backend initialises, `Blob` and `URL.createObjectURL`
//      are wrapped to remember the text of string Blobs, and `Worker` (which the emscripten glue looks up as a
//      global) starts an `eval` worker from that text, with a prelude that serves the main script from
//      `workerData` and defines the four `require`d modules and `commonjsGlobal` the bundled glue refers to;
//   3. the C++ side caps the pool at `emscripten_num_logical_cores() / 2` (it assumes hyper-threading), which is
//      `os.cpus().length / 2` in Node — 1 on a 2-core machine → `os.cpus` reports 2 × the requested count.
// Every global is restored when initialisation ends, successful or not. The pool (8 pre-started workers, the
// maximum the build allows) is created once; the thread count cannot change without a new process.
//
// Numerics: XNNPACK splits GEMM outputs into tiles, each computed whole by one thread, so the threaded backend's
// results are identical to the single-threaded one's (tested).
import { KoraError } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import type { TfjsErrorCode } from "../errors";
import { guardWasmHeap, type WasmBackendInternals } from "./heap-guard";
import { nodeThreading } from "./lazy-modules";

/** The most threads the threaded tfjs-backend-wasm build can use (it pre-starts 8 pthread workers). */
export const MAX_WASM_THREADS = 8;

/** The tfjs-backend-wasm version whose emscripten glue this module was written against. */
const TESTED_WASM_VERSION = "4.22.0";

interface WasmModule {
  setThreadsCount(count: number): void;
  getThreadsCount(): number;
  version_wasm?: string;
}

const WORKER_PRELUDE = `"use strict";
{
  const { workerData } = require("worker_threads");
  // The bundled emscripten glue (tf-backend-wasm.node.js) refers to these module-scope names.
  globalThis.require$$0 = require("fs");
  globalThis.require$$1 = require("path");
  globalThis.require$$3 = require("perf_hooks");
  globalThis.require$$4 = require("os");
  globalThis.commonjsGlobal = globalThis;
  const MAIN = "kora-wasm-main-script";
  URL.createObjectURL = () => MAIN;
  URL.revokeObjectURL = () => {};
  let fallback;
  Object.defineProperty(globalThis, "importScripts", {
    configurable: true,
    get: () => (file) => (file === MAIN ? (0, eval)(workerData.mainScript) : fallback(file)),
    set: (value) => { fallback = value; },
  });
}
`;

/** Is this a Node process (where tfjs refuses wasm threads)? */
function isNode(): boolean {
  return typeof process !== "undefined" && typeof process.versions?.node === "string";
}

function invalid(message: string): KoraError {
  return new KoraError<TfjsErrorCode>({ code: "INVALID_ARGUMENT", message, path: "threads" });
}

/**
 * Validates a requested wasm thread count: a positive integer up to {@link MAX_WASM_THREADS}, or `"auto"` (one
 * per CPU core, at most 8).
 */
export async function resolveWasmThreads(threads: number | "auto"): Promise<number> {
  if (threads === "auto") {
    if (!isNode()) {
      const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator
        ?.hardwareConcurrency;
      return Math.min(MAX_WASM_THREADS, Math.max(1, cores ?? 1));
    }
    const { os } = await nodeThreading();
    const cores =
      typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
    return Math.min(MAX_WASM_THREADS, Math.max(1, cores));
  }
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_WASM_THREADS) {
    throw invalid(
      `threads must be "auto" or an integer from 1 to ${MAX_WASM_THREADS}, got ${String(threads)}`,
    );
  }
  return threads;
}

/** Parses `KORA_WASM_THREADS` ("auto" or an integer). */
export function parseThreadsEnv(value: string): number | "auto" {
  const trimmed = value.trim().toLowerCase();
  if (trimmed === "auto") return "auto";
  if (!/^\d+$/.test(trimmed)) {
    throw new KoraError<TfjsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `KORA_WASM_THREADS must be "auto" or an integer from 1 to ${MAX_WASM_THREADS}, got "${value}"`,
      path: "KORA_WASM_THREADS",
    });
  }
  return Number(trimmed);
}

/**
 * Initialises the `wasm` backend (`tf.setBackend("wasm")`) with `threads` XNNPACK threads. In Node, more than one
 * thread needs the workarounds described at the top of this file; in browsers tfjs decides by itself (threads
 * need a cross-origin-isolated page) and only the count is passed on.
 *
 * Must run before the wasm backend is first initialised in the process; asking again for the count it already
 * has is a no-op, asking for another is `INVALID_ARGUMENT`.
 *
 * @returns whether the backend was set (as `tf.setBackend` does).
 */
export async function setWasmBackendWithThreads(wasm: WasmModule, threads: number): Promise<boolean> {
  if (tf.engine().registry["wasm"] !== undefined) {
    const current = wasm.getThreadsCount();
    if (current !== threads) {
      throw invalid(
        `the wasm backend is already initialised with ${current} thread(s) in this process; the thread count is ` +
          `fixed at the first initialisation (asked for ${threads}). Choose it before any wasm work, e.g. with ` +
          `KORA_WASM_THREADS`,
      );
    }
    return tf.setBackend("wasm");
  }
  wasm.setThreadsCount(threads);
  if (threads === 1 || !isNode()) return tf.setBackend("wasm");

  if (wasm.version_wasm !== undefined && wasm.version_wasm !== TESTED_WASM_VERSION) {
    throw new KoraError<TfjsErrorCode>({
      code: "BACKEND_UNAVAILABLE",
      message:
        `wasm threads in Node are supported with @tensorflow/tfjs-backend-wasm ${TESTED_WASM_VERSION} (the version ` +
        `@kora/tfjs depends on), found ${wasm.version_wasm}; use threads: 1`,
    });
  }
  const { os, workerThreads } = await nodeThreading();
  const NodeWorker = workerThreads.Worker;
  const texts = new Map<string, string>();
  const started: import("node:worker_threads").Worker[] = [];
  let mainScript: string | undefined;
  let workerFailure: ((error: unknown) => void) | undefined;
  const failed = new Promise<never>((_, reject) => {
    workerFailure = reject;
  });

  const g = globalThis as Record<string, unknown>;
  const OriginalBlob = globalThis.Blob;
  const originalCreate = URL.createObjectURL;
  const originalCpus = os.cpus;
  const workerDescriptor = Object.getOwnPropertyDescriptor(globalThis, "Worker");

  class TextBlob extends OriginalBlob {
    readonly koraText: string | undefined;
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      this.koraText = parts?.every((part) => typeof part === "string") ? parts.join("") : undefined;
      if (this.koraText?.startsWith("var WasmBackendModuleThreadedSimd")) mainScript = this.koraText;
    }
  }
  class PthreadWorker extends NodeWorker {
    constructor(url: string | URL, options?: import("node:worker_threads").WorkerOptions) {
      const text = texts.get(String(url));
      if (text === undefined || mainScript === undefined) {
        super(url, options);
      } else {
        super(WORKER_PRELUDE + text, { eval: true, workerData: { mainScript } });
      }
      this.on("error", (error) => workerFailure?.(error));
      started.push(this);
    }
  }

  globalThis.Blob = TextBlob as typeof Blob;
  URL.createObjectURL = (object: Blob | MediaSource) => {
    const url = originalCreate(object as Blob);
    const text = (object as TextBlob).koraText;
    if (text !== undefined) texts.set(url, text);
    return url;
  };
  // emscripten assigns `Worker = worker_threads.Worker` before starting its pool; keep ours in place.
  Object.defineProperty(globalThis, "Worker", {
    configurable: true,
    get: () => PthreadWorker,
    set: () => {},
  });
  os.cpus = () => {
    const cpus = originalCpus();
    const one = cpus[0] ?? ({} as import("node:os").CpuInfo);
    return Array.from({ length: 2 * threads }, (_, i) => cpus[i] ?? one);
  };
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("the pthread workers did not start within 60 s")), 60_000);
      timer.unref?.();
    });
    const ok = await Promise.race([tf.setBackend("wasm"), failed, timeout]);
    if (ok) {
      // emscripten refs a worker while it runs a pthread, and XNNPACK's pool threads never end: without this the
      // process could never exit by itself.
      for (const worker of started) worker.unref();
      const actual = wasm.getThreadsCount();
      if (actual !== threads) {
        throw new Error(`the threaded backend started ${actual} thread(s) instead of ${threads}`);
      }
      guardWasmHeap(tf.findBackend("wasm") as unknown as WasmBackendInternals);
    }
    return ok;
  } catch (error) {
    throw new KoraError<TfjsErrorCode>({
      code: "BACKEND_UNAVAILABLE",
      message: `the wasm backend could not start ${threads} threads: ${(error as Error)?.message ?? String(error)}; use threads: 1`,
      cause: error,
    });
  } finally {
    clearTimeout(timer);
    workerFailure = undefined;
    globalThis.Blob = OriginalBlob;
    URL.createObjectURL = originalCreate;
    os.cpus = originalCpus;
    if (workerDescriptor === undefined) delete g["Worker"];
    else Object.defineProperty(globalThis, "Worker", workerDescriptor);
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  }
}
