import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import * as kora from "../../index";

function registeredClassNames(): string[] {
  return Object.keys(tf.serialization.SerializationMap.getMap().classNameMap);
}

describe("registerAdapterLayers", () => {
  it("importing the package registers nothing; the explicit call registers both layer classes, once", () => {
    // The whole package entry is imported above: with sideEffects: false, import alone must not register.
    expect(registeredClassNames()).not.toContain("KoraLoraDense");
    expect(registeredClassNames()).not.toContain("KoraValueDense");
    kora.registerAdapterLayers();
    kora.registerAdapterLayers();
    expect(registeredClassNames()).toContain(kora.LoraDense.className);
    expect(registeredClassNames()).toContain(kora.KoraValueDense.className);
  });
});
