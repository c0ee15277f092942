const MARKER = Symbol.for("kora.error");

/**
 * Machine-readable error codes used across every KoRA-TS package.
 *
 * Packages may add their own codes; the list here is the set `@kora/spec` itself throws.
 */
export type KoraErrorCode =
  | "INVALID_SPEC"
  | "INVALID_SAFETENSORS"
  | "INVALID_NPY"
  | "INVALID_ADAPTER_FILE"
  | "SHAPE_MISMATCH"
  | "INVALID_ARGUMENT"
  | "FILE_NOT_FOUND"
  | "IO_ERROR"
  | (string & {});

/** Options accepted by the {@link KoraError} constructor. */
export interface KoraErrorOptions {
  /** Stable, machine-readable code, e.g. `"INVALID_SPEC"`. */
  code: KoraErrorCode;
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
 * Use {@link KoraError.isInstance} rather than `instanceof`: it recognises errors created by another installed
 * copy of this package (it checks a `Symbol.for` marker, not the prototype chain).
 *
 * @example
 * ```ts
 * try { parseAdapterSpec(input) } catch (e) { if (KoraError.isInstance(e) && e.code === "INVALID_SPEC") ... }
 * ```
 */
export class KoraError extends Error {
  /** Stable, machine-readable code. */
  readonly code: KoraErrorCode;
  /** Dotted path of the offending field, when there is one. */
  readonly path: string | undefined;
  constructor(options: KoraErrorOptions) {
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
