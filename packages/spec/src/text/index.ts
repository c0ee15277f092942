export { closestName, didYouMean } from "./did-you-mean";
