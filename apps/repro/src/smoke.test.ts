import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { loadExperiments } from "./config/experiments";
import { loadFindings } from "./report/findings";
import { runRepro } from "./runner";

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
// In CI the runner installs chromium, so its absence is a failure there, never a skip.
const runInBrowser = haveChromium || process.env["CI"] !== undefined;
const out = mkdtempSync(join(tmpdir(), "kora-repro-smoke-"));
const artifacts = resolve(import.meta.dirname, "..", "artifacts");

afterAll(() => {
  rmSync(out, { recursive: true, force: true });
});

describe("the smoke preset end to end", () => {
  it("runs every experiment, writes every section of the report, and skips completed runs on a re-run", {
    timeout: 120_000,
  }, async () => {
    const lines: string[] = [];
    const first = await runRepro({ preset: "smoke", out, write: (t) => lines.push(t), interactive: false });
    expect(first.runs.failed, lines.join("")).toBe(0);
    expect(first.runs.ran).toBe(first.runs.total);
    const markdown = readFileSync(first.reportMarkdown, "utf8");
    for (const experiment of loadExperiments()) expect(markdown).toContain(`## ${experiment.title}`);
    expect(markdown).toContain("## Directional claims");
    expect(markdown).toContain("Preset: **smoke**");
    expect(markdown).toContain("https://github.com/OnePunchMonk/KoRA/");
    expect(markdown).toMatch(/\| LoRA \(r=8\) \| source \| [\d.]+ ± [\d.]+ \| 1\.45 \|/);
    expect(markdown).toMatch(/shuffled target labels .*(ok: at chance|LEAK\?)/);
    expect(lines.join("")).toMatch(/\[\d+\/\d+\] .* \| plan \d+% .*ETA/);
    const run = JSON.parse(readFileSync(join(out, "runs", `${readdirFirst(join(out, "runs"))}`), "utf8"));
    expect(run).toMatchObject({
      status: "ok",
      backend: "wasm",
      git: expect.any(Object),
      timings: expect.any(Object),
    });
    expect(existsSync(join(out, "figures", "cka-kora-dcomp4-selected.png"))).toBe(true);
    // Every run frees what it built, adapters included.
    const gatedTasks = new Set<string>();
    let fullTransfers = 0;
    for (const file of readdirSync(join(out, "runs"))) {
      const result = JSON.parse(readFileSync(join(out, "runs", file), "utf8"));
      expect(result.extra.tensorsLeaked, file).toBe(0);
      // Full fine-tuning trains its new head at the head's own rate, every other method at the run's one rate.
      if (result.task === "source" && result.status === "ok" && result.method.kind !== "pixel-probe") {
        const full = result.method.kind === "full";
        expect(result.extra.headLearningRate, file).toBe(full ? 3e-3 : result.extra.learningRate);
        if (full) expect(result.extra.learningRate, file).toBe(1e-3);
      }
      // The same on the target: full fine-tuning's head at the target's head rate, unless the source model is frozen.
      if (result.task === "transfer" && result.status === "ok" && result.method.kind === "full") {
        const upstream = result.extra.protocol === "upstream";
        expect(result.extra.headLearningRate, file).toBe(upstream ? result.extra.learningRate : 3e-3);
        fullTransfers++;
      }
      // Every KoRA run that trains records where its gates ended, one per block, whatever the task (4.3 and the
      // compressibility study measure a source run's model and train nothing).
      if (
        result.task !== "cka" &&
        result.task !== "compress" &&
        result.method.kind === "adapter" &&
        result.method.adapter.method === "kora"
      ) {
        // One gate per block; three (q, k, v) for the composition that reaches every projection.
        const perBlock = result.method.adapter.apply === "composed-qkv" ? 3 : 1;
        expect(
          result.extra.gates.map((g: { block: number }) => g.block),
          file,
        ).toEqual([0, 1].flatMap((block) => Array(perBlock).fill(block)));
        // ... and the path there: the last recorded point is where the gates ended, and no gate moved farther
        // than Adam's reach (Σ lr; Adam's step is about lr, 5 % allowed for its bias correction's overshoot).
        // (The upstream protocol freezes the source adapter: its gates do not train and record no path.)
        const path = result.extra.gateTrajectory ?? { steps: [], reach: [], gates: [] };
        expect(path.steps.length > 0, file).toBe(result.extra.protocol !== "upstream");
        if (path.steps.length > 0) expect(path.steps.at(-1), file).toBe(result.curve.at(-1).step);
        expect(
          [...path.steps].sort((a: number, b: number) => a - b),
          file,
        ).toEqual(path.steps);
        path.gates.forEach((g: { absMean: number[]; moved: number[] }, i: number) => {
          expect(g.absMean.at(-1), file).toBe(result.extra.gates[i].absMean);
          g.moved.forEach((moved, k) => {
            expect(moved, file).toBeLessThanOrEqual(path.reach[k] * 1.05 + 1e-7);
          });
        });
        gatedTasks.add(result.task);
      }
    }
    expect([...gatedTasks].sort()).toEqual(["dense", "segment", "source", "transfer"]);
    expect(fullTransfers).toBeGreaterThan(0);

    const second = await runRepro({ preset: "smoke", out, write: () => {}, interactive: false });
    expect(second.runs).toMatchObject({ ran: 0, skipped: first.runs.total, failed: 0 });
  });

  it.runIf(runInBrowser)(
    "renders report.html in headless Chromium with its tables and figures",
    { timeout: 60_000 },
    async () => {
      expect(existsSync(CHROMIUM), `${CHROMIUM} is missing; CI must install chromium`).toBe(true);
      const html = join(out, "report.html");
      expect(existsSync(html)).toBe(true);
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
        ],
      });
      try {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        await page.goto(`file://${html}`);
        const counts = await page.evaluate(() => ({
          tables:
            document.querySelectorAll("table").length -
            document.querySelectorAll(".gates table, .cross-cka table").length,
          gateTables: document.querySelectorAll(".gates table").length,
          rows: document.querySelectorAll("tbody tr").length,
          svgs: document.querySelectorAll("figure svg").length,
          heatmaps: document.querySelectorAll('figure[data-figure^="4.3:"] svg rect').length,
          curves: document.querySelectorAll("figure svg polyline, figure svg circle").length,
          gateFigures: document.querySelectorAll('figure[data-figure*=":gates:"] svg polyline').length,
          provenance: document.querySelector("#provenance")?.textContent ?? "",
          findings: document.querySelectorAll("#findings tbody tr").length,
          crossPairs: document.querySelectorAll(".cross-cka tbody tr").length,
          external: document.querySelectorAll("[src],link[href]").length,
        }));
        // One table per experiment, plus checks, directional claims, the findings and the paper audit's two.
        expect(counts.tables).toBe(loadExperiments().length + 5);
        expect(counts.rows).toBeGreaterThan(30);
        // Beside the tables whose KoRA runs recorded gates (4.1, 4.2, 4.4 at least): where the gates ended.
        expect(counts.gateTables).toBeGreaterThanOrEqual(3);
        // Every figure is inline, once: as many as figures/ holds SVG files (smoke's 2 blocks are all selected, so
        // each CKA row draws one heatmap, not the same picture twice).
        const figureFiles = readdirSync(join(out, "figures")).filter((f) => f.endsWith(".svg"));
        expect(counts.svgs).toBe(figureFiles.length);
        expect(figureFiles.filter((f) => f.startsWith("cka-") && f.endsWith("-all.svg"))).toEqual([]);
        expect(counts.svgs).toBeGreaterThanOrEqual(4);
        expect(counts.heatmaps).toBeGreaterThan(8);
        expect(counts.curves).toBeGreaterThan(0);
        // Gate trajectories, one figure per gated row (blocks and Adam's reach as lines).
        expect(counts.gateFigures).toBeGreaterThanOrEqual(3);
        expect(counts.provenance).toContain("Preset: smoke");
        // Every question of claims/findings.json gets a row with an answer.
        expect(counts.findings).toBe(loadFindings().length);
        // 4.3's four models and the frozen backbone, every pair compared across models.
        expect(counts.crossPairs).toBe(10);
        expect(counts.external).toBe(0);
        const box = await page.locator("figure").first().boundingBox();
        expect(box?.width ?? 0).toBeGreaterThan(100);
        mkdirSync(artifacts, { recursive: true });
        await page.screenshot({ path: join(artifacts, "report-smoke.png"), fullPage: true });
        await page.locator("#exp-4\\.3").screenshot({ path: join(artifacts, "report-smoke-cka.png") });
      } finally {
        await browser.close();
      }
    },
  );
});

function readdirFirst(dir: string): string {
  return readdirSync(dir).find((n) => n.endsWith(".json")) as string;
}
