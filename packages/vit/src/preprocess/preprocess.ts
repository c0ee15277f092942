import { KoraError } from "@kora/spec";
import * as tf from "@tensorflow/tfjs";
import type { ViTConfig } from "../config/vit-config";
import type { VitErrorCode } from "../errors";
import type { ImageFormat } from "../model/vit";

/** Options of {@link preprocessImages}. */
export interface PreprocessOptions {
  /** Layout of the input batch. Required: a `[B, 3, 32, 32]` batch is never guessed to be NCHW. */
  format: ImageFormat;
  /** Layout of the result. Default: the same as `format`. */
  outputFormat?: ImageFormat;
  /** Factor applied before normalising (`1/255` for 0–255 pixels, the default; `1` for inputs already in [0, 1]). */
  rescale?: number;
  /** Side to resize to (bilinear). Default: the config's `imageSize`; no resize when the batch already has it. */
  imageSize?: number;
}

/**
 * Hugging Face `ViTImageProcessor`'s steps on a batch: resize to `imageSize`² (bilinear, half-pixel centres as
 * PyTorch's `F.interpolate(mode="bilinear", align_corners=False)`; no antialiasing, unlike PIL, so a strong
 * downscale differs from HF's processor), rescale, then normalise `(x − mean) / std` per channel with the config's
 * `imageMean` / `imageStd`. Returns a float32 batch ready for {@link ViT.forward}.
 *
 * @throws KoraError `SHAPE_MISMATCH` when the batch is not rank 4 or its channels differ from the config's.
 */
export function preprocessImages(
  images: tf.Tensor4D,
  config: Pick<ViTConfig, "imageSize" | "imageMean" | "imageStd">,
  options: PreprocessOptions,
): tf.Tensor4D {
  if (images.rank !== 4) {
    throw new KoraError<VitErrorCode>({
      code: "SHAPE_MISMATCH",
      message: `images must be a rank-4 ${options.format} batch, got shape [${images.shape.join(", ")}]`,
    });
  }
  const channels = config.imageMean.length;
  const inChannels = options.format === "NCHW" ? images.shape[1] : images.shape[3];
  if (inChannels !== channels || config.imageStd.length !== channels) {
    throw new KoraError<VitErrorCode>({
      code: "SHAPE_MISMATCH",
      message: `images (${options.format}) have ${inChannels} channels, the config's mean/std have ${channels}`,
    });
  }
  const size = options.imageSize ?? config.imageSize;
  const rescale = options.rescale ?? 1 / 255;
  return tf.tidy(() => {
    let x = tf.cast(
      options.format === "NCHW" ? tf.transpose(images, [0, 2, 3, 1]) : images,
      "float32",
    ) as tf.Tensor4D;
    if (x.shape[1] !== size || x.shape[2] !== size) x = tf.image.resizeBilinear(x, [size, size], false, true);
    const mean = tf.tensor1d(config.imageMean);
    const std = tf.tensor1d(config.imageStd);
    const normalised = tf.div(tf.sub(tf.mul(x, rescale), mean), std) as tf.Tensor4D;
    return (options.outputFormat ?? options.format) === "NCHW"
      ? tf.transpose(normalised, [0, 3, 1, 2])
      : normalised;
  });
}
