// `npm run bench`: runs every suite and prints its figures (`--json` for one JSON document).
// `npm run bench -- harness formats` runs only the named suites.
import { existsSync } from 'node:fs';
import { missedTargets, verdict } from './targets.ts';
import type { BenchFigure, BenchSuite } from './types.ts';

const SUITES = ['harness', 'throughput', 'formats', 'envs', 'env-cost', 'sandbox', 'eval', 'training', 'gateway', 'openenv', 'perturb', 'rewards', 'queue', 'review', 'apps', 'remote-sandbox', 'soak'];

const args = process.argv.slice(2);
const json = args.includes('--json');
const wanted = args.filter((a) => !a.startsWith('--'));
const results: { suite: string; figures: BenchFigure[]; error?: string }[] = [];

function format(f: BenchFigure): string {
  const value = Number.isInteger(f.value) ? f.value.toLocaleString('en-US') : f.value.toFixed(3);
  const base = f.baseline ? `  vs ${f.baseline.name}: ${f.baseline.value.toLocaleString('en-US')} ${f.baseline.unit}` : '';
  const ratio = f.ratio !== undefined ? `  ratio ${f.ratio.toFixed(2)}×` : '';
  return `  ${f.name}: ${value} ${f.unit}${base}${ratio}${f.note ? `  (${f.note})` : ''}${verdict(f)}`;
}

for (const suite of SUITES.filter((s) => wanted.length === 0 || wanted.includes(s))) {
  const file = new URL(`./${suite}.ts`, import.meta.url);
  if (!existsSync(file)) continue;
  process.stderr.write(`bench ${suite} …\n`);
  try {
    const mod = (await import(file.href)) as { run: BenchSuite };
    const figures = await mod.run();
    results.push({ suite, figures });
    if (!json) process.stdout.write(`${suite}\n${figures.map(format).join('\n')}\n`);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    results.push({ suite, figures: [], error: message });
    process.stderr.write(`bench ${suite} failed: ${message}\n`);
    process.exitCode = 1;
  }
}
/** true or false for a figure with targets; null where they could not be judged. */
const judge = (f: BenchFigure): boolean | null => {
  const missedHere = missedTargets(f);
  return missedHere === null ? null : missedHere.length === 0;
};
const missed = results.flatMap(({ figures }) => figures.filter((f) => missedTargets(f)?.length));
if (json) {
  const judged = results.map((r) => ({ ...r, figures: r.figures.map((f) => (f.targets ? { ...f, met: judge(f) } : f)) }));
  process.stdout.write(`${JSON.stringify({ results: judged, missedTargets: missed.map((f) => f.name) }, null, 2)}\n`);
} else {
  const judged = results.flatMap(({ figures }) => figures.filter((f) => missedTargets(f) !== null)).length;
  process.stdout.write(`\ntargets: ${judged - missed.length} of ${judged} met in this run${missed.length ? `; missed:\n${missed.map((f) => `  ${f.name}${verdict(f)}`).join('\n')}` : ''}\n`);
}
