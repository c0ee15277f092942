import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { afterAll, describe, expect, it } from "vitest";
import { selectBackend } from "./backend";
import { resetWasmHeapPeak, wasmHeapRoom, wasmHeapStats } from "./heap-guard";

afterAll(async () => {
  await tf.setBackend("cpu");
});

describe("the wasm heap guard's figures", () => {
  it("count every tensor buffer (shared buffers once), keep a resettable peak, and give the room left", async () => {
    await tf.setBackend("cpu");
    expect(wasmHeapStats()).toBeNull();
    expect(wasmHeapRoom()).toBeNull();
    await selectBackend({ prefer: "wasm", env: {}, log: () => {} });
    const start = wasmHeapStats();
    expect(start).not.toBeNull();
    const { liveBytes, limitBytes } = start as NonNullable<typeof start>;
    expect(limitBytes).toBe(2 ** 32 - 320 * 2 ** 20);
    expect(wasmHeapRoom()).toBe(limitBytes - liveBytes);
    const a = tf.zeros([256, 1024]); // 1 MiB
    const shared = tf.clone(a); // the wasm Identity shares its input's buffer
    expect(wasmHeapStats()?.liveBytes).toBe(liveBytes + 2 ** 20);
    const b = tf.zeros([512, 1024]);
    tf.dispose([a, shared, b]);
    const after = wasmHeapStats();
    expect(after?.liveBytes).toBe(liveBytes);
    expect(after?.peakBytes).toBeGreaterThanOrEqual(liveBytes + 3 * 2 ** 20);
    resetWasmHeapPeak();
    expect(wasmHeapStats()?.peakBytes).toBe(liveBytes);
  });
});
