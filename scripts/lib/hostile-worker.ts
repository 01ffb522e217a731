/**
 * The client side of a hostile-input run, in a worker thread (see `HostileClient`): it
 * generates and sends the requests on the second core, so the server under test keeps its
 * event loop to itself. One job per endpoint, answered with its outcome.
 */
import { parentPort } from "node:worker_threads";

import { attack, hostileTargets, type HostileJob } from "./hostile-inputs.ts";

parentPort?.on("message", (job: HostileJob) => {
  const target = hostileTargets(job.fixture)[job.index];
  if (target === undefined) throw new Error(`no hostile target ${String(job.index)}`);
  void attack(job.baseUrl, target, job.runs, job.seed, job.options).then((outcome) => {
    parentPort?.postMessage(outcome);
  });
});
