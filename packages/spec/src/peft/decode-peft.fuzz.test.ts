// Property-based fuzzing of the peft reader (issue 17): decodePeftAdapter on mutated configs and tensor files
// returns or throws a declared KoraError code within a per-input bound.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  describeBytes,
  expectTypedOrSuccess,
  fuzzRuns,
  fuzzSeed,
  fuzzTimeoutMs,
  hostileBytes,
  type Json,
  mutatedJsonText,
  type Outcome,
} from "../../../../scripts/fuzz";
import type { AdapterTensor } from "../adapter-file/adapter-file";
import { adapterTensorLayout, shapeSize } from "../params/adapter-tensor-layout";
import type { BackboneShape } from "../params/backbone-shape";
import { parseAdapterSpec } from "../spec/parse-adapter-spec";
import type { LoraSpec } from "../spec/types";
import { decodePeftAdapter, encodePeftAdapter } from "./peft-adapter";

const backbone: BackboneShape = {
  dim: 8,
  depth: 3,
  heads: 2,
  mlpDim: 16,
  numClasses: 3,
  patchSize: 4,
  imageSize: 8,
  channels: 3,
};

function encoded(input: unknown, includeHead: boolean) {
  const spec = parseAdapterSpec(input) as LoraSpec;
  const tensors: Record<string, AdapterTensor> = {};
  for (const t of adapterTensorLayout(spec, backbone, { includeHead })) {
    tensors[t.name] = { shape: t.shape, data: new Float32Array(shapeSize(t.shape)).fill(-0.5) };
  }
  return encodePeftAdapter({ spec, backbone, tensors, baseModel: "google/vit-base-patch16-224-in21k" });
}

const PAIRS = [
  encoded({ method: "lora", rank: 2 }, true),
  encoded({ method: "lora", rank: 1, targets: ["query", "fc2"], layers: [0, 2] }, false),
];
const CONFIGS = PAIRS.map((p) => new TextEncoder().encode(p.configJson));
const TENSOR_FILES = PAIRS.map((p) => p.safetensors);
const CODES = [
  "INVALID_ADAPTER_FILE",
  "INVALID_SPEC",
  "INVALID_SAFETENSORS",
  "INVALID_ARGUMENT",
  "SHAPE_MISMATCH",
];
const MAX_MS = 2_000;
const RUNS = fuzzRuns(300);
const decoder = new TextDecoder();

describe("decodePeftAdapter fuzz", () => {
  it(
    `returns or throws a declared code on ${RUNS} mutated peft folders`,
    () => {
      const outcomes = new Map<Outcome, number>();
      const edited = mutatedJsonText(PAIRS.map((p) => JSON.parse(p.configJson) as Json));
      const pair = fc.oneof(
        fc.tuple(
          edited.map((text) => new TextEncoder().encode(text)),
          fc.constantFrom(...TENSOR_FILES),
        ),
        fc.tuple(hostileBytes(CONFIGS), fc.constantFrom(...TENSOR_FILES)),
        fc.tuple(fc.constantFrom(...CONFIGS), hostileBytes(TENSOR_FILES)),
        fc.tuple(fc.constantFrom(...CONFIGS), fc.constantFrom(...TENSOR_FILES)),
      );
      fc.assert(
        fc.property(pair, ([config, safetensors]) => {
          const outcome = expectTypedOrSuccess(
            () => decodePeftAdapter({ config: decoder.decode(config), safetensors, backbone }),
            {
              codes: CODES,
              maxMs: MAX_MS,
              describe: () =>
                `config ${decoder.decode(config).slice(0, 600)} tensors ${describeBytes(safetensors)}`,
            },
          );
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        }),
        { seed: fuzzSeed(17_0005), numRuns: RUNS },
      );
      expect(outcomes.get("ok") ?? 0).toBeGreaterThan(0);
      expect(outcomes.size).toBeGreaterThanOrEqual(3);
    },
    fuzzTimeoutMs(RUNS, MAX_MS),
  );
});
