export type { CKAWorkerPoolOptions } from "./worker-pool";
export { CKAWorkerPool } from "./worker-pool";
