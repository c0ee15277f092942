// Finds code that runs when a module is imported (registrations, global mutations), so a test can hold it
// against package.json's `sideEffects`: `false` lets bundlers drop an unused import, which would silently skip it.
import { relative } from "node:path";
import ts from "typescript";
import { exportEntries, parseSource, reachableFiles, readPackageJson } from "./source-graph";

function callsRegister(node: ts.Node): boolean {
  let found = false;
  const visit = (child: ts.Node): void => {
    if (found || ts.isFunctionLike(child)) return;
    if (ts.isCallExpression(child)) {
      const callee = child.expression;
      const name = ts.isIdentifier(callee)
        ? callee.text
        : ts.isPropertyAccessExpression(callee)
          ? callee.name.text
          : "";
      if (/^register/.test(name)) found = true;
    }
    ts.forEachChild(child, visit);
  };
  visit(node);
  return found;
}

/**
 * The top-level statements of `file` that do something on import: any statement that is not a declaration,
 * import or export, a class `static {}` block, and a variable initialiser that calls a `register*` function.
 * Lines read `src/file.ts:12`.
 */
export function importTimeEffects(packageDir: string, file: string): string[] {
  const source = parseSource(file);
  const where = (node: ts.Node): string =>
    `${relative(packageDir, file)}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1}`;
  const out: string[] = [];
  for (const statement of source.statements) {
    if (
      ts.isImportDeclaration(statement) ||
      ts.isExportDeclaration(statement) ||
      ts.isFunctionDeclaration(statement) ||
      ts.isInterfaceDeclaration(statement) ||
      ts.isTypeAliasDeclaration(statement) ||
      ts.isEnumDeclaration(statement) ||
      ts.isModuleDeclaration(statement) ||
      ts.isEmptyStatement(statement)
    ) {
      continue;
    }
    if (ts.isClassDeclaration(statement)) {
      if (statement.members.some(ts.isClassStaticBlockDeclaration)) out.push(where(statement));
      continue;
    }
    if (ts.isVariableStatement(statement)) {
      if (callsRegister(statement)) out.push(where(statement));
      continue;
    }
    out.push(where(statement));
  }
  return out;
}

/**
 * Checks `sideEffects` against the sources: for each `exports` entry whose bundle runs code on import, its built
 * files (`./dist/<name>.js` and `.cjs`) must be listed (or `sideEffects` must not be `false`). Returns one line per
 * problem; empty when the field tells the truth.
 */
export function sideEffectsViolations(packageDir: string): string[] {
  const declared = readPackageJson(packageDir)["sideEffects"];
  if (declared === undefined || declared === true) return [];
  const listed = new Set(Array.isArray(declared) ? (declared as string[]) : []);
  const problems: string[] = [];
  for (const [subpath, entry] of exportEntries(packageDir)) {
    const effects = reachableFiles(entry).flatMap((file) => importTimeEffects(packageDir, file));
    if (effects.length === 0) continue;
    const name = relative(`${packageDir}/src`, entry).replace(/\.ts$/, "");
    for (const built of [`./dist/${name}.js`, `./dist/${name}.cjs`]) {
      if (!listed.has(built)) {
        problems.push(
          `${subpath}: ${built} runs code on import (${effects.join(", ")}) but sideEffects does not list it`,
        );
      }
    }
  }
  return problems;
}
