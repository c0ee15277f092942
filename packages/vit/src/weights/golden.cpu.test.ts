import { runGoldenSuite } from "../test-support/golden-suite";

runGoldenSuite("cpu");
