// Activation recomputation on the golden vit-micro checkpoint: gradients against the plain path on cpu and wasm,
// for LoRA and KoRA (with adapter dropout) and full fine-tuning; "auto" against a nearly full wasm heap.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { applyAdapters, crossEntropy, removeAdapters, withDropoutScope } from "@kora/tfjs";
import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";
import { useBackend, vitMicroFixture } from "../test-support/fixtures";
import { decodeViT } from "../weights/load";
import { type ActivationRecomputation, createViT } from "./vit";

const fixture = vitMicroFixture();
const here = dirname(fileURLToPath(import.meta.url));

afterAll(async () => {
  await useBackend("cpu");
});

type Method = "lora" | "kora" | "full";

/**
 * Loss and the gradient of every trainable variable for the fixture's two images (labels 3 and 7), one dropout
 * scope, on the active backend. Adapter weights are drawn non-zero so every adapter tensor gets a gradient.
 */
function gradients(method: Method, recompute: ActivationRecomputation, step = 1) {
  const vit = decodeViT(fixture.weights, fixture.config, { recompute });
  let variables = vit.trainableVariables();
  if (method !== "full") {
    const spec =
      method === "lora"
        ? {
            method: "lora" as const,
            rank: 4,
            dropout: 0.25,
            targets: ["query" as const, "value" as const, "fc1" as const],
          }
        : { method: "kora" as const, rank: 4, dropout: 0.25 };
    variables = applyAdapters(vit, spec, { seed: 2 }).trainableVariables();
    variables.forEach((v, i) => {
      v.assign(tf.randomNormal(v.shape, 0, 0.1, "float32", 11 + i));
    });
  }
  const reference = fixture.io["pixel_values"] as { shape: number[]; data: Float32Array };
  const pixels = tf.tensor4d(reference.data, reference.shape as [number, number, number, number]);
  const labels = tf.tensor1d([3, 7], "int32");
  const { value, grads } = withDropoutScope({ seed: 5, step, microBatch: 0 }, () =>
    tf.tidy(() =>
      tf.variableGrads(
        () => crossEntropy(vit.forward(pixels, { format: "NCHW", training: true }).logits!, labels),
        variables,
      ),
    ),
  );
  const result = {
    loss: value.dataSync()[0] as number,
    grads: variables.map((v) => (grads[v.name] as tf.Tensor).dataSync() as Float32Array),
  };
  tf.dispose([value, pixels, labels, ...Object.values(grads)]);
  if (method !== "full") removeAdapters(vit);
  vit.dispose();
  return result;
}

/** The largest |difference| of a variable's gradient over that gradient's largest |value|. */
function worstRelative(a: Float32Array[], b: Float32Array[]): number {
  let worst = 0;
  a.forEach((expected, k) => {
    const actual = b[k] as Float32Array;
    let scale = 1e-12;
    let diff = 0;
    for (let i = 0; i < expected.length; i++) {
      scale = Math.max(scale, Math.abs(expected[i] as number));
      diff = Math.max(diff, Math.abs((actual[i] as number) - (expected[i] as number)));
    }
    worst = Math.max(worst, diff / scale);
  });
  return worst;
}

for (const backend of ["cpu", "wasm"] as const) {
  describe(`activation recomputation on the golden vit-micro (${backend})`, () => {
    for (const method of ["lora", "kora", "full"] as const) {
      it(`${method}: the loss and every trainable variable's gradient equal the plain path's (float32)`, async () => {
        await useBackend(backend);
        const plain = gradients(method, false);
        const recomputed = gradients(method, true);
        expect(recomputed.grads).toHaveLength(plain.grads.length);
        // Every variable gets a gradient (the comparison is not of zeros).
        for (const g of plain.grads) expect(g.some((x) => x !== 0)).toBe(true);
        expect(Math.abs(recomputed.loss - plain.loss)).toBeLessThanOrEqual(1e-6);
        const worst = worstRelative(plain.grads, recomputed.grads);
        console.info(`[recompute ${backend} ${method}] worst relative gradient difference ${worst}`);
        expect(worst).toBeLessThanOrEqual(1e-6);
        if (method !== "full") {
          // The check can fail: other dropout masks (another step) give other adapter gradients.
          expect(worstRelative(plain.grads, gradients(method, false, 2).grads)).toBeGreaterThan(1e-3);
        }
      });
    }
  });
}

describe("recompute option", () => {
  it("defaults to auto; accepts true, false and auto; anything else is INVALID_ARGUMENT at path recompute", () => {
    const vit = createViT("vit-micro", { seed: 1 });
    expect(vit.recompute).toBe("auto");
    expect(createViT("vit-micro", { recompute: true }).recompute).toBe(true);
    vit.recompute = false;
    expect(vit.recompute).toBe(false);
    for (const bad of ["yes", 1, null]) {
      let caught: unknown;
      try {
        vit.recompute = bad as unknown as ActivationRecomputation;
      } catch (error) {
        caught = error;
      }
      expect(caught).toMatchObject({ code: "INVALID_ARGUMENT", path: "recompute" });
    }
    expect(() =>
      decodeViT(fixture.weights, fixture.config, { recompute: "always" as unknown as boolean }),
    ).toThrow(/recompute must be true, false or "auto"/);
    vit.dispose();
  });
});

describe('recompute "auto" on a nearly full wasm heap', () => {
  it("recomputes where the plain step is OUT_OF_MEMORY, with the gradients of recompute: true", {
    timeout: 240_000,
  }, async () => {
    const child = join(here, "..", "test-support", "recompute-auto-child.mjs");
    const output = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (resolve, reject) => {
        const proc = spawn(process.execPath, [child], { stdio: ["ignore", "pipe", "pipe"] });
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
      },
    );
    expect(output.code, output.stderr).toBe(0);
    const result = JSON.parse(output.stdout.trim().split("\n").at(-1) ?? "");
    expect(result.room).toBe(50 * 2 ** 20);
    expect(result.never).toBe("OUT_OF_MEMORY");
    expect(result.always).toBe(true);
    expect(result.nonZero).toBe(true);
    expect(result.auto).toBe(true);
    expect(result.maxDiff).toBe(0);
  });
});
