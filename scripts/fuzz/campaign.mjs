#!/usr/bin/env node
// A release fuzz campaign for one package: runs its fuzz suites (test files with "fuzz" in their path) with many
// more inputs than CI does. Run from a package folder (`pnpm --filter @kora/spec fuzz`); FUZZ_RUNS (default
// 20000 per property) and FUZZ_SEED (default: a new random seed, printed so a failure can be replayed) apply.
import { spawnSync } from "node:child_process";

const runs = process.env.FUZZ_RUNS || "20000";
const seed = process.env.FUZZ_SEED || String(Math.floor(Math.random() * 2 ** 31));
console.log(`fuzz campaign: FUZZ_RUNS=${runs} FUZZ_SEED=${seed} (set both to replay)`);
const result = spawnSync("vitest", ["run", "fuzz", ...process.argv.slice(2)], {
  stdio: "inherit",
  env: { ...process.env, FUZZ_RUNS: runs, FUZZ_SEED: seed },
  shell: process.platform === "win32",
});
process.exit(result.status ?? 1);
