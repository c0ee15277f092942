import { describe, expect, it } from "vitest";
import {
  bfloat16BitsToFloat32,
  float16BitsToFloat32,
  float32ToBfloat16Bits,
  float32ToFloat16Bits,
} from "./float-conversion";

/** Float32 value of raw bits, read independently of the module under test. */
function f32FromBits(bits: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setUint32(0, bits >>> 0);
  return view.getFloat32(0);
}

function f32Bits(value: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value);
  return view.getUint32(0);
}

/** A seeded xorshift32 generator, so failures reproduce. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
}

describe("float16", () => {
  // Expected bit patterns computed with numpy: np.float32(v).astype(np.float16).view(np.uint16).
  it.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [65504, 0x7bff],
    [65519, 0x7bff],
    [65520, 0x7c00],
    [1e5, 0x7c00],
    [2 ** -24, 0x0001],
    [2 ** -25, 0x0000],
    [1.5 * 2 ** -25, 0x0001],
    [2 ** -14, 0x0400],
    [2 ** -14 - 2 ** -24, 0x03ff],
    [1 + 2 ** -11, 0x3c00],
    [1 + 3 * 2 ** -11, 0x3c02],
    [1e-10, 0x0000],
    [Number.NEGATIVE_INFINITY, 0xfc00],
    [-0, 0x8000],
    [0.1, 0x2e66],
    [Math.PI, 0x4248],
    [6.1e-5, 0x03ff],
  ])("encodes %s as %s", (value, bits) => {
    expect(float32ToFloat16Bits(value)).toBe(bits);
  });

  it.each([
    [0x0001, 2 ** -24],
    [0x03ff, 1023 * 2 ** -24],
    [0x0400, 2 ** -14],
    [0x3c00, 1],
    [0x7bff, 65504],
    [0x7c00, Number.POSITIVE_INFINITY],
    [0xfc00, Number.NEGATIVE_INFINITY],
    [0x8001, -(2 ** -24)],
    [0x3555, 0.333251953125],
  ])("decodes %s as %s", (bits, value) => {
    expect(float16BitsToFloat32(bits)).toBe(value);
  });

  it("decodes -0 and every NaN pattern", () => {
    expect(Object.is(float16BitsToFloat32(0x8000), -0)).toBe(true);
    for (const bits of [0x7c01, 0x7e00, 0x7fff, 0xfe00, 0xffff]) expect(float16BitsToFloat32(bits)).toBeNaN();
    expect(float32ToFloat16Bits(Number.NaN) & 0x7e00).toBe(0x7e00);
  });

  it("round-trips every non-NaN bit pattern exactly", () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const nanPattern = (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0;
      const back = float32ToFloat16Bits(float16BitsToFloat32(bits));
      if (nanPattern) expect(float16BitsToFloat32(back)).toBeNaN();
      else if (back !== bits) expect.fail(`0x${bits.toString(16)} came back as 0x${back.toString(16)}`);
    }
  });

  it("rounds every midpoint between neighbours to the even one, and just above it up", () => {
    for (let bits = 0; bits < 0x7bff; bits++) {
      const low = float16BitsToFloat32(bits);
      const high = float16BitsToFloat32(bits + 1);
      const mid = (low + high) / 2; // 12 significant bits: exact in float32
      const even = bits % 2 === 0 ? bits : bits + 1;
      const gotMid = float32ToFloat16Bits(mid);
      const gotAbove = float32ToFloat16Bits(f32FromBits(f32Bits(mid) + 1));
      const gotBelow = float32ToFloat16Bits(f32FromBits(f32Bits(mid) - 1));
      if (gotMid !== even || gotAbove !== bits + 1 || (mid > 0 && gotBelow !== bits)) {
        expect.fail(`between 0x${bits.toString(16)} and its successor: ${gotMid} ${gotAbove} ${gotBelow}`);
      }
      expect(float32ToFloat16Bits(-mid)).toBe(even | 0x8000);
    }
  });

  it("agrees with nearest-value search on random float32 inputs", () => {
    const finite: number[] = [];
    for (let bits = 0; bits <= 0x7bff; bits++) finite.push(float16BitsToFloat32(bits));
    const next = random(7);
    for (let n = 0; n < 20000; n++) {
      const value = Math.abs(f32FromBits(next() & 0x47ffffff)); // below 2^17 in magnitude
      if (Number.isNaN(value)) continue;
      let expected: number;
      if (value >= 65504) {
        expected = value >= 65520 ? 0x7c00 : 0x7bff;
      } else {
        // Invariant: finite[lo] <= value < finite[hi].
        let lo = 0;
        let hi = finite.length - 1;
        while (hi - lo > 1) {
          const m = (lo + hi) >> 1;
          if (finite[m]! <= value) lo = m;
          else hi = m;
        }
        const below = value - finite[lo]!;
        const above = finite[hi]! - value;
        expected = below < above ? lo : above < below ? hi : lo % 2 === 0 ? lo : hi;
      }
      if (float32ToFloat16Bits(value) !== expected)
        expect.fail(`${value}: ${float32ToFloat16Bits(value)} vs ${expected}`);
    }
  });
});

describe("bfloat16", () => {
  it("decodes bits as the top half of a float32", () => {
    expect(bfloat16BitsToFloat32(0x3f80)).toBe(1);
    expect(bfloat16BitsToFloat32(0xc049)).toBe(-3.140625);
    expect(bfloat16BitsToFloat32(0x0001)).toBe(2 ** -133); // subnormal
    expect(bfloat16BitsToFloat32(0x7f80)).toBe(Number.POSITIVE_INFINITY);
    expect(bfloat16BitsToFloat32(0xff80)).toBe(Number.NEGATIVE_INFINITY);
    expect(bfloat16BitsToFloat32(0x7fc0)).toBeNaN();
  });

  it("rounds to nearest, ties to even", () => {
    // 1 + 2^-8 is exactly halfway between 1 (0x3f80, even) and 1 + 2^-7 (0x3f81): ties go to 0x3f80.
    expect(float32ToBfloat16Bits(1 + 2 ** -8)).toBe(0x3f80);
    // Just above halfway (one float32 ulp more) rounds up.
    expect(float32ToBfloat16Bits(1 + 2 ** -8 + 2 ** -23)).toBe(0x3f81);
    // Halfway between 0x3f81 (odd) and 0x3f82: ties go up to the even 0x3f82.
    expect(float32ToBfloat16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(float32ToBfloat16Bits(-(1 + 3 * 2 ** -8 - 2 ** -22))).toBe(0xbf81);
    expect(float32ToBfloat16Bits(3.4028234663852886e38)).toBe(0x7f80); // float32 max rounds to Infinity
    expect(float32ToBfloat16Bits(-0)).toBe(0x8000);
  });

  it("keeps NaN a NaN (quiet) of the same sign", () => {
    const bits = float32ToBfloat16Bits(f32FromBits(0xff800001)); // signalling NaN, payload only in low bits
    expect(bits & 0xff80).toBe(0xff80);
    expect(bfloat16BitsToFloat32(bits)).toBeNaN();
  });

  it("round-trips every non-NaN bit pattern and rounds midpoints to even", () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const value = bfloat16BitsToFloat32(bits);
      if (Number.isNaN(value)) continue;
      if (float32ToBfloat16Bits(value) !== bits) expect.fail(`0x${bits.toString(16)}`);
      if ((bits & 0x7fff) >= 0x7f7f) continue; // no finite successor
      const mid = f32FromBits(((bits << 16) | 0x8000) >>> 0);
      const even = bits % 2 === 0 ? bits : bits + 1;
      if (float32ToBfloat16Bits(mid) !== even) expect.fail(`midpoint after 0x${bits.toString(16)}`);
    }
  });
});
