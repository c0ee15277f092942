import type { Command } from "commander";
import type { OutputStreams } from "../output/context";

/** Registers `kora cka`. */
export function registerCka(_program: Command, _streams: OutputStreams): void {}
