import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * Child-process tests import the BUILT package (`dist/index.js`), as a user would; CI runs `pnpm build` before
 * `pnpm test`. Fails when `dist` is missing or older than any source file below `sources` (tests and
 * test-support excluded), so a stale build cannot pass for the code under test.
 */
export function assertFreshBuild(dist: string, sources: string): void {
  const files = (path: string): string[] =>
    readdirSync(path, { withFileTypes: true }).flatMap((entry) => {
      if (entry.isDirectory()) return entry.name === "test-support" ? [] : files(join(path, entry.name));
      return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [join(path, entry.name)] : [];
    });
  if (!existsSync(dist)) {
    throw new Error(`${dist} is missing: run \`pnpm --filter @kora/tfjs build\` before this test`);
  }
  const built = statSync(dist).mtimeMs;
  const stale = files(sources).filter((file) => statSync(file).mtimeMs > built);
  if (stale.length > 0) {
    throw new Error(
      `${dist} is older than ${stale[0]}: run \`pnpm --filter @kora/tfjs build\` before this test`,
    );
  }
}
