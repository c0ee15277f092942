#!/usr/bin/env node
import { main } from "./program";
import { handleClosedOutput } from "./support/closed-stdout";

handleClosedOutput(process.stdout, process.stderr);

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
