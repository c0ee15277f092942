// Tests of the doc-test extractor (node --test scripts/doctest/): markers, grouping and line mapping.
import assert from "node:assert/strict";
import { test } from "node:test";
import { extractBlocks, groupPrograms, programSource } from "./extract.mjs";

const markdown = [
  "# A package", // 1
  "", // 2
  "```sh", // 3
  "npm install x", // 4
  "```", // 5
  "", // 6
  "```ts", // 7
  'import { a } from "x";', // 8
  "const b = a();", // 9
  "```", // 10
  "", // 11
  "<!-- doctest: continue -->", // 12
  "", // 13
  "```ts", // 14
  "console.log(b);", // 15
  "```", // 16
  "", // 17
  "<!-- doctest: no-run setup needs a dataset on disk", // 18
  'const root = "/data";', // 19
  "-->", // 20
  "```js", // 21
  "open(root);", // 22
  "```", // 23
  "", // 24
  "```", // 25
  "output", // 26
  "```", // 27
  "<!-- doctest: skip a fragment -->", // 28
  "```typescript", // 29
  "x.y;", // 30
  "```", // 31
].join("\n");

test("examples, their markers and the other fences", () => {
  const { examples, others } = extractBlocks("README.md", markdown);
  assert.deepEqual(
    examples.map((e) => [e.line, e.lang, [...e.modes].join(" "), e.reason]),
    [
      [8, "ts", "", ""],
      [15, "ts", "continue", ""],
      [22, "js", "no-run setup", "needs a dataset on disk"],
      [30, "typescript", "skip", "a fragment"],
    ],
  );
  assert.deepEqual(
    [...others],
    [
      ["sh", 1],
      ["output (no language)", 1],
    ],
  );
});

test("programs: continue joins, no-run and skip say why; lines map back to the Markdown", () => {
  const programs = groupPrograms(extractBlocks("README.md", markdown).examples);
  assert.deepEqual(
    programs.map((p) => [p.examples.length, p.ext, p.run, p.skipped, p.reason]),
    [
      [2, "mts", true, false, ""],
      [1, "mjs", false, false, "needs a dataset on disk"],
      [1, "mts", false, true, "a fragment"],
    ],
  );
  const first = programSource(programs[0]);
  assert.equal(first.source, 'import { a } from "x";\nconst b = a();\nconsole.log(b);\n');
  assert.deepEqual(first.lineMap, [8, 9, 15]);
  const second = programSource(programs[1]);
  assert.equal(second.source, 'const root = "/data";\nopen(root);\n');
  assert.deepEqual(second.lineMap, [19, 22]);
});

test("errors: a reasonless no-run, a leading continue, an unclosed fence", () => {
  assert.throws(
    () => extractBlocks("R.md", "<!-- doctest: no-run -->\n```ts\nx\n```\n"),
    /R\.md:1: .*needs a reason/,
  );
  assert.throws(() => extractBlocks("R.md", "<!-- doctest: nope -->\n```ts\nx\n```\n"), /without a mode/);
  assert.throws(
    () => groupPrograms(extractBlocks("R.md", "<!-- doctest: continue -->\n```ts\nx\n```\n").examples),
    /first example/,
  );
  assert.throws(() => extractBlocks("R.md", "```ts\nx\n"), /R\.md:1: code fence never closed/);
  assert.throws(
    () => extractBlocks("R.md", "<!-- doctest: no-run why\nhidden();\n-->\n```ts\nx\n```\n"),
    /add the word "setup"/,
  );
});
