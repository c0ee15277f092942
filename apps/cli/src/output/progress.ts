import cliProgress from "cli-progress";
import type { Output } from "./context";

/** A progress indicator for a loop of known length. */
export interface Progress {
  /** Advances by `steps` (default 1). */
  tick(steps?: number): void;
  /** Ends the indicator (draws the final state). Safe to call twice. */
  stop(): void;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** What is being counted, e.g. `"batches"`. */
  label: string;
  /** Number of steps. */
  total: number;
}

/**
 * A progress bar (cli-progress) on stderr when stderr is a terminal; otherwise plain lines
 * (`label: 3/10 (30 %)`) at every tenth of the way, and nothing at all in `--json` mode.
 */
export function createProgress(output: Output, options: ProgressOptions): Progress {
  const { label, total } = options;
  const stderr = output.streams.stderr;
  if (stderr.isTTY === true) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted}`,
        stream: stderr as NodeJS.WriteStream,
        hideCursor: true,
        clearOnComplete: false,
        barsize: 30,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    let stopped = false;
    return {
      tick: (steps = 1) => bar.increment(steps),
      stop: () => {
        if (stopped) return;
        stopped = true;
        bar.stop();
      },
    };
  }
  let done = 0;
  let lastTenth = 0;
  let stopped = false;
  const report = (): void => {
    const tenth = total === 0 ? 10 : Math.floor((done / total) * 10);
    if (tenth === lastTenth) return;
    lastTenth = tenth;
    const percent = total === 0 ? 100 : Math.round((done / total) * 100);
    output.note(`${label}: ${done}/${total} (${percent} %)`);
  };
  return {
    tick: (steps = 1) => {
      done = Math.min(total, done + steps);
      report();
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      if (done < total) report();
    },
  };
}
