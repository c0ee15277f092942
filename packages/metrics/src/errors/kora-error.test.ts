import { describe, expect, it } from "vitest";
import { KoraError as SpecKoraError } from "../../../spec/src/errors/kora-error";
import { KoraError } from "./kora-error";

describe("KoraError", () => {
  it("carries code, path, name, message and cause", () => {
    const cause = new Error("inner");
    const e = new KoraError({ code: "CONSTANT_FEATURES", message: "x is constant", path: "x", cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("KoraError");
    expect(e.code).toBe("CONSTANT_FEATURES");
    expect(e.path).toBe("x");
    expect(e.message).toBe("x is constant");
    expect(e.cause).toBe(cause);
  });

  it("isInstance recognises errors of @kora/spec's KoraError and vice versa (shared Symbol.for marker)", () => {
    const ours = new KoraError({ code: "NON_FINITE", message: "m" });
    const theirs = new SpecKoraError({ code: "INVALID_SPEC", message: "m" });
    expect(KoraError.isInstance(theirs)).toBe(true);
    expect(SpecKoraError.isInstance(ours)).toBe(true);
    expect(KoraError.isInstance(new Error("plain"))).toBe(false);
    expect(KoraError.isInstance({ code: "X" })).toBe(false);
    expect(KoraError.isInstance(null)).toBe(false);
  });
});
