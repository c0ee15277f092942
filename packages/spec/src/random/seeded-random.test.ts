import { describe, expect, it } from "vitest";
import { KoraError } from "../errors";
import { hashSeed, SeededRandom } from "./seeded-random";

describe("SeededRandom", () => {
  it("same seed gives the same stream, another seed a different one", () => {
    const a = new SeededRandom(7);
    const b = new SeededRandom(7);
    const c = new SeededRandom(8);
    const sa = Array.from({ length: 20 }, () => a.nextUint32());
    expect(Array.from({ length: 20 }, () => b.nextUint32())).toEqual(sa);
    expect(Array.from({ length: 20 }, () => c.nextUint32())).not.toEqual(sa);
    expect(new SeededRandom("run-a").next()).not.toBe(new SeededRandom("run-b").next());
  });

  it("state round-trips through JSON and continues the stream exactly", () => {
    const a = new SeededRandom(123);
    for (let i = 0; i < 17; i++) a.normal();
    const state = JSON.parse(JSON.stringify(a.getState()));
    const rest = Array.from({ length: 10 }, () => a.next());
    const b = SeededRandom.fromState(state);
    expect(Array.from({ length: 10 }, () => b.next())).toEqual(rest);
  });

  it("rejects a malformed state with INVALID_ARGUMENT", () => {
    const error = (() => {
      try {
        SeededRandom.fromState({
          algorithm: "sfc32",
          words: [1, 2, 3] as unknown as [number, number, number, number],
        });
      } catch (e) {
        return e;
      }
    })();
    expect(KoraError.isInstance(error) && error.code).toBe("INVALID_ARGUMENT");
  });

  it("permutation is a permutation; uniform and normal have the expected moments", () => {
    const random = new SeededRandom(1);
    const p = random.permutation(1000);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect([...p.subarray(0, 10)]).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    let sum = 0;
    let sumSq = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const x = random.normal();
      sum += x;
      sumSq += x * x;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.03);
    expect(Math.abs(sumSq / n - 1)).toBeLessThan(0.05);
    let u = 0;
    for (let i = 0; i < n; i++) u += random.uniform(2, 4);
    expect(Math.abs(u / n - 3)).toBeLessThan(0.02);
  });

  it("hashSeed separates parts and large seeds", () => {
    expect(hashSeed(1, "epoch", 2)).not.toBe(hashSeed(1, "epoch", 3));
    expect(hashSeed(2 ** 32 + 1)).not.toBe(hashSeed(1));
    expect(hashSeed("ab", "c")).not.toBe(hashSeed("a", "bc"));
  });
});
