import { KoraError } from "../errors";
import type { SpecErrorCode } from "../errors/kora-error";

/** The shape of a pre-norm ViT (HF `ViTModel` layout, no pooler) plus its classification head. */
export interface BackboneShape {
  /** Hidden size D. */
  dim: number;
  /** Number of transformer blocks. */
  depth: number;
  /** Attention heads per block (must divide `dim`). */
  heads: number;
  /** Width of the MLP's hidden layer. */
  mlpDim: number;
  /** Classes of the linear classification head on the CLS token; 0 for no head. */
  numClasses: number;
  /** Side of a square patch in pixels. */
  patchSize: number;
  /** Side of the square input image in pixels (a multiple of `patchSize`). */
  imageSize: number;
  /** Input channels (3 for RGB). */
  channels: number;
}

const FIELDS = [
  "dim",
  "depth",
  "heads",
  "mlpDim",
  "numClasses",
  "patchSize",
  "imageSize",
  "channels",
] as const;

/**
 * Checks that `shape` is a well-formed {@link BackboneShape}.
 *
 * @throws KoraError `INVALID_ARGUMENT` naming the field when a field is missing, not an integer, not positive
 * (`numClasses` may be 0), when `heads` does not divide `dim`, or `patchSize` does not divide `imageSize`.
 */
export function validateBackboneShape(shape: unknown, label = "backbone"): asserts shape is BackboneShape {
  if (shape === null || typeof shape !== "object") {
    throw new KoraError<SpecErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `${label} must be an object with ${FIELDS.join(", ")}`,
    });
  }
  const record = shape as Record<string, unknown>;
  for (const field of FIELDS) {
    const value = record[field];
    const min = field === "numClasses" ? 0 : 1;
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
      throw new KoraError<SpecErrorCode>({
        code: "INVALID_ARGUMENT",
        message: `${label}.${field} must be an integer ≥ ${min}, got ${String(value)}`,
        path: field,
      });
    }
  }
  const { dim, heads, imageSize, patchSize } = shape as BackboneShape;
  if (dim % heads !== 0) {
    throw new KoraError<SpecErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `${label}.heads (${heads}) must divide ${label}.dim (${dim})`,
      path: "heads",
    });
  }
  if (imageSize % patchSize !== 0) {
    throw new KoraError<SpecErrorCode>({
      code: "INVALID_ARGUMENT",
      message: `${label}.patchSize (${patchSize}) must divide ${label}.imageSize (${imageSize})`,
      path: "patchSize",
    });
  }
}

/** Number of patch tokens, `(imageSize / patchSize)²` (the CLS token not included). */
export function numPatches(shape: BackboneShape): number {
  return (shape.imageSize / shape.patchSize) ** 2;
}

/** Input and output widths of a target projection in a block of `shape`. */
export function targetModuleShape(
  target: "query" | "key" | "value" | "output" | "fc1" | "fc2",
  shape: Pick<BackboneShape, "dim" | "mlpDim">,
): { in: number; out: number } {
  switch (target) {
    case "fc1":
      return { in: shape.dim, out: shape.mlpDim };
    case "fc2":
      return { in: shape.mlpDim, out: shape.dim };
    default:
      return { in: shape.dim, out: shape.dim };
  }
}

/**
 * Parameters of the backbone without its head: patch embedding (`C·P²·D + D`), CLS token (`D`), position
 * embeddings (`(N+1)·D`), per block 2 LayerNorms (`4D`), q/k/v/o (`4(D² + D)`), MLP (`2·D·M + M + D`), and the
 * final LayerNorm (`2D`). This is HF `ViTModel(add_pooling_layer=False)`, as inside `ViTForImageClassification`.
 */
export function backboneParameterCount(shape: BackboneShape): number {
  validateBackboneShape(shape);
  const { dim: d, depth, mlpDim: m, patchSize: p, channels: c } = shape;
  const embeddings = c * p * p * d + d + d + (numPatches(shape) + 1) * d;
  const block = 4 * d + 4 * (d * d + d) + (d * m + m) + (m * d + d);
  return embeddings + depth * block + 2 * d;
}

/** Parameters of the linear classification head on the CLS token: `D·K + K`. */
export function headParameterCount(shape: BackboneShape): number {
  return shape.numClasses === 0 ? 0 : shape.dim * shape.numClasses + shape.numClasses;
}
