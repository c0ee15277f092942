import fc from "fast-check";
import * as fastPng from "fast-png";
import jpeg from "jpeg-js";
import { describe, expect, it } from "vitest";
import { expectTypedOrSuccess, fuzzRuns, fuzzSeed, fuzzTimeoutMs } from "../../../../scripts/fuzz";
import { pngFields } from "../test-support/format-fields";
import { describeTree, FILE_ERROR_CODES, FUZZ_MAX_MS, mutatedTree } from "../test-support/fuzz-files";
import { decodeJpegRgb } from "./jpeg";
import { decodePng, pngToRgb } from "./png";

const RUNS = fuzzRuns(400);

/** PNGs of every colour type the readers meet (gray 8/16-bit, RGB, RGBA, palette) and two JPEGs. */
function images(): Record<string, Uint8Array> {
  const w = 12;
  const h = 9;
  const ramp = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 37) % 256);
  const png = (channels: number, depth: 8 | 16) =>
    fastPng.encode({
      width: w,
      height: h,
      channels,
      depth,
      data:
        depth === 16
          ? Uint16Array.from({ length: w * h * channels }, (_, i) => i * 911)
          : ramp(w * h * channels),
    });
  const palette = fastPng.encode({
    width: w,
    height: h,
    channels: 1,
    depth: 8,
    data: Uint8Array.from({ length: w * h }, (_, i) => i % 4),
    palette: [
      [0, 0, 0],
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
    ],
  });
  const jpg = (quality: number) => jpeg.encode({ width: w, height: h, data: ramp(w * h * 4) }, quality).data;
  return {
    "gray8.png": png(1, 8),
    "gray16.png": png(1, 16),
    "rgb.png": png(3, 8),
    "rgba.png": png(4, 8),
    "palette.png": palette,
    "q90.jpg": jpg(90),
    "q30.jpg": jpg(30),
  };
}

describe("PNG and JPEG decoding fuzz (fast-png, jpeg-js behind the readers' checks)", () => {
  const tree = images();

  it(
    "decodePng returns an image or throws a declared KoraError code, quickly, for any bytes",
    () => {
      const outcomes = new Set<string>();
      const targets = Object.keys(tree).filter((name) => name.endsWith(".png"));
      const fields = Object.fromEntries(targets.map((name) => [name, pngFields(tree[name]!)]));
      fc.assert(
        fc.property(mutatedTree(tree, targets, fields), (input) => {
          outcomes.add(
            expectTypedOrSuccess(() => pngToRgb(decodePng(fastPng, input.bytes, input.target)), {
              codes: FILE_ERROR_CODES,
              maxMs: FUZZ_MAX_MS,
              describe: () => describeTree(input),
            }),
          );
        }),
        { seed: fuzzSeed(1761), numRuns: RUNS },
      );
      expect(outcomes.has("ok")).toBe(true);
      expect(outcomes.has("INVALID_DATASET_FILE")).toBe(true);
    },
    fuzzTimeoutMs(RUNS, 50),
  );

  it(
    "decodeJpegRgb returns RGB bytes or throws a declared KoraError code, quickly, for any bytes",
    () => {
      const outcomes = new Set<string>();
      fc.assert(
        fc.property(mutatedTree(tree, ["q90.jpg", "q30.jpg"]), (input) => {
          outcomes.add(
            expectTypedOrSuccess(() => decodeJpegRgb(input.bytes, input.target, 9, 12), {
              codes: FILE_ERROR_CODES,
              maxMs: FUZZ_MAX_MS,
              describe: () => describeTree(input),
            }),
          );
        }),
        { seed: fuzzSeed(1762), numRuns: RUNS },
      );
      expect(outcomes.has("ok")).toBe(true);
      expect(outcomes.has("INVALID_DATASET_FILE")).toBe(true);
    },
    fuzzTimeoutMs(RUNS, 50),
  );
});
