import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KoraError } from "../errors";
import { readAdapterDir, readPeftDir, writeAdapterDir, writePeftDir } from "../node";
import { adapterTensorLayout, shapeSize } from "../params/adapter-tensor-layout";
import type { BackboneShape } from "../params/backbone-shape";
import { float32ToFloat16Bits, readSafetensors, writeSafetensors } from "../safetensors";
import { parseAdapterSpec } from "../spec/parse-adapter-spec";
import type { AdapterSpec, LoraSpec } from "../spec/types";
import { type AdapterTensor, decodeAdapter, encodeAdapter } from "./adapter-file";
import { ADAPTER_FORMAT_VERSION } from "./manifest";

const micro: BackboneShape = {
  dim: 48,
  depth: 3,
  heads: 3,
  mlpDim: 192,
  numClasses: 10,
  patchSize: 8,
  imageSize: 32,
  channels: 3,
};

function tensorsFor(spec: AdapterSpec, backbone = micro, includeHead = true): Record<string, AdapterTensor> {
  let state = 7;
  const out: Record<string, AdapterTensor> = {};
  for (const t of adapterTensorLayout(spec, backbone, { includeHead })) {
    const data = new Float32Array(shapeSize(t.shape));
    for (let i = 0; i < data.length; i++) {
      state = (state * 1103515245 + 12345) % 2147483648;
      data[i] = state / 2147483648 - 0.5;
    }
    out[t.name] = { shape: t.shape, data };
  }
  return out;
}

function codeOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    if (KoraError.isInstance(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error("expected a KoraError");
}

const SPECS = [
  parseAdapterSpec({ method: "lora", targets: ["query", "value", "fc2"] }),
  parseAdapterSpec({ method: "kora", composition: { kind: "attention" }, gate: { per: "channel" } }),
  parseAdapterSpec({ method: "adapter-fusion", fusion: { variant: "dynamic" }, layers: [2] }),
];

describe("adapter file format", () => {
  it.each(SPECS)("round-trips a $method adapter exactly (manifest, names, shapes, values)", (spec) => {
    const tensors = tensorsFor(spec);
    const encoded = encodeAdapter({ spec, backbone: micro, tensors, name: "src", metadata: { seed: "3" } });
    expect(encoded.manifest).toMatchObject({
      format: "kora-adapter",
      formatVersion: ADAPTER_FORMAT_VERSION,
      library: { name: "@kora/spec" },
      name: "src",
      includesHead: true,
      metadata: { seed: "3" },
    });
    const decoded = decodeAdapter({
      manifest: encoded.manifestJson,
      safetensors: encoded.safetensors,
      backbone: micro,
    });
    expect(decoded.manifest.spec).toEqual(spec);
    expect(Object.keys(decoded.tensors).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, tensor] of Object.entries(tensors)) {
      expect(decoded.tensors[name]?.shape).toEqual(tensor.shape);
      expect(decoded.tensors[name]?.data).toEqual(tensor.data);
    }
    // Encoding what was decoded gives the same bytes.
    const again = encodeAdapter({
      spec: decoded.manifest.spec,
      backbone: micro,
      tensors: decoded.tensors,
      name: "src",
      metadata: { seed: "3" },
    });
    expect(again.safetensors).toEqual(encoded.safetensors);
    expect(again.manifestJson).toBe(encoded.manifestJson);
  });

  it("a different backbone is a SHAPE_MISMATCH naming both shapes", () => {
    const spec = SPECS[0] as AdapterSpec;
    const encoded = encodeAdapter({ spec, backbone: micro, tensors: tensorsFor(spec) });
    const error = codeOf(() =>
      decodeAdapter({
        manifest: encoded.manifestJson,
        safetensors: encoded.safetensors,
        backbone: { ...micro, dim: 96, mlpDim: 384 },
      }),
    );
    expect(error.code).toBe("SHAPE_MISMATCH");
    expect(error.message).toContain("dim 48");
    expect(error.message).toContain("dim 96");
    expect(error.message).toMatch(/dim, mlpDim differ/);
  });

  it("a tensor of the wrong shape is a SHAPE_MISMATCH naming the tensor and both shapes", () => {
    const spec = SPECS[0] as LoraSpec;
    const tensors = tensorsFor(spec);
    tensors["layers.1.query.lora_A"] = { shape: [4, 96], data: new Float32Array(384) };
    const error = codeOf(() => encodeAdapter({ spec, backbone: micro, tensors }));
    expect(error.code).toBe("SHAPE_MISMATCH");
    expect(error.message).toMatch(
      /layers\.1\.query\.lora_A has shape \[4, 96\] but the spec and backbone need \[8, 48\]/,
    );
  });

  it("missing and unexpected tensors are named", () => {
    const spec = SPECS[0] as LoraSpec;
    const missing = tensorsFor(spec);
    delete missing["layers.2.fc2.lora_B"];
    expect(codeOf(() => encodeAdapter({ spec, backbone: micro, tensors: missing })).message).toMatch(
      /missing tensor layers\.2\.fc2\.lora_B \(expected shape \[48, 8\]\)/,
    );
    const extra = {
      ...tensorsFor(spec),
      "layers.0.key.lora_A": { shape: [8, 48], data: new Float32Array(384) },
    };
    expect(codeOf(() => encodeAdapter({ spec, backbone: micro, tensors: extra })).message).toMatch(
      /unexpected tensor layers\.0\.key\.lora_A/,
    );
  });

  it("rejects a bad manifest: invalid JSON, wrong format, newer version, invalid spec", () => {
    const spec = SPECS[1] as AdapterSpec;
    const { manifest, safetensors } = encodeAdapter({ spec, backbone: micro, tensors: tensorsFor(spec) });
    expect(codeOf(() => decodeAdapter({ manifest: "{", safetensors })).code).toBe("INVALID_ADAPTER_FILE");
    expect(
      codeOf(() => decodeAdapter({ manifest: { ...manifest, format: "lora" }, safetensors })).message,
    ).toMatch(/field format/);
    const newer = codeOf(() => decodeAdapter({ manifest: { ...manifest, formatVersion: 99 }, safetensors }));
    expect(newer.message).toMatch(/format version 99 was written by a newer library/);
    const badSpec = codeOf(() =>
      decodeAdapter({
        manifest: { ...manifest, spec: { ...spec, rank: -1 } },
        safetensors,
        source: "runs/a",
      }),
    );
    expect(badSpec.code).toBe("INVALID_SPEC");
    expect(badSpec.message).toMatch(/runs\/a\/adapter\.json: adapter spec field rank/);
  });

  it("reports corrupt tensor bytes as INVALID_SAFETENSORS naming the file", () => {
    const spec = SPECS[0] as AdapterSpec;
    const { manifestJson, safetensors } = encodeAdapter({ spec, backbone: micro, tensors: tensorsFor(spec) });
    const error = codeOf(() =>
      decodeAdapter({ manifest: manifestJson, safetensors: safetensors.subarray(0, 100), source: "dir" }),
    );
    expect(error.code).toBe("INVALID_SAFETENSORS");
    expect(error.message).toMatch(/^dir\/adapter\.safetensors: /);
  });

  it("accepts F16 tensors written by other tools and converts them to float32", () => {
    const spec = parseAdapterSpec({ method: "lora", rank: 1, targets: ["query"], layers: [0] });
    const tensors = tensorsFor(spec, micro, false);
    const { manifestJson } = encodeAdapter({ spec, backbone: micro, tensors });
    const half: Record<string, { dtype: "F16"; shape: number[]; data: Uint16Array }> = {};
    for (const [name, t] of Object.entries(tensors)) {
      half[name] = { dtype: "F16", shape: t.shape, data: Uint16Array.from(t.data, float32ToFloat16Bits) };
    }
    const decoded = decodeAdapter({ manifest: manifestJson, safetensors: writeSafetensors(half) });
    const original = tensors["layers.0.query.lora_A"]?.data as Float32Array;
    const restored = decoded.tensors["layers.0.query.lora_A"]?.data as Float32Array;
    for (let i = 0; i < original.length; i++) expect(restored[i]).toBeCloseTo(original[i] as number, 3);
  });
});

describe("adapter folders on disk (@kora/spec/node)", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "kora-spec-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes and reads an adapter folder, leaving no temporary files", async () => {
    const spec = SPECS[1] as AdapterSpec;
    const tensors = tensorsFor(spec);
    await writeAdapterDir(join(dir, "run"), { spec, backbone: micro, tensors });
    expect((await readdir(join(dir, "run"))).sort()).toEqual(["adapter.json", "adapter.safetensors"]);
    const loaded = await readAdapterDir(join(dir, "run"), { backbone: micro });
    expect(loaded.tensors["layers.0.kora.gate"]?.data).toEqual(tensors["layers.0.kora.gate"]?.data);
  });

  it("a rejected write loses nothing: the previous adapter stays byte-identical", async () => {
    const spec = SPECS[0] as AdapterSpec;
    await writeAdapterDir(dir, { spec, backbone: micro, tensors: tensorsFor(spec) });
    const before = await readFile(join(dir, "adapter.safetensors"));
    const bad = tensorsFor(spec);
    bad["layers.0.query.lora_B"] = { shape: [48, 9], data: new Float32Array(432) };
    await expect(writeAdapterDir(dir, { spec, backbone: micro, tensors: bad })).rejects.toMatchObject({
      code: "SHAPE_MISMATCH",
    });
    expect(await readFile(join(dir, "adapter.safetensors"))).toEqual(before);
    expect((await readdir(dir)).sort()).toEqual(["adapter.json", "adapter.safetensors"]);
  });

  it("a missing folder is FILE_NOT_FOUND naming the path", async () => {
    await expect(readAdapterDir(join(dir, "nope"))).rejects.toMatchObject({
      code: "FILE_NOT_FOUND",
      message: expect.stringContaining("nope/adapter.json"),
    });
  });

  it("writes a peft folder that reads back as the same LoRA adapter", async () => {
    const spec = parseAdapterSpec({
      method: "lora",
      rank: 2,
      targets: ["query", "key", "value"],
    }) as LoraSpec;
    const tensors = tensorsFor(spec);
    await writePeftDir(dir, { spec, backbone: micro, tensors, baseModel: "local/vit-micro" });
    const config = JSON.parse(await readFile(join(dir, "adapter_config.json"), "utf8"));
    expect(config.target_modules).toEqual(["query", "key", "value"]);
    const names = Object.keys(
      readSafetensors(new Uint8Array(await readFile(join(dir, "adapter_model.safetensors")))).tensors,
    );
    expect(names).toContain("base_model.model.vit.encoder.layer.2.attention.attention.key.lora_B.weight");
    expect(names).toContain("base_model.model.classifier.weight");
    const loaded = await readPeftDir(dir, micro);
    expect(loaded.spec).toEqual(spec);
    expect(loaded.tensors["layers.2.key.lora_B"]?.data).toEqual(tensors["layers.2.key.lora_B"]?.data);
  });
});
