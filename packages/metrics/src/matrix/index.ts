export type { DenseMatrix, Matrix, MatrixLike } from "./matrix";
export { assertMinRows, assertSameRows, centerColumns, toDense } from "./matrix";
