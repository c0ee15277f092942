// Barrel of the training engine: optimizers, schedules, losses, train/evaluate, checkpoints, backend selection.
export {};
