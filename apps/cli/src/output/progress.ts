import cliProgress from "cli-progress";
import type { Output } from "./context";

/** A progress indicator for a loop of known length. */
export interface Progress {
  /** Advances by `steps` (default 1); `detail` (e.g. `loss 0.41 | 350 img/s`) replaces the shown detail. */
  tick(steps?: number, detail?: string): void;
  /** Ends the indicator (draws the final state). Safe to call twice. */
  stop(): void;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** What is being counted, e.g. `"batches"`. */
  label: string;
  /** Number of steps. */
  total: number;
  /** Steps already done (a resumed run). Default 0. */
  start?: number;
  /**
   * Show a caller-supplied detail (passed to {@link Progress.tick}) instead of the bar's own percentage and ETA,
   * e.g. the training loop's loss, learning rate, images/s and ETA. Default false.
   */
  detail?: boolean;
}

/** Seconds as `42s` or `3m05s`; `?` when unknown. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

/**
 * A progress bar (cli-progress) on stderr when stderr is a terminal; otherwise plain lines (`label: 3/10 (30 %) |
 * ETA 4s`, or the caller's detail in place of the ETA) at every tenth of the way, and nothing at all in `--json`
 * mode.
 */
export function createProgress(output: Output, options: ProgressOptions): Progress {
  const { label, total } = options;
  const start = Math.min(total, options.start ?? 0);
  const stderr = output.streams.stderr;
  if (stderr.isTTY === true) {
    const bar = new cliProgress.SingleBar(
      {
        format:
          options.detail === true
            ? `${label} [{bar}] {value}/{total} | {detail}`
            : `${label} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted}`,
        stream: stderr as NodeJS.WriteStream,
        hideCursor: true,
        clearOnComplete: false,
        barsize: 30,
        // Redraw on every tick: a training step can be slower than the default redraw interval.
        forceRedraw: options.detail === true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, start, { detail: "" });
    let stopped = false;
    return {
      // After stop() a tick draws nothing: the bar may have been ended early (Ctrl-C) under a message.
      tick: (steps = 1, detail) => {
        if (!stopped) bar.increment(steps, detail === undefined ? {} : { detail });
      },
      stop: () => {
        if (stopped) return;
        stopped = true;
        bar.stop();
      },
    };
  }
  let done = start;
  const began = performance.now();
  let lastTenth = total === 0 ? 10 : Math.floor((done / total) * 10);
  let lastDetail = "";
  let stopped = false;
  const report = (): void => {
    const tenth = total === 0 ? 10 : Math.floor((done / total) * 10);
    if (tenth === lastTenth) return;
    lastTenth = tenth;
    const percent = total === 0 ? 100 : Math.round((done / total) * 100);
    // The caller's detail carries its own ETA (training); otherwise estimate from this loop's mean step time.
    const eta =
      options.detail === true
        ? ""
        : ` | ETA ${formatDuration(done === start ? null : (((performance.now() - began) / 1000) * (total - done)) / (done - start))}`;
    output.note(
      `${label}: ${done}/${total} (${percent} %)${lastDetail === "" ? "" : ` ${lastDetail}`}${eta}`,
    );
  };
  return {
    tick: (steps = 1, detail) => {
      done = Math.min(total, done + steps);
      if (detail !== undefined) lastDetail = detail;
      report();
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      if (done < total) {
        lastTenth = -1;
        report();
      }
    },
  };
}
