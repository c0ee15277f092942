import { existsSync } from "node:fs";
import { extname } from "node:path";
import type { Matrix } from "@kora/metrics";
import { KoraError, readNpy, readSafetensors, type SafetensorsTensor, toFloat32 } from "@kora/spec";
import { readFileBytes } from "@kora/spec/node";
import { UsageError } from "../support/errors";

/** One representation: rows = examples (the first dimension), columns = every other dimension flattened. */
export interface Features {
  /** Label: the tensor name, or the file name for a .npy. */
  name: string;
  matrix: Matrix;
}

/** What `--x` / `--y` name: a file, and optionally one tensor in it. */
export interface FeatureSource {
  file: string;
  tensor: string | undefined;
}

/** Splits `FILE[:TENSOR]`; a path that exists as given is a file even when it contains a colon. */
export function parseFeatureSource(value: string): FeatureSource {
  if (existsSync(value)) return { file: value, tensor: undefined };
  const colon = value.lastIndexOf(":");
  if (colon <= 0 || colon === value.length - 1) return { file: value, tensor: undefined };
  return { file: value.slice(0, colon), tensor: value.slice(colon + 1) };
}

function toMatrix(name: string, shape: readonly number[], data: Matrix["data"], where: string): Features {
  if (shape.length === 0) {
    throw new KoraError({
      code: "SHAPE_MISMATCH",
      message: `${where}: ${name} is a scalar; features need a first dimension of examples`,
    });
  }
  const rows = shape[0]!;
  const cols = shape.slice(1).reduce((a, b) => a * b, 1);
  return { name, matrix: { rows, cols, data } };
}

function safetensorsData(tensor: SafetensorsTensor): Matrix["data"] {
  switch (tensor.dtype) {
    case "F32":
    case "F64":
      return tensor.data as Float32Array | Float64Array;
    case "F16":
    case "BF16":
      return toFloat32(tensor);
    default:
      return Float64Array.from(tensor.data as ArrayLike<number | bigint>, Number);
  }
}

/**
 * Reads the representations `--x` or `--y` names: one tensor (`FILE:TENSOR`, or a `.npy` file), or every tensor of
 * a safetensors file in natural name order (`layer.2` before `layer.10`). `single` tells which it was.
 */
export async function readFeatures(
  source: FeatureSource,
  flag: string,
): Promise<{ single: boolean; features: Features[] }> {
  const bytes = await readFileBytes(source.file, flag);
  if (extname(source.file).toLowerCase() === ".npy") {
    if (source.tensor !== undefined) {
      throw new UsageError(`${flag}: a .npy file holds one array; drop ":${source.tensor}"`);
    }
    const array = readNpy(bytes, source.file);
    return { single: true, features: [toMatrix(source.file, array.shape, array.data, source.file)] };
  }
  const { tensors } = readSafetensors(bytes);
  const names = Object.keys(tensors).sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  if (source.tensor !== undefined) {
    const tensor = tensors[source.tensor];
    if (tensor === undefined) {
      throw new KoraError({
        code: "TENSOR_NOT_FOUND",
        message: `${flag}: ${source.file} has no tensor "${source.tensor}" (it has ${names.slice(0, 8).join(", ")}${names.length > 8 ? ", …" : ""})`,
      });
    }
    return {
      single: true,
      features: [toMatrix(source.tensor, tensor.shape, safetensorsData(tensor), source.file)],
    };
  }
  if (names.length === 0) {
    throw new KoraError({ code: "INVALID_ARGUMENT", message: `${flag}: ${source.file} holds no tensors` });
  }
  return {
    single: false,
    features: names.map((name) =>
      toMatrix(name, tensors[name]!.shape, safetensorsData(tensors[name]!), source.file),
    ),
  };
}
