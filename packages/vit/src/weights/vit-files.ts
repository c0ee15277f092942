/** Default file names of a Hugging Face checkpoint folder (what `loadViT` reads and `saveViT` writes). */
export const VIT_FILES = { weights: "model.safetensors", config: "config.json" } as const;
