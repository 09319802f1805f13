// CPU one environment episode costs on the main thread: instantiate → reset(task, {seed}) →
// 10 tool calls → verify → close, over many seeds, split into phases. This is the environment's
// share of each model call in bench/throughput.ts (which runs the same loop for mail). Environments
// that keep seeded worlds are measured again in groups of GROUP episodes sharing each world, as
// the rollouts of a GRPO group do.
//   node --import tsx bench/env-cost.ts [--env mail] [--rollouts 300]
//   node --cpu-prof --import tsx bench/env-cost.ts --env mail --rollouts 500   (for a profile)
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { InputError, type JsonObject } from '../src/core/index.ts';
import { getEnvironment, instantiate } from '../src/envs/index.ts';
import type { BenchFigure } from './types.ts';

const TURNS = 10;
const WARM_UP = 20;
const GROUP = 8;
/** Seeds of the grouped episodes sit here, apart from every world the other runs seeded. */
const GROUP_SEEDS = 2_000_000;

/** Each measured environment and the cheap read-only tool its episodes call (qa has no tools). */
const CASES: readonly EnvCase[] = [
  { env: 'mail', tool: 'list_folders', args: {} },
  { env: 'calendar', tool: 'list_people', args: {} },
  { env: 'notes', tool: 'list_members', args: {} },
  { env: 'workplace', tool: 'list_folders', args: {} },
  { env: 'qa' },
];

interface EnvCase {
  env: string;
  tool?: string;
  args?: JsonObject;
}

/** CPU milliseconds per episode, per phase; `call` is per single tool call. */
export interface EpisodeCost {
  episode: number;
  reset: number;
  call: number;
  verify: number;
  close: number;
  calls: number;
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/**
 * Runs `rollouts` episodes of the env's first task with seeds 0..rollouts-1 (or, given `groupSize`,
 * each seed for that many episodes in a row) and averages their CPU by phase.
 */
export async function measureEpisodes(options: EnvCase & { rollouts: number; groupSize?: number }): Promise<EpisodeCost> {
  const { env: name, tool, args = {}, rollouts, groupSize = 1 } = options;
  const definition = getEnvironment(name);
  const task = definition.tasks()[0];
  if (!task) throw new InputError(`bench/env-cost.ts: env ${name}`, 'has no tasks', 'an environment with built-in tasks');
  const signal = new AbortController().signal;
  const turns = tool ? TURNS : 0;
  const totals = { instantiate: 0, reset: 0, call: 0, verify: 0, close: 0 };
  const episode = async (seed: number, record: boolean): Promise<void> => {
    let t = process.cpuUsage();
    const env = instantiate(definition);
    const created = cpuMsSince(t);
    t = process.cpuUsage();
    await env.reset(task, { seed });
    const reset = cpuMsSince(t);
    t = process.cpuUsage();
    for (let i = 0; i < turns; i++) {
      const outcome = await env.call(tool!, args, { signal });
      if (!outcome.ok) throw new InputError(`bench/env-cost.ts: ${name}.${tool!}`, outcome.error, 'a tool that succeeds with these arguments');
    }
    const calls = cpuMsSince(t);
    t = process.cpuUsage();
    await env.verify({ answer: 'Done.' });
    const verify = cpuMsSince(t);
    t = process.cpuUsage();
    await env.close();
    const close = cpuMsSince(t);
    if (!record) return;
    totals.instantiate += created;
    totals.reset += reset;
    totals.call += calls;
    totals.verify += verify;
    totals.close += close;
  };
  // Warm-up seeds sit above the measured ones so every measured world is seeded for the first time.
  for (let r = 0; r < WARM_UP; r++) await episode(1_000_000 + r, false);
  for (let r = 0; r < rollouts; r++) await episode(groupSize === 1 ? r : GROUP_SEEDS + Math.floor(r / groupSize), true);
  const all = totals.instantiate + totals.reset + totals.call + totals.verify + totals.close;
  return {
    episode: all / rollouts,
    reset: totals.reset / rollouts,
    call: turns > 0 ? totals.call / (rollouts * turns) : 0,
    verify: totals.verify / rollouts,
    close: totals.close / rollouts,
    calls: turns,
  };
}

function figures(c: EnvCase, cost: EpisodeCost, rollouts: number): BenchFigure[] {
  const round = (n: number) => Number(n.toFixed(4));
  const label = `${c.env} (${rollouts} episodes${c.tool ? `, ${TURNS} × ${c.tool}` : ', no tool calls'})`;
  const out: BenchFigure[] = [
    { name: `${label}: CPU per episode`, value: round(cost.episode), unit: 'ms' },
    { name: `${label}: CPU in reset`, value: round(cost.reset), unit: 'ms' },
  ];
  if (cost.calls > 0) {
    // The model calls of an episode: one per tool call plus the final answer, as in bench/throughput.ts.
    out.push({ name: `${label}: CPU per model call (episode / ${cost.calls + 1})`, value: round(cost.episode / (cost.calls + 1)), unit: 'ms' });
    out.push({ name: `${label}: CPU per tool call`, value: round(cost.call), unit: 'ms' });
  }
  out.push({ name: `${label}: CPU in verify`, value: round(cost.verify), unit: 'ms' });
  out.push({ name: `${label}: CPU in close`, value: round(cost.close), unit: 'ms' });
  return out;
}

export async function run(options: { rollouts?: number; envs?: readonly string[] } = {}): Promise<BenchFigure[]> {
  const rollouts = options.rollouts ?? 300;
  const out: BenchFigure[] = [];
  for (const c of CASES.filter((x) => !options.envs || options.envs.includes(x.env))) {
    const alone = await measureEpisodes({ ...c, rollouts });
    out.push(...figures(c, alone, rollouts));
    if (!getEnvironment(c.env).seededWorlds) continue;
    const grouped = await measureEpisodes({ ...c, rollouts, groupSize: GROUP });
    out.push({
      name: `${c.env} (${rollouts} episodes in groups of ${GROUP} sharing a world): CPU per episode`,
      value: Number(grouped.episode.toFixed(4)),
      unit: 'ms',
      baseline: { name: 'each episode its own world', value: Number(alone.episode.toFixed(4)), unit: 'ms' },
      ratio: grouped.episode / alone.episode,
      note: `reset ${grouped.reset.toFixed(3)} ms against ${alone.reset.toFixed(3)} ms: the group's first two episodes seed, the rest open a copy of the kept world`,
    });
  }
  return out;
}

async function main(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({ args: [...argv], options: { env: { type: 'string', multiple: true }, rollouts: { type: 'string' }, json: { type: 'boolean' } } });
  const rollouts = values.rollouts === undefined ? undefined : Number(values.rollouts);
  if (rollouts !== undefined && (!Number.isInteger(rollouts) || rollouts <= 0)) {
    throw new InputError('bench/env-cost.ts: --rollouts', `'${values.rollouts}' is not a positive integer`, 'e.g. 300');
  }
  const known = CASES.map((c) => c.env);
  for (const env of values.env ?? []) {
    if (!known.includes(env)) throw new InputError('bench/env-cost.ts: --env', `unknown environment '${env}'`, known.join(', '));
  }
  const result = await run({ ...(rollouts ? { rollouts } : {}), ...(values.env ? { envs: values.env } : {}) });
  if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else for (const f of result) process.stdout.write(`${f.name}: ${f.value} ${f.unit}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main(process.argv.slice(2));
