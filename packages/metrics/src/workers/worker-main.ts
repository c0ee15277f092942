import type { ColumnPart, ProductEngine, Source } from "../linalg";

/** A request to a worker. @internal */
export type WorkerRequest =
  | { id: number; op: "init"; bytes: Uint8Array<ArrayBuffer> | null }
  | { id: number; op: "columns"; parts: ColumnPart[]; rows: number }
  | {
      id: number;
      op: "shared-columns";
      /** The inputs, float64, side by side in shared memory, then one result slot per worker. */
      memory: SharedArrayBuffer;
      parts: { at: number; rows: number; cols: number; means: Float64Array }[];
      r0: number;
      r1: number;
      /** Float64 offset of this worker's result slot (`ldc²` values). */
      out: number;
    }
  | { id: number; op: "rows"; items: { data: Source; rows: number; cols: number }[] };

/**
 * A worker's answer: `value` is a ColumnsGram (`columns`), a list of Grams (`rows`) or, for `init`, the kernel
 * the worker's engine runs (`"wasm-fma"`, `"wasm-simd"` or `"javascript"`). @internal
 */
export type WorkerReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; message: string };

/**
 * The body of a pool worker, started from its source text together with the engine's:
 * `(${workerMain})(${createProductEngine})`. Self-contained for the same reason as the engine: it must not
 * refer to anything outside its body. In Node it talks through `worker_threads`' `parentPort` (reached with
 * `process.getBuiltinModule`, so the text holds no `require` and no import a browser bundler would trip on);
 * in a browser through the worker's global scope. @internal
 */
export function workerMain(createEngine: (bytes: Uint8Array<ArrayBuffer> | null) => ProductEngine): void {
  type Port = { postMessage(value: unknown, transfer?: ArrayBuffer[]): void };
  const g = globalThis as unknown as {
    process?: { getBuiltinModule?: (id: string) => unknown };
    onmessage: ((event: { data: WorkerRequest }) => void) | null;
    postMessage(value: unknown, transfer?: ArrayBuffer[]): void;
  };
  const threads = g.process?.getBuiltinModule?.("node:worker_threads") as
    | { parentPort: Port & { on(event: "message", fn: (data: WorkerRequest) => void): void } }
    | undefined;
  const port: Port = threads !== undefined ? threads.parentPort : g;
  let engine: ProductEngine | null = null;

  function handle(request: WorkerRequest): void {
    try {
      if (request.op === "init") {
        engine = createEngine(request.bytes);
        const kernel = engine.fma ? "wasm-fma" : engine.wasm ? "wasm-simd" : "javascript";
        port.postMessage({ id: request.id, ok: true, value: kernel });
      } else if (request.op === "shared-columns") {
        // Rows are packed straight from the shared inputs and the product written to this worker's slot:
        // nothing is copied or allocated per call (fresh buffers of this size cost more than the copy).
        engine ??= createEngine(null);
        const all = new Float64Array(request.memory);
        const parts = request.parts.map((p) => ({
          data: all.subarray(p.at, p.at + p.rows * p.cols),
          cols: p.cols,
          means: p.means,
        }));
        const value = engine.columnsGram(parts, request.r0, request.r1, 0, all.subarray(request.out));
        port.postMessage({ id: request.id, ok: true, value: { ldc: value.ldc, starts: value.starts } });
      } else if (request.op === "columns") {
        engine ??= createEngine(null);
        const value = engine.columnsGram(request.parts, 0, request.rows, 0);
        port.postMessage({ id: request.id, ok: true, value }, [value.c.buffer as ArrayBuffer]);
      } else {
        engine ??= createEngine(null);
        const value = request.items.map((item) => engine!.rowsGram(item.data, item.rows, item.cols));
        port.postMessage(
          { id: request.id, ok: true, value },
          value.map((gram) => gram.buffer as ArrayBuffer),
        );
      }
    } catch (error) {
      port.postMessage({ id: request.id, ok: false, message: String(error) });
    }
  }

  if (threads !== undefined) threads.parentPort.on("message", handle);
  else g.onmessage = (event) => handle(event.data);
}
