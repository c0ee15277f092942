import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, runKora } from "../test-support/run-cli";

const dir = mkdtempSync(join(tmpdir(), "kora-cli-long-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SOURCE = join(dir, "source");
const micro = ["--backbone", "vit-micro", "--dataset", "synthetic-source", "--batch-size", "4"];

beforeAll(async () => {
  const { code, stderr } = await runKora([
    "train",
    ...micro,
    "--method",
    "lora",
    "--steps",
    "1",
    "--out",
    SOURCE,
    "--json",
  ]);
  expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
}, 60_000);

describe("long commands", () => {
  it("transfer (trained by epochs over a subset) shows a real ETA, never 'ETA ?'", async () => {
    const { code, stderr } = await runKora([
      "transfer",
      "--from",
      SOURCE,
      "--dataset",
      "synthetic-target",
      "--per-class",
      "1",
      "--batch-size",
      "5",
      "--epochs",
      "1",
      "--eval-limit",
      "10",
      "--out",
      join(dir, "transfer"),
    ]);
    expect(code).toBe(0);
    const lines = stderr.split("\n").filter((line) => line.startsWith("transfer: "));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/ETA \d+(m\d\ds|s)$/);
  }, 60_000);

  const tmux = spawnSync("tmux", ["-V"]).status === 0;
  it.skipIf(!tmux && !process.env["CI"])(
    "in a terminal, Ctrl-C's message is not drawn over by the progress bar",
    async () => {
      expect(tmux, "tmux is not installed (apt-get install tmux)").toBe(true);
      const socket = `kora-ctrlc-${process.pid}`;
      const out = join(dir, "ctrl-c");
      const command = `${process.execPath} ${CLI} train ${micro.join(" ")} --method lora --steps 2000 --out ${out}; echo "EXIT=$?"; sleep 30`;
      const tm = (...args: string[]) => spawnSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });
      const pane = async (until: RegExp): Promise<string> => {
        let text = "";
        const deadline = Date.now() + 40_000;
        while (!until.test(text) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 200));
          text = tm("capture-pane", "-p", "-t", "kora").stdout;
        }
        return text;
      };
      try {
        expect(tm("new-session", "-d", "-s", "kora", "-x", "150", "-y", "30", command).status).toBe(0);
        await pane(/train \[.*\] \d+\/2000/);
        tm("send-keys", "-t", "kora", "C-c");
        const text = await pane(/EXIT=\d+/);
        expect(text).toContain("EXIT=130");
        const lines = text.split("\n");
        expect(lines).toContain(
          "kora: stopping after this step (saving a checkpoint); Ctrl-C again to quit now",
        );
        expect(text).toMatch(/^kora: interrupted at step \d+ of 2000; checkpoint /m);
        // the bar, once, above the messages
        expect(text.match(/train \[/g)).toHaveLength(1);
      } finally {
        tm("kill-server");
      }
    },
    60_000,
  );
});
