import * as tf from "@tensorflow/tfjs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { selectBackend } from "./backend";
import { rejection } from "./test-support/rejection";

afterEach(async () => {
  if (tf.findBackendFactory("tensorflow") !== null) tf.removeBackend("tensorflow");
  await tf.setBackend("cpu");
});

describe("selectBackend", () => {
  it("without tfjs-node picks wasm, and logs the choice once", async () => {
    const log = vi.fn();
    expect(await selectBackend({ env: {}, log })).toBe("wasm");
    expect(tf.getBackend()).toBe("wasm");
    expect(await selectBackend({ env: {}, log })).toBe("wasm");
    expect(log).toHaveBeenCalledTimes(1);
    expect(log.mock.calls[0]?.[0]).toMatch(/using the wasm backend/);
  });

  it("asking for tensorflow when tfjs-node is not installed is a clear error naming the install", async () => {
    const error = await rejection(selectBackend({ prefer: "tensorflow", env: {}, log: () => {} }));
    expect(error.code).toBe("BACKEND_UNAVAILABLE");
    expect(error.message).toMatch(/npm install @tensorflow\/tfjs-node/);
    expect(error.message).toMatch(/@tensorflow\/tfjs-node-gpu/);
  });

  it("KORA_BACKEND overrides prefer and the automatic choice; a bad value is INVALID_ARGUMENT", async () => {
    const log = vi.fn();
    expect(await selectBackend({ prefer: "wasm", env: { KORA_BACKEND: "cpu" }, log })).toBe("cpu");
    expect(tf.getBackend()).toBe("cpu");
    expect(log.mock.calls.at(-1)?.[0]).toMatch(/cpu backend \(KORA_BACKEND\)/);
    const bad = await rejection(selectBackend({ env: { KORA_BACKEND: "gpu" } }));
    expect(bad.code).toBe("INVALID_ARGUMENT");
    expect(bad.message).toMatch(/KORA_BACKEND must be one of tensorflow, wasm, cpu/);
    const env = await rejection(selectBackend({ env: { KORA_BACKEND: "tensorflow" }, log: () => {} }));
    expect(env.code).toBe("BACKEND_UNAVAILABLE");
  });

  it("prefers tensorflow when tfjs-node is importable and registers its backend", async () => {
    const imported: string[] = [];
    const importModule = async (name: string) => {
      imported.push(name);
      if (name === "@tensorflow/tfjs-node-gpu") throw new Error(`Cannot find module '${name}'`);
      // What importing @tensorflow/tfjs-node does: register the "tensorflow" backend (here a cpu stand-in).
      tf.registerBackend("tensorflow", () => (tf.findBackendFactory("cpu") as () => tf.KernelBackend)());
      return {};
    };
    const log = vi.fn();
    expect(await selectBackend({ env: {}, importModule, log })).toBe("tensorflow");
    expect(imported).toEqual(["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]);
    expect(tf.getBackend()).toBe("tensorflow");
    expect(log.mock.calls[0]?.[0]).toMatch(/tensorflow backend \(@tensorflow\/tfjs-node\)/);
  });
});
