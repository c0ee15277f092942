// Property-based fuzzing of the experiment-file reader (issue 17): on arbitrary text and bytes, mutated valid files
// and hostile documents (prototype keys at any depth, huge numbers, wrong types, deep values), `kora train
// --experiment` returns valid settings or throws a KoraError with a declared code — never another exception — within
// a per-input bound; valid files read back the same from JSON and YAML. CI runs a few hundred inputs with fixed
// seeds; `pnpm --filter kora fuzz` runs a release campaign (FUZZ_RUNS, FUZZ_SEED).
import { execFileSync } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { ADAPTER_METHODS } from "@kora/spec";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify as toYaml } from "yaml";
import {
  deepJson,
  describeBytes,
  expectTypedOrSuccess,
  expectTypedOrSuccessAsync,
  fuzzRuns,
  fuzzSeed,
  fuzzTimeoutMs,
  hostileBytes,
  INTERESTING_JSON_VALUES,
  INTERESTING_KEYS,
  type Json,
  mutatedJsonText,
  type Outcome,
} from "../../../../scripts/fuzz";
import {
  EXPERIMENT_KEYS,
  MAX_EXPERIMENT_BYTES,
  parseExperiment,
  readExperiment,
  type TrainInputs,
} from "./experiment";

const dir = mkdtempSync(join(tmpdir(), "kora-cli-experiment-fuzz-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The yaml parser reports unresolved tags and the like as process warnings: thousands of inputs would flood the
// test output with them. They are not what is under test.
const emitWarning = process.emitWarning;
beforeAll(() => {
  process.emitWarning = () => undefined;
});
afterAll(() => {
  process.emitWarning = emitWarning;
});

/** Valid experiment files: every key, flat and kebab-case spellings, an inline adapter spec, lists as text. */
const SEEDS: { [key: string]: Json }[] = [
  {
    backbone: "vit-micro",
    dataset: "synthetic-source",
    method: "lora",
    rank: 8,
    targets: ["query", "value"],
    steps: 300,
    batchSize: 32,
    lr: 3e-3,
    out: "runs/lora",
  },
  {
    backbone: "vit-micro",
    dataset: "synthetic-source",
    adapter: { method: "kora", rank: 4, composition: { hidden: 8 }, gate: { per: "channel" } },
    epochs: 2,
    "batch-size": 16,
    "weight-decay": 0.01,
    seed: 3,
    warmup: 10,
    "checkpoint-every": 5,
    backend: "cpu",
    threads: "auto",
    out: "runs/kora",
  },
  {
    weights: "model.safetensors",
    config: "config.json",
    dataset: "cifar10",
    root: "data/cifar",
    method: "adapter-fusion",
    adapters: 3,
    reduction: 16,
    fusion: "dynamic",
    layers: [0, 1, 2],
    headLr: 0.01,
    gateLrMultiplier: 10,
    out: "/tmp/runs/fusion",
  },
  {
    backbone: "vit-tiny",
    dataset: "synthetic-depth",
    method: "kora",
    alpha: 16,
    "d-comp": 8,
    composition: "mlp",
    gate: "scalar",
    apply: "composed-qkv",
    basis: "bspline:8:3",
    layers: "0,6,11",
    threads: 2,
  },
  { spec: "adapter.json", backbone: "vit-small", dataset: "synthetic-source", steps: "20" },
];

const CODES = ["INVALID_EXPERIMENT"];
/**
 * Inputs take well under a millisecond; the bound is there to catch a hang (the issue counts one past 10 s), not to
 * time the reader. A campaign niced on a loaded 2-core machine saw 240-character inputs take up to 7 s.
 */
const MAX_MS = 10_000;
const RUNS = fuzzRuns(300);

const POSITIVE = [
  "rank",
  "dComp",
  "adapters",
  "reduction",
  "epochs",
  "steps",
  "batchSize",
  "checkpointEvery",
];
const NON_NEGATIVE = ["warmup", "seed"];
const FINITE = ["alpha", "lr", "weightDecay", "gateLrMultiplier", "headLr"];
const PATHS = ["weights", "config", "root", "spec", "out"];
const CHOICES: Record<string, readonly string[]> = {
  method: ADAPTER_METHODS,
  composition: ["mlp", "attention"],
  gate: ["scalar", "channel"],
  fusion: ["static", "dynamic"],
  apply: ["value", "qkv", "composed-qkv"],
  backend: ["tensorflow", "wasm", "cpu"],
};

/** What a successful read must be: known keys only, each of its type, paths absolute. */
function expectValid(settings: TrainInputs): void {
  const value = settings as Record<string, unknown>;
  for (const [key, item] of Object.entries(value)) {
    expect(EXPERIMENT_KEYS, key).toContain(key);
    const ok = (() => {
      if (POSITIVE.includes(key)) return Number.isSafeInteger(item) && (item as number) >= 1;
      if (NON_NEGATIVE.includes(key)) return Number.isSafeInteger(item) && (item as number) >= 0;
      if (FINITE.includes(key)) return Number.isFinite(item);
      if (PATHS.includes(key)) return typeof item === "string" && isAbsolute(item) && !item.includes("\0");
      if (key in CHOICES) return CHOICES[key]!.includes(item as string);
      if (key === "backbone" || key === "dataset") return typeof item === "string" && item !== "";
      if (key === "layers")
        return Array.isArray(item) && item.length > 0 && item.every((k) => Number.isInteger(k) && k >= 0);
      if (key === "targets")
        return Array.isArray(item) && item.length > 0 && item.every((t) => typeof t === "string" && t !== "");
      if (key === "basis")
        return (
          typeof item === "object" && ["fixed", "rbf", "bspline"].includes((item as { kind: string }).kind)
        );
      if (key === "adapter") return item !== null && typeof item === "object" && !Array.isArray(item);
      if (key === "threads") return item === "auto" || (Number.isInteger(item) && (item as number) >= 1);
      return false;
    })();
    expect(ok, `${key}: ${JSON.stringify(item)}`).toBe(true);
  }
  expect(
    value["adapter"] !== undefined && (value["spec"] !== undefined || value["method"] !== undefined),
  ).toBe(false);
}

/** Reads `text` as `name` and checks the property: valid settings or a declared KoraError, within the bound. */
function check(text: string, name: string): Outcome {
  const read: { settings?: TrainInputs } = {};
  const outcome = expectTypedOrSuccess(
    () => {
      read.settings = parseExperiment(text, join(dir, name));
    },
    {
      codes: CODES,
      maxMs: MAX_MS,
      describe: () => `(${name}, ${text.length} characters: ${JSON.stringify(text.slice(0, 160))})`,
    },
  );
  if (read.settings !== undefined) expectValid(read.settings);
  return outcome;
}

/** Both formats: every JSON text is YAML too (YAML 1.2 is a superset), so both readers see it. */
function checkBoth(text: string): Outcome[] {
  return [check(text, "experiment.json"), check(text, "experiment.yaml")];
}

function tally(outcomes: Map<Outcome, number>, list: Outcome[]): void {
  for (const outcome of list) outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
}

/** Sets `key` as an own property, so `__proto__` is a key and not the prototype (as JSON.parse makes it). */
function withKey(target: { [key: string]: Json }, key: string, value: Json): { [key: string]: Json } {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  return target;
}

/** Whether `value` holds a prototype key at any depth. */
function hasForbiddenKey(value: Json): boolean {
  if (value === null || typeof value !== "object") return false;
  return Object.entries(value).some(
    ([key, item]) => ["__proto__", "constructor", "prototype"].includes(key) || hasForbiddenKey(item),
  );
}

/** Keys a hostile document uses: the reader's own (to get past "unknown key"), prototype words, strays. */
const KEY = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...EXPERIMENT_KEYS) },
  { weight: 2, arbitrary: fc.constantFrom(...INTERESTING_KEYS, "hasOwnProperty", "valueOf", "batch-size") },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

/** Leaves: boundary numbers, wrong types, long and odd strings. */
const LEAF: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom(...INTERESTING_JSON_VALUES),
  fc.constantFrom(
    1e21,
    -0,
    2 ** 53 + 1,
    1e-320,
    Number.MAX_VALUE,
    "1e400",
    "auto",
    "0,6,11",
    "rbf:8",
    "\u0000",
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.string({ maxLength: 20, unit: "binary" }),
  fc.constantFrom(...ADAPTER_METHODS, "cpu", "mlp", "channel", "static", "qkv"),
);

/** Hostile JSON values: nested arrays and objects whose keys may be prototype words at any depth. */
const { value: HOSTILE } = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    LEAF,
    fc.array(tie("value"), { maxLength: 4 }),
    fc
      .array(fc.tuple(KEY, tie("value")), { maxLength: 4 })
      .map((entries) =>
        entries.reduce<{ [key: string]: Json }>((object, [key, item]) => withKey(object, key, item), {}),
      ),
  ),
}));

/** A hostile experiment document: an object of (mostly known) keys with hostile values. */
const HOSTILE_DOCUMENT = fc
  .array(fc.tuple(KEY, HOSTILE), { minLength: 1, maxLength: 6 })
  .map((entries) =>
    entries.reduce<{ [key: string]: Json }>((object, [key, item]) => withKey(object, key, item), {}),
  );

describe("experiment files: hand-made hostile inputs", () => {
  const cases: [string, string, string][] = [
    ["a 200 000-deep JSON array", "e.json", `{"adapter":${deepJson(200_000)}}`],
    ["a 200 000-deep JSON object", "e.json", `{"adapter":${deepJson(200_000, "{")}}`],
    ["a 32 000-deep YAML flow sequence (64 KiB)", "e.yaml", `adapter: ${deepJson(32_000)}`],
    [
      "a 1 000-deep YAML block mapping",
      "e.yaml",
      Array.from({ length: 1_000 }, (_, i) => `${" ".repeat(i)}k:`).join("\n"),
    ],
    [
      "a YAML alias bomb (billion laughs)",
      "e.yaml",
      [
        "a: &a [x, x, x, x, x, x, x, x, x, x]",
        ...Array.from({ length: 8 }, (_, i) => {
          const name = String.fromCharCode(98 + i);
          const prev = String.fromCharCode(97 + i);
          return `${name}: &${name} [${Array(10).fill(`*${prev}`).join(", ")}]`;
        }),
      ].join("\n"),
    ],
    ["a YAML value that contains itself", "e.yaml", "adapter: &a { method: lora, self: *a }"],
    ["a __proto__ key at depth 3", "e.json", '{"adapter":{"composition":{"__proto__":{"polluted":1}}}}'],
    ["a constructor key at the top", "e.yaml", "constructor: {prototype: {polluted: 1}}"],
    ["a prototype key in a list", "e.json", '{"layers":[{"prototype":1}]}'],
    ["an empty YAML document", "e.yaml", ""],
    ["a YAML stream of two documents", "e.yaml", "steps: 1\n---\nsteps: 2\n"],
    ["duplicate YAML keys", "e.yaml", "steps: 1\nsteps: 2\n"],
    ["duplicate YAML keys in an inline spec", "e.yaml", "adapter: {rank: 1, rank: 2}\n"],
    ["a JSON number that overflows", "e.json", '{"steps":1e400,"lr":-1e400}'],
    ["a key of 60 000 characters", "e.json", `{"${"k".repeat(60_000)}":1}`],
    // yaml's own duplicate-key check is quadratic (8 000 keys took 2 s); the reader's is linear
    [
      "a 60 KiB YAML map of 7 000 distinct keys",
      "e.yaml",
      Array.from({ length: 7_000 }, (_, i) => `k${i}: 1`).join("\n"),
    ],
    [
      "a 64 KiB YAML flow map of 13 000 keys",
      "e.yaml",
      `{${Array.from({ length: 13_000 }, (_, i) => i.toString(36)).join(",")}}`,
    ],
  ];
  it.each(cases)("%s is a typed error", (_, name, text) => {
    expect(check(text, name)).toBe("INVALID_EXPERIMENT");
  });

  it("never prototype-pollutes", () => {
    for (const [, name, text] of cases) check(text, name);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });
});

describe("experiment files: regressions (issue 17)", () => {
  it("duplicate YAML keys are found in linear time and named with their line", () => {
    expect(() => parseExperiment("steps: 1\nmethod: lora\nsteps: 2\n", join(dir, "e.yaml"))).toThrowError(
      /e\.yaml: not valid YAML \(map keys must be unique: "steps" appears twice \(line 3\)\)/,
    );
    const many = Array.from({ length: 7_000 }, (_, i) => `k${i}: 1`).join("\n");
    expect(many.length).toBeLessThan(MAX_EXPERIMENT_BYTES);
    expect(() => parseExperiment(`${many}\nk6999: 2`, join(dir, "e.yaml"))).toThrowError(
      /"k6999" appears twice/,
    );
  });

  it("a list item that is an object with a toString key is INVALID_EXPERIMENT (was a TypeError from String())", () => {
    expect(() => parseExperiment('{"layers":[{"toString":1}]}', join(dir, "e.json"))).toThrowError(
      expect.objectContaining({
        code: "INVALID_EXPERIMENT",
        message: expect.stringMatching(/layers: expected a list/),
      }),
    );
    expect(() => parseExperiment("targets:\n  - toString: 1\n", join(dir, "e.yaml"))).toThrowError(
      expect.objectContaining({ code: "INVALID_EXPERIMENT" }),
    );
  });

  it("a path with a NUL character is INVALID_EXPERIMENT naming the key (Node's file calls throw on it, untyped)", () => {
    for (const key of ["weights", "config", "root", "spec", "out"]) {
      expect(() =>
        parseExperiment(JSON.stringify({ [key]: "runs/a\u0000b" }), join(dir, "e.json")),
      ).toThrowError(
        expect.objectContaining({
          code: "INVALID_EXPERIMENT",
          path: key,
          message: expect.stringMatching(/NUL/),
        }),
      );
    }
  });

  it("an unknown key is quoted to at most 200 characters, and a long one gets no suggestion", () => {
    const long = `batchSize${"x".repeat(60_000)}`;
    let message = "";
    try {
      parseExperiment(JSON.stringify({ [long]: 1 }), join(dir, "e.json"));
    } catch (error) {
      message = (error as Error).message;
      expect((error as { code?: string }).code).toBe("INVALID_EXPERIMENT");
    }
    expect(message).toMatch(/unknown key "batchSizexxx/);
    expect(message.length).toBeLessThan(1_000);
    expect(() => parseExperiment('{"batch_size":8}', join(dir, "e.json"))).toThrowError(
      /unknown key "batch_size" \(did you mean batchSize\?\)/,
    );
  });

  it("a prototype key at depth is named by a path cut to 200 characters", () => {
    const text = JSON.stringify({ adapter: { ["k".repeat(10_000)]: withKey({}, "__proto__", 1) } });
    let message = "";
    try {
      parseExperiment(text, join(dir, "e.json"));
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/: adapter\.k+…: the key "__proto__" is not allowed/);
    expect(message.length).toBeLessThan(1_000);
  });
});

describe("experiment files on disk", () => {
  it("refuses a folder, a device and a file over the size limit before reading them", async () => {
    const folder = join(dir, "folder.yaml");
    mkdirSync(folder);
    await expect(readExperiment(folder)).rejects.toMatchObject({
      code: "IO_ERROR",
      message: expect.stringMatching(/--experiment: .*folder\.yaml is a folder; give a file/),
    });
    if (process.platform === "linux") {
      // /dev/zero never ends: reading it whole used to grow until the process died
      await expect(readExperiment("/dev/zero")).rejects.toMatchObject({
        code: "IO_ERROR",
        message: "--experiment: /dev/zero is not a regular file or a pipe; give a file",
      });
    }
    const big = join(dir, "big.yaml");
    writeFileSync(big, `${"#".repeat(MAX_EXPERIMENT_BYTES)}\nsteps: 1\n`);
    await expect(readExperiment(big)).rejects.toMatchObject({
      code: "INVALID_EXPERIMENT",
      message: expect.stringMatching(
        /big\.yaml: \d+ bytes, larger than the 65536 bytes an experiment file may have/,
      ),
    });
    await expect(readExperiment(join(dir, "missing.yaml"))).rejects.toMatchObject({
      code: "FILE_NOT_FOUND",
      message: expect.stringMatching(/--experiment: .*missing\.yaml does not exist/),
    });
  });

  it.runIf(process.platform === "linux")(
    "reads a pipe up to the size limit (--experiment <(…))",
    async () => {
      const pipe = (name: string, text: string): string => {
        const path = join(dir, name);
        execFileSync("mkfifo", [path]);
        // the writer blocks until the reader opens the pipe; a reader that stops early closes it (EPIPE here)
        createWriteStream(path)
          .on("error", () => undefined)
          .end(text);
        return path;
      };
      await expect(readExperiment(pipe("small.yaml", "steps: 3\nmethod: lora\n"))).resolves.toEqual({
        steps: 3,
        method: "lora",
      });
      await expect(readExperiment(pipe("endless.yaml", `${"#".repeat(200_000)}\n`))).rejects.toMatchObject({
        code: "INVALID_EXPERIMENT",
        message: expect.stringMatching(/endless\.yaml: larger than the 65536 bytes/),
      });
    },
  );

  it(`reads any bytes as valid settings or a typed error (${Math.min(RUNS, 100)} files)`, async () => {
    const seeds = SEEDS.flatMap((seed) => [JSON.stringify(seed), toYaml(seed)]).map((text) =>
      new TextEncoder().encode(text),
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(hostileBytes(seeds), fc.boolean(), async (bytes, json) => {
        const file = join(dir, `bytes-${n++}.${json ? "json" : "yaml"}`);
        writeFileSync(file, bytes);
        const read: { settings?: TrainInputs } = {};
        await expectTypedOrSuccessAsync(
          async () => {
            read.settings = await readExperiment(file);
          },
          { codes: CODES, maxMs: MAX_MS, describe: () => describeBytes(bytes) },
        );
        if (read.settings !== undefined) expectValid(read.settings);
      }),
      { seed: fuzzSeed(17_1701), numRuns: Math.min(RUNS, 100) },
    );
  });
});

describe("experiment files: properties", () => {
  it("a valid file reads back the same from JSON and YAML, camelCase or kebab-case, with paths resolved", () => {
    const expected = parseExperiment(JSON.stringify(SEEDS[0]), join(dir, "sub", "a.json"));
    expect(expected).toEqual({
      backbone: "vit-micro",
      dataset: "synthetic-source",
      method: "lora",
      rank: 8,
      targets: ["query", "value"],
      steps: 300,
      batchSize: 32,
      lr: 3e-3,
      out: resolve(dir, "sub", "runs/lora"),
    });
    for (const seed of SEEDS) {
      const fromJson = parseExperiment(JSON.stringify(seed), join(dir, "a.json"));
      expectValid(fromJson);
      expect(parseExperiment(toYaml(seed), join(dir, "a.yaml"))).toEqual(fromJson);
      expect(parseExperiment(toYaml(seed), join(dir, "a.yml"))).toEqual(fromJson);
      const kebab = Object.fromEntries(
        Object.entries(seed).map(([key, value]) => [
          key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`),
          value,
        ]),
      );
      expect(parseExperiment(JSON.stringify(kebab), join(dir, "a.json"))).toEqual(fromJson);
    }
  });

  it("round trip: settings read from a file, written back (paths absolute, lists as lists), read the same", () => {
    fc.assert(
      fc.property(fc.constantFrom(...SEEDS), fc.boolean(), (seed, yaml) => {
        const first = parseExperiment(JSON.stringify(seed), join(dir, "a.json"));
        // basis reads into its parsed form ({kind, grid, order}); the file holds the flag's text
        const { basis: _, ...rest } = first;
        const again = { ...rest, ...(seed["basis"] === undefined ? {} : { basis: seed["basis"] }) };
        const text = yaml ? toYaml(again) : JSON.stringify(again);
        expect(parseExperiment(text, join(dir, yaml ? "b.yaml" : "b.json"))).toEqual(first);
      }),
      { seed: fuzzSeed(17_1702), numRuns: Math.min(RUNS, 50) },
    );
  });

  it(
    `arbitrary text (${RUNS} strings, as JSON and as YAML)`,
    () => {
      const outcomes = new Map<Outcome, number>();
      fc.assert(
        fc.property(
          fc.oneof(fc.string({ maxLength: 200, unit: "binary" }), fc.string({ maxLength: 200 })),
          (text) => tally(outcomes, checkBoth(text)),
        ),
        { seed: fuzzSeed(17_1703), numRuns: RUNS },
      );
      expect(outcomes.get("INVALID_EXPERIMENT") ?? 0).toBeGreaterThan(RUNS);
    },
    fuzzTimeoutMs(RUNS, 2 * MAX_MS),
  );

  it(
    `mutated valid files (${RUNS} structure-aware JSON edits and ${RUNS} byte edits, as JSON and as YAML)`,
    () => {
      const outcomes = new Map<Outcome, number>();
      const seedBytes = SEEDS.flatMap((seed) => [JSON.stringify(seed), toYaml(seed)]).map((text) =>
        new TextEncoder().encode(text),
      );
      const decoder = new TextDecoder();
      fc.assert(
        fc.property(mutatedJsonText(SEEDS), (text) => tally(outcomes, checkBoth(text))),
        { seed: fuzzSeed(17_1704), numRuns: RUNS },
      );
      fc.assert(
        fc.property(hostileBytes(seedBytes), (bytes) => tally(outcomes, checkBoth(decoder.decode(bytes)))),
        { seed: fuzzSeed(17_1705), numRuns: RUNS },
      );
      // Not vacuous: the inputs reach both outcomes.
      expect(outcomes.get("ok") ?? 0).toBeGreaterThan(0);
      expect(outcomes.get("INVALID_EXPERIMENT") ?? 0).toBeGreaterThan(RUNS / 4);
    },
    fuzzTimeoutMs(2 * RUNS, 2 * MAX_MS),
  );

  it(
    `hostile documents (${RUNS}): prototype keys at any depth, huge numbers, wrong types, as JSON and YAML`,
    () => {
      const outcomes = new Map<Outcome, number>();
      fc.assert(
        fc.property(HOSTILE_DOCUMENT, (document) => {
          tally(outcomes, [
            check(JSON.stringify(document), "hostile.json"),
            check(toYaml(document), "hostile.yaml"),
          ]);
          // A forbidden key anywhere is always refused.
          if (hasForbiddenKey(document)) {
            expect(() => parseExperiment(JSON.stringify(document), join(dir, "hostile.json"))).toThrowError(
              expect.objectContaining({ code: "INVALID_EXPERIMENT" }),
            );
          }
        }),
        { seed: fuzzSeed(17_1706), numRuns: RUNS },
      );
      expect(outcomes.get("INVALID_EXPERIMENT") ?? 0).toBeGreaterThan(0);
      expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    },
    fuzzTimeoutMs(RUNS, 2 * MAX_MS),
  );

  it(
    `one valid file with one value replaced by a hostile one (${RUNS})`,
    () => {
      const outcomes = new Map<Outcome, number>();
      fc.assert(
        fc.property(fc.constantFrom(...SEEDS), fc.nat(), HOSTILE, (seed, at, value) => {
          const keys = Object.keys(seed);
          const document = withKey({ ...seed }, keys[at % keys.length]!, value);
          tally(outcomes, [check(JSON.stringify(document), "one.json"), check(toYaml(document), "one.yaml")]);
        }),
        { seed: fuzzSeed(17_1707), numRuns: RUNS },
      );
      expect(outcomes.get("ok") ?? 0).toBeGreaterThan(0);
      expect(outcomes.get("INVALID_EXPERIMENT") ?? 0).toBeGreaterThan(0);
    },
    fuzzTimeoutMs(RUNS, 2 * MAX_MS),
  );
});
