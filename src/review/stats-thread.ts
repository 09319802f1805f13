// A statistics thread: runs the alpha bootstraps the main thread sends, one message at a time,
// with the same `alphaWithInterval` the main thread would run, so the answers are the same bits.
import { parentPort } from 'node:worker_threads';
import { alphaWithInterval } from './agreement.ts';
import type { FromStatsThread, ToStatsThread } from './stats-service.ts';

const port = parentPort!;
port.on('message', (message: ToStatsThread) => {
  let reply: FromStatsThread;
  try {
    reply = { id: message.id, ok: true, alphas: message.jobs.map((job) => alphaWithInterval(job.units, job.options)) };
  } catch (error) {
    reply = { id: message.id, ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
