import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createOutput } from "./context";
import { createProgress } from "./progress";

function stream(isTTY: boolean): Writable & { isTTY: boolean; text: string; columns: number } {
  const chunks: string[] = [];
  const writable = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  }) as Writable & { isTTY: boolean; text: string; columns: number; cursorTo: () => boolean };
  writable.isTTY = isTTY;
  writable.columns = 100;
  Object.defineProperty(writable, "text", { get: () => chunks.join("") });
  // cli-progress moves the cursor on a terminal
  Object.assign(writable, { cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  return writable;
}

describe("createProgress", () => {
  it("writes plain lines at each tenth when stderr is not a terminal", () => {
    const stderr = stream(false);
    const output = createOutput({ stdout: stream(false), stderr, env: {} }, {});
    const progress = createProgress(output, { label: "batches", total: 20 });
    for (let i = 0; i < 20; i++) progress.tick();
    progress.stop();
    const lines = stderr.text.trim().split("\n");
    expect(lines).toHaveLength(10);
    // each line with an estimate of the time left (eval, features, minibatch CKA: every long command has one)
    expect(lines[0]).toMatch(/^batches: 2\/20 \(10 %\) \| ETA \d+s$/);
    expect(lines.at(-1)).toBe("batches: 20/20 (100 %) | ETA 0s");
  });

  it("writes nothing in --json mode without a terminal", () => {
    const stderr = stream(false);
    const output = createOutput({ stdout: stream(false), stderr, env: {} }, { json: true });
    const progress = createProgress(output, { label: "batches", total: 3 });
    progress.tick(3);
    progress.stop();
    expect(stderr.text).toBe("");
  });

  it("draws a bar on a terminal and ends it at the total", () => {
    const stderr = stream(true);
    const output = createOutput({ stdout: stream(false), stderr, env: {} }, {});
    const progress = createProgress(output, { label: "batches", total: 4 });
    progress.tick(4);
    progress.stop();
    expect(stderr.text).toContain("batches [");
    expect(stderr.text).toContain("4/4");
    expect(stderr.text).toContain("100%");
  });
});
