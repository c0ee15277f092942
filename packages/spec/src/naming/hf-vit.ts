import type { TargetModule } from "../spec/types";

const SUFFIX: Record<TargetModule, string> = {
  query: "attention.attention.query",
  key: "attention.attention.key",
  value: "attention.attention.value",
  output: "attention.output.dense",
  fc1: "intermediate.dense",
  fc2: "output.dense",
};

/** Options of {@link hfModulePath}. */
export interface HfModulePathOptions {
  /** Prefix of the encoder; `"vit."` inside `ViTForImageClassification` (default), `""` for a bare `ViTModel`. */
  prefix?: string;
}

/**
 * The Hugging Face `transformers` module path of a target projection, e.g.
 * `hfModulePath(3, "fc1")` → `"vit.encoder.layer.3.intermediate.dense"`.
 */
export function hfModulePath(layer: number, target: TargetModule, options: HfModulePathOptions = {}): string {
  return `${options.prefix ?? "vit."}encoder.layer.${layer}.${SUFFIX[target]}`;
}

/** The module path of `target` relative to its block (`"attention.attention.query"`, `"output.dense"`, ...). */
export function hfBlockModuleSuffix(target: TargetModule): string {
  return SUFFIX[target];
}

const PATH_PATTERN = /^(?:.*\.)?encoder\.layer\.(\d+)\.(.+)$/;

/**
 * Inverse of {@link hfModulePath}: `"vit.encoder.layer.3.intermediate.dense"` → `{ layer: 3, target: "fc1" }`;
 * `null` for a path that is not a target projection.
 */
export function parseHfModulePath(path: string): { layer: number; target: TargetModule } | null {
  const match = PATH_PATTERN.exec(path);
  if (match === null) return null;
  const rest = match[2] as string;
  // Longest suffix first: "attention.output.dense" must not be read as fc2's "output.dense".
  for (const target of ["query", "key", "value", "output", "fc1", "fc2"] as const) {
    if (rest === SUFFIX[target]) return { layer: Number(match[1]), target };
  }
  return null;
}
