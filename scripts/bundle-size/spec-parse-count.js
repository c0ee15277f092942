// A page that validates an adapter spec and counts its parameters: the smallest real use of @kora/spec.
import { countParameters, parseAdapterSpec } from "@kora/spec";

export function count(input, backbone) {
  return countParameters(parseAdapterSpec(input), backbone);
}
