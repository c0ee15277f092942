// Extracts the code examples of a Markdown file and groups them into programs, for scripts/doctest.mjs.
//
// A ```ts / ```js block is an example: type-checked under the repository's strict settings and executed. An HTML
// comment right before the fence (blank lines between are allowed) changes that, and must say why:
//
//   <!-- doctest: no-run needs CIFAR-100 on disk -->     type-checked, not executed
//   <!-- doctest: skip a fragment of the API table -->   neither (counted as skipped, with the reason)
//   <!-- doctest: continue -->                           continues the previous example of the file: one program
//   <!-- doctest: setup makes the folder the example loads
//   code …                                               hidden code run before the block (rustdoc's `# ` lines);
//   -->                                                  combinable with the words above
//
// Fences in other languages (sh, yaml, json, …) and fences without a language (program output) are not examples;
// they are counted by language and never run.

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)(.*)$/;
const DIRECTIVE = /^<!--\s*doctest:\s*([\s\S]*?)-->$/;
const MODES = new Set(["no-run", "skip", "continue", "setup"]);
/** Languages whose blocks are examples, and the extension their program gets. */
export const EXAMPLE_LANGUAGES = { ts: "mts", typescript: "mts", js: "mjs", javascript: "mjs" };

/**
 * @typedef {{ file: string, line: number, lang: string, code: string[], modes: Set<string>, reason: string,
 *   setup: string[], setupLine: number }} Example
 * @typedef {{ file: string, examples: Example[], ext: string, run: boolean, skipped: boolean, reason: string }} Program
 */

/** Parses the directive comment that ends on line `end` (0-based) of `lines`, if any. */
function directiveBefore(lines, end, file) {
  let i = end;
  while (i >= 0 && lines[i].trim() === "") i--;
  if (i < 0 || !lines[i].trim().endsWith("-->")) return null;
  let start = i;
  while (start >= 0 && !lines[start].trimStart().startsWith("<!--")) start--;
  if (start < 0) return null;
  const text = lines
    .slice(start, i + 1)
    .join("\n")
    .trim();
  const match = DIRECTIVE.exec(text);
  if (match === null) return null;
  const [first, ...rest] = match[1].split("\n");
  const words = first.trim().split(/\s+/);
  const modes = new Set();
  while (words.length > 0 && MODES.has(words[0])) modes.add(words.shift());
  if (modes.size === 0) {
    throw new Error(`${file}:${start + 1}: doctest directive without a mode (${[...MODES].join(", ")})`);
  }
  const reason = words.join(" ");
  if ((modes.has("no-run") || modes.has("skip")) && reason === "") {
    throw new Error(`${file}:${start + 1}: "doctest: ${[...modes].join(" ")}" needs a reason after the mode`);
  }
  const setup = [...rest];
  while (setup.length > 0 && setup.at(-1).trim() === "") setup.pop();
  if (setup.length > 0 && !modes.has("setup")) {
    throw new Error(
      `${file}:${start + 1}: a multi-line doctest directive holds setup code: add the word "setup"`,
    );
  }
  return { modes, reason, setup, setupLine: start + 2 };
}

/**
 * The fenced blocks of one Markdown text: examples (with their directives) and a count of the other languages.
 * @param {string} file - the path reported in messages
 * @param {string} text - the Markdown
 * @returns {{ examples: Example[], others: Map<string, number> }}
 */
export function extractBlocks(file, text) {
  const lines = text.split("\n");
  const examples = [];
  const others = new Map();
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (open === null) continue;
    const [, marker, lang] = open;
    let close = i + 1;
    while (close < lines.length) {
      const candidate = FENCE.exec(lines[close]);
      if (
        candidate !== null &&
        candidate[1][0] === marker[0] &&
        candidate[1].length >= marker.length &&
        candidate[2] === ""
      )
        break;
      close++;
    }
    if (close >= lines.length) throw new Error(`${file}:${i + 1}: code fence never closed`);
    const language = lang.toLowerCase();
    if (Object.hasOwn(EXAMPLE_LANGUAGES, language)) {
      const directive = directiveBefore(lines, i - 1, file);
      examples.push({
        file,
        line: i + 2,
        lang: language,
        code: lines.slice(i + 1, close),
        modes: directive?.modes ?? new Set(),
        reason: directive?.reason ?? "",
        setup: directive?.setup ?? [],
        setupLine: directive?.setupLine ?? i + 1,
      });
    } else {
      const key = language === "" ? "output (no language)" : language;
      others.set(key, (others.get(key) ?? 0) + 1);
    }
    i = close;
  }
  return { examples, others };
}

/**
 * Groups a file's examples into programs: an example marked `continue` joins the program before it. A program is
 * executed unless one of its examples is `no-run` (then it is only type-checked) or `skip` (neither).
 * @param {Example[]} examples
 * @returns {Program[]}
 */
export function groupPrograms(examples) {
  const programs = [];
  for (const example of examples) {
    const previous = programs.at(-1);
    if (example.modes.has("continue")) {
      if (previous === undefined) {
        throw new Error(
          `${example.file}:${example.line - 1}: "doctest: continue" on the file's first example`,
        );
      }
      if (EXAMPLE_LANGUAGES[previous.examples[0].lang] !== EXAMPLE_LANGUAGES[example.lang]) {
        throw new Error(
          `${example.file}:${example.line - 1}: "doctest: continue" across TypeScript and JavaScript`,
        );
      }
      previous.examples.push(example);
    } else {
      programs.push({
        file: example.file,
        examples: [example],
        ext: EXAMPLE_LANGUAGES[example.lang],
        run: true,
        skipped: false,
        reason: "",
      });
    }
  }
  for (const program of programs) {
    const skip = program.examples.find((example) => example.modes.has("skip"));
    const noRun = program.examples.find((example) => example.modes.has("no-run"));
    program.skipped = skip !== undefined;
    program.run = skip === undefined && noRun === undefined;
    program.reason = (skip ?? noRun)?.reason ?? "";
  }
  return programs;
}

/**
 * The program's source and, per line, the Markdown line it came from (setup lines point at their comment).
 * @param {Program} program
 * @returns {{ source: string, lineMap: number[] }}
 */
export function programSource(program) {
  const out = [];
  const lineMap = [];
  for (const example of program.examples) {
    example.setup.forEach((line, index) => {
      out.push(line);
      lineMap.push(example.setupLine + index);
    });
    example.code.forEach((line, index) => {
      out.push(line);
      lineMap.push(example.line + index);
    });
  }
  return { source: `${out.join("\n")}\n`, lineMap };
}
