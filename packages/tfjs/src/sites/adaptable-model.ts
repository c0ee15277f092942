import type { BackboneShape } from "@kora/spec";
import type * as tf from "@tensorflow/tfjs";
import type { AttentionSite, MlpSite } from "./block-sites";

/**
 * What a backbone offers to adapter methods (implemented by `@kora/vit`'s ViT; any transformer can implement it).
 * Adapters are attached through the sites; the backbone never knows which method is used.
 */
export interface AdaptableModel {
  /** The backbone's shape, as `@kora/spec` counts parameters for it. */
  readonly backboneShape: BackboneShape;
  /** One attention site per block, index = block. */
  readonly attentionSites: readonly AttentionSite[];
  /** One MLP site per block, index = block. */
  readonly mlpSites: readonly MlpSite[];
  /** Every variable of the backbone (embeddings, blocks, final norm), head excluded. */
  backboneVariables(): tf.Variable[];
  /** The head's variables. */
  headVariables(): tf.Variable[];
}
