import { countParameters, KoraError, parseAdapterSpec } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { maxAbsDiff } from "../test-support/helpers";
import {
  applyKoraToLayersModel,
  applyLoraToLayersModel,
  type KoraLayersOptions,
  KoraValueDense,
  LoraDense,
} from "./index";

const T = 4;
const D = 8;

beforeAll(async () => {
  await tf.setBackend("cpu");
});

/** A user's own functional attention model: embed → q/k/v → softmax(q·kᵀ)·v → flatten → classifier. */
function attentionModel(seed: number): tf.LayersModel {
  const init = (n: number) => tf.initializers.glorotUniform({ seed: seed * 10 + n });
  const input = tf.input({ shape: [T, D] });
  const embed = tf.layers.dense({ units: D, name: "embed", kernelInitializer: init(0) }).apply(input);
  const dense = (name: string, n: number) =>
    tf.layers
      .dense({
        units: D,
        name,
        kernelInitializer: init(n),
        biasInitializer: tf.initializers.randomNormal({ stddev: 0.1, seed: n }),
      })
      .apply(embed) as tf.SymbolicTensor;
  const q = dense("block_query", 1);
  const k = dense("block_key", 2);
  const v = dense("block_value", 3);
  const scores = tf.layers.dot({ axes: [2, 2] }).apply([q, k]) as tf.SymbolicTensor;
  const probabilities = tf.layers.softmax({ axis: -1 }).apply(scores) as tf.SymbolicTensor;
  const context = tf.layers.dot({ axes: [2, 1] }).apply([probabilities, v]) as tf.SymbolicTensor;
  const flat = tf.layers.flatten().apply(context) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: 3, name: "classifier", kernelInitializer: init(4) }).apply(flat);
  return tf.model({ inputs: input, outputs: logits as tf.SymbolicTensor });
}

async function roundTrip(
  model: tf.LayersModel,
): Promise<{ loaded: tf.LayersModel; artifacts: tf.io.ModelArtifacts }> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
  if (artifacts === undefined) throw new Error("nothing saved");
  return { loaded: await tf.loadLayersModel(tf.io.fromMemory(artifacts)), artifacts };
}

function randomizeTrainable(model: tf.LayersModel, seed: number): void {
  for (const layer of model.layers) {
    if (!(layer instanceof LoraDense || layer instanceof KoraValueDense)) continue;
    const values = layer.getWeights();
    const trainable = new Set(layer.trainableWeights.map((w) => w.name));
    layer.setWeights(
      layer.weights.map((w, i) =>
        trainable.has(w.name)
          ? tf.randomNormal(w.shape as number[], 0, 0.3, "float32", seed + i)
          : (values[i] as tf.Tensor),
      ),
    );
  }
}

const x = () => tf.randomNormal([6, T, D], 0, 1, "float32", 99);
const y = () => tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2], "int32"), 3);

describe("LoRA on a user's LayersModel", () => {
  it("wraps Dense layers by name pattern, freezes the rest, trains, and round-trips model.save / tf.loadLayersModel", async () => {
    const base = attentionModel(1);
    const inputs = x();
    const labels = y();
    const reference = base.predict(inputs) as tf.Tensor;
    const rank = 2;
    const model = await applyLoraToLayersModel(base, {
      layers: "block_(query|value)",
      rank,
      alpha: 4,
      trainableLayers: /^classifier$/,
    });
    expect(model.getLayer("block_query")).toBeInstanceOf(LoraDense);
    expect(model.getLayer("block_value")).toBeInstanceOf(LoraDense);
    expect(model.getLayer("block_key").getClassName()).toBe("Dense");
    const atInit = model.predict(inputs) as tf.Tensor;
    expect(maxAbsDiff(atInit, reference)).toBeLessThan(1e-6);
    const trainable = model.trainableWeights.map((w) => w.originalName).sort();
    expect(trainable).toEqual(
      [
        "block_query/lora_A",
        "block_query/lora_B",
        "block_value/lora_A",
        "block_value/lora_B",
        "classifier/kernel",
        "classifier/bias",
      ].sort(),
    );
    const count = model.trainableWeights.reduce(
      (s, w) => s + (w.shape as number[]).reduce((a, b) => a * b, 1),
      0,
    );
    expect(count).toBe(2 * rank * (D + D) + T * D * 3 + 3);

    const weight = (layer: string, name: string) => {
      const found = model.getLayer(layer).weights.find((w) => w.originalName.endsWith(`/${name}`));
      if (found === undefined) throw new Error(`${layer}/${name} missing`);
      return found.read().clone();
    };
    const frozen = weight("block_query", "kernel");
    expect(maxAbsDiff(frozen, base.getLayer("block_query").getWeights()[0] as tf.Tensor)).toBe(0);
    const embed = weight("embed", "kernel");
    model.compile({
      optimizer: tf.train.adam(0.02),
      loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.losses.softmaxCrossEntropy(yTrue, yPred),
    });
    const history = await model.fit(inputs, labels, { epochs: 8, batchSize: 6, verbose: 0 });
    const losses = history.history["loss"] as number[];
    expect(losses.at(-1)).toBeLessThan(losses[0] as number);
    expect(maxAbsDiff(weight("block_query", "kernel"), frozen)).toBe(0);
    expect(maxAbsDiff(weight("embed", "kernel"), embed)).toBe(0);
    expect(maxAbsDiff(weight("block_query", "lora_B"), tf.zeros([rank, D]))).toBeGreaterThan(0);

    const trained = model.predict(inputs) as tf.Tensor;
    const { loaded, artifacts } = await roundTrip(model);
    expect(JSON.stringify(artifacts.modelTopology)).toContain('"class_name":"KoraLoraDense"');
    expect(loaded.getLayer("block_value")).toBeInstanceOf(LoraDense);
    expect(loaded.getLayer("block_value").getConfig()).toMatchObject({
      rank: 2,
      alpha: 4,
      rslora: false,
      init: "kaiming",
    });
    const reloaded = loaded.predict(inputs) as tf.Tensor;
    expect(maxAbsDiff(reloaded, trained)).toBe(0);
    expect(loaded.trainableWeights.length).toBe(6);
    expect(maxAbsDiff(base.predict(inputs) as tf.Tensor, reference)).toBe(0); // the original is untouched
  });

  it("says which Dense layers exist when the pattern matches none", async () => {
    await expect(applyLoraToLayersModel(attentionModel(2), { layers: "attn_q" })).rejects.toThrow(
      /no Dense layer matches attn_q \(Dense layers: embed, block_query, block_key, block_value, classifier\)/,
    );
  });
});

describe("KoRA on a user's LayersModel (query/key/value triplet)", () => {
  const triplet = { query: "block_query", key: "block_key", value: "block_value" };

  it("starts equal to the base model, counts as @kora/spec, learns, and round-trips through tf.loadLayersModel", async () => {
    const base = attentionModel(3);
    const inputs = x();
    const labels = y();
    const reference = base.predict(inputs) as tf.Tensor;
    const model = await applyKoraToLayersModel(base, {
      ...triplet,
      rank: 2,
      composition: { hidden: 3 },
      gate: { per: "channel" },
    });
    const layer = model.getLayer("block_value");
    expect(layer).toBeInstanceOf(KoraValueDense);
    expect(maxAbsDiff(model.predict(inputs) as tf.Tensor, reference)).toBeLessThan(1e-6);
    const spec = parseAdapterSpec({
      method: "kora",
      rank: 2,
      composition: { hidden: 3 },
      gate: { per: "channel" },
    });
    const perBlock = countParameters(spec, {
      dim: D,
      depth: 1,
      heads: 1,
      mlpDim: 1,
      numClasses: 0,
      patchSize: 1,
      imageSize: 1,
      channels: 1,
    }).perLayer[0];
    const size = (ws: tf.LayerVariable[]) =>
      ws.reduce((s, w) => s + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
    expect(size(model.trainableWeights)).toBe(perBlock);
    expect(layer.trainableWeights.map((w) => w.name.split("/").pop())).toContain("composition.fc1.weight");

    const optimizer = tf.train.adam(1e-2);
    const weights = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const before = weights.map((w) => w.clone());
    for (let i = 0; i < 2; i++) {
      optimizer.minimize(
        () => tf.losses.softmaxCrossEntropy(labels, model.predict(inputs) as tf.Tensor) as tf.Scalar,
        false,
        weights,
      );
    }
    for (const [i, w] of weights.entries())
      expect(maxAbsDiff(w, before[i] as tf.Tensor), w.name).toBeGreaterThan(0);

    randomizeTrainable(model, 7);
    const adapted = model.predict(inputs) as tf.Tensor;
    expect(maxAbsDiff(adapted, reference)).toBeGreaterThan(1e-3);
    const { loaded } = await roundTrip(model);
    expect(loaded.getLayer("block_value")).toBeInstanceOf(KoraValueDense);
    expect(maxAbsDiff(loaded.predict(inputs) as tf.Tensor, adapted)).toBe(0);
  });

  it("rejects apply qkv, layers that are not Dense, and q/k/v reading different inputs", async () => {
    const base = attentionModel(4);
    const error = await applyKoraToLayersModel(base, { ...triplet, apply: "qkv" }).catch((e: unknown) => e);
    expect(KoraError.isInstance(error) && error.code).toBe("INVALID_ARGUMENT");
    expect((error as Error).message).toMatch(/apply: "qkv" is not supported/);
    await expect(applyKoraToLayersModel(base, { ...triplet, key: "nope" })).rejects.toThrow(
      /key layer "nope" is not a Dense layer/,
    );
    await expect(applyKoraToLayersModel(base, { ...triplet, key: "embed" })).rejects.toThrow(
      /must read the same input/,
    );
  });

  it('rejects apply "composed-qkv" and a learnable basis with INVALID_ARGUMENT naming the field', async () => {
    const base = attentionModel(4);
    const fieldOf = async (options: Partial<KoraLayersOptions>) => {
      const error = await applyKoraToLayersModel(base, { ...triplet, ...options }).catch((e: unknown) => e);
      expect(KoraError.isInstance(error) && error.code).toBe("INVALID_ARGUMENT");
      return (error as KoraError).path;
    };
    expect(await fieldOf({ apply: "composed-qkv" })).toBe("apply");
    expect(await fieldOf({ composition: { basis: { kind: "rbf", grid: 4, range: [-1, 1] } } })).toBe(
      "composition.basis",
    );
  });
});
