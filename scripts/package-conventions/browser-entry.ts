// The project's one way to keep Node out of browser bundles: a package's root entry (`"."`) reaches no Node
// module, and whatever needs Node lives behind its `./node` subpath. This check walks the root entry's bundle.
import { builtinModules } from "node:module";
import { join, relative } from "node:path";
import { importsOf, reachableFiles } from "./source-graph";

const BUILTINS = new Set(builtinModules);

/** True for a specifier only Node can load: `node:*`, a bare built-in (`fs`), or a `@kora/<pkg>/node` subpath. */
export function isNodeOnlySpecifier(specifier: string): boolean {
  return specifier.startsWith("node:") || BUILTINS.has(specifier) || /^@kora\/[^/]+\/node$/.test(specifier);
}

/** Options of {@link browserEntryViolations}. */
export interface BrowserEntryOptions {
  /**
   * Files (relative to the package) allowed to load Node modules lazily, by a specifier held in a variable that
   * bundlers do not follow: the package's one loader for root-entry functions that take a Node-only option.
   */
  lazyNodeLoaders?: readonly string[];
}

/**
 * Every way the root entry of the package at `packageDir` reaches Node: a `node:`/built-in/`@kora/x/node` import
 * (static, dynamic or `require`), and any `import(expression)` outside the allowed lazy loaders. Empty when the
 * root entry bundles for browsers. Lines read `src/file.ts:12 imports node:fs`.
 */
export function browserEntryViolations(packageDir: string, options: BrowserEntryOptions = {}): string[] {
  const allowed = new Set((options.lazyNodeLoaders ?? []).map((file) => join(packageDir, file)));
  const violations: string[] = [];
  for (const file of reachableFiles(join(packageDir, "src/index.ts"))) {
    const where = relative(packageDir, file);
    for (const edge of importsOf(file)) {
      if (edge.typeOnly) continue;
      if (edge.specifier === null) {
        if (!allowed.has(file)) violations.push(`${where}:${edge.line} has an import(expression)`);
      } else if (isNodeOnlySpecifier(edge.specifier)) {
        violations.push(`${where}:${edge.line} imports ${edge.specifier} (${edge.kind})`);
      }
    }
  }
  return violations;
}
