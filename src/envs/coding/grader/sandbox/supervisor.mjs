// Runs INSIDE the sandbox (`node --input-type=module -e <this file>`, the probe plan on stdin):
// runs every probe in a worker thread that imports the code under test, one probe at a time with
// a hard time limit each, and prints one marked line per outcome. A probe that hangs, crashes or
// exits its worker is reported as such and the next probe gets a fresh worker.
// This program is a convenience, not a judge: the code under test can reach it (same process), so
// the grader outside trusts none of its lines beyond "this is what the code returned", and holds
// the expected values itself. Node built-ins only.
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

const plan = JSON.parse(readFileSync(0, 'utf8'));

function report(line) {
  let text;
  try {
    text = JSON.stringify(line);
  } catch {
    text = JSON.stringify({ index: line.index, outcome: { kind: 'crashed', message: 'the probe answered with something unreadable' } });
  }
  process.stdout.write(`${plan.marker} ${text}\n`);
}

function startWorker() {
  const source = `data:text/javascript;base64,${Buffer.from(plan.workerSource).toString('base64')}`;
  const worker = new Worker(new URL(source), {
    workerData: { gauntletProbes: true, workdir: plan.workdir, suites: plan.suites },
    // Its console output is the code's own business: kept off stdout, where the outcomes go.
    stdout: true,
    stderr: true,
    resourceLimits: { maxOldGenerationSizeMb: plan.heapMb },
  });
  worker.stdout.resume();
  worker.stderr.resume();
  const state = { worker, dead: null, listener: null };
  const die = (message) => {
    state.dead ??= message;
    state.listener?.();
  };
  worker.on('error', (error) => die(`${error?.name ?? 'Error'}: ${error?.message ?? String(error)}`));
  worker.on('exit', (code) => die(`the worker exited (code ${code})`));
  return state;
}

/** The outcome of one probe, or why there is none; `reusable` says whether the worker may run the next. */
function runProbe(state, probe) {
  return new Promise((resolve) => {
    let done = false;
    const finish = (outcome, reusable) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      state.worker.off('message', onMessage);
      state.listener = null;
      resolve({ outcome, reusable });
    };
    const onMessage = (message) => {
      if (message?.stray !== undefined) report({ index: message.index, stray: message.stray });
      else if (message?.index === probe.index) finish(message.outcome, true);
    };
    const timer = setTimeout(() => finish({ kind: 'timeout', ms: plan.probeTimeoutMs }, false), plan.probeTimeoutMs);
    state.listener = () => finish({ kind: 'crashed', message: state.dead }, false);
    state.worker.on('message', onMessage);
    if (state.dead !== null) state.listener();
    else state.worker.postMessage({ index: probe.index, suite: probe.suite, run: probe.run });
  });
}

report({ started: true, probes: plan.probes.length });
let state = null;
for (const probe of plan.probes) {
  state ??= startWorker();
  const { outcome, reusable } = await runProbe(state, probe);
  report({ index: probe.index, outcome });
  if (!reusable || state.dead !== null) {
    await state.worker.terminate();
    state = null;
  }
}
if (state !== null) await state.worker.terminate();
process.exit(0);
