import { describe, expect, it } from "vitest";
import { decodeAdapter, encodeAdapter } from "../adapter-file";
import { KoraError } from "../errors";
import { adapterTensorLayout, shapeSize } from "../params/adapter-tensor-layout";
import type { BackboneShape } from "../params/backbone-shape";
import { countParameters } from "../params/count-parameters";
import { defaultAdapterSpec, parseAdapterSpec } from "../spec/parse-adapter-spec";
import {
  ADAPTER_METHOD_REGISTRY,
  ADAPTER_METHODS,
  isAdapterMethod,
  type MethodRegistry,
  methodDefinition,
} from "./registry";

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

// Every registered method is checked by the same invariants, so a new method that lacks a schema, a layout or
// consistent counts fails here without anyone writing a test for it first.
describe.each(ADAPTER_METHODS)("registered method %s", (method) => {
  const definition = ADAPTER_METHOD_REGISTRY[method];

  it("is keyed by its own discriminator and has a title, summary and label", () => {
    expect(definition.method).toBe(method);
    expect(definition.title.length).toBeGreaterThan(0);
    expect(definition.summary.length).toBeGreaterThan(0);
    const spec = defaultAdapterSpec(method);
    expect(methodDefinition(spec).label(spec)).toMatch(/^[a-z0-9][a-z0-9.-]*$/);
    expect(methodDefinition(spec).describe(spec)).toContain(method);
  });

  it("parses its defaults to a complete spec that parses to itself", () => {
    const spec = defaultAdapterSpec(method);
    expect(spec.method).toBe(method);
    expect(parseAdapterSpec(JSON.parse(JSON.stringify(spec)))).toEqual(spec);
  });

  it("rejects an unknown field with INVALID_SPEC naming it", () => {
    let error: unknown;
    try {
      parseAdapterSpec({ method, notAField: 1 });
    } catch (caught) {
      error = caught;
    }
    expect(KoraError.isInstance(error) && error.code).toBe("INVALID_SPEC");
    expect((error as KoraError).path).toBe("notAField");
  });

  it("lays out unique, block-prefixed tensors whose sizes sum to countParameters", () => {
    const spec = defaultAdapterSpec(method);
    const layout = adapterTensorLayout(spec, micro, { includeHead: false });
    expect(layout.length).toBeGreaterThan(0);
    expect(new Set(layout.map((t) => t.name)).size).toBe(layout.length);
    const perLayer = new Array<number>(micro.depth).fill(0);
    for (const tensor of layout) {
      expect(tensor.layer).not.toBeNull();
      expect(tensor.name.startsWith(`layers.${tensor.layer}.`)).toBe(true);
      expect(tensor.shape.every((d) => Number.isInteger(d) && d > 0)).toBe(true);
      perLayer[tensor.layer as number] = (perLayer[tensor.layer as number] ?? 0) + shapeSize(tensor.shape);
    }
    const count = countParameters(spec, micro);
    expect(count.adapter).toBe(layout.reduce((sum, t) => sum + shapeSize(t.shape), 0));
    expect(count.perLayer).toEqual(perLayer);
    expect(count.total).toBe(count.backbone + count.adapter + count.head);
    // Every block gets the same adapter by default.
    expect(new Set(perLayer).size).toBe(1);
  });

  it("adapts only the blocks in layers", () => {
    const spec = parseAdapterSpec({ method, layers: [1] });
    const layout = adapterTensorLayout(spec, micro, { includeHead: false });
    expect(new Set(layout.map((t) => t.layer))).toEqual(new Set([1]));
    expect(countParameters(spec, micro).adapter * micro.depth).toBe(
      countParameters(defaultAdapterSpec(method), micro).adapter,
    );
  });

  it("round-trips through the adapter file format", () => {
    const spec = defaultAdapterSpec(method);
    const tensors = Object.fromEntries(
      adapterTensorLayout(spec, micro).map((t, i) => [
        t.name,
        { shape: t.shape, data: new Float32Array(shapeSize(t.shape)).fill(i / 7) },
      ]),
    );
    const decoded = decodeAdapter(encodeAdapter({ spec, backbone: micro, tensors }));
    expect(decoded.manifest.spec).toEqual(spec);
    expect(Object.keys(decoded.tensors).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, tensor] of Object.entries(tensors)) {
      expect(decoded.tensors[name]?.data).toEqual(tensor.data);
    }
  });
});

describe("ADAPTER_METHODS", () => {
  it("lists the registry's keys, and isAdapterMethod accepts exactly those", () => {
    expect(ADAPTER_METHODS).toEqual(Object.keys(ADAPTER_METHOD_REGISTRY));
    for (const method of ADAPTER_METHODS) expect(isAdapterMethod(method)).toBe(true);
    for (const other of ["dora", "LoRA", "", "toString", "__proto__", 3, null]) {
      expect(isAdapterMethod(other)).toBe(false);
    }
  });
});

describe("MethodRegistry", () => {
  it("is exhaustive at compile time: a table without every method does not type-check", () => {
    const { kora: _dropped, ...partial } = ADAPTER_METHOD_REGISTRY;
    // @ts-expect-error: "kora" is missing, so this is not a MethodRegistry (tsc fails if this ever compiles).
    const incomplete: MethodRegistry = partial;
    expect(Object.keys(incomplete)).not.toContain("kora");
  });
});
