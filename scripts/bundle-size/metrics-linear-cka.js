// A page that compares two representations with linear CKA: @kora/metrics' smallest real use.
import { linearCKA } from "@kora/metrics";

export const similarity = linearCKA;
