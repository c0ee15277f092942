export type { DecodePeftAdapterInput, EncodePeftAdapterInput } from "./peft-adapter";
export { decodePeftAdapter, encodePeftAdapter, PEFT_FILES } from "./peft-adapter";
export type { PeftLoraConfig, ToPeftConfigOptions } from "./peft-config";
export { fromPeftConfig, toPeftConfig } from "./peft-config";
export { fromPeftTensorNames, peftHeadTensorName, peftTensorName, toPeftTensorNames } from "./peft-tensors";
