export { linear } from "./linear";
