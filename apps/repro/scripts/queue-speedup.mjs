#!/usr/bin/env node
// The queue's speed-up measurement behind apps/repro/README.md ("Speed-up"): one plan of small runs (the smoke preset
// with 60-step source runs, experiment 4.1, 3 seeds: 24 runs) through a private redis-server, drained by 1, 2 and 4
// local worker processes (`kora-repro worker --concurrency N --until-empty`), each into a fresh results folder. Times
// from the workers' start to their exit (process start-up and the backbone's pretraining included). Prints a
// Markdown table and the load average before and after. Needs `pnpm --filter kora-repro build` and redis-server.
//
//   node apps/repro/scripts/queue-speedup.mjs            # WORKERS=1,2,4 STEPS=60 SEEDS=3 by default
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { enqueuePlan, resolvePreset } from "../dist/index.js";

const workers = (process.env.WORKERS ?? "1,2,4").split(",").map(Number);
const steps = Number(process.env.STEPS ?? 60);
const seeds = Number(process.env.SEEDS ?? 3);
const cli = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli.js");

const port = await new Promise((done) => {
  const server = createServer().listen(0, "127.0.0.1", () => {
    const { port } = server.address();
    server.close(() => done(port));
  });
});
const dir = mkdtempSync(join(tmpdir(), "kora-repro-speedup-"));
const redis = spawn(
  "redis-server",
  ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--save", ""],
  {
    stdio: "ignore",
  },
);
const url = `redis://127.0.0.1:${port}/0`;
// Wait (at most 5 s) for the server to listen.
for (
  let i = 0;
  i < 50 &&
  spawnSync("redis-cli", ["-p", String(port), "ping"])
    .stdout?.toString()
    .trim() !== "PONG";
  i++
) {
  await new Promise((done) => setTimeout(done, 100));
}

const smoke = resolvePreset("smoke");
const preset = { ...smoke, source: { ...smoke.source, steps } };
const loadBefore = loadavg();
const rows = [];
try {
  for (const n of workers) {
    const queueName = `speedup-${n}`;
    const summary = await enqueuePlan({
      queue: url,
      queueName,
      preset,
      only: ["4.1"],
      seeds,
      out: join(dir, queueName),
      write: () => {},
    });
    const started = performance.now();
    const code = await new Promise((done) => {
      const child = spawn(
        process.execPath,
        [
          cli,
          "worker",
          "--queue",
          url,
          "--queue-name",
          queueName,
          "--concurrency",
          String(n),
          "--until-empty",
        ],
        {
          stdio: ["ignore", "ignore", "ignore"],
        },
      );
      child.on("exit", (c) => done(c));
    });
    const seconds = (performance.now() - started) / 1000;
    if (code !== 0) throw new Error(`workers exited with ${code}`);
    rows.push({ n, runs: summary.total, seconds });
    process.stderr.write(`${n} worker(s): ${summary.total} runs in ${seconds.toFixed(1)} s\n`);
  }
} finally {
  redis.kill("SIGTERM");
  await new Promise((done) => redis.once("exit", done));
  rmSync(dir, { recursive: true, force: true });
}
const base = rows[0]?.seconds ?? 1;
console.log("| workers | runs | wall time | speed-up |\n|---|---|---|---|");
for (const row of rows)
  console.log(
    `| ${row.n} | ${row.runs} | ${row.seconds.toFixed(1)} s | ${(base / row.seconds).toFixed(2)}× |`,
  );
const fmt = (l) => l.map((x) => x.toFixed(2)).join(", ");
console.log(`\nload average before: ${fmt(loadBefore)}; after: ${fmt(loadavg())}`);
