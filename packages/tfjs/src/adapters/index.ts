// Barrel of the adapter methods (LoRA, KoRA, AdapterFusion): injection, merge, save/load, peft export.
export {};
