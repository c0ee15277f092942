/**
 * `kora-repro`: the reproduction harness of KoRA-TS (the seed paper's experiments 4.1–4.4, ablations and
 * controls, with a report beside the paper's claims).
 * @packageDocumentation
 */
export { loadExperiments, parseExperiment } from "./config/experiments";
export type { Preset, PresetName } from "./config/presets";
export { DEFAULT_POOL, PRESET_NAMES, resolvePreset, SHIPPED_BACKBONE } from "./config/presets";
export type { Experiment, Variant } from "./config/schema";
export { main } from "./main";
export type { ConsumeOptions, ConsumeSummary, JobOutcome, Readiness } from "./queue/consume";
export { consumeQueue } from "./queue/consume";
export type { EnqueueOptions, EnqueueSummary } from "./queue/enqueue";
export { enqueuePlan } from "./queue/enqueue";
export type { QueueWorkerOptions, RunJobData } from "./queue/harness-worker";
export { DEFAULT_QUEUE_NAME, runQueueWorker } from "./queue/harness-worker";
export type { RunReproOptions, RunReproResult } from "./runner";
export { runRepro } from "./runner";
export type { FolderStoreOptions } from "./store/folder-store";
export { FolderStore } from "./store/folder-store";
export type { CommitOutcome, ResultsStore, RunClaim, StoredResult } from "./store/results-store";
