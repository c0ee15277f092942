import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  browserEntryViolations,
  readmeErrorCodes,
  sideEffectsViolations,
  thrownErrorCodes,
  untypedKoraErrors,
} from "../../../scripts/package-conventions";
import { TFJS_ERROR_CODES } from "./errors";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const declared: readonly string[] = TFJS_ERROR_CODES;

describe("@kora/tfjs package conventions", () => {
  it("the root entry reaches no Node module (Node-only code is behind ./node), so it bundles for browsers", () => {
    expect(browserEntryViolations(packageDir, { lazyNodeLoaders: ["src/training/lazy-modules.ts"] })).toEqual(
      [],
    );
  });

  it("sideEffects in package.json tells the truth about code that runs on import", () => {
    expect(sideEffectsViolations(packageDir)).toEqual([]);
  });

  it("every error code in the sources is declared in TFJS_ERROR_CODES, and every declared code is thrown", () => {
    const thrown = thrownErrorCodes(packageDir);
    const undeclared = [...thrown].filter(([code]) => !declared.includes(code));
    expect(undeclared.map(([code, where]) => `${code} at ${where.join(", ")}`)).toEqual([]);
    expect(declared.filter((code) => !thrown.has(code))).toEqual([]);
  });

  it("every throw is typed with TfjsErrorCode, so the compiler checks its code", () => {
    expect(untypedKoraErrors(packageDir)).toEqual([]);
  });

  it("the README's error table lists exactly the declared codes", () => {
    expect([...readmeErrorCodes(packageDir)].sort()).toEqual([...declared].sort());
  });
});
