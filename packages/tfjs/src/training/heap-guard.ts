// The wasm heap guard: counts the bytes of the wasm backend's tensor buffers, refuses an allocation that would
// exhaust the 32-bit heap, and answers how much room is left (what activation recomputation's "auto" mode asks).
import { KoraError } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import type { TfjsErrorCode } from "../errors";

/** The part of tfjs-backend-wasm's `BackendWasm` the heap guard wraps. @internal */
export interface WasmBackendInternals {
  move(dataId: tf.DataId, values: unknown, shape: number[], dtype: tf.DataType, refCount: number): void;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
}

/** The wasm32 heap's hard limit (both tfjs-backend-wasm builds), and the room kept for XNNPACK and fragmentation. */
const HEAP_LIMIT = 2 ** 32;
const HEAP_RESERVE = 320 * 2 ** 20;

/** What {@link wasmHeapStats} reports. */
export interface WasmHeapStats {
  /** Bytes of tensor buffers alive now. */
  liveBytes: number;
  /** The most {@link WasmHeapStats.liveBytes} reached since the guard started or {@link resetWasmHeapPeak}. */
  peakBytes: number;
  /** Tensor bytes the guard allows in all: the 4 GiB heap less the 320 MiB kept for XNNPACK and fragmentation. */
  limitBytes: number;
}

interface Counter {
  live: number;
  peak: number;
}

const counters = new WeakMap<object, Counter>();

/**
 * Wraps the wasm backend's buffer allocation so tensor bytes are counted and an allocation that would leave less
 * than the reserve of the 4 GiB heap throws `OUT_OF_MEMORY` before it reaches `malloc`. Without it the threaded
 * build hangs (the failing `malloc` throws while holding the allocator's lock and the next allocation spins
 * forever) and the single-threaded build dies with `RuntimeError: Aborted()`. Only tensor buffers are counted;
 * XNNPACK's own buffers live in the reserve. Idempotent per backend; {@link selectBackend} installs it whenever it
 * selects wasm, before any tensor exists, so the count is exact. @internal
 */
export function guardWasmHeap(backend: WasmBackendInternals): void {
  if (counters.has(backend)) return;
  const counter: Counter = { live: 0, peak: 0 };
  counters.set(backend, counter);
  const sizes = new WeakMap<tf.DataId, number>();
  const move = backend.move.bind(backend);
  const disposeData = backend.disposeData.bind(backend);
  backend.move = (dataId, values, shape, dtype, refCount) => {
    const bytes = dtype === "string" ? 0 : tf.util.sizeFromShape(shape) * tf.util.bytesPerElement(dtype);
    if (counter.live + bytes > HEAP_LIMIT - HEAP_RESERVE) {
      throw new KoraError<TfjsErrorCode>({
        code: "OUT_OF_MEMORY",
        message:
          `the wasm heap (4 GiB) cannot hold another ${(bytes / 2 ** 20).toFixed(1)} MiB tensor [${shape.join(", ")}]: ` +
          `${(counter.live / 2 ** 30).toFixed(2)} GiB of tensors are live. Use a smaller batch, or activation ` +
          `recomputation (training otherwise keeps every forward activation until the backward pass)`,
      });
    }
    move(dataId, values, shape, dtype, refCount);
    sizes.set(dataId, bytes);
    counter.live += bytes;
    if (counter.live > counter.peak) counter.peak = counter.live;
  };
  backend.disposeData = (dataId, force) => {
    const freed = disposeData(dataId, force);
    if (freed) {
      counter.live -= sizes.get(dataId) ?? 0;
      sizes.delete(dataId);
    }
    return freed;
  };
}

function activeCounter(): Counter | null {
  if (tf.getBackend() !== "wasm") return null;
  return counters.get(tf.findBackend("wasm") as object) ?? null;
}

/**
 * The heap guard's figures for the active wasm backend, or `null` when the active backend is not wasm or was set
 * up without {@link selectBackend} (then nothing counts its buffers).
 */
export function wasmHeapStats(): WasmHeapStats | null {
  const counter = activeCounter();
  if (counter === null) return null;
  return { liveBytes: counter.live, peakBytes: counter.peak, limitBytes: HEAP_LIMIT - HEAP_RESERVE };
}

/** Starts a new high-water mark for {@link WasmHeapStats.peakBytes} (e.g. before one training step). */
export function resetWasmHeapPeak(): void {
  const counter = activeCounter();
  if (counter !== null) counter.peak = counter.live;
}

/**
 * Bytes of tensors the wasm heap can still take before the guard throws `OUT_OF_MEMORY`, or `null` when the
 * active backend is not wasm (no known limit). When wasm was set up without {@link selectBackend} the guard is not
 * counting, and the engine's `tf.memory().numBytes` stands in for the live bytes: it counts a buffer once per
 * tensor sharing it, so the room is then underestimated, never overestimated.
 */
export function wasmHeapRoom(): number | null {
  if (tf.getBackend() !== "wasm") return null;
  const live = activeCounter()?.live ?? tf.memory().numBytes;
  return HEAP_LIMIT - HEAP_RESERVE - live;
}
