import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KoraError } from "@kora/spec";
import { afterAll, describe, expect, it } from "vitest";
import { runRepro } from "./runner";

const out = mkdtempSync(join(tmpdir(), "kora-repro-runner-"));
afterAll(() => {
  rmSync(out, { recursive: true, force: true });
});

const withCode = (code: string, pattern: RegExp) => (error: unknown) =>
  KoraError.isInstance(error) && error.code === code && pattern.test(error.message);

describe("runRepro's checks before anything runs", () => {
  it("refuses an --only that matches no experiment, listing the known ids", async () => {
    await expect(runRepro({ preset: "smoke", only: ["4.9"], out, write: () => {} })).rejects.toSatisfy(
      withCode("INVALID_ARGUMENT", /--only 4\.9 matches no experiment \(known: 4\.1, 4\.2/),
    );
  });

  it("refuses a seed count that is not a positive integer", async () => {
    for (const seeds of [0, 1.5]) {
      await expect(runRepro({ preset: "smoke", seeds, out, write: () => {} })).rejects.toSatisfy(
        withCode("INVALID_ARGUMENT", /--seeds must be a positive integer/),
      );
    }
  });

  it("refuses an unknown preset", async () => {
    await expect(runRepro({ preset: "huge" as "smoke", out, write: () => {} })).rejects.toSatisfy(
      withCode("INVALID_ARGUMENT", /--preset must be one of smoke, default, extended, paper/),
    );
  });
});

describe("a worker's share of the plan", () => {
  it("counts its own runs in its progress lines, ending at [n/n]", { timeout: 120_000 }, async () => {
    const shardOut = join(out, "shard");
    const lines: string[] = [];
    const summary = await runRepro({
      preset: "smoke",
      only: ["4.1"],
      seeds: 1,
      out: shardOut,
      shard: { index: 0, count: 2 },
      write: (text) => lines.push(text),
      interactive: false,
    });
    expect(summary.runs.failed).toBe(0);
    const finished = lines
      .join("")
      .split("\n")
      .map((line) => /^\[(\d+)\/(\d+)\] .*: (ok|pretrained|cached) in /.exec(line))
      .filter((match) => match !== null);
    const written = readdirSync(join(shardOut, "runs")).filter((name) => name.endsWith(".json")).length;
    // The backbone, then this worker's runs: every one counted against this worker's total, the last at n/n.
    expect(written).toBeGreaterThan(0);
    expect(finished).toHaveLength(written + 1);
    for (const match of finished) expect(Number(match[2])).toBe(written + 1);
    expect(Number(finished.at(-1)?.[1])).toBe(written + 1);
  });
});
