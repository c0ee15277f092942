import { readSafetensors, type SafetensorsTensor, writeSafetensors } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import type { ViT } from "../model/vit";
import { decodeViT } from "../weights/load";
import { maxAbsDiff, useBackend, vitMicroFixture } from "./fixtures";

type GoldenTensor = { shape: number[]; data: Float32Array };

/** Tolerance of the issue: max-abs error ≤ 1e-4 against the PyTorch reference. */
const TOLERANCE = 1e-4;

/**
 * HF names → timm names with q/k/v fused into `attn.qkv` (rows 0:D, D:2D, 2D:3D), written independently of the
 * package's converter (which goes the other way).
 */
export function toTimmCheckpoint(weights: Uint8Array): Uint8Array {
  const { tensors } = readSafetensors(weights);
  const out: Record<string, SafetensorsTensor> = {};
  const block = (name: string) => /^vit\.encoder\.layer\.(\d+)\.(.+)$/.exec(name);
  const renames: Record<string, string> = {
    "layernorm_before.weight": "norm1.weight",
    "layernorm_before.bias": "norm1.bias",
    "layernorm_after.weight": "norm2.weight",
    "layernorm_after.bias": "norm2.bias",
    "attention.output.dense.weight": "attn.proj.weight",
    "attention.output.dense.bias": "attn.proj.bias",
    "intermediate.dense.weight": "mlp.fc1.weight",
    "intermediate.dense.bias": "mlp.fc1.bias",
    "output.dense.weight": "mlp.fc2.weight",
    "output.dense.bias": "mlp.fc2.bias",
  };
  const top: Record<string, string> = {
    "vit.embeddings.cls_token": "cls_token",
    "vit.embeddings.position_embeddings": "pos_embed",
    "vit.embeddings.patch_embeddings.projection.weight": "patch_embed.proj.weight",
    "vit.embeddings.patch_embeddings.projection.bias": "patch_embed.proj.bias",
    "vit.layernorm.weight": "norm.weight",
    "vit.layernorm.bias": "norm.bias",
    "classifier.weight": "head.weight",
    "classifier.bias": "head.bias",
  };
  for (const [name, tensor] of Object.entries(tensors)) {
    const match = block(name);
    if (match === null) {
      out[top[name] as string] = tensor;
      continue;
    }
    const [, layer, rest] = match as unknown as [string, string, string];
    const renamed = renames[rest];
    if (renamed !== undefined) out[`blocks.${layer}.${renamed}`] = tensor;
    else if (/^attention\.attention\.query\.(weight|bias)$/.test(rest)) {
      const kind = rest.endsWith("weight") ? "weight" : "bias";
      const parts = ["query", "key", "value"].map(
        (t) => tensors[`vit.encoder.layer.${layer}.attention.attention.${t}.${kind}`] as GoldenTensor,
      );
      const first = parts[0] as SafetensorsTensor;
      const size = first.data.length;
      const data = new Float32Array(size * 3);
      parts.forEach((part, i) => {
        data.set(part.data as Float32Array, i * size);
      });
      const shape = [...first.shape];
      shape[0] = (shape[0] as number) * 3;
      out[`blocks.${layer}.attn.qkv.${kind}`] = { dtype: "F32", shape, data };
    } else if (!/^attention\.attention\.(key|value)\./.test(rest)) {
      throw new Error(`unmapped ${name}`);
    }
  }
  return writeSafetensors(out);
}

/** The timm config.json of the fixture's architecture. */
export function timmConfigOfFixture(config: Record<string, unknown>) {
  return {
    architecture: "vit_micro_patch8_32",
    num_classes: Object.keys(config["id2label"] as object).length,
    pretrained_cfg: { input_size: [3, 32, 32], mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    model_args: { img_size: 32, patch_size: 8, embed_dim: 48, depth: 3, num_heads: 3, mlp_ratio: 4 },
  };
}

/** Golden checks against the PyTorch reference on one backend (a separate test file per backend). */
export function runGoldenSuite(backend: "cpu" | "wasm"): void {
  describe(`vit-micro golden outputs on ${backend}`, () => {
    const fixture = vitMicroFixture();
    beforeAll(async () => {
      await useBackend(backend);
    });

    function check(vit: ViT, format: "NCHW" | "NHWC"): number {
      const pixelsRef = fixture.io["pixel_values"] as GoldenTensor;
      let worst = 0;
      tf.tidy(() => {
        const nchw = tf.tensor4d(
          pixelsRef.data as Float32Array,
          pixelsRef.shape as [number, number, number, number],
        );
        const pixels = format === "NCHW" ? nchw : tf.transpose(nchw, [0, 2, 3, 1]);
        const out = vit.forward(pixels, { format, hiddenStates: true });
        const errors: Record<string, number> = {
          logits: maxAbsDiff(out.logits as tf.Tensor, fixture.io["logits"] as GoldenTensor),
          last_hidden_state: maxAbsDiff(out.lastHiddenState, fixture.io["last_hidden_state"] as GoldenTensor),
        };
        expect(out.hiddenStates).toHaveLength(4);
        out.hiddenStates.forEach((state, k) => {
          errors[`hidden_states.${k}`] = maxAbsDiff(state, fixture.io[`hidden_states.${k}`] as GoldenTensor);
        });
        for (const [name, error] of Object.entries(errors)) {
          expect(error, `${name} on ${backend}`).toBeLessThanOrEqual(TOLERANCE);
          worst = Math.max(worst, error);
        }
        // A test that can fail: the outputs are not trivially small.
        expect(
          maxAbsDiff(out.logits as tf.Tensor, { shape: [2, 10], data: new Float32Array(20) }),
        ).toBeGreaterThan(0.01);
      });
      console.info(`[golden ${backend} ${format}] max-abs error ${worst.toExponential(3)}`);
      return worst;
    }

    it("HF weights: logits, every hidden state and last_hidden_state within 1e-4 (NCHW and NHWC input)", () => {
      const vit = decodeViT(fixture.weights, fixture.config);
      try {
        check(vit, "NCHW");
        check(vit, "NHWC");
      } finally {
        vit.dispose();
      }
    });

    it("timm-named weights (fused qkv) give the same outputs within 1e-4", () => {
      const vit = decodeViT(toTimmCheckpoint(fixture.weights), timmConfigOfFixture(fixture.config));
      try {
        expect(vit.config.layerNormEps).toBe(1e-6);
        check(vit, "NCHW");
      } finally {
        vit.dispose();
      }
    });
  });
}
