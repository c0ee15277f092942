// Reads a package's TypeScript sources as the compiler does (an AST per file) and follows its relative imports,
// so the convention checks see what a bundler of the built entry would see, without needing the package built.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

/** One import edge of a source file. */
export interface ImportEdge {
  /** The specifier as written (`"node:fs"`, `"./files"`), or `null` for `import(expression)`. */
  specifier: string | null;
  /** `static` (import/export from), `dynamic` (`import(...)`), `require` (`require(...)`). */
  kind: "static" | "dynamic" | "require";
  /** Erased at build time (`import type`, or every named binding is `type`). */
  typeOnly: boolean;
  /** 1-based line, for messages. */
  line: number;
}

const parsed = new Map<string, ts.SourceFile>();

/** Parses a file once per process. */
export function parseSource(file: string): ts.SourceFile {
  let source = parsed.get(file);
  if (source === undefined) {
    source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
    parsed.set(file, source);
  }
  return source;
}

function lineOf(source: ts.SourceFile, node: ts.Node): number {
  return source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
}

function isTypeOnlyImport(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (clause === undefined) return false;
  if (clause.isTypeOnly) return true;
  if (clause.name !== undefined) return false;
  const bindings = clause.namedBindings;
  return (
    bindings !== undefined &&
    ts.isNamedImports(bindings) &&
    bindings.elements.length > 0 &&
    bindings.elements.every((element) => element.isTypeOnly)
  );
}

function isTypeOnlyExport(node: ts.ExportDeclaration): boolean {
  if (node.isTypeOnly) return true;
  const clause = node.exportClause;
  return (
    clause !== undefined &&
    ts.isNamedExports(clause) &&
    clause.elements.length > 0 &&
    clause.elements.every((element) => element.isTypeOnly)
  );
}

/** Every import edge of a file: static imports and re-exports, `import(...)` calls and `require(...)` calls. */
export function importsOf(file: string): ImportEdge[] {
  const source = parseSource(file);
  const edges: ImportEdge[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      edges.push({
        specifier: node.moduleSpecifier.text,
        kind: "static",
        typeOnly: isTypeOnlyImport(node),
        line: lineOf(source, node),
      });
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier !== undefined &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      edges.push({
        specifier: node.moduleSpecifier.text,
        kind: "static",
        typeOnly: isTypeOnlyExport(node),
        line: lineOf(source, node),
      });
    } else if (ts.isCallExpression(node)) {
      const isImport = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(node.expression) && node.expression.text === "require";
      if (isImport || isRequire) {
        const argument = node.arguments[0];
        edges.push({
          specifier: argument !== undefined && ts.isStringLiteralLike(argument) ? argument.text : null,
          kind: isImport ? "dynamic" : "require",
          typeOnly: false,
          line: lineOf(source, node),
        });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

/** Resolves a relative specifier to a `.ts` file the way the bundler does (extensionless, `.js`, or a folder). */
export function resolveRelative(from: string, specifier: string): string {
  const base = resolve(dirname(from), specifier);
  const candidates = [base, `${base}.ts`, base.replace(/\.(c|m)?js$/, ".ts"), join(base, "index.ts")];
  for (const candidate of candidates) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  throw new Error(`${relative(process.cwd(), from)}: cannot resolve ${specifier}`);
}

/** The files reachable from `entry` through relative, non-type-only imports (the entry's bundle). */
export function reachableFiles(entry: string): string[] {
  const seen = new Set<string>();
  const pending = [resolve(entry)];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const edge of importsOf(file)) {
      if (edge.typeOnly || edge.specifier === null || !edge.specifier.startsWith(".")) continue;
      // JSON (package.json's name and version) is data: nothing in it runs or imports.
      if (edge.specifier.endsWith(".json")) continue;
      pending.push(resolveRelative(file, edge.specifier));
    }
  }
  return [...seen].sort();
}

/** The package's shipped sources: `src/**\/*.ts` without tests, test support and fixtures. */
export function packageSources(packageDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        if (name !== "test-support" && name !== "__fixtures__") walk(path);
      } else if (name.endsWith(".ts") && !name.endsWith(".test.ts") && !name.endsWith(".d.ts")) {
        out.push(path);
      }
    }
  };
  walk(join(packageDir, "src"));
  return out.sort();
}

/** The package.json of `packageDir`, parsed. */
export function readPackageJson(packageDir: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as Record<string, unknown>;
}

/**
 * The source entry of each `exports` subpath (`"."` → `src/index.ts`, `"./node"` → `src/node.ts`), read from the
 * ESM `default` target `./dist/<name>.js`.
 */
export function exportEntries(packageDir: string): Map<string, string> {
  const exports = readPackageJson(packageDir)["exports"] as Record<string, unknown>;
  const entries = new Map<string, string>();
  for (const [subpath, target] of Object.entries(exports)) {
    const esm = (target as { import?: { default?: string } }).import?.default;
    if (typeof esm !== "string") continue;
    const name = /^\.\/dist\/(.+)\.js$/.exec(esm)?.[1];
    if (name === undefined) throw new Error(`${subpath}: unexpected export target ${esm}`);
    entries.set(subpath, join(packageDir, "src", `${name}.ts`));
  }
  return entries;
}
