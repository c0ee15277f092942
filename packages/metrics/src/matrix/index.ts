export type { DenseMatrix, Matrix, MatrixLike, SourceMatrix } from "./matrix";
export { assertMinRows, assertSameRows, centerColumns, nonFinite, toDense, toSource } from "./matrix";
