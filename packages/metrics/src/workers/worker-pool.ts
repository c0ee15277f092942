import { KoraError } from "../errors";
import type { MetricsErrorCode } from "../errors/kora-error";
import { createProductEngine, kernelModuleBytes } from "../linalg";
import { type WorkerReply, type WorkerRequest, workerMain } from "./worker-main";

/** Options of {@link CKAWorkerPool}. */
export interface CKAWorkerPoolOptions {
  /**
   * Number of worker threads, an integer ≥ 1. Default: the number of logical cores (Node's
   * `os.availableParallelism()`, the browser's `navigator.hardwareConcurrency`), at most 8.
   */
  threads?: number;
}

/** One started worker, whichever the environment's kind. */
interface Handle {
  post(request: WorkerRequest, transfer: ArrayBuffer[]): void;
  /** Node: keep the process alive while a task is pending, and not while idle. */
  hold(busy: boolean): void;
  terminate(): Promise<unknown> | undefined;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  handle: Handle;
}

interface PoolState {
  threads: number;
  handles: Handle[] | null;
  pending: Map<number, Pending>;
  nextId: number;
  closed: boolean;
  /** Inputs and per-worker results of the last shared-memory task, kept for the next (see {@link sharedMemory}). */
  memory: SharedArrayBuffer | null;
}

type NodeWorker = {
  postMessage(value: unknown, transfer?: ArrayBuffer[]): void;
  on(event: "message" | "error", fn: (value: never) => void): void;
  ref(): void;
  unref(): void;
  terminate(): Promise<number>;
};
type NodeThreads = { Worker: new (source: string, options: { eval: true }) => NodeWorker };

/** `process.getBuiltinModule` (Node ≥ 20.16): reaches `node:` modules with no import a browser bundle would carry. */
function nodeBuiltin<T>(id: string): T | undefined {
  const process = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return process?.getBuiltinModule?.(id) as T | undefined;
}

function defaultThreads(): number {
  const os = nodeBuiltin<{ availableParallelism?: () => number; cpus(): unknown[] }>("node:os");
  const cores =
    os?.availableParallelism?.() ??
    os?.cpus().length ??
    (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ??
    1;
  return Math.max(1, Math.min(8, cores));
}

/** The worker's source text: its body and the product engine, both self-contained functions. */
function workerSource(): string {
  return `(${String(workerMain)})(${String(createProductEngine)});\n`;
}

/** Starts one worker, or returns null where the environment has none (then the pool runs tasks in place). */
function startWorker(
  source: string,
  onReply: (reply: WorkerReply) => void,
  onError: (error: unknown) => void,
): Handle | null {
  const threads = nodeBuiltin<NodeThreads>("node:worker_threads");
  if (threads !== undefined) {
    const worker = new threads.Worker(source, { eval: true });
    worker.on("message", onReply);
    worker.on("error", onError);
    worker.unref();
    return {
      post: (request, transfer) => worker.postMessage(request, transfer),
      hold: (busy) => (busy ? worker.ref() : worker.unref()),
      terminate: () => worker.terminate(),
    };
  }
  const scope = globalThis as {
    Worker?: new (
      url: string,
    ) => {
      postMessage(value: unknown, transfer: ArrayBuffer[]): void;
      onmessage: ((event: { data: WorkerReply }) => void) | null;
      onerror: ((event: unknown) => void) | null;
      terminate(): void;
    };
  };
  if (
    typeof scope.Worker !== "function" ||
    typeof Blob !== "function" ||
    typeof URL?.createObjectURL !== "function"
  ) {
    return null;
  }
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  try {
    const worker = new scope.Worker(url);
    worker.onmessage = (event) => onReply(event.data);
    worker.onerror = (event) =>
      onError(new Error(`CKA worker failed: ${String((event as { message?: string }).message ?? event)}`));
    return {
      post: (request, transfer) => worker.postMessage(request, transfer),
      hold: () => undefined,
      terminate: () => {
        worker.terminate();
        URL.revokeObjectURL(url);
        return undefined;
      },
    };
  } catch {
    // A content security policy without `worker-src blob:` refuses the worker: compute in place instead.
    URL.revokeObjectURL(url);
    return null;
  }
}

const states = new WeakMap<CKAWorkerPool, PoolState>();

/**
 * A pool of worker threads for the asynchronous CKA API ({@link linearCKAAsync}, {@link MinibatchCKA.updateAsync}):
 * `node:worker_threads` in Node (≥ 20.16, where `process.getBuiltinModule` exists), Web Workers in browsers,
 * started from source text (no extra file to serve or bundle). Workers start on the first task and are reused;
 * in Node an idle pool does not keep the process alive. Where no worker can be started (older Node, a page whose
 * content security policy forbids `blob:` workers) the tasks run on the calling thread, with the same results.
 *
 * @example
 * ```ts
 * const pool = new CKAWorkerPool({ threads: 2 });
 * const value = await linearCKAAsync(x, y, { pool });
 * await pool.close();
 * ```
 */
export class CKAWorkerPool {
  /** Creates a pool; no worker starts before the first task. */
  constructor(options: CKAWorkerPoolOptions = {}) {
    const threads = options.threads ?? defaultThreads();
    if (!Number.isInteger(threads) || threads < 1) {
      throw new KoraError<MetricsErrorCode>({
        code: "INVALID_ARGUMENT",
        message: `options.threads must be an integer ≥ 1, got ${String(threads)}`,
        path: "options.threads",
      });
    }
    states.set(this, { threads, handles: null, pending: new Map(), nextId: 1, closed: false, memory: null });
  }

  /** Number of worker threads the pool runs (tasks are split into this many parts). */
  get threads(): number {
    return state(this).threads;
  }

  /** Stops the workers; pending tasks are rejected. A closed pool accepts no more tasks (INVALID_ARGUMENT). */
  async close(): Promise<void> {
    const s = state(this);
    s.closed = true;
    const handles = s.handles ?? [];
    s.handles = null;
    s.memory = null;
    for (const [, pending] of s.pending) pending.reject(new Error("CKAWorkerPool closed"));
    s.pending.clear();
    await Promise.all(handles.map((handle) => handle.terminate()));
  }
}

function state(pool: CKAWorkerPool): PoolState {
  const s = states.get(pool);
  if (s === undefined) {
    throw new KoraError<MetricsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: "options.pool must be a CKAWorkerPool",
      path: "options.pool",
    });
  }
  return s;
}

/**
 * The pool's workers, started on first use; an empty list where the environment has none (the caller then
 * computes in place). @internal
 */
export function poolWorkers(pool: CKAWorkerPool): number {
  const s = state(pool);
  if (s.closed) {
    throw new KoraError<MetricsErrorCode>({
      code: "INVALID_ARGUMENT",
      message: "options.pool is closed",
      path: "options.pool",
    });
  }
  if (s.handles === null) {
    const source = workerSource();
    const bytes = kernelModuleBytes();
    const handles: Handle[] = [];
    s.handles = handles;
    for (let i = 0; i < s.threads; i++) {
      const handle = startWorker(
        source,
        (reply) => settle(s, reply),
        (error) => fail(s, error),
      );
      if (handle === null) break;
      handles.push(handle);
      // Each worker compiles the same kernel module from its bytes (a tiny module: microseconds).
      // A failed start surfaces through the first real task, so this promise's rejection is not reported twice.
      send(pool, handles.length - 1, { id: 0, op: "init", bytes }, []).catch(() => undefined);
    }
  }
  return s.handles.length;
}

function settle(s: PoolState, reply: WorkerReply): void {
  const pending = s.pending.get(reply.id);
  if (pending === undefined) return;
  s.pending.delete(reply.id);
  if (![...s.pending.values()].some((p) => p.handle === pending.handle)) pending.handle.hold(false);
  if (reply.ok) pending.resolve(reply.value);
  else pending.reject(new Error(`CKA worker: ${reply.message}`));
}

function fail(s: PoolState, error: unknown): void {
  // A crashed worker (out of memory, say) fails every pending task — the others' workers are stopped too, so
  // none is left waiting — and the pool starts fresh workers on the next task.
  for (const [, pending] of s.pending) pending.reject(error);
  s.pending.clear();
  const handles = s.handles ?? [];
  s.handles = null;
  for (const handle of handles) void handle.terminate();
}

/** Sends one request to worker `index` and resolves with its reply's value. @internal */
export function send(
  pool: CKAWorkerPool,
  index: number,
  request: WorkerRequest,
  transfer: ArrayBuffer[],
): Promise<unknown> {
  const s = state(pool);
  const handle = s.handles?.[index];
  if (handle === undefined) return Promise.reject(new Error("CKA worker is not running"));
  const id = s.nextId++;
  return new Promise((resolve, reject) => {
    s.pending.set(id, { resolve, reject, handle });
    handle.hold(true);
    handle.post({ ...request, id }, transfer);
  });
}

/**
 * Shared memory of at least `length` float64 values, kept by the pool and reused by later calls (a fresh
 * buffer of a hundred MiB costs more than copying the inputs into it); null where shared memory is unavailable
 * (a browser page that is not cross-origin isolated), and then the inputs are sliced and transferred. @internal
 */
export function sharedMemory(pool: CKAWorkerPool, length: number): SharedArrayBuffer | null {
  const s = state(pool);
  const scope = globalThis as { crossOriginIsolated?: boolean };
  if (typeof SharedArrayBuffer !== "function" || scope.crossOriginIsolated === false) return null;
  if (s.memory === null || s.memory.byteLength < 8 * length) s.memory = new SharedArrayBuffer(8 * length);
  return s.memory;
}

let shared: CKAWorkerPool | undefined;

/** The pool used when a call names none: created on first use with the default thread count. @internal */
export function sharedPool(): CKAWorkerPool {
  shared ??= new CKAWorkerPool();
  return shared;
}
