import { didYouMean } from "@kora/spec";
import { InvalidArgumentError } from "commander";

/** Argument parser for a flag that takes one of `values`, with a typo suggestion in the error. */
export function oneOf<T extends string>(values: readonly T[]): (value: string) => T {
  return (value) => {
    if ((values as readonly string[]).includes(value)) return value as T;
    throw new InvalidArgumentError(`expected one of ${values.join(", ")}${didYouMean(value, values)}.`);
  };
}

/** Argument parser for a positive integer flag. */
export function positiveInteger(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(number) || number < 1) {
    throw new InvalidArgumentError("expected a positive integer.");
  }
  return number;
}

/** The most threads of the wasm backend: `@kora/tfjs`'s `MAX_WASM_THREADS` (not imported: flags load no tfjs). */
export const MAX_WASM_THREADS = 8;

/** Argument parser for `--threads`: `auto` or an integer from 1 to {@link MAX_WASM_THREADS}. */
export function wasmThreads(value: string): number | "auto" {
  const trimmed = value.trim();
  if (trimmed.toLowerCase() === "auto") return "auto";
  const number = Number(trimmed);
  if (!/^\d+$/.test(trimmed) || number < 1 || number > MAX_WASM_THREADS) {
    throw new InvalidArgumentError(`expected auto or an integer from 1 to ${MAX_WASM_THREADS}.`);
  }
  return number;
}

/** Argument parser for a non-negative integer flag. */
export function nonNegativeInteger(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(number)) {
    throw new InvalidArgumentError("expected a non-negative integer.");
  }
  return number;
}

/** Argument parser for a finite number flag. */
export function finiteNumber(value: string): number {
  const number = Number(value);
  if (value.trim() === "" || !Number.isFinite(number)) throw new InvalidArgumentError("expected a number.");
  return number;
}

/** Argument parser for a comma-separated list (`a,b,c`; spaces around items are ignored). */
export function commaList(value: string): string[] {
  const items = value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
  if (items.length === 0) throw new InvalidArgumentError("expected a comma-separated list.");
  return items;
}

/** Argument parser for a comma-separated list of non-negative integers (`0,6,11`). */
export function integerList(value: string): number[] {
  return commaList(value).map((item) => {
    if (!/^\d+$/.test(item)) throw new InvalidArgumentError(`expected non-negative integers, got "${item}".`);
    return Number(item);
  });
}
