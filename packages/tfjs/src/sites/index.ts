export type { AdaptableModel } from "./adaptable-model";
export type { FeedForwardHook, Qkv, QkvHook } from "./block-sites";
export { AttentionSite, MlpSite } from "./block-sites";
export type { LinearDeltaHook, LinearSiteOptions } from "./linear-site";
export { LinearSite } from "./linear-site";
