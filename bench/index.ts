// `npm run bench`: runs every suite and prints its figures (`--json` for one JSON document).
// `npm run bench -- harness formats` runs only the named suites; `npm run bench -- env-cost --env
// mail --rollouts 30` runs one suite with its own flags (those it takes when run directly).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { missedTargets, verdict } from './targets.ts';
import type { BenchFigure, BenchSuite } from './types.ts';

const SUITES = ['harness', 'throughput', 'formats', 'envs', 'env-cost', 'sandbox', 'eval', 'training', 'gateway', 'openenv', 'perturb', 'rewards', 'queue', 'review', 'apps', 'remote-sandbox', 'soak'];
/** Suites that read flags of their own when run directly (`node --import tsx bench/NAME.ts --help` or their header says which). */
const SUITES_WITH_FLAGS = ['env-cost', 'throughput'];

/** Stops with exit status 2 before anything runs: a bench that measured nothing must not pass for one that did. */
function refuse(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
const json = args.includes('--json');
// Suite names come first; from the first flag on, the flags are the one named suite's own.
const rest = args.filter((a) => a !== '--json');
const firstFlag = rest.findIndex((a) => a.startsWith('-'));
const wanted = firstFlag < 0 ? rest : rest.slice(0, firstFlag);
const suiteFlags = firstFlag < 0 ? [] : rest.slice(firstFlag);
const unknown = wanted.filter((name) => !SUITES.includes(name));
if (unknown.length > 0) refuse(`unknown suite${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')} (expected one of ${SUITES.join(', ')})`);
if (suiteFlags.length > 0) {
  const [suite, ...others] = wanted;
  if (suite === undefined || others.length > 0) refuse(`${suiteFlags.join(' ')}: a suite's own flags go with that one suite, named before them (expected e.g. \`npm run bench -- env-cost --env mail --rollouts 30\`)`);
  if (!SUITES_WITH_FLAGS.includes(suite)) refuse(`suite ${suite} takes no flags of its own, given ${suiteFlags.join(' ')} (suites that do: ${SUITES_WITH_FLAGS.join(', ')})`);
}
const results: { suite: string; figures: BenchFigure[]; error?: string }[] = [];

/**
 * The suite's figures from its own script, run with `flags` (and --json) in a process of its own, so
 * the suite parses and checks its flags itself. A flag it refuses fails it, as any other error.
 */
async function runWithFlags(file: URL, flags: readonly string[]): Promise<BenchFigure[]> {
  if (flags.includes('--help')) {
    // Its usage, not figures: shown as the suite prints it.
    const help = spawn(process.execPath, [...process.execArgv, fileURLToPath(file), '--help'], { stdio: 'inherit' });
    const status = await new Promise<number | null>((resolve, reject) => help.once('error', reject).once('close', resolve));
    process.exit(status ?? 1);
  }
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(file), ...flags, '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const status = await new Promise<number | null>((resolve, reject) => child.once('error', reject).once('close', resolve));
  if (status !== 0) throw new Error(`${fileURLToPath(file)} ${flags.join(' ')} exited with status ${status} (its error is above)`);
  try {
    return JSON.parse(out) as BenchFigure[];
  } catch {
    throw new Error(`${fileURLToPath(file)} ${flags.join(' ')} printed no figures as JSON: ${out.slice(0, 200)}`);
  }
}

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
    const figures = suiteFlags.length > 0 ? await runWithFlags(file, suiteFlags) : await ((await import(file.href)) as { run: BenchSuite }).run();
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
