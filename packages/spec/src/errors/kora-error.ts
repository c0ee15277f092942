const MARKER = Symbol.for("kora.error");

/**
 * The error codes `@kora/spec` throws; {@link SpecErrorCode} is their union. Each is described in the package
 * README's "Error codes" table, and a test fails when the sources throw a code missing from here or from it.
 */
export const SPEC_ERROR_CODES = [
  "INVALID_SPEC",
  "INVALID_SAFETENSORS",
  "INVALID_NPY",
  "INVALID_ADAPTER_FILE",
  "SHAPE_MISMATCH",
  "INVALID_ARGUMENT",
  "FILE_NOT_FOUND",
  "IO_ERROR",
] as const;

/** A code `@kora/spec` throws (see {@link SPEC_ERROR_CODES}). */
export type SpecErrorCode = (typeof SPEC_ERROR_CODES)[number];

/**
 * Any KoRA-TS error code: each package declares its own union (`SpecErrorCode`, `DatasetErrorCode`,
 * `TfjsErrorCode`, `VitErrorCode`, `MetricsErrorCode`); this open type accepts all of them.
 */
export type KoraErrorCode = SpecErrorCode | (string & {});

/** Options accepted by the {@link KoraError} constructor. */
export interface KoraErrorOptions<Code extends string = KoraErrorCode> {
  /** Stable, machine-readable code, e.g. `"INVALID_SPEC"`. */
  code: Code;
  /** Human-readable message naming the file or field and what was expected. */
  message: string;
  /** Dotted path of the offending field (`"composition.hidden"`), when the error concerns one field. */
  path?: string;
  /** The underlying error, if this one wraps another. */
  cause?: unknown;
}

/**
 * The one error class of KoRA-TS. Every package throws it (or a subclass) with a `code`.
 *
 * `Code` is the union of codes the throwing package declares: each package writes
 * `new KoraError<SpecErrorCode>({ code: "INVALID_SPEC", ... })`, so the compiler rejects a code the package has
 * not declared. Caught errors are `KoraError` (any code); narrow with `e.code === "..."`.
 *
 * Use {@link KoraError.isInstance} rather than `instanceof`: it recognises errors created by another installed
 * copy of this package (it checks a `Symbol.for` marker, not the prototype chain).
 *
 * @example
 * ```ts
 * try { parseAdapterSpec(input) } catch (e) { if (KoraError.isInstance(e) && e.code === "INVALID_SPEC") ... }
 * ```
 */
export class KoraError<Code extends string = KoraErrorCode> extends Error {
  /** Stable, machine-readable code. */
  readonly code: Code;
  /** Dotted path of the offending field, when there is one. */
  readonly path: string | undefined;
  constructor(options: KoraErrorOptions<Code>) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "KoraError";
    this.code = options.code;
    this.path = options.path;
    Object.defineProperty(this, MARKER, { value: true, enumerable: false });
  }

  /** True when `error` is a KoraError from any installed copy of any KoRA-TS package. */
  static isInstance(error: unknown): error is KoraError {
    return (
      typeof error === "object" &&
      error !== null &&
      (error as Record<symbol, unknown>)[MARKER] === true &&
      typeof (error as { code?: unknown }).code === "string"
    );
  }
}
