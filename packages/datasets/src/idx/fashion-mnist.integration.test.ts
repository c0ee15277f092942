import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openDataset } from "../registry/registry";
import { FASHION_MNIST_CLASSES, FASHION_MNIST_DEFAULT_ROOT } from "./idx-dataset";

// The one real dataset our machines have: Debian's `dataset-fashion-mnist`. In CI (`process.env.CI` set) the
// files MUST be there (.ci/run installs the package), so this test fails rather than skips when they are not.
const present = existsSync(join(FASHION_MNIST_DEFAULT_ROOT, "train-images-idx3-ubyte.gz"));
const inCi = Boolean(process.env["CI"]);
if (!present && !inCi) {
  console.warn(
    `[fashion-mnist integration] skipped: ${FASHION_MNIST_DEFAULT_ROOT} is missing (apt-get install -y dataset-fashion-mnist)`,
  );
}

describe.skipIf(!present && !inCi)("Fashion-MNIST (real data, Debian package dataset-fashion-mnist)", () => {
  it("is installed (required in CI)", () => {
    expect(present, `${FASHION_MNIST_DEFAULT_ROOT} missing: apt-get install -y dataset-fashion-mnist`).toBe(
      true,
    );
  });

  it("reads all 70 000 images with the official counts, labels and balanced histogram", async () => {
    const train = await openDataset("fashion-mnist", { split: "train" });
    const test = await openDataset("fashion-mnist", { split: "test" });
    expect(train.size).toBe(60_000);
    expect(test.size).toBe(10_000);
    expect(train.imageShape).toEqual([28, 28, 1]);
    expect(train.classes).toEqual(FASHION_MNIST_CLASSES);
    // First labels of the official files (train starts with an ankle boot, 9).
    expect(Array.from({ length: 10 }, (_, i) => train.label(i))).toEqual([9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    expect(Array.from({ length: 10 }, (_, i) => test.label(i))).toEqual([9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);

    for (const [dataset, perClass] of [
      [train, 6_000],
      [test, 1_000],
    ] as const) {
      const histogram = new Array<number>(10).fill(0);
      let pixelSum = 0;
      for (let i = 0; i < dataset.size; i++) {
        const { image, label } = dataset.get(i);
        expect(image.length).toBe(784);
        histogram[label]! += 1;
        for (let p = 0; p < image.length; p++) pixelSum += image[p]!;
      }
      expect(histogram).toEqual(new Array<number>(10).fill(perClass));
      // Sum of every pixel byte, computed independently with Python's gzip + struct over the same files.
      expect(pixelSum).toBe(dataset === train ? 3_431_114_169 : 573_469_082);
    }
    const all = await openDataset("fashion-mnist", { split: "all" });
    expect(all.size).toBe(70_000);
    expect(all.get(60_000)).toEqual(test.get(0));
  });
});
