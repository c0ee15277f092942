import type { Command } from "commander";
import type { OutputStreams } from "../output/context";

/** Registers `kora datasets`. */
export function registerDatasets(_program: Command, _streams: OutputStreams): void {}
