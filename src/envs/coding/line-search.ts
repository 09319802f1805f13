// search_code's matching, off the main thread. The agent writes both the pattern and the files it
// runs over, so a backtracking pattern (`(a+)+$` over a line of a's) can take exponential time; in
// the runner's own thread that would freeze every rollout in the process, deadlines included. A
// worker thread runs the scan instead and is terminated when it runs past its time.
import { Worker } from 'node:worker_threads';

export interface LineHit {
  path: string;
  /** 1-based. */
  line: number;
  text: string;
}

export type LineSearch = { ok: true; hits: LineHit[]; stopped: boolean } | { ok: false; reason: 'timeout' };

const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { pattern, flags, files, max } = workerData;
const regex = new RegExp(pattern, flags);
const hits = [];
let stopped = false;
scan: for (const file of files) {
  for (const [i, line] of file.text.split('\\n').entries()) {
    if (!regex.test(line)) continue;
    hits.push({ path: file.path, line: i + 1, text: line });
    if (hits.length >= max) { stopped = true; break scan; }
  }
}
parentPort.postMessage({ hits, stopped });
`;

/**
 * The lines of `files` that `pattern` matches, in order, at most `max`; `{ ok: false }` when the
 * scan ran past `timeoutMs`. The pattern must already compile (the caller reports its syntax errors).
 */
export function searchLines(pattern: string, flags: string, files: readonly { path: string; text: string }[], options: { max: number; timeoutMs: number }): Promise<LineSearch> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(SOURCE, { eval: true, execArgv: [], workerData: { pattern, flags, files, max: options.max } });
    let settled = false;
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      settle();
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Timed from when the thread runs: a thread slow to start on a loaded machine is not the pattern's fault.
    worker.once('online', () => {
      if (!settled) timer = setTimeout(() => finish(() => resolve({ ok: false, reason: 'timeout' })), options.timeoutMs);
    });
    worker.on('message', (result: { hits: LineHit[]; stopped: boolean }) => finish(() => resolve({ ok: true, ...result })));
    worker.on('error', (error) => finish(() => reject(error)));
    worker.on('exit', (code) => finish(() => reject(new Error(`search_code: the search thread exited (code ${code}) without an answer`))));
  });
}
