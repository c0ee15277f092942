import { describe, expect, it } from "vitest";
import { openSyntheticDataset } from "../synthetic/synthetic-dataset";
import type { ClassificationDataset } from "../types";
import { getDataset, listDatasets, type OpenDatasetOptions, openDataset, registerDataset } from "./registry";

describe("dataset registry", () => {
  it("lists every built-in dataset with where to get it and a license note", () => {
    expect(listDatasets()).toEqual(
      expect.arrayContaining([
        "cifar10",
        "cifar100",
        "tiny-imagenet",
        "nyu-depth-v2",
        "fashion-mnist",
        "mnist",
        "synthetic-pretrain",
        "synthetic-source",
        "synthetic-target",
        "synthetic-depth",
      ]),
    );
    for (const name of listDatasets()) {
      const definition = getDataset(name);
      expect(definition.name).toBe(name);
      expect(definition.source.length).toBeGreaterThan(10);
      expect(definition.license.length).toBeGreaterThan(3);
    }
    expect(getDataset("nyu-depth-v2").task).toBe("depth");
    expect(getDataset("tiny-imagenet").splits).toContain("val");
  });

  it("rejects unknown names and splits a dataset does not have", async () => {
    expect(() => getDataset("imagenet-21k")).toThrowError(
      expect.objectContaining({ code: "UNKNOWN_DATASET", message: expect.stringContaining("cifar100") }),
    );
    await expect(openDataset("cifar10", { root: "/tmp", split: "val" })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringContaining("train, test, all"),
    });
  });

  it("opens a registered custom dataset by name", async () => {
    registerDataset<OpenDatasetOptions & { seed?: number }, ClassificationDataset>({
      name: "my-source",
      task: "classification",
      format: "procedural",
      source: "generated in the test",
      license: "none",
      splits: ["train"],
      open: async (options) =>
        openSyntheticDataset("synthetic-source", { trainSize: 10, seed: options.seed ?? 0 }),
    });
    const options: OpenDatasetOptions & { seed: number } = { seed: 3 };
    const data = await openDataset("my-source", options);
    expect(data.size).toBe(10);
    expect(() => registerDataset({ ...getDataset("my-source"), name: "" })).toThrowError(/non-empty/);
  });
});
