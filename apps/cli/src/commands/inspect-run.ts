import {
  type AdapterSpec,
  type BackboneShape,
  countParameters,
  didYouMean,
  methodDefinition,
} from "@kora/spec";
import { parseCheckpointConfig, toBackboneShape, VIT_PRESETS, type ViTPresetName } from "@kora/vit";
import { asFlagError, type MethodOptions, resolveSpec } from "../adapter-flags";
import type { Output } from "../output/context";
import { formatInteger, formatPercent, renderFields, renderTable } from "../output/table";
import { UsageError } from "../support/errors";
import { readJson } from "../support/files";

interface ResolvedBackbone {
  name: string;
  source: "preset" | "config" | "spec";
  shape: BackboneShape;
}

const PRESET_NAMES = Object.keys(VIT_PRESETS) as ViTPresetName[];

async function resolveBackbone(
  options: InspectOptions,
  fromManifest: BackboneShape | undefined,
): Promise<ResolvedBackbone> {
  let resolved: { name: string; source: ResolvedBackbone["source"]; shape: BackboneShape; stated: boolean };
  if (options.backbone !== undefined) {
    const name = options.backbone;
    if (!Object.hasOwn(VIT_PRESETS, name)) {
      throw new UsageError(
        `--backbone: unknown preset "${name}", expected one of ${PRESET_NAMES.join(", ")}${didYouMean(name, PRESET_NAMES)}`,
      );
    }
    const shape = toBackboneShape(VIT_PRESETS[name as ViTPresetName]);
    resolved = { name, source: "preset", shape, stated: true };
  } else if (options.config !== undefined) {
    const checkpoint = parseCheckpointConfig(await readJson(options.config, "--config"));
    resolved = {
      name: options.config,
      source: "config",
      shape: toBackboneShape(checkpoint.config),
      stated: checkpoint.numClassesStated,
    };
  } else if (fromManifest !== undefined) {
    resolved = { name: options.spec!, source: "spec", shape: fromManifest, stated: true };
  } else {
    throw new UsageError(
      `give --backbone ${PRESET_NAMES.slice(0, 4).join("|")}|… or --config FILE (a config.json)`,
    );
  }
  if (options.classes !== undefined) resolved.shape = { ...resolved.shape, numClasses: options.classes };
  else if (!resolved.stated) {
    throw new UsageError(`--classes is required: ${resolved.name} does not state the number of classes`);
  }
  return { name: resolved.name, source: resolved.source, shape: resolved.shape };
}

/** One-line description of a backbone shape. */
function describeBackbone(shape: BackboneShape): string {
  return `dim ${shape.dim}, depth ${shape.depth}, heads ${shape.heads}, mlp ${shape.mlpDim}, patch ${shape.patchSize}, image ${shape.imageSize}, ${shape.channels} channels, ${shape.numClasses} classes`;
}

function describeSpec(spec: AdapterSpec): string {
  return methodDefinition(spec).describe(spec);
}

/** Options of `kora inspect`, as commander parses them. */
export interface InspectOptions extends MethodOptions {
  backbone?: string;
  config?: string;
  classes?: number;
}

/** Runs `kora inspect` (loaded on demand, so `kora --help` starts fast). */
export async function runInspect(options: InspectOptions, output: Output): Promise<void> {
  const { spec, manifestBackbone } = await resolveSpec(options);
  const backbone = await resolveBackbone(options, manifestBackbone);
  let count: ReturnType<typeof countParameters>;
  try {
    count = countParameters(spec, backbone.shape);
  } catch (error) {
    throw options.spec === undefined ? asFlagError(error) : error;
  }
  // countParameters trains the head (its default) and never the backbone here, so the rest is adapter.
  const trainableAdapter = count.trainable - count.head;
  output.result(
    () => ({
      backbone: { name: backbone.name, source: backbone.source, shape: backbone.shape },
      spec,
      parameters: { ...count, trainablePercent: count.trainableFraction * 100 },
    }),
    () => {
      const b = (t: string) => output.style("bold", t);
      const parts = renderTable(
        [
          { header: "part" },
          { header: "parameters", align: "right" },
          { header: "trainable", align: "right" },
        ],
        [
          ["backbone", formatInteger(count.backbone), "0"],
          ["adapter", formatInteger(count.adapter), formatInteger(trainableAdapter)],
          ["head", formatInteger(count.head), formatInteger(count.head)],
          ["total", formatInteger(count.total), formatInteger(count.trainable)],
        ],
        b,
      );
      const perLayer = renderTable(
        [{ header: "block" }, { header: "adapter parameters", align: "right" }],
        count.perLayer.map((n, i) => [String(i), formatInteger(n)]),
        b,
      );
      return [
        renderFields(
          [
            ["backbone", `${backbone.name} (${describeBackbone(backbone.shape)})`],
            ["adapter", describeSpec(spec)],
            [
              "trainable",
              `${formatInteger(count.trainable)} of ${formatInteger(count.total)} (${formatPercent(count.trainableFraction)})`,
            ],
          ],
          b,
        ),
        "",
        parts,
        "",
        perLayer,
      ].join("\n");
    },
  );
}
