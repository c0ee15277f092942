import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { openDataset } from "@kora/datasets/node";
import { classificationTask, disposeModel, evaluateTask } from "@kora/finetune";
import { selectBackend } from "@kora/tfjs";
import { loadViT } from "@kora/vit/node";
import { beforeAll, describe, expect, it } from "vitest";
import { SHIPPED_BACKBONE } from "./config/presets";
import { appRoot } from "./paths";
import { checkShippedBackbone } from "./tasks/backbone";

const folder = join(appRoot(), SHIPPED_BACKBONE.folder);
const record = JSON.parse(readFileSync(join(folder, "pretrain.json"), "utf8")) as {
  sha256: string;
  bytes: number;
  dataset: { items: [number, number]; labelMap?: number[] };
};
/** Written by scripts/model-card.mjs when the backbone was shipped: the check this test repeats. */
const card = JSON.parse(readFileSync(join(folder, "card.json"), "utf8")) as {
  check: { split: "test"; items: [number, number]; accuracy: number };
};

beforeAll(async () => {
  await selectBackend({ prefer: "wasm" });
});

describe("the backbone shipped with the app", () => {
  it("is the file its preset, its pretrain.json and its model card name (SHA-256)", () => {
    const bytes = readFileSync(join(folder, "model.safetensors"));
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    expect(sha256).toBe(SHIPPED_BACKBONE.sha256);
    expect(sha256).toBe(record.sha256);
    expect(bytes.byteLength).toBe(record.bytes);
    expect(readFileSync(join(folder, "MODEL_CARD.md"), "utf8")).toContain(sha256);
    expect(() => checkShippedBackbone(folder, SHIPPED_BACKBONE.sha256)).not.toThrow();
    expect(() => checkShippedBackbone(folder, "0".repeat(64))).toThrow(/CHECKSUM|SHA-256/);
  });

  it("was pretrained on items outside the pool the reproduction's tasks draw from", () => {
    const [, end] = record.dataset.items;
    expect(end).toBeLessThanOrEqual(50_000);
  });

  it("classifies a fixed set of held-out Fashion-MNIST test images as its model card says", {
    timeout: 60_000,
  }, async () => {
    const vit = await loadViT(folder);
    try {
      const test = await openDataset("fashion-mnist", { split: "test" });
      const [start, end] = card.check.items;
      const indices = Array.from({ length: end - start }, (_, i) => start + i);
      // A backbone pretrained on coarser labels (`kora pretrain --label-map`) is scored on those labels.
      const map = record.dataset.labelMap;
      const scores = await evaluateTask(vit, classificationTask({ classes: vit.config.numClasses }), test, {
        batchSize: 50,
        indices,
        ...(map === undefined
          ? {}
          : { labels: Int32Array.from(indices, (i) => map[test.label(i)] as number) }),
      });
      // Same weights, same images: the same predictions up to float rounding between backends.
      expect(scores.accuracy).toBeCloseTo(card.check.accuracy, 2);
      expect(scores.accuracy).toBeGreaterThan(0.8);
    } finally {
      disposeModel(vit);
    }
  });
});
