import { type AdapterSpec, type BackboneShape, countParameters, KoraError, TARGET_MODULES } from "@kora/spec";
import { parseCheckpointConfig, toBackboneShape, VIT_PRESETS, type ViTPresetName } from "@kora/vit";
import { parseAdapterSpecWithHints } from "../adapter-spec-input";
import type { Output } from "../output/context";
import { formatInteger, formatPercent, renderFields, renderTable } from "../output/table";
import { UsageError } from "../support/errors";
import { readJson } from "../support/files";
import { didYouMean } from "../support/suggest";
import type { InspectOptions } from "./inspect";

type Method = AdapterSpec["method"];

/** Method flags: the spec field each sets, and the methods it applies to. */
const METHOD_FLAGS = {
  rank: { flag: "--rank", path: "rank", methods: ["lora", "kora"] },
  alpha: { flag: "--alpha", path: "alpha", methods: ["lora", "kora"] },
  layers: { flag: "--layers", path: "layers", methods: ["lora", "kora", "adapter-fusion"] },
  targets: { flag: "--targets", path: "targets", methods: ["lora"] },
  dComp: { flag: "--d-comp", path: "composition.hidden", methods: ["kora"] },
  composition: { flag: "--composition", path: "composition.kind", methods: ["kora"] },
  gate: { flag: "--gate", path: "gate.per", methods: ["kora"] },
  adapters: { flag: "--adapters", path: "adapters", methods: ["adapter-fusion"] },
  reduction: { flag: "--reduction", path: "reduction", methods: ["adapter-fusion"] },
  fusion: { flag: "--fusion", path: "fusion.variant", methods: ["adapter-fusion"] },
} as const satisfies Record<string, { flag: string; path: string; methods: readonly Method[] }>;

type MethodFlag = keyof typeof METHOD_FLAGS;

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let current = target;
  for (const key of keys.slice(0, -1)) {
    current[key] ??= {};
    current = current[key] as Record<string, unknown>;
  }
  current[keys[keys.length - 1]!] = value;
}

/** The adapter spec input the method flags describe (validated by @kora/spec afterwards). */
function specInputFromFlags(method: Method, options: InspectOptions): Record<string, unknown> {
  const input: Record<string, unknown> = { method };
  for (const [name, { flag, path, methods }] of Object.entries(METHOD_FLAGS)) {
    let value = options[name as MethodFlag];
    if (value === undefined) continue;
    if (!(methods as readonly Method[]).includes(method)) {
      throw new UsageError(`${flag} applies to --method ${methods.join(" or ")}, not ${method}`);
    }
    if (name === "targets") {
      for (const target of value as string[]) {
        if (!(TARGET_MODULES as readonly string[]).includes(target)) {
          throw new UsageError(
            `--targets: unknown projection "${target}", expected ${TARGET_MODULES.join(", ")}${didYouMean(target, TARGET_MODULES)}`,
          );
        }
      }
    }
    if (name === "adapters") {
      value = Array.from({ length: value as number }, (_, i) => `adapter_${i}`);
    }
    setPath(input, path, value);
  }
  return input;
}

/** Turns an INVALID_SPEC error about a field that came from a flag into a usage error naming the flag. */
function asFlagError(error: unknown): unknown {
  if (!KoraError.isInstance(error) || error.code !== "INVALID_SPEC" || error.path === undefined) return error;
  const path = error.path.replace(/\[\d+\]$/, "");
  const entry = Object.values(METHOD_FLAGS).find((f) => f.path === path);
  if (entry === undefined) return error;
  return new UsageError(`${entry.flag}: ${error.message}`, { cause: error });
}

interface ResolvedBackbone {
  name: string;
  source: "preset" | "config" | "spec";
  shape: BackboneShape;
}

interface ResolvedSpec {
  spec: AdapterSpec;
  /** The backbone stored in an adapter manifest given to --spec, if any. */
  manifestBackbone: BackboneShape | undefined;
}

async function resolveSpec(options: InspectOptions): Promise<ResolvedSpec> {
  if (options.spec !== undefined) {
    const input = await readJson(options.spec, "--spec");
    // An adapter folder's adapter.json (format "kora-adapter") carries the spec and the backbone it was made for.
    if (
      input !== null &&
      typeof input === "object" &&
      (input as { format?: unknown }).format === "kora-adapter"
    ) {
      const manifest = input as { spec?: unknown; backbone?: unknown };
      return {
        spec: parseAdapterSpecWithHints(manifest.spec, `${options.spec} (spec)`),
        manifestBackbone: manifest.backbone as BackboneShape | undefined,
      };
    }
    return { spec: parseAdapterSpecWithHints(input, options.spec), manifestBackbone: undefined };
  }
  if (options.method === undefined) {
    throw new UsageError("give --method lora|kora|adapter-fusion (with its flags) or --spec FILE");
  }
  const input = specInputFromFlags(options.method, options);
  try {
    return { spec: parseAdapterSpecWithHints(input, undefined), manifestBackbone: undefined };
  } catch (error) {
    throw asFlagError(error);
  }
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
  const layers = spec.layers === null ? "all blocks" : `blocks ${spec.layers.join(",")}`;
  switch (spec.method) {
    case "lora":
      return `lora rank ${spec.rank}, alpha ${spec.alpha}, targets ${spec.targets.join(",")}, ${layers}`;
    case "kora":
      return `kora rank ${spec.rank}, alpha ${spec.alpha}, composition ${spec.composition.kind} d_comp ${spec.composition.hidden}, gate per ${spec.gate.per}, ${layers}`;
    case "adapter-fusion":
      return `adapter-fusion ${spec.adapters.length} adapters, ${spec.bottleneck === null ? `reduction ${spec.reduction}` : `bottleneck ${spec.bottleneck}`}, fusion ${spec.fusion.variant}, ${spec.training}, ${layers}`;
  }
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
