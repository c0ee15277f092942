import { describe, expect, it } from "vitest";
import { openDataset } from "../registry/registry";
import {
  openSyntheticDepthDataset,
  renderDepthScene,
  SYNTHETIC_DEPTH_RANGE,
  sampleDepthScene,
} from "./depth-scene";
import { SYNTHETIC_DOMAINS } from "./domains";
import { renderSyntheticImage } from "./render";
import { openSyntheticDataset, SYNTHETIC_SUITES, syntheticClassName } from "./synthetic-dataset";

const mean = (bytes: Uint8Array) => bytes.reduce((sum, v) => sum + v, 0) / bytes.length;

describe("synthetic classification suites", () => {
  it("are deterministic by seed across two independent opens and differ across seeds", () => {
    const a = openSyntheticDataset("synthetic-source", { seed: 7 });
    const b = openSyntheticDataset("synthetic-source", { seed: 7 });
    const c = openSyntheticDataset("synthetic-source", { seed: 8 });
    for (const i of [0, 1, 49, 5000, 9999]) {
      expect(a.get(i).image).toEqual(b.get(i).image);
      expect(a.get(i).image).not.toEqual(c.get(i).image);
    }
    // Random access does not depend on the order of calls.
    const late = a.get(1234).image;
    a.get(3);
    expect(b.get(1234).image).toEqual(late);
  });

  it("has balanced labels, disjoint source/target classes and the documented sizes", async () => {
    const pretrain = await openDataset("synthetic-pretrain", {});
    const source = await openDataset("synthetic-source", { split: "test" });
    const target = await openDataset("synthetic-target", { split: "all" });
    expect([pretrain.size, source.size, target.size]).toEqual([50_000, 2_000, 12_000]);
    expect(pretrain.classes).toHaveLength(100);
    expect(source.classes).toHaveLength(50);
    expect(target.classes).toHaveLength(50);
    const sourceSet = new Set(source.classes);
    expect(target.classes.filter((name) => sourceSet.has(name))).toEqual([]);
    expect(new Set([...source.classes, ...target.classes])).toEqual(new Set(pretrain.classes));
    expect(syntheticClassName(SYNTHETIC_SUITES["synthetic-target"].classIds[0]!)).toBe("circle/hstripes");
    const histogram = new Array<number>(50).fill(0);
    for (let i = 0; i < source.size; i++) histogram[source.label(i)]! += 1;
    expect(histogram).toEqual(new Array<number>(50).fill(40));
    expect(source.get(123).label).toBe(123 % 50);
    expect(source.get(0).image).toHaveLength(32 * 32 * 3);
  });

  it("renders the domain shift: source backgrounds are dark, target backgrounds bright", () => {
    const source = openSyntheticDataset("synthetic-source", { trainSize: 200 });
    const target = openSyntheticDataset("synthetic-target", { trainSize: 200 });
    const corner = (image: Uint8Array) => (image[0]! + image[1]! + image[2]!) / 3;
    let sourceCorner = 0;
    let targetCorner = 0;
    for (let i = 0; i < 200; i++) {
      sourceCorner += corner(source.get(i).image) / 200;
      targetCorner += corner(target.get(i).image) / 200;
    }
    expect(sourceCorner).toBeLessThan(80);
    expect(targetCorner).toBeGreaterThan(160);
  });

  it("draws the shape: the centre differs from the border and the texture varies inside", () => {
    const image = renderSyntheticImage({
      shape: 1,
      texture: 4,
      style: SYNTHETIC_DOMAINS.source,
      seed: 3,
      size: 64,
    });
    const at = (x: number, y: number) =>
      image[(y * 64 + x) * 3]! + image[(y * 64 + x) * 3 + 1]! + image[(y * 64 + x) * 3 + 2]!;
    expect(Math.abs(at(32, 32) - at(1, 1))).toBeGreaterThan(60);
    const inside = new Set<number>();
    for (let y = 24; y < 40; y++) for (let x = 24; x < 40; x++) inside.add(Math.round(at(x, y) / 60));
    expect(inside.size).toBeGreaterThan(1);
    const solid = renderSyntheticImage({
      shape: 1,
      texture: 0,
      style: SYNTHETIC_DOMAINS.source,
      seed: 3,
      size: 64,
    });
    expect(mean(solid)).not.toBe(mean(image));
  });

  it("rejects bad options", () => {
    expect(() => openSyntheticDataset("synthetic-source", { imageSize: 3 })).toThrowError(/imageSize/);
    expect(() => openSyntheticDataset("synthetic-source", { split: "val" })).toThrowError(/split/);
    expect(() => openSyntheticDataset("synthetic-source").get(10_000)).toThrowError(/out of range/);
  });
});

describe("synthetic depth suite", () => {
  it("gives the exact depth of a wall, a floor and a sphere", () => {
    const height = 30;
    const width = 40;
    const focal = 0.9;
    const f = focal * Math.max(width, height);
    const wallOnly = renderDepthScene(
      {
        focal,
        planes: [{ normal: [0, 0, -1], offset: -5, color: [0.5, 0.5, 0.5], checker: 0 }],
        boxes: [],
        spheres: [],
        light: [0, 1, 1],
      },
      height,
      width,
    );
    expect(wallOnly.depth.every((d) => d === 5)).toBe(true);
    const scene = {
      focal,
      planes: [
        { normal: [0, 1, 0] as const, offset: -1.25, color: [0.5, 0.5, 0.5] as const, checker: 0 },
        { normal: [0, 0, -1] as const, offset: -9, color: [0.5, 0.5, 0.5] as const, checker: 0 },
      ],
      boxes: [{ min: [1.1, -1.25, 3] as const, max: [1.6, 0, 4] as const, color: [1, 0, 0] as const }],
      spheres: [{ center: [0, 0, 4] as const, radius: 1, color: [0, 1, 0] as const }],
      light: [0, 1, 1] as const,
    };
    const { depth, image } = renderDepthScene(scene, height, width);
    // Bottom row: floor y = -1.25 hit at z = 1.25 f / (row + 0.5 - H/2).
    const row = height - 1;
    expect(depth[row * width]).toBeCloseTo((1.25 * f) / (row + 0.5 - height / 2), 5);
    // Centre pixel: the sphere, solving |t·d - c|² = r² with d = (dx, dy, 1).
    const cx = 20;
    const cy = 15;
    const dx = (cx + 0.5 - width / 2) / f;
    const dy = -(cy + 0.5 - height / 2) / f;
    const dd = dx * dx + dy * dy + 1;
    const t = (4 - Math.sqrt(16 - dd * 15)) / dd;
    expect(depth[cy * width + cx]).toBeCloseTo(t, 5);
    // A pixel whose ray meets the box front face z = 3 near (1.35, -0.6, 3).
    const bx = Math.floor(width / 2 + (1.35 / 3) * f);
    const by = Math.floor(height / 2 + (0.6 / 3) * f);
    expect(depth[by * width + bx]).toBeCloseTo(3, 6);
    expect(image[(by * width + bx) * 3]).toBeGreaterThan(image[(by * width + bx) * 3 + 1]!);
  });

  it("samples scenes whose every pixel lies in 0.5–10 m, deterministically", () => {
    const a = openSyntheticDepthDataset({ seed: 1, trainSize: 40 });
    const b = openSyntheticDepthDataset({ seed: 1, trainSize: 40 });
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    for (let i = 0; i < 40; i++) {
      const sample = a.get(i);
      expect(sample.depth).toEqual(b.get(i).depth);
      expect(sample.image).toEqual(b.get(i).image);
      for (const d of sample.depth) {
        min = Math.min(min, d);
        max = Math.max(max, d);
      }
    }
    expect(min).toBeGreaterThanOrEqual(SYNTHETIC_DEPTH_RANGE[0]);
    expect(max).toBeLessThanOrEqual(SYNTHETIC_DEPTH_RANGE[1]);
    expect(max - min).toBeGreaterThan(3);
    expect(a.depthShape).toEqual([48, 64]);
    expect(sampleDepthScene(5)).toEqual(sampleDepthScene(5));
    // Also for a tall image (the focal length follows the longer side).
    const tall = openSyntheticDepthDataset({ seed: 2, height: 40, width: 10, trainSize: 30 });
    for (let i = 0; i < 30; i++) {
      for (const d of tall.get(i).depth) {
        expect(d).toBeGreaterThanOrEqual(SYNTHETIC_DEPTH_RANGE[0]);
        expect(d).toBeLessThanOrEqual(SYNTHETIC_DEPTH_RANGE[1]);
      }
    }
    expect(openSyntheticDepthDataset({ split: "all" }).size).toBe(2400);
  });
});
