// Regressions from the issue-17 fuzz campaign against the adapter-file readers (decodeAdapter and readAdapterDir):
// each input once escaped as an untyped exception, hung, or exhausted the heap.
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { deepJson } from "../../../../scripts/fuzz";
import { KoraError } from "../errors";
import { MAX_JSON_DEPTH } from "../json";
import { ADAPTER_METHODS, methodDefinition } from "../methods/registry";
import { readAdapterDir } from "../node";
import { adapterTensorLayout, shapeSize } from "../params/adapter-tensor-layout";
import type { BackboneShape } from "../params/backbone-shape";
import { writeSafetensors } from "../safetensors";
import { defaultAdapterSpec, parseAdapterSpec } from "../spec/parse-adapter-spec";
import { type AdapterTensor, decodeAdapter, encodeAdapter } from "./adapter-file";
import { MAX_ADAPTER_MANIFEST_BYTES } from "./manifest";

const micro: BackboneShape = {
  dim: 8,
  depth: 2,
  heads: 2,
  mlpDim: 16,
  numClasses: 3,
  patchSize: 4,
  imageSize: 8,
  channels: 3,
};
const spec = parseAdapterSpec({ method: "lora", rank: 2 });
const tensors: Record<string, AdapterTensor> = {};
for (const t of adapterTensorLayout(spec, micro)) {
  tensors[t.name] = { shape: t.shape, data: new Float32Array(shapeSize(t.shape)).fill(0.25) };
}
const valid = encodeAdapter({ spec, backbone: micro, tensors });
const manifest = JSON.parse(valid.manifestJson) as Record<string, unknown>;

function withManifest(edit: (m: Record<string, unknown>) => void): string {
  const copy = JSON.parse(valid.manifestJson) as Record<string, unknown>;
  edit(copy);
  return JSON.stringify(copy);
}

function errorOf(fn: () => unknown): KoraError {
  try {
    fn();
  } catch (error) {
    if (KoraError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected a KoraError");
}

describe("decodeAdapter on hostile input (issue 17)", () => {
  it("backbone.depth 2^32 without a backbone to compare is INVALID_ADAPTER_FILE, not 'Invalid array length'", () => {
    const text = withManifest((m) => {
      (m["backbone"] as Record<string, number>)["depth"] = 2 ** 32;
    });
    const error = errorOf(() => decodeAdapter({ manifest: text, safetensors: valid.safetensors }));
    expect(error.code).toBe("INVALID_ADAPTER_FILE");
    expect(error.message).toContain("adapts 4294967296 blocks");
  });

  it("backbone.depth 1e7 without a backbone is rejected from the tensor count, without building the layout", () => {
    const text = withManifest((m) => {
      (m["backbone"] as Record<string, number>)["depth"] = 1e7;
    });
    const error = errorOf(() => decodeAdapter({ manifest: text, safetensors: valid.safetensors }));
    expect(error.code).toBe("INVALID_ADAPTER_FILE");
    expect(error.path).toBe("backbone.depth");
  });

  it("a tensor named __proto__ beside the right ones is INVALID_ADAPTER_FILE (it passed validation)", () => {
    const forged: Record<string, { dtype: "F32"; shape: number[]; data: Float32Array }> = Object.create(null);
    for (const [name, t] of Object.entries(tensors)) forged[name] = { dtype: "F32", ...t };
    const PROTO = "__proto__"; // through a variable: on a null-prototype object this is an ordinary key
    forged[PROTO] = { dtype: "F32", shape: [1], data: new Float32Array(1) };
    const error = errorOf(() => decodeAdapter({ manifest, safetensors: writeSafetensors(forged) }));
    expect(error.code).toBe("INVALID_ADAPTER_FILE");
    expect(error.path).toBe("__proto__");
  });

  it.each(["__proto__", "constructor", "prototype"])(
    "a %s key anywhere in adapter.json is rejected",
    (key) => {
      const text = valid.manifestJson.replace('"metadata": {}', `"metadata": {"${key}": "x"}`);
      expect(text).not.toBe(valid.manifestJson);
      const error = errorOf(() => decodeAdapter({ manifest: text, safetensors: valid.safetensors }));
      expect(error.code).toBe("INVALID_ADAPTER_FILE");
      expect(error.path).toBe(`metadata.${key}`);
    },
  );

  it("adapter.json nested 100 000 levels deep (inside spec) is INVALID_ADAPTER_FILE, not a stack overflow", () => {
    const text = valid.manifestJson.replace('"spec": {', `"spec": {"deep": ${deepJson(100_000, "{")},`);
    const error = errorOf(() => decodeAdapter({ manifest: text, safetensors: valid.safetensors }));
    expect(error.code).toBe("INVALID_ADAPTER_FILE");
    expect(error.message).toContain(`nested deeper than ${MAX_JSON_DEPTH}`);
  });

  it("an adapter.json longer than MAX_ADAPTER_MANIFEST_BYTES is rejected before parsing", () => {
    const text = valid.manifestJson + " ".repeat(MAX_ADAPTER_MANIFEST_BYTES);
    const error = errorOf(() => decodeAdapter({ manifest: text, safetensors: valid.safetensors }));
    expect(error.code).toBe("INVALID_ADAPTER_FILE");
    expect(error.message).toContain(`${MAX_ADAPTER_MANIFEST_BYTES}`);
  });
});

describe("the layout-size check decodeAdapter runs before building a layout", () => {
  it.each(ADAPTER_METHODS)(
    "holds for %s: every adapted block owns the same, non-zero number of tensors",
    (method) => {
      const spec = defaultAdapterSpec(method);
      const perBlock = methodDefinition(spec).layout(spec, { ...micro, depth: 1 }).length;
      expect(perBlock).toBeGreaterThan(0);
      expect(methodDefinition(spec).layout(spec, { ...micro, depth: 5 })).toHaveLength(5 * perBlock);
    },
  );

  it("still names the first missing tensor when the file is only a few tensors short", () => {
    const text = withManifest((m) => {
      (m["backbone"] as Record<string, number>)["depth"] = 3;
    });
    const error = errorOf(() => decodeAdapter({ manifest: text, safetensors: valid.safetensors }));
    expect(error.message).toContain("missing tensor layers.2.query.lora_A");
  });
});

describe("readAdapterDir on hostile files", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "kora-hostile-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("an oversized adapter.json is INVALID_ADAPTER_FILE, judged from its size", async () => {
    await writeFile(join(dir, "adapter.json"), Buffer.alloc(MAX_ADAPTER_MANIFEST_BYTES + 1, 0x20));
    await writeFile(join(dir, "adapter.safetensors"), valid.safetensors);
    await expect(readAdapterDir(dir)).rejects.toMatchObject({ code: "INVALID_ADAPTER_FILE" });
  });

  it("a folder where adapter.json should be is IO_ERROR naming the path", async () => {
    await rm(dir, { recursive: true });
    await import("node:fs/promises").then((fs) => fs.mkdir(join(dir, "adapter.json"), { recursive: true }));
    await expect(readAdapterDir(dir)).rejects.toMatchObject({ code: "IO_ERROR" });
  });

  it.skipIf(process.platform === "win32")(
    "a FIFO where adapter.safetensors should be is IO_ERROR before it is opened (reading it never returned)",
    async () => {
      await writeFile(join(dir, "adapter.json"), valid.manifestJson);
      execFileSync("mkfifo", [join(dir, "adapter.safetensors")]);
      await expect(readAdapterDir(dir)).rejects.toMatchObject({
        code: "IO_ERROR",
        message: expect.stringContaining("not a regular file"),
      });
    },
  );
});
