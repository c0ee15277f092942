import { KoraError } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { tensorBatches } from "./batches";
import { blockFeatures } from "./features";
import { tinyClassification, tinyViT } from "./test-support/tiny";

describe("blockFeatures", () => {
  it("gives one [examples, dim] matrix per block, equal to the model's pooled block outputs", async () => {
    const dataset = tinyClassification(12);
    const vit = tinyViT(4);
    const indices = [7, 0, 3, 11, 5];
    const features = await blockFeatures(vit, dataset, { batchSize: 2, indices });
    expect(features.map((m) => [m.rows, m.cols])).toEqual([
      [5, 24],
      [5, 24],
    ]);
    for await (const batch of tensorBatches(dataset, vit.config, { batchSize: 5, indices })) {
      const states = vit.features(batch.images, { format: "NHWC", pool: "mean" });
      for (let block = 0; block < 2; block++) {
        const expected = states[block + 1]!.dataSync();
        const got = features[block]!.data;
        let worst = 0;
        for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i]! - got[i]!));
        expect(worst).toBeLessThan(1e-5);
      }
      tf.dispose(states);
    }
    vit.dispose();
  });

  it("keeps the blocks asked for, and rejects one the backbone lacks", async () => {
    const dataset = tinyClassification(4);
    const vit = tinyViT(4);
    const [last] = await blockFeatures(vit, dataset, { batchSize: 4, blocks: [1], pool: "cls" });
    const all = await blockFeatures(vit, dataset, { batchSize: 4, pool: "cls" });
    expect(Array.from(last!.data)).toEqual(Array.from(all[1]!.data));
    await expect(blockFeatures(vit, dataset, { batchSize: 4, blocks: [2] })).rejects.toSatisfy(
      (error: unknown) =>
        KoraError.isInstance(error) && error.code === "INVALID_ARGUMENT" && error.path === "blocks",
    );
    vit.dispose();
  });
});
