// Finds the error codes a package's source can throw, so a test can hold them against the package's typed union
// and its README table: a new code that is not declared and documented fails CI.
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { packageSources, parseSource } from "./source-graph";

const CODE = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/;

/** The string literals an expression can evaluate to (through `?:`, parentheses, `as`, `satisfies`). */
function resultLiterals(node: ts.Expression): string[] {
  if (ts.isStringLiteralLike(node)) return [node.text];
  if (ts.isParenthesizedExpression(node) || ts.isAsExpression(node) || ts.isSatisfiesExpression(node)) {
    return resultLiterals(node.expression);
  }
  if (ts.isConditionalExpression(node))
    return [...resultLiterals(node.whenTrue), ...resultLiterals(node.whenFalse)];
  return [];
}

/** Options of {@link thrownErrorCodes}. */
export interface ErrorCodeScanOptions {
  /** Package helpers whose first argument is a code (e.g. `datasetError("INVALID_ARGUMENT", ...)`). */
  codeHelpers?: readonly string[];
}

/**
 * Every error-code literal in the package's shipped sources: the value of any `code:` property and the first
 * argument of each helper in `codeHelpers`. Maps each code to the places (`src/file.ts:12`) it appears.
 */
export function thrownErrorCodes(
  packageDir: string,
  options: ErrorCodeScanOptions = {},
): Map<string, string[]> {
  const helpers = new Set(options.codeHelpers ?? []);
  const found = new Map<string, string[]>();
  for (const file of packageSources(packageDir)) {
    const source = parseSource(file);
    const note = (code: string, node: ts.Node): void => {
      if (!CODE.test(code)) return;
      const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
      found.set(code, [...(found.get(code) ?? []), `${relative(packageDir, file)}:${line}`]);
    };
    const visit = (node: ts.Node): void => {
      if (ts.isPropertyAssignment(node) && ts.isIdentifier(node.name) && node.name.text === "code") {
        for (const code of resultLiterals(node.initializer)) note(code, node);
      } else if (
        ts.isCallExpression(node) &&
        ts.isIdentifier(node.expression) &&
        helpers.has(node.expression.text) &&
        node.arguments[0] !== undefined
      ) {
        for (const code of resultLiterals(node.arguments[0])) note(code, node);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

/**
 * `new KoraError(...)` calls without the package's code union as type argument (`new KoraError<SpecErrorCode>`),
 * i.e. throws the compiler does not check. Lines read `src/file.ts:12`.
 */
export function untypedKoraErrors(packageDir: string): string[] {
  const out: string[] = [];
  for (const file of packageSources(packageDir)) {
    const source = parseSource(file);
    const visit = (node: ts.Node): void => {
      if (
        ts.isNewExpression(node) &&
        ts.isIdentifier(node.expression) &&
        node.expression.text === "KoraError" &&
        (node.typeArguments === undefined || node.typeArguments.length === 0)
      ) {
        const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
        out.push(`${relative(packageDir, file)}:${line}`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return out;
}

/**
 * The codes of the README's error table: rows whose first cell is a code in backticks, in the section whose
 * heading is "Error codes".
 */
export function readmeErrorCodes(packageDir: string): string[] {
  const text = readFileSync(join(packageDir, "README.md"), "utf8");
  const start = text.search(/^#+ Error codes\s*$/m);
  if (start < 0) return [];
  const rest = text.slice(start).split("\n").slice(1);
  const end = rest.findIndex((line) => /^#+ /.test(line));
  const codes: string[] = [];
  for (const line of end < 0 ? rest : rest.slice(0, end)) {
    const cell = /^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|/.exec(line)?.[1];
    if (cell !== undefined) codes.push(cell);
  }
  return codes;
}
