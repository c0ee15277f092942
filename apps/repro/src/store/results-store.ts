/** What a results store keeps per run: at least its key and whether it completed. */
export interface StoredResult {
  key: string;
  status: "ok" | "failed";
}

/**
 * A run held by one worker: while it is held no other worker starts the run, and only its holder may commit the
 * run's result. A holder that dies stops renewing it, and after the store's lease time another worker may take it.
 */
export interface RunClaim {
  readonly key: string;
  /** Who holds it (worker id). */
  readonly owner: string;
  /** Whether this claim is still the run's current one (false once another worker took over a lapsed lease). */
  held(): boolean;
  /** Gives the run up (after its result is committed, or when the attempt ends without one). */
  release(): void;
}

/** What {@link ResultsStore.commit} did. */
export type CommitOutcome =
  /** The result is now the run's. */
  | "written"
  /** The run already had a result (another worker's), which stays: a run's result is written once. */
  | "exists"
  /** The claim had lapsed to another worker: nothing was written. */
  | "lost-claim";

/**
 * Where every worker of a plan reads and writes results, checkpoints and artifacts. The queue worker uses only
 * this interface, so a store other than a shared folder can follow; {@link FolderStore} is the one shipped.
 */
export interface ResultsStore<R extends StoredResult = StoredResult> {
  /**
   * Folder the tasks write checkpoints, artifacts and caches under (their layout is the local mode's: the same
   * folder serves `kora-repro --out` and the queue).
   */
  readonly root: string;
  /** A run's result, or null when it has none. */
  read(key: string): R | null;
  /** Every result, by key. */
  readAll(): Map<string, R>;
  /** Takes the run for `owner`, or returns null while another worker's lease on it is live. */
  claim(key: string, owner: string): RunClaim | null;
  /** Writes the run's result if `claim` is still held and the run has none yet; never overwrites a result. */
  commit(claim: RunClaim, result: R): CommitOutcome;
  /** Removes a run's result (re-running a failed run). */
  remove(key: string): void;
}
