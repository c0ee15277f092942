import { checkIndex } from "../errors";
import type { ClassificationDataset, ImageShape, LabeledImage, Split } from "../types";

/** @internal Options of {@link createArrayDataset}. */
export interface ArrayDatasetOptions {
  name: string;
  split: Split;
  classes: readonly string[];
  imageShape: ImageShape;
  /** `size` images, each `h·w·c` bytes in HWC order, back to back. */
  images: Uint8Array;
  labels: ArrayLike<number>;
}

/** @internal A classification dataset over images already decoded into one HWC byte array. */
export function createArrayDataset(options: ArrayDatasetOptions): ClassificationDataset {
  const [h, w, c] = options.imageShape;
  const stride = h * w * c;
  const size = options.labels.length;
  const { images, labels, name } = options;
  return {
    task: "classification",
    name,
    split: options.split,
    size,
    imageShape: options.imageShape,
    classes: options.classes,
    get(index: number): LabeledImage {
      checkIndex(index, size, name);
      return { image: images.slice(index * stride, (index + 1) * stride), label: labels[index]! };
    },
    label(index: number): number {
      checkIndex(index, size, name);
      return labels[index]!;
    },
  };
}

/** @internal Concatenates byte arrays. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
