import * as z from "zod/mini";
import { name as packageName, version as packageVersion } from "../../package.json";
import type { BackboneShape } from "../params/backbone-shape";
import type { AdapterSpec } from "../spec/types";

/** Value of `format` in every `adapter.json`. */
export const ADAPTER_FORMAT = "kora-adapter";
/** The adapter file format version this library writes; it reads this version and older ones. */
export const ADAPTER_FORMAT_VERSION = 1;
/**
 * The longest `adapter.json` the readers accept: 1 MiB (characters of text for `decodeAdapter`, bytes of file for
 * `readAdapterDir`). A real manifest is about 1 kB (spec, backbone shape, a few metadata strings); the cap bounds
 * what a hostile one costs to parse.
 */
export const MAX_ADAPTER_MANIFEST_BYTES = 1024 * 1024;
/** File names inside an adapter folder. */
export const ADAPTER_FILES = { manifest: "adapter.json", tensors: "adapter.safetensors" } as const;

/** The content of `adapter.json`. */
export interface AdapterManifest {
  /** Always {@link ADAPTER_FORMAT}. */
  format: typeof ADAPTER_FORMAT;
  /** Format version, {@link ADAPTER_FORMAT_VERSION} when written by this library. */
  formatVersion: number;
  /** The library that wrote the file. */
  library: { name: string; version: string };
  /** Adapter name (e.g. for multiple named adapters on one model). */
  name: string;
  /** The full adapter spec (defaults filled in). */
  spec: AdapterSpec;
  /** Shape of the backbone (and head) the adapter was trained on. */
  backbone: BackboneShape;
  /** Whether `adapter.safetensors` holds the classification head (`head.weight`, `head.bias`). */
  includesHead: boolean;
  /** Free-form string metadata (dataset, seed, ...). */
  metadata: Record<string, string>;
}

/** @internal */
export const LIBRARY = { name: packageName, version: packageVersion };

const positiveInt = () => z.number().check(z.int(), z.positive());

// Built on first use, not at import, like the spec schemas (see spec/schema.ts): a bundle that never reads an
// adapter file carries no zod for it.
const buildManifestSchema = () =>
  z.strictObject({
    format: z.literal(ADAPTER_FORMAT),
    formatVersion: z.number().check(z.int(), z.positive()),
    library: z.strictObject({ name: z.string(), version: z.string() }),
    name: z.string().check(z.minLength(1)),
    spec: z.unknown(),
    backbone: z.strictObject({
      dim: positiveInt(),
      depth: positiveInt(),
      heads: positiveInt(),
      mlpDim: positiveInt(),
      numClasses: z.number().check(z.int(), z.nonnegative()),
      patchSize: positiveInt(),
      imageSize: positiveInt(),
      channels: positiveInt(),
    }),
    includesHead: z.boolean(),
    metadata: z.record(z.string(), z.string()),
  });
let schema: ReturnType<typeof buildManifestSchema> | undefined;

/** @internal Schema of `adapter.json`; `spec` is validated separately by `parseAdapterSpec`. */
export function manifestSchema(): ReturnType<typeof buildManifestSchema> {
  schema ??= buildManifestSchema();
  return schema;
}
