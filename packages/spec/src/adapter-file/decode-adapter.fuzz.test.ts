// Property-based fuzzing of the adapter-file readers (issue 17): decodeAdapter on mutated manifests, mutated
// tensor files and mismatched pairs, and readAdapterDir on such folders, return or throw a declared KoraError
// code within a per-input bound.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  describeBytes,
  expectTypedOrSuccess,
  expectTypedOrSuccessAsync,
  fuzzRuns,
  fuzzSeed,
  fuzzTimeoutMs,
  hostileBytes,
  type Json,
  mutatedJsonText,
  type Outcome,
} from "../../../../scripts/fuzz";
import { readAdapterDir } from "../node";
import { adapterTensorLayout, shapeSize } from "../params/adapter-tensor-layout";
import type { BackboneShape } from "../params/backbone-shape";
import { parseAdapterSpec } from "../spec/parse-adapter-spec";
import { type AdapterTensor, decodeAdapter, type EncodedAdapter, encodeAdapter } from "./adapter-file";

const backbone: BackboneShape = {
  dim: 8,
  depth: 2,
  heads: 2,
  mlpDim: 16,
  numClasses: 3,
  patchSize: 4,
  imageSize: 8,
  channels: 3,
};

function encoded(input: unknown, includeHead: boolean): EncodedAdapter {
  const spec = parseAdapterSpec(input);
  const tensors: Record<string, AdapterTensor> = {};
  for (const t of adapterTensorLayout(spec, backbone, { includeHead })) {
    tensors[t.name] = { shape: t.shape, data: new Float32Array(shapeSize(t.shape)).fill(0.125) };
  }
  return encodeAdapter({ spec, backbone, tensors, includeHead, metadata: { seed: "1" } });
}

const PAIRS = [
  encoded({ method: "lora", rank: 2, layers: [1] }, true),
  encoded({ method: "kora", rank: 1, composition: { hidden: 2 } }, false),
  encoded({ method: "gated-bottleneck", hidden: 2 }, true),
  encoded({ method: "adapter-fusion", reduction: 4, layers: [0] }, false),
];
const encoder = new TextEncoder();
const MANIFESTS = PAIRS.map((p) => encoder.encode(p.manifestJson));
const TENSOR_FILES = PAIRS.map((p) => p.safetensors);

const DOCUMENTS = PAIRS.map((p) => JSON.parse(p.manifestJson) as Json);
const jsonEdited = mutatedJsonText(DOCUMENTS).map((text) => encoder.encode(text));

/**
 * A manifest and a tensor file: the manifest edited as JSON (values, keys, nesting) or as bytes, the tensor file
 * mutated, both, or a valid pair from two different adapters.
 */
const hostilePair = fc.oneof(
  fc.tuple(jsonEdited, fc.constantFrom(...TENSOR_FILES)),
  fc.tuple(hostileBytes(MANIFESTS), fc.constantFrom(...TENSOR_FILES)),
  fc.tuple(fc.constantFrom(...MANIFESTS), hostileBytes(TENSOR_FILES)),
  fc.tuple(hostileBytes(MANIFESTS), hostileBytes(TENSOR_FILES)),
  fc.tuple(fc.constantFrom(...MANIFESTS), fc.constantFrom(...TENSOR_FILES)),
);

const CODES = [
  "INVALID_ADAPTER_FILE",
  "INVALID_SPEC",
  "INVALID_SAFETENSORS",
  "INVALID_ARGUMENT",
  "SHAPE_MISMATCH",
];
const MAX_MS = 2_000;
const RUNS = fuzzRuns(400);
// File I/O makes each folder input ~10x dearer than a decode: a tenth as many.
const DIR_RUNS = Math.ceil(fuzzRuns(600) / 10);
const decoder = new TextDecoder();

describe("decodeAdapter fuzz", () => {
  it(
    `returns or throws a declared code on ${RUNS} mutated adapters`,
    () => {
      const outcomes = new Map<Outcome, number>();
      fc.assert(
        fc.property(hostilePair, fc.boolean(), ([manifest, safetensors], withBackbone) => {
          const outcome = expectTypedOrSuccess(
            () =>
              decodeAdapter({
                manifest: decoder.decode(manifest),
                safetensors,
                ...(withBackbone ? { backbone } : {}),
              }),
            {
              codes: CODES,
              maxMs: MAX_MS,
              describe: () =>
                `manifest ${decoder.decode(manifest).slice(0, 400)} tensors ${describeBytes(safetensors)}`,
            },
          );
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        }),
        { seed: fuzzSeed(17_0003), numRuns: RUNS },
      );
      expect(outcomes.get("ok") ?? 0).toBeGreaterThan(0);
      expect(outcomes.size).toBeGreaterThanOrEqual(4);
    },
    fuzzTimeoutMs(RUNS, MAX_MS),
  );
});

describe("readAdapterDir fuzz", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "kora-adapter-fuzz-"));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it(
    `returns or throws a declared code on ${DIR_RUNS} mutated adapter folders`,
    async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(hostilePair, async ([manifest, safetensors]) => {
          const dir = join(root, String(run++));
          await rm(dir, { recursive: true, force: true });
          await import("node:fs/promises").then((fs) => fs.mkdir(dir));
          await writeFile(join(dir, "adapter.json"), manifest);
          await writeFile(join(dir, "adapter.safetensors"), safetensors);
          await expectTypedOrSuccessAsync(() => readAdapterDir(dir), {
            codes: [...CODES, "FILE_NOT_FOUND", "IO_ERROR"],
            maxMs: MAX_MS,
            describe: () => `in ${dir}`,
          });
          await rm(dir, { recursive: true, force: true });
        }),
        { seed: fuzzSeed(17_0004), numRuns: DIR_RUNS },
      );
    },
    fuzzTimeoutMs(DIR_RUNS, MAX_MS),
  );
});
