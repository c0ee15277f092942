import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import type { AdapterSpec } from "@kora/spec";
import { resolveSpec } from "../adapter-flags";
import { parseAdapterSpecWithHints } from "../adapter-spec-input";
import { UsageError } from "../support/errors";
import type { TrainInputs } from "./experiment";
import { checkPreset } from "./model";
import { absoluteBackbone, type BackboneReference } from "./run-file";

/** The backbone a new run names: a preset with its seed, or a checkpoint's weights and config. */
export function backboneReference(inputs: TrainInputs, seed: number): BackboneReference {
  if (inputs.backbone !== undefined) {
    if (inputs.weights !== undefined) throw new UsageError("give --backbone or --weights, not both");
    checkPreset(inputs.backbone);
    // The preset's own seed is the run's seed + 1, as run folders have always recorded it: the same flags keep
    // building the same backbone.
    return { preset: inputs.backbone, seed: seed + 1 };
  }
  if (inputs.weights !== undefined) {
    let config = inputs.config;
    if (config === undefined) {
      const folder = existsSync(inputs.weights) && statSync(inputs.weights).isDirectory();
      config = join(folder ? inputs.weights : dirname(inputs.weights), "config.json");
    }
    const weights =
      existsSync(inputs.weights) && statSync(inputs.weights).isDirectory()
        ? join(inputs.weights, "model.safetensors")
        : inputs.weights;
    return absoluteBackbone({ weights, config });
  }
  throw new UsageError(
    "give the backbone: --backbone vit-micro|vit-tiny|… or --weights FILE [--config FILE]",
  );
}

/** The adapter spec of an experiment's inline `adapter`, of `--spec FILE`, or of `--method` and its flags. */
export async function adapterSpec(inputs: TrainInputs): Promise<AdapterSpec> {
  if (inputs.adapter !== undefined) return parseAdapterSpecWithHints(inputs.adapter, "experiment adapter");
  return (await resolveSpec(inputs)).spec;
}
