import { describe, expect, it } from "vitest";
import { hostIsLittleEndian, swapByteOrderInPlace } from "./byte-order";

describe("byte order", () => {
  it("detects the host order the same way DataView sees it", () => {
    const probe = new Uint32Array([0x01020304]);
    expect(new DataView(probe.buffer).getUint32(0, true) === 0x01020304).toBe(hostIsLittleEndian);
  });

  it("reverses each element in place and leaves single bytes alone", () => {
    const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    swapByteOrderInPlace(bytes, 2);
    expect(Array.from(bytes)).toEqual([2, 1, 4, 3, 6, 5, 8, 7]);
    swapByteOrderInPlace(bytes, 2);
    swapByteOrderInPlace(bytes, 8);
    expect(Array.from(bytes)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    swapByteOrderInPlace(bytes, 1);
    expect(Array.from(bytes)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    const halves = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    swapByteOrderInPlace(halves, 4);
    expect(new DataView(halves.buffer).getUint32(0, false)).toBe(0x04030201);
  });
});
