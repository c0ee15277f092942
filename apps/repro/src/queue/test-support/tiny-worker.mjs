// A worker process of the load test: the queue's real consumer and folder store, with a tiny job (a hash of the
// run key) in place of a training run. Arguments: redis port, queue name, store folder. Imports the built app.
import { createHash } from "node:crypto";
import { appendFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { consumeQueue, FolderStore } from "../../../dist/index.js";

const [port, queue, root] = process.argv.slice(2);
const owner = `${hostname()}:${process.pid}`;
const store = new FolderStore(root, { leaseMs: 5000 });
const summary = await consumeQueue({
  connection: { host: "127.0.0.1", port: Number(port), maxRetriesPerRequest: null },
  queue,
  store,
  owner,
  lockMs: 5000,
  untilEmpty: true,
  run: async (job) => {
    const digest = createHash("sha256").update(String(job.id)).digest("hex");
    // One line per execution, appended: the test counts how often each job really ran.
    appendFileSync(join(root, "executions.log"), `${job.id} ${owner}\n`);
    return { key: String(job.id), status: "ok", digest, worker: owner };
  },
});
process.stderr.write(`tiny worker ${owner}: ${summary.completed} completed, ${summary.failed} failed\n`);
