import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Matrix } from "@kora/metrics";
import { afterAll, describe, expect, it } from "vitest";
import { loadClaims } from "../claims";
import { resolvePreset } from "../config/presets";
import type { Experiment } from "../config/schema";
import { featuresProblem, readFeatures, writeFeatures } from "../tasks/features-file";
import { buildReport } from "./build";
import { crossModelCka } from "./cross-cka";
import { fakeResult, syntheticExperiments } from "./test-results";

const out = mkdtempSync(join(tmpdir(), "kora-cross-cka-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const preset = resolvePreset("smoke");
const e43 = Object.values(syntheticExperiments()).find((e) => e.id === "4.3") as Experiment;

function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
}

/** Two blocks of 40 × 6 seeded features. */
function features(seed: number): Matrix[] {
  const next = random(seed);
  return [0, 1].map(() => ({ rows: 40, cols: 6, data: Float32Array.from({ length: 240 }, next) }));
}

/** The same features rotated in the plane of their first two columns and scaled: CKA cannot tell them apart. */
function rotated(blocks: Matrix[]): Matrix[] {
  const [c, s] = [Math.cos(0.7), Math.sin(0.7)];
  return blocks.map((m) => {
    const data = Float32Array.from(m.data, (v) => 3 * v);
    for (let r = 0; r < m.rows; r++) {
      const [x, y] = [m.data[r * m.cols] as number, m.data[r * m.cols + 1] as number];
      data[r * m.cols] = 3 * (c * x - s * y);
      data[r * m.cols + 1] = 3 * (s * x + c * y);
    }
    return { ...m, data };
  });
}

describe("features files", () => {
  it("round-trip per-block features through a float32 .npy file", () => {
    const path = join(out, "round-trip.npy");
    const written = features(1);
    writeFeatures(path, written);
    const read = readFeatures(path);
    expect(read?.map((m) => [m.rows, m.cols])).toEqual([
      [40, 6],
      [40, 6],
    ]);
    expect(Array.from(read?.[1]?.data ?? [])).toEqual(Array.from(written[1]?.data ?? []));
    expect(readFeatures(join(out, "missing.npy"))).toBeNull();
  });
});

describe("crossModelCka", () => {
  it("compares every pair of models and the backbone: 1 for a rotated copy, lower for unrelated features", () => {
    const backbone = features(10);
    const files = (label: string, seed: number, blocks: Matrix[]) => {
      const dir = join(out, label, String(seed));
      mkdirSync(dir, { recursive: true });
      writeFeatures(join(dir, "mean.npy"), blocks);
      writeFeatures(join(dir, "cls.npy"), blocks);
      writeFeatures(join(out, "backbone-mean.npy"), backbone);
      writeFeatures(join(out, "backbone-cls.npy"), backbone);
      return {
        mean: join(label, String(seed), "mean.npy"),
        cls: join(label, String(seed), "cls.npy"),
        backboneMean: "backbone-mean.npy",
        backboneCls: "backbone-cls.npy",
      };
    };
    // KoRA's features are the backbone's, rotated and scaled; LoRA's are unrelated.
    const list = [0, 1].flatMap((seed) => [
      fakeResult(
        preset,
        e43,
        "kora-dcomp4",
        seed,
        { distantCka: 0.5 },
        { features: files("kora", seed, rotated(backbone)) },
      ),
      fakeResult(
        preset,
        e43,
        "lora-r8",
        seed,
        { distantCka: 0.5 },
        { features: files("lora", seed, features(20 + seed)) },
      ),
    ]);
    const model = buildReport(preset, [e43], [0, 1], new Map(list.map((r) => [r.key, r])), loadClaims(), []);
    const cross = crossModelCka(model.tables[0]!, out);
    expect(cross?.models).toEqual(["frozen backbone", "KoRA", "LoRA"]);
    expect(cross?.seeds).toBe(2);
    expect(cross?.examples).toBe(40);
    expect(cross?.pairs.map((p) => `${p.a}|${p.b}`)).toEqual([
      "frozen backbone|KoRA",
      "frozen backbone|LoRA",
      "KoRA|LoRA",
    ]);
    const [same, , unrelated] = cross!.pairs;
    for (const value of Object.values(same!.sameBlock)) expect(value).toBeCloseTo(1, 5);
    expect(same!.matrix[0]![0]).toBeCloseTo(1, 5);
    expect(unrelated!.sameBlock.linear).toBeLessThan(0.6);
    // The debiased estimate removes most of the chance agreement of independent features.
    expect(unrelated!.sameBlock.debiased).toBeLessThan(unrelated!.sameBlock.linear);
  });

  it("is null when fewer than two models saved features", () => {
    const list = [fakeResult(preset, e43, "kora-dcomp4", 0, { distantCka: 0.5 })];
    const model = buildReport(preset, [e43], [0], new Map(list.map((r) => [r.key, r])), loadClaims(), []);
    expect(crossModelCka(model.tables[0]!, out)).toBeNull();
  });

  it("leaves out a seed whose features file is torn, empty or a folder, saying which, and never throws", () => {
    const dir = join(out, "damaged-case");
    const backbone = features(10);
    const files = (label: string, seed: number, blocks: Matrix[]) => {
      const base = join("damaged-case", label, String(seed));
      mkdirSync(join(out, base), { recursive: true });
      writeFeatures(join(out, base, "mean.npy"), blocks);
      writeFeatures(join(out, base, "cls.npy"), blocks);
      writeFeatures(join(dir, "backbone-mean.npy"), backbone);
      writeFeatures(join(dir, "backbone-cls.npy"), backbone);
      return {
        mean: join(base, "mean.npy"),
        cls: join(base, "cls.npy"),
        backboneMean: join("damaged-case", "backbone-mean.npy"),
        backboneCls: join("damaged-case", "backbone-cls.npy"),
      };
    };
    const list = [0, 1, 2, 3].flatMap((seed) => [
      fakeResult(
        preset,
        e43,
        "kora-dcomp4",
        seed,
        { distantCka: 0.5 },
        { features: files("kora", seed, rotated(backbone)) },
      ),
      fakeResult(
        preset,
        e43,
        "lora-r8",
        seed,
        { distantCka: 0.5 },
        { features: files("lora", seed, features(20 + seed)) },
      ),
    ]);
    // Seed 1: a torn file; seed 2: an empty one; seed 3: a folder where the file should be.
    const torn = join(dir, "lora", "1", "mean.npy");
    writeFileSync(torn, readFileSync(torn).subarray(0, 100));
    writeFileSync(join(dir, "kora", "2", "cls.npy"), "");
    rmSync(join(dir, "lora", "3", "cls.npy"));
    mkdirSync(join(dir, "lora", "3", "cls.npy"));
    for (const path of [torn, join(dir, "kora", "2", "cls.npy"), join(dir, "lora", "3", "cls.npy")]) {
      expect(featuresProblem(path), path).not.toBeNull();
    }
    expect(() => readFeatures(join(dir, "lora", "3", "cls.npy"))).toThrow(
      /cannot read the features \(EISDIR\)/,
    );
    const model = buildReport(
      preset,
      [e43],
      [0, 1, 2, 3],
      new Map(list.map((r) => [r.key, r])),
      loadClaims(),
      [],
    );
    const lines: string[] = [];
    const cross = crossModelCka(model.tables[0]!, out, (line) => lines.push(line));
    expect(cross?.seeds).toBe(1);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(
      new RegExp(
        `^warning: ${torn} cannot be read \\(.*\\); the cross-model comparison leaves its seed out$`,
      ),
    );
    expect(lines[1]).toContain(join(dir, "kora", "2", "cls.npy"));
    expect(lines[2]).toContain(join(dir, "lora", "3", "cls.npy"));
  });
});
