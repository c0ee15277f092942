import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KoraError } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { applyLoraToLayersModel, registerAdapterLayers } from "../adapters/layers/index";
import { nodeFileSystem } from "./layers-model-folder";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

const folders: string[] = [];
afterEach(async () => {
  for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
});
async function tempFolder(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), "kora-layers-model-"));
  folders.push(folder);
  return folder;
}

/** Two dense layers named as the README's pattern expects (`block_0_query`, `block_0_value`) and a classifier. */
function smallModel(seed: number): tf.LayersModel {
  const init = (n: number) => tf.initializers.glorotUniform({ seed: seed * 10 + n });
  const input = tf.input({ shape: [6] });
  const q = tf.layers.dense({
    units: 5,
    name: "block_0_query",
    kernelInitializer: init(1),
    biasInitializer: "ones",
  });
  const v = tf.layers.dense({
    units: 5,
    name: "block_0_value",
    activation: "relu",
    kernelInitializer: init(2),
  });
  const head = tf.layers.dense({ units: 3, name: "classifier", kernelInitializer: init(3) });
  const output = head.apply(v.apply(q.apply(input))) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output });
}

function codeOf(error: unknown): string {
  return KoraError.isInstance(error) ? error.code : String(error);
}

describe("nodeFileSystem", () => {
  it("round-trips a LayersModel: save → load gives the same predictions, bit for bit", async () => {
    const dir = await tempFolder();
    const model = smallModel(1);
    const x = tf.randomNormal([4, 6], 0, 1, "float32", 7);
    const before = await (model.predict(x) as tf.Tensor).data();
    await model.save(nodeFileSystem(join(dir, "m")));
    const loaded = await tf.loadLayersModel(nodeFileSystem(join(dir, "m")));
    expect(Array.from(await (loaded.predict(x) as tf.Tensor).data())).toEqual(Array.from(before));
    // Also through the model.json path, as tfjs-node's `file://…/model.json`.
    const again = await tf.loadLayersModel(nodeFileSystem(join(dir, "m", "model.json")));
    expect(again.layers.map((layer) => layer.name)).toEqual(model.layers.map((layer) => layer.name));
  });

  it("writes tfjs's file:// layout: model.json (tfjs-node's key order, paths [weights.bin]) + weights.bin", async () => {
    const dir = await tempFolder();
    const model = smallModel(2);
    model.compile({ optimizer: tf.train.sgd(0.1), loss: "meanSquaredError" });
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
      }),
    );
    if (artifacts === undefined) throw new Error("nothing saved");
    await model.save(nodeFileSystem(dir));

    expect((await readdir(dir)).sort()).toEqual(["model.json", "weights.bin"]);
    // What tfjs-node 4.22's NodeFileSystem.save writes: JSON.stringify of these keys, in this order.
    const expected = JSON.stringify({
      modelTopology: artifacts.modelTopology,
      format: artifacts.format,
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy,
      weightsManifest: [{ paths: ["weights.bin"], weights: artifacts.weightSpecs }],
      trainingConfig: artifacts.trainingConfig,
    });
    expect(await readFile(join(dir, "model.json"), "utf8")).toBe(expected);
    const json = JSON.parse(expected) as tf.io.ModelJSON;
    expect(json.format).toBe("layers-model");
    expect(json.weightsManifest[0]?.weights.map((w) => w.name)).toEqual(
      model.weights.map((w) => w.originalName),
    );

    // weights.bin: every weight's float32 values back to back, in manifest order.
    const values = model.getWeights().flatMap((w) => Array.from(w.dataSync()));
    const bytes = await readFile(join(dir, "weights.bin"));
    expect(bytes.byteLength).toBe(values.length * 4);
    expect(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, values.length))).toEqual(values);
  });

  it("loads sharded folders as tensorflowjs_converter writes them (one group, two files)", async () => {
    const dir = await tempFolder();
    const model = smallModel(3);
    await model.save(nodeFileSystem(dir));
    const bytes = await readFile(join(dir, "weights.bin"));
    const json = JSON.parse(await readFile(join(dir, "model.json"), "utf8")) as tf.io.ModelJSON;
    const cut = 40; // inside the first kernel: shards split raw bytes, not tensors
    await writeFile(join(dir, "group1-shard1of2.bin"), bytes.subarray(0, cut));
    await writeFile(join(dir, "group1-shard2of2.bin"), bytes.subarray(cut));
    await rm(join(dir, "weights.bin"));
    const group = json.weightsManifest[0];
    if (group === undefined) throw new Error("no weight group");
    group.paths = ["group1-shard1of2.bin", "group1-shard2of2.bin"];
    await writeFile(join(dir, "model.json"), JSON.stringify(json));
    const x = tf.randomNormal([2, 6], 0, 1, "float32", 3);
    const loaded = await tf.loadLayersModel(nodeFileSystem(dir));
    expect(Array.from(await (loaded.predict(x) as tf.Tensor).data())).toEqual(
      Array.from(await (model.predict(x) as tf.Tensor).data()),
    );
  });

  it("round-trips a LoRA-adapted model (registerAdapterLayers in a fresh program)", async () => {
    const dir = await tempFolder();
    const lora = await applyLoraToLayersModel(smallModel(4), {
      layers: "block_\\d+_(query|value)",
      rank: 2,
      trainableLayers: "classifier",
    });
    // Move B away from zero so the adapter changes the output and the round trip tests its weights.
    for (const layer of lora.layers) {
      const weights = layer.getWeights();
      if (weights.length > 0)
        layer.setWeights(weights.map((w, i) => tf.add(w, tf.fill(w.shape, 0.01 * (i + 1)))));
    }
    await lora.save(nodeFileSystem(dir));
    registerAdapterLayers();
    const loaded = await tf.loadLayersModel(nodeFileSystem(dir));
    const x = tf.randomNormal([3, 6], 0, 1, "float32", 5);
    expect(Array.from(await (loaded.predict(x) as tf.Tensor).data())).toEqual(
      Array.from(await (lora.predict(x) as tf.Tensor).data()),
    );
    expect(loaded.layers.map((layer) => layer.getClassName())).toEqual(
      lora.layers.map((l) => l.getClassName()),
    );
  });

  it("names the missing or damaged file: FILE_NOT_FOUND, INVALID_MODEL_FILE", async () => {
    const dir = await tempFolder();
    await expect(tf.loadLayersModel(nodeFileSystem(dir))).rejects.toSatisfy(
      (e) => codeOf(e) === "FILE_NOT_FOUND" && (e as Error).message.includes(join(dir, "model.json")),
    );
    await smallModel(5).save(nodeFileSystem(dir));
    const size = (await readFile(join(dir, "weights.bin"))).byteLength;
    await truncate(join(dir, "weights.bin"), size - 4);
    await expect(tf.loadLayersModel(nodeFileSystem(dir))).rejects.toSatisfy(
      (e) =>
        codeOf(e) === "INVALID_MODEL_FILE" &&
        (e as Error).message.includes(`${size} bytes of weights, the file holds ${size - 4}`),
    );
    await rm(join(dir, "weights.bin"));
    await expect(tf.loadLayersModel(nodeFileSystem(dir))).rejects.toSatisfy(
      (e) => codeOf(e) === "FILE_NOT_FOUND" && (e as Error).message.includes(join(dir, "weights.bin")),
    );
    await writeFile(join(dir, "model.json"), "{ not json");
    await expect(tf.loadLayersModel(nodeFileSystem(dir))).rejects.toSatisfy(
      (e) => codeOf(e) === "INVALID_MODEL_FILE" && (e as Error).message.includes("not valid JSON"),
    );
    await expect(smallModel(6).save(nodeFileSystem(join(dir, "model.json")))).rejects.toSatisfy(
      (e) => codeOf(e) === "INVALID_ARGUMENT",
    );
  });
});
