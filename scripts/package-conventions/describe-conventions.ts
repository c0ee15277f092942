import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { type BrowserEntryOptions, browserEntryViolations } from "./browser-entry";
import {
  type ErrorCodeScanOptions,
  readmeErrorCodes,
  thrownErrorCodes,
  untypedKoraErrors,
} from "./error-codes";
import { sideEffectsViolations } from "./side-effects";

/** What one package's conventions test needs to know about the package. */
export interface PackageConventions {
  /** The package name, e.g. `@kora/spec`. */
  name: string;
  /** `import.meta.url` of the calling test file, which sits in the package's `src/`. */
  testFileUrl: string;
  /** The package's declared error codes (its `*_ERROR_CODES` array). */
  declared: readonly string[];
  /** The name of that array and of the code union, for the test titles (`SPEC_ERROR_CODES`, `SpecErrorCode`). */
  codesName: string;
  typeName: string;
  browserEntry?: BrowserEntryOptions;
  errorCodes?: ErrorCodeScanOptions;
}

/**
 * The conventions every @kora package follows, as one vitest suite: a browser-safe root entry (Node behind
 * `./node`), a truthful `sideEffects`, every error code declared, thrown, typed and documented in the README.
 */
export function describePackageConventions(options: PackageConventions): void {
  const packageDir = fileURLToPath(new URL("..", options.testFileUrl));
  const { declared } = options;
  describe(`${options.name} package conventions`, () => {
    it("the root entry reaches no Node module (Node-only code is behind ./node), so it bundles for browsers", () => {
      expect(browserEntryViolations(packageDir, options.browserEntry)).toEqual([]);
    });

    it("sideEffects in package.json tells the truth about code that runs on import", () => {
      expect(sideEffectsViolations(packageDir)).toEqual([]);
    });

    it(`every error code in the sources is declared in ${options.codesName}, and every declared code is thrown`, () => {
      const thrown = thrownErrorCodes(packageDir, options.errorCodes);
      const undeclared = [...thrown].filter(([code]) => !declared.includes(code));
      expect(undeclared.map(([code, where]) => `${code} at ${where.join(", ")}`)).toEqual([]);
      expect(declared.filter((code) => !thrown.has(code))).toEqual([]);
    });

    it(`every throw is typed with ${options.typeName}, so the compiler checks its code`, () => {
      expect(untypedKoraErrors(packageDir)).toEqual([]);
    });

    it("the README's error table lists exactly the declared codes", () => {
      expect([...readmeErrorCodes(packageDir)].sort()).toEqual([...declared].sort());
    });
  });
}
