#!/usr/bin/env node
// The README examples are tests (as rustdoc's doc-tests): every ```ts / ```js block of every README.md (root,
// packages/*, apps/*), CONTRIBUTING.md and docs/*.md is type-checked under the repository's strict settings and run
// with Node, importing the workspace packages by name as a user would, resolved through their `exports` (so the
// packages must be built: `pnpm build`). Markers for blocks that do not run: scripts/doctest/extract.mjs.
//
//   node scripts/doctest.mjs [--no-run] [--verbose] [path-substring …]
//
// Programs are written to .doctest/ (ignored by git), one module each; each runs in its own empty folder there, so
// the files an example writes (`runs/…`) land in that folder. A failure names the Markdown file and line.
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { extractBlocks, groupPrograms, programSource } from "./doctest/extract.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const work = join(root, ".doctest");
const args = process.argv.slice(2);
const noRun = args.includes("--no-run");
const verbose = args.includes("--verbose");
const filters = args.filter((arg) => !arg.startsWith("--"));
/** Each example should take seconds; a minute means something hangs. */
const RUN_TIMEOUT_MS = 60_000;

function markdownFiles() {
  const files = ["README.md", "CONTRIBUTING.md"];
  for (const folder of ["packages", "apps"]) {
    for (const name of readdirSync(join(root, folder)).sort()) files.push(`${folder}/${name}/README.md`);
  }
  if (existsSync(join(root, "docs"))) {
    for (const name of readdirSync(join(root, "docs")).sort())
      if (name.endsWith(".md")) files.push(`docs/${name}`);
  }
  return files.filter((file) => existsSync(join(root, file)));
}

/** The workspace packages by name (`@kora/spec` → packages/spec), as a user's node_modules would hold them. */
function workspacePackages() {
  const packages = new Map();
  for (const name of readdirSync(join(root, "packages"))) {
    const manifest = join(root, "packages", name, "package.json");
    if (existsSync(manifest))
      packages.set(JSON.parse(readFileSync(manifest, "utf8")).name, join(root, "packages", name));
  }
  return packages;
}

/** Where a third-party package the examples import is installed: the first workspace package that has it. */
function installedDependency(name) {
  for (const base of [root, ...[...workspacePackages().values()]]) {
    const candidate = join(base, "node_modules", name);
    if (existsSync(candidate)) return realpathSync(candidate);
  }
  return null;
}

/** The bare package names a source imports (`@scope/name`, `name`; not `node:` builtins). */
function importedPackages(source) {
  const names = new Set();
  for (const match of source.matchAll(/(?:from\s+|import\s*\(?\s*)["']([^"'./][^"']*)["']/g)) {
    const specifier = match[1];
    if (specifier.startsWith("node:")) continue;
    const parts = specifier.split("/");
    names.add(specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]);
  }
  return names;
}

/** .doctest/node_modules with a link per imported package, as `npm install` of those packages would give. */
function linkPackages(names) {
  const packages = workspacePackages();
  const modules = join(work, "node_modules");
  for (const name of names) {
    const target = packages.get(name) ?? installedDependency(name);
    if (target === null) throw new Error(`an example imports ${name}, which no workspace package installs`);
    const link = join(modules, name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(target, link, "dir");
  }
}

function main() {
  const files = markdownFiles().filter(
    (file) => filters.length === 0 || filters.some((f) => file.includes(f)),
  );
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, "package.json"), `${JSON.stringify({ private: true, type: "module" })}\n`);

  const perFile = [];
  const programs = [];
  for (const file of files) {
    const { examples, others } = extractBlocks(file, readFileSync(join(root, file), "utf8"));
    const grouped = groupPrograms(examples);
    grouped.forEach((program, index) => {
      const slug = file
        .replace(/\/README\.md$/, "")
        .replace(/[^A-Za-z0-9]+/g, "-")
        .toLowerCase();
      program.name = `${slug}-${index + 1}-L${program.examples[0].line}`;
      program.path = join(work, `${program.name}.${program.ext}`);
      Object.assign(program, programSource(program));
      programs.push(program);
    });
    perFile.push({ file, examples, programs: grouped, others });
  }

  linkPackages(new Set(programs.flatMap((program) => [...importedPackages(program.source)])));
  for (const program of programs) writeFileSync(program.path, program.source);

  // Type-check every program that is not skipped, in one TypeScript program: the base config's strict options,
  // with Node's module resolution (the packages' `exports`, import conditions), JavaScript checked too.
  const base = ts.getParsedCommandLineOfConfigFile(
    join(root, "tsconfig.base.json"),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
      },
    },
  );
  const options = {
    ...base.options,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    allowJs: true,
    checkJs: true,
    noEmit: true,
    declaration: false,
    sourceMap: false,
  };
  const checked = programs.filter((program) => !program.skipped);
  const failures = [];
  const typeProgram = ts.createProgram(
    checked.map((program) => program.path),
    options,
  );
  const byPath = new Map(checked.map((program) => [resolve(program.path), program]));
  for (const diagnostic of ts.getPreEmitDiagnostics(typeProgram)) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n  ");
    const program = diagnostic.file === undefined ? undefined : byPath.get(resolve(diagnostic.file.fileName));
    if (program === undefined || diagnostic.start === undefined) {
      failures.push(`TS${diagnostic.code}: ${message}`);
      continue;
    }
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    failures.push(`${program.file}:${program.lineMap[line] ?? "?"}: TS${diagnostic.code}: ${message}`);
    program.typeFailed = true;
  }

  // Run: transpile (types removed, lines kept) and execute each program in its own empty folder.
  const runnable = noRun ? [] : checked.filter((program) => program.run && !program.typeFailed);
  for (const program of runnable) {
    const js = ts.transpileModule(program.source, {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
      },
      fileName: program.path,
    }).outputText;
    const script = join(work, `${program.name}.run.mjs`);
    writeFileSync(script, js);
    const cwd = join(work, `${program.name}.cwd`);
    mkdirSync(cwd);
    const started = performance.now();
    const result = spawnSync(process.execPath, [script], { cwd, encoding: "utf8", timeout: RUN_TIMEOUT_MS });
    program.seconds = (performance.now() - started) / 1000;
    const where = `${program.file}:${program.examples[0].line}`;
    if (result.status !== 0) {
      const why =
        result.error?.code === "ETIMEDOUT"
          ? `timed out after ${RUN_TIMEOUT_MS / 1000} s`
          : `exit ${result.status ?? result.signal}`;
      // Stack frames name the generated file; map its lines back to the Markdown.
      const stderr = result.stderr.replace(
        new RegExp(`(?:file://)?${escapeRegExp(script)}:(\\d+)(?::\\d+)?`, "g"),
        (_, line) => `${program.file}:${program.lineMap[Number(line) - 1] ?? "?"}`,
      );
      failures.push(
        `${where}: the example failed (${why}; ${relative(root, script)})\n${indent(tail(stderr || result.stdout, 30))}`,
      );
      program.runFailed = true;
    } else if (verbose) {
      process.stdout.write(
        `--- ${where} (${program.seconds.toFixed(1)} s)\n${indent(tail(result.stdout, 20))}\n`,
      );
    }
  }

  report(perFile, runnable.length);
  if (failures.length > 0) {
    process.stderr.write(`\ndoctest: ${failures.length} failure(s)\n\n${failures.join("\n\n")}\n`);
    process.exit(1);
  }
}

function report(perFile, ran) {
  let typeChecked = 0;
  let executed = 0;
  let checkOnly = 0;
  let skipped = 0;
  const otherTotals = new Map();
  const lines = [];
  for (const { file, examples, programs, others } of perFile) {
    const count = (keep) => programs.filter(keep).reduce((n, p) => n + p.examples.length, 0);
    const fileChecked = count((p) => !p.skipped);
    const fileRun = count((p) => p.seconds !== undefined);
    const fileCheckOnly = count((p) => !p.skipped && !p.run);
    const fileSkipped = examples.length - fileChecked;
    typeChecked += fileChecked;
    executed += fileRun;
    checkOnly += fileCheckOnly;
    skipped += fileSkipped;
    for (const [lang, n] of others) otherTotals.set(lang, (otherTotals.get(lang) ?? 0) + n);
    const other = [...others].map(([lang, n]) => `${n} ${lang}`).join(", ");
    if (examples.length === 0 && !verbose) continue;
    lines.push(
      `  ${file}: ${examples.length} example(s): ${fileChecked} type-checked, ${fileRun} executed, ` +
        `${fileCheckOnly} type-checked only, ${fileSkipped} skipped${other ? `; not examples: ${other}` : ""}`,
    );
    for (const program of programs) {
      const at = `L${program.examples.map((example) => example.line).join("+L")}`;
      if (program.skipped) lines.push(`    ${at}: skipped: ${program.reason}`);
      else if (!program.run) lines.push(`    ${at}: type-checked only: ${program.reason}`);
      else if (program.seconds !== undefined) lines.push(`    ${at}: ran in ${program.seconds.toFixed(1)} s`);
    }
  }
  const other = [...otherTotals].map(([lang, n]) => `${n} ${lang}`).join(", ");
  process.stdout.write(
    `doctest: ${typeChecked} example(s) type-checked, ${executed} executed (${ran} program(s)), ` +
      `${checkOnly} type-checked only and ${skipped} skipped, each with its reason; ` +
      `${perFile.length} Markdown files; fences that are not examples: ${other || "none"}\n${lines.join("\n")}\n`,
  );
}

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const tail = (text, n) => text.trimEnd().split("\n").slice(-n).join("\n");
const indent = (text) => text.replace(/^/gm, "    ");

main();
