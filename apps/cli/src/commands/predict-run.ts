import { stat } from "node:fs/promises";
import { dirname, extname, join } from "node:path";
import { disposeModel } from "@kora/finetune";
import { KoraError, readSafetensors, type SafetensorsTensor, toFloat32 } from "@kora/spec";
import { readFileBytes } from "@kora/spec/node";
import { preprocessImages, type ViT } from "@kora/vit";
import { loadViT } from "@kora/vit/node";
import * as tf from "@tensorflow/tfjs";
import type { Output } from "../output/context";
import { renderTable } from "../output/table";
import type { BackendInputs } from "../run/experiment";
import { openRunModel } from "../run/model";
import { useBackend } from "../support/backend";
import { UsageError } from "../support/errors";
import { checkReadableFile, readJson } from "../support/files";

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
  await checkReadableFile(file, "--input");
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
  const decoded = await decodeImage(bytes, file, vit.config.channels);
  const { width, height, channels } = decoded.info;
  // Straight to float32 (the values 0–255 exactly, as an int32 tensor cast to float gives): one copy of the
  // image, not three.
  const raw = tf.tensor4d(new Float32Array(decoded.data), [1, height, width, channels], "float32");
  try {
    return preprocessImages(raw, vit.config, {
      format: "NHWC",
      outputFormat: "NCHW",
    });
  } finally {
    raw.dispose();
  }
}

/**
 * The most pixels (width × height) `kora predict` decodes: 2^25, e.g. 8192 × 4096 or a 24-megapixel photo. The
 * decoded image takes about 15 bytes a pixel (sharp's 8-bit RGB plus a float32 copy for the model), so the bound
 * keeps one image under about 500 MB; a larger one is refused from its header, before any pixel is decoded (a
 * 70-byte PNG can declare 60000 × 60000).
 */
export const MAX_IMAGE_PIXELS = 8192 * 4096;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Decodes an image with sharp, after checking its declared size against {@link MAX_IMAGE_PIXELS}. Every failure,
 * sharp's own included, is `INVALID_IMAGE` naming the file.
 */
async function decodeImage(
  bytes: Uint8Array,
  file: string,
  channels: number,
): Promise<{ data: Buffer; info: { width: number; height: number; channels: number } }> {
  const invalid = (why: string, cause?: unknown) =>
    new KoraError({
      code: "INVALID_IMAGE",
      message: `--input: ${file}: ${why}`,
      ...(cause === undefined ? {} : { cause }),
    });
  const { default: sharp } = await import("sharp");
  let width: number | undefined;
  let height: number | undefined;
  try {
    // The header only (no pixel is decoded), without sharp's limit, so the message can say how large it is.
    ({ width, height } = await sharp(bytes, { limitInputPixels: false }).metadata());
  } catch (error) {
    throw invalid(`cannot decode it as an image (${messageOf(error)})`, error);
  }
  if (width !== undefined && height !== undefined && width * height > MAX_IMAGE_PIXELS) {
    throw invalid(
      `the image is ${width} × ${height} pixels; kora predict decodes at most 8192 × 4096 = ${MAX_IMAGE_PIXELS} pixels (scale it down first)`,
    );
  }
  try {
    let image = sharp(bytes, { limitInputPixels: MAX_IMAGE_PIXELS }).removeAlpha();
    image = channels === 1 ? image.greyscale().extractChannel(0) : image.toColourspace("srgb");
    return await image.raw().toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw invalid(`cannot decode it as an image (${messageOf(error)})`, error);
  }
}

/** Options of `kora predict`, as commander parses them. */
export interface PredictOptions extends BackendInputs {
  weights?: string;
  run?: string;
  config?: string;
  input: string;
  topK: number;
}

/** Runs `kora predict`. */
export async function runPredict(options: PredictOptions, output: Output): Promise<void> {
  await useBackend(options, output);
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
    disposeModel(vit);
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
