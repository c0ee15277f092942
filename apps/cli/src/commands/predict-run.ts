import { stat } from "node:fs/promises";
import { dirname, extname, join } from "node:path";
import { KoraError, readSafetensors, type SafetensorsTensor, toFloat32 } from "@kora/spec";
import { readFileBytes } from "@kora/spec/node";
import { selectBackend } from "@kora/tfjs";
import { preprocessImages, type ViT } from "@kora/vit";
import { loadViT } from "@kora/vit/node";
import * as tf from "@tensorflow/tfjs";
import type { Output } from "../output/context";
import { renderTable } from "../output/table";
import { openRunModel } from "../run/model";
import { UsageError } from "../support/errors";
import { readJson } from "../support/files";
import type { PredictOptions } from "./predict";

/** The config.json loadViT will use: --config, else the one beside the weights (file) or inside them (folder). */
async function configPath(options: PredictOptions & { weights: string }): Promise<string> {
  if (options.config !== undefined) return options.config;
  const folder = await stat(options.weights).then(
    (s) => s.isDirectory(),
    () => false,
  );
  return join(folder ? options.weights : dirname(options.weights), "config.json");
}

/**
 * Class names from a Hugging Face config's `id2label`. TODO(@kora/vit): parseCheckpointConfig reads the class
 * count but drops the names; the CLI reads them from the JSON itself.
 */
function labelsOf(config: unknown, count: number): string[] {
  const id2label =
    config !== null && typeof config === "object" ? (config as { id2label?: unknown }).id2label : undefined;
  return Array.from({ length: count }, (_, i) => {
    const name =
      id2label !== null && typeof id2label === "object"
        ? (id2label as Record<string, unknown>)[String(i)]
        : undefined;
    return typeof name === "string" ? name : `class ${i}`;
  });
}

function pixelValues(tensor: SafetensorsTensor, file: string): tf.Tensor4D {
  if (tensor.shape.length !== 4) {
    throw new KoraError({
      code: "SHAPE_MISMATCH",
      message: `--input: ${file}: pixel_values must be [B, C, H, W], got [${tensor.shape.join(", ")}]`,
    });
  }
  const data =
    tensor.dtype === "F32"
      ? (tensor.data as Float32Array)
      : toFloat32(tensor as Parameters<typeof toFloat32>[0]);
  return tf.tensor4d(data, tensor.shape as [number, number, number, number], "float32");
}

/** Reads --input: HF pixel_values (NCHW, preprocessed) from a safetensors, or an image decoded with sharp. */
async function readInput(options: PredictOptions, vit: ViT): Promise<tf.Tensor4D> {
  const file = options.input;
  const bytes = await readFileBytes(file, "--input");
  if (extname(file).toLowerCase() === ".safetensors") {
    const { tensors } = readSafetensors(bytes);
    const tensor = tensors["pixel_values"];
    if (tensor === undefined) {
      throw new KoraError({
        code: "TENSOR_NOT_FOUND",
        message: `--input: ${file} has no "pixel_values" tensor (it has ${Object.keys(tensors).join(", ")})`,
      });
    }
    return pixelValues(tensor, file);
  }
  const { default: sharp } = await import("sharp");
  const channels = vit.config.channels;
  let image = sharp(bytes).removeAlpha();
  image = channels === 1 ? image.greyscale().extractChannel(0) : image.toColourspace("srgb");
  let decoded: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    decoded = await image.raw().toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new KoraError({
      code: "INVALID_IMAGE",
      message: `--input: cannot decode ${file} as an image (${(error as Error).message})`,
      cause: error,
    });
  }
  const { width, height } = decoded.info;
  const raw = tf.tensor4d(new Uint8Array(decoded.data), [1, height, width, decoded.info.channels], "int32");
  try {
    return preprocessImages(raw.toFloat() as tf.Tensor4D, vit.config, {
      format: "NHWC",
      outputFormat: "NCHW",
    });
  } finally {
    raw.dispose();
  }
}

/** Runs `kora predict`. */
export async function runPredict(options: PredictOptions, output: Output): Promise<void> {
  await selectBackend({
    ...(options.backend === undefined ? {} : { prefer: options.backend }),
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    // The "using the … backend" line only with --verbose: stderr stays one line on errors.
    log: (message) => {
      if (output.verbose) output.note(message);
    },
  });
  let vit: ViT;
  let labels: (count: number) => Promise<string[]>;
  if (options.run !== undefined) {
    const model = await openRunModel(options.run);
    vit = model.vit;
    const classes = model.run.dataset.classes ?? [];
    labels = async (count) => Array.from({ length: count }, (_, i) => classes[i] ?? `class ${i}`);
  } else {
    if (options.weights === undefined) throw new UsageError("give --weights FILE (or --run RUN_DIR)");
    const config = await configPath({ ...options, weights: options.weights });
    vit = await loadViT(options.weights, config);
    labels = async (count) => labelsOf(await readJson(config, "--config").catch(() => null), count);
  }
  let logits: number[][];
  try {
    const pixels = await readInput(options, vit);
    try {
      const out = vit.forward(pixels, { format: "NCHW" });
      if (out.logits === null) {
        throw new KoraError({
          code: "NO_CLASSIFIER",
          message: `${options.weights ?? options.run}: the model has no classification head`,
        });
      }
      logits = (await out.logits.array()) as number[][];
      tf.dispose([out.logits, out.lastHiddenState, out.depth ?? [], ...out.hiddenStates]);
    } finally {
      pixels.dispose();
    }
  } finally {
    vit.dispose();
  }
  const classes = logits[0]?.length ?? 0;
  const names = await labels(classes);
  output.result(
    () => ({ logits }),
    () =>
      logits
        .map((row, i) => {
          const max = Math.max(...row);
          const exp = row.map((v) => Math.exp(v - max));
          const sum = exp.reduce((a, b) => a + b, 0);
          const top = row
            .map((logit, k) => ({ k, logit, p: exp[k]! / sum }))
            .sort((a, b) => b.logit - a.logit)
            .slice(0, options.topK);
          const table = renderTable(
            [
              { header: "#" },
              { header: "class" },
              { header: "probability", align: "right" },
              { header: "logit", align: "right" },
            ],
            top.map((t, rank) => [
              String(rank + 1),
              `${names[t.k]} (${t.k})`,
              t.p.toFixed(4),
              t.logit.toFixed(4),
            ]),
            (t) => output.style("bold", t),
          );
          return `${logits.length > 1 ? `image ${i}\n` : ""}${table}`;
        })
        .join("\n\n"),
  );
}
