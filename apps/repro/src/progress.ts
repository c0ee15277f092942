/** Progress of the whole plan: runs done / total, the current run's steps, and an ETA from the rate so far. */
export class PlanProgress {
  private doneUnits = 0;
  private spentSeconds = 0;
  private runStarted = 0;
  private runUnits = 0;
  private current = "";
  private lastLine = 0;
  private readonly started = performance.now();
  private index = 0;

  constructor(
    private readonly total: number,
    private readonly totalUnits: number,
    private readonly write: (text: string) => void,
    private readonly interactive: boolean,
  ) {}

  /** A run starts (`units`: its planned cost in steps). */
  start(name: string, units: number): void {
    this.index++;
    this.current = name;
    this.runUnits = units;
    this.runStarted = performance.now();
    this.step(0, 0, true);
  }

  /** A run was skipped (already complete). */
  skip(units: number): void {
    this.index++;
    this.doneUnits += units;
  }

  /** Steps of the current run. */
  step(done: number, total: number, force = false): void {
    const now = performance.now();
    if (!force && now - this.lastLine < (this.interactive ? 250 : 5000)) return;
    this.lastLine = now;
    const runFraction = total > 0 ? done / total : 0;
    const elapsed = this.spentSeconds + (now - this.runStarted) / 1000;
    const unitsDone = this.doneUnits + runFraction * this.runUnits;
    const remaining = Math.max(0, this.totalUnits - unitsDone);
    const eta = unitsDone > 0 && this.spentSeconds > 0 ? (elapsed / unitsDone) * remaining : null;
    const percent = Math.floor((100 * unitsDone) / Math.max(1, this.totalUnits));
    const line =
      `[${this.index}/${this.total}] ${this.current}` +
      (total > 0 ? ` step ${done}/${total}` : "") +
      ` | plan ${percent}%` +
      ` | elapsed ${formatDuration((now - this.started) / 1000)}` +
      (eta === null ? "" : ` | ETA ${formatDuration(eta)}`);
    this.write(this.interactive ? `\r\x1b[2K${line}` : `${line}\n`);
  }

  /** The current run ended. */
  finish(status: string): void {
    const seconds = (performance.now() - this.runStarted) / 1000;
    this.spentSeconds += seconds;
    this.doneUnits += this.runUnits;
    const line = `[${this.index}/${this.total}] ${this.current}: ${status} in ${seconds.toFixed(1)} s`;
    this.write(this.interactive ? `\r\x1b[2K${line}\n` : `${line}\n`);
  }
}

/** `75` → `1m15s`. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(s % 60).padStart(2, "0")}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}
