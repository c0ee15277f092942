import { describe, expect, it } from "vitest";
import { main } from "./main";

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr };
}

describe("kora-repro command line", () => {
  it("an unknown option close to a known one is suggested (exit 2)", async () => {
    const seed = await run(["--seed", "3"]);
    expect(seed.code).toBe(2);
    expect(seed.stderr.split("\n")[0]).toBe("kora-repro: Unknown option '--seed' (did you mean --seeds?)");
    const preset = await run(["--prest", "smoke"]);
    expect(preset.stderr.split("\n")[0]).toBe(
      "kora-repro: Unknown option '--prest' (did you mean --preset?)",
    );
    const far = await run(["--colour"]);
    expect(far.code).toBe(2);
    expect(far.stderr.split("\n")[0]).not.toContain("did you mean");
  });
});
