import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { sideEffectsViolations } from "../../../scripts/package-conventions";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

describe("@kora/vit package conventions", () => {
  it("sideEffects in package.json tells the truth about code that runs on import", () => {
    expect(sideEffectsViolations(packageDir)).toEqual([]);
  });
});
