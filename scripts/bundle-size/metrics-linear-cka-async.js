// A page that compares two representations with linear CKA on Web Workers (the worker's code travels as source
// text inside the bundle: no second file to serve).
import { CKAWorkerPool, linearCKAAsync } from "@kora/metrics";

export const similarity = (x, y) => linearCKAAsync(x, y, { pool: new CKAWorkerPool() });
