// Reading a huge run: `gauntlet show RUN --json` (wall time and peak RSS of the whole command) and
// the viewer's GET /api/runs, over a run of 200,000 rollouts written straight into a store by SQL.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApiServer } from '../../src/server/api/server.ts';
import { openStore } from '../../src/store/index.ts';
import { writeRunBySql } from '../../src/store/test-support.ts';
import type { BenchFigure } from '../types.ts';

const GAUNTLET = fileURLToPath(new URL('../../bin/gauntlet.js', import.meta.url));
// Reports the command's peak RSS on its way out (maxRSS is in KiB).
const REPORT_RSS = `data:text/javascript,process.on('exit',()=>process.stderr.write('maxRssKb='+process.resourceUsage().maxRSS+'\\n'))`;

/** Runs `gauntlet ARGS`, discarding its output: seconds, peak RSS in MiB and bytes printed. */
async function timedCommand(args: readonly string[]): Promise<{ seconds: number; peakRssMb: number; bytes: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', REPORT_RSS, GAUNTLET, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let bytes = 0;
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (bytes += chunk.length));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const code = await new Promise<number | null>((resolve, reject) => child.once('error', reject).once('close', resolve));
  const seconds = (performance.now() - started) / 1000;
  const rss = /maxRssKb=(\d+)/.exec(err);
  if (code !== 0 || !rss) throw new Error(`gauntlet ${args.join(' ')} exited with status ${code}: ${err.slice(0, 500)}`);
  return { seconds, peakRssMb: Number(rss[1]) / 1024, bytes };
}

async function latencyMs(url: string, requests: number): Promise<{ p50: number; max: number }> {
  const samples: number[] = [];
  for (let i = 0; i < requests + 1; i++) {
    const started = performance.now();
    const response = await fetch(url);
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
    if (i > 0) samples.push(performance.now() - started); // the first warms the statement cache
  }
  samples.sort((a, b) => a - b);
  return { p50: samples[Math.floor(samples.length / 2)]!, max: samples.at(-1)! };
}

export async function benchBigRun(options: { tasks?: number; epochs?: number } = {}): Promise<BenchFigure[]> {
  const tasks = options.tasks ?? 2_000;
  const epochs = options.epochs ?? 100;
  const rollouts = (tasks * epochs).toLocaleString('en-US');
  const dir = mkdtempSync(join(tmpdir(), 'gauntlet-big-run-'));
  try {
    const path = join(dir, 'store.db');
    const runId = writeRunBySql(path, { runId: 'run_big', tasks, epochs });
    // The first command builds the command line's bundle when the sources changed: not timed.
    await timedCommand(['runs', '--store', path]);
    const show = await timedCommand(['show', runId, '--store', path, '--json']);
    const store = openStore(path, { readOnly: true });
    const server = await startApiServer({ store, port: 0 });
    let runs: { p50: number; max: number };
    try {
      runs = await latencyMs(`${server.url}/api/runs`, 5);
    } finally {
      await server.close();
      store.close();
    }
    return [
      { name: `show --json, ${rollouts} rollouts`, value: Number(show.seconds.toFixed(2)), unit: 's', note: `whole command; ${(show.bytes / 2 ** 20).toFixed(0)} MiB printed` },
      { name: `show --json peak RSS, ${rollouts} rollouts`, value: Math.round(show.peakRssMb), unit: 'MiB' },
      { name: `API GET /api/runs, a ${rollouts}-rollout run listed`, value: Number(runs.p50.toFixed(2)), unit: 'ms p50', note: `max ${runs.max.toFixed(1)} ms over 5 requests` },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
