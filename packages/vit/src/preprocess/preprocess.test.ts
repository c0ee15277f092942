import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { useBackend } from "../test-support/fixtures";
import { preprocessImages } from "./preprocess";

beforeAll(async () => {
  await useBackend("cpu");
});

const config = { imageSize: 4, imageMean: [0.5, 0.4, 0.3], imageStd: [0.5, 0.25, 0.2] };

describe("preprocessImages", () => {
  it("rescales and normalises per channel, NHWC in and NCHW out", () => {
    tf.tidy(() => {
      const pixels = tf.tensor4d([0, 51, 255], [1, 1, 1, 3]).tile([1, 4, 4, 1]) as tf.Tensor4D;
      const out = preprocessImages(pixels, config, { format: "NHWC", outputFormat: "NCHW" });
      expect(out.shape).toEqual([1, 3, 4, 4]);
      const values = out.arraySync() as number[][][][];
      expect(values[0]?.[0]?.[2]?.[3]).toBeCloseTo((0 - 0.5) / 0.5, 6);
      expect(values[0]?.[1]?.[0]?.[0]).toBeCloseTo((0.2 - 0.4) / 0.25, 6);
      expect(values[0]?.[2]?.[1]?.[1]).toBeCloseTo((1 - 0.3) / 0.2, 6);
    });
  });

  it("resizes bilinearly with half-pixel centres (PyTorch align_corners=False) and treats NCHW and NHWC alike", () => {
    tf.tidy(() => {
      // A 2×2 image to 4×4: output pixel 0 samples source −0.25 → clamped 0; pixel 1 samples 0.25 → 0.75·a + 0.25·b.
      const nhwc = tf.tensor4d([0, 100, 200, 255], [1, 2, 2, 1]).tile([1, 1, 1, 3]) as tf.Tensor4D;
      const out = preprocessImages(nhwc, config, { format: "NHWC", rescale: 1 });
      const row0 = (out.arraySync() as number[][][][])[0]?.[0]?.map((px) => (px[0] as number) * 0.5 + 0.5);
      expect(row0?.[0]).toBeCloseTo(0, 4);
      expect(row0?.[1]).toBeCloseTo(25, 4);
      expect(row0?.[2]).toBeCloseTo(75, 4);
      expect(row0?.[3]).toBeCloseTo(100, 4);
      const fromNchw = preprocessImages(tf.transpose(nhwc, [0, 3, 1, 2]) as tf.Tensor4D, config, {
        format: "NCHW",
        outputFormat: "NHWC",
        rescale: 1,
      });
      expect(fromNchw.arraySync()).toEqual(out.arraySync());
    });
  });

  it("rejects a channel count that does not match the config", () => {
    const gray = tf.zeros([1, 4, 4, 1]) as tf.Tensor4D;
    expect(() => preprocessImages(gray, config, { format: "NHWC" })).toThrow(/1 channels.*3/);
    expect(() => preprocessImages(gray, config, { format: "NCHW" })).toThrow(/4 channels/);
    gray.dispose();
  });
});
