import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import { build } from "vite";
import { describe, expect, it } from "vitest";
import { fixturePath, readF32Safetensors } from "../test/helpers";

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
// In CI the runner installs chromium, so its absence is a failure there, never a skip.
const runInBrowser = haveChromium || process.env["CI"] !== undefined;
if (!runInBrowser)
  console.warn(`browser test skipped: ${CHROMIUM} not found (install Debian's chromium to run it)`);

/** Bundles src/index.ts as a classic script that defines `globalThis.KoraMetrics`. */
async function bundle(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), "kora-metrics-browser-"));
  try {
    await build({
      configFile: false,
      logLevel: "silent",
      root: resolve(import.meta.dirname, ".."),
      build: {
        outDir,
        emptyOutDir: true,
        minify: false,
        target: "es2022",
        lib: {
          entry: resolve(import.meta.dirname, "index.ts"),
          formats: ["iife"],
          name: "KoraMetrics",
          fileName: () => "metrics.js",
        },
      },
    });
    return readFileSync(join(outDir, "metrics.js"), "utf8");
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

describe.runIf(runInBrowser)("in headless Chromium (browser bundle)", () => {
  it("computes the golden CKA values (synchronous, and asynchronous on Web Workers) and renders a heatmap", {
    timeout: 90_000,
  }, async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing; CI must install chromium`).toBe(true);
    const code = await bundle();
    expect(code).not.toMatch(/require\(|from "node:/);
    const tensors = readF32Safetensors(fixturePath("cka", "basic.safetensors"));
    const expected = JSON.parse(readFileSync(fixturePath("cka", "basic.expected.json"), "utf8")) as Record<
      string,
      number
    >;
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
      const page = await browser.newPage();
      await page.setContent("<!doctype html><html><body></body></html>");
      await page.addScriptTag({ content: code });
      const result = await page.evaluate(
        async ({ xs, ys }) => {
          // biome-ignore lint/suspicious/noExplicitAny: the bundle's global, typed at the call sites below
          const M = (globalThis as any).KoraMetrics;
          // Counts the Web Workers the pool starts, so the test knows the async values came from workers.
          let workersStarted = 0;
          const PageWorker = globalThis.Worker;
          globalThis.Worker = class extends PageWorker {
            constructor(url: string | URL, options?: WorkerOptions) {
              super(url, options);
              workersStarted++;
            }
          };
          const x = { rows: 100, cols: 10, data: new Float32Array(xs) };
          const y = { rows: 100, cols: 10, data: new Float32Array(ys) };
          const grid = new M.MinibatchCKA();
          for (let b = 0; b < 5; b++) {
            const part = (m: typeof x) => ({
              rows: 20,
              cols: 10,
              data: m.data.slice(b * 200, (b + 1) * 200),
            });
            grid.update([part(x)], [part(y)]);
          }
          let code: string | undefined;
          try {
            M.linearCKA({ rows: 3, cols: 1, data: [1, 1, 1] }, { rows: 3, cols: 1, data: [1, 2, 3] });
          } catch (error) {
            code = M.KoraError.isInstance(error) ? (error as { code: string }).code : "not a KoraError";
          }
          document.body.innerHTML = M.heatmapSvg(M.ckaMatrix([x, y]), {
            title: "CKA",
            rowLabels: ["x", "y"],
            colLabels: ["x", "y"],
          });
          const svg = document.querySelector("svg");
          const pool = new M.CKAWorkerPool({ threads: 2 });
          const linearAsync = (await M.linearCKAAsync(x, y, { pool })) as number;
          const linearDebiasedAsync = (await M.linearCKAAsync(x, y, { pool, debiased: true })) as number;
          const asyncGrid = new M.MinibatchCKA();
          for (let b = 0; b < 5; b++) {
            const part = (m: typeof x) => ({
              rows: 20,
              cols: 10,
              data: m.data.slice(b * 200, (b + 1) * 200),
            });
            await asyncGrid.updateAsync([part(x)], [part(y)], { pool });
          }
          let asyncCode: string | undefined;
          try {
            await M.linearCKAAsync(
              { rows: 3, cols: 1, data: [1, 1, 1] },
              { rows: 3, cols: 1, data: [1, 2, 3] },
              { pool },
            );
          } catch (error) {
            asyncCode = M.KoraError.isInstance(error) ? (error as { code: string }).code : "not a KoraError";
          }
          await pool.close();
          return {
            linearAsync,
            linearDebiasedAsync,
            minibatchAsync: asyncGrid.result()[0][0] as number,
            asyncCode,
            workersStarted,
            sharedMemory: globalThis.crossOriginIsolated,
            linear: M.linearCKA(x, y) as number,
            linearDebiased: M.linearCKA(x, y, { debiased: true }) as number,
            rbf05: M.rbfCKA(x, y, { threshold: 0.5 }) as number,
            rbf10: M.rbfCKA(x, y, { threshold: 1 }) as number,
            rbf05Debiased: M.rbfCKA(x, y, { threshold: 0.5, debiased: true }) as number,
            minibatch: grid.result()[0][0] as number,
            code,
            svgWidth: svg?.getBoundingClientRect().width ?? 0,
            texts: svg?.querySelectorAll("text").length ?? 0,
          };
        },
        { xs: Array.from(tensors["x"]!.data), ys: Array.from(tensors["y"]!.data) },
      );
      expect(Math.abs(result.linear - expected["linear"]!)).toBeLessThan(1e-9);
      expect(Math.abs(result.linearDebiased - expected["linear_debiased"]!)).toBeLessThan(1e-9);
      expect(Math.abs(result.rbf05 - expected["rbf_0.5"]!)).toBeLessThan(1e-9);
      expect(Math.abs(result.rbf10 - expected["rbf_1.0"]!)).toBeLessThan(1e-9);
      expect(Math.abs(result.rbf05Debiased - expected["rbf_0.5_debiased"]!)).toBeLessThan(1e-9);
      expect(Math.abs(result.minibatch - expected["minibatch_linear_b20"]!)).toBeLessThan(1e-9);
      expect(result.code).toBe("CONSTANT_FEATURES");
      // The asynchronous API on two Web Workers (transferred slices: the page is not cross-origin isolated).
      expect(result.workersStarted).toBe(2);
      expect(result.sharedMemory).toBe(false);
      expect(Math.abs(result.linearAsync - expected["linear"]!)).toBeLessThan(1e-9);
      expect(Math.abs(result.linearDebiasedAsync - expected["linear_debiased"]!)).toBeLessThan(1e-9);
      expect(Math.abs(result.minibatchAsync - expected["minibatch_linear_b20"]!)).toBeLessThan(1e-9);
      expect(result.asyncCode).toBe("CONSTANT_FEATURES");
      expect(result.svgWidth).toBeGreaterThan(100);
      expect(result.texts).toBeGreaterThanOrEqual(4 + 4 + 5 + 1); // values, labels, ticks, title
    } finally {
      await browser.close();
    }
  });
});
