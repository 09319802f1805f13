// Reward hacking defences: rule-detector cost per 100-turn trajectory against storing it (target ≤ 1×),
// and what composing a reward costs per rollout for each kind of config.
import { benchRewardComposition } from '../src/reward/bench.ts';
import { benchDetectors } from '../src/reward/detectors/bench.ts';
import { openStore } from '../src/store/index.ts';
import { atMost } from './targets.ts';
import type { BenchFigure } from './types.ts';

export async function run(): Promise<BenchFigure[]> {
  const d = await benchDetectors({ openStore: () => openStore(':memory:'), turns: 100 });
  return [
    {
      name: `rule detectors on a ${d.turns}-turn trajectory (CPU)`,
      value: Number(d.detectCpuMs.toFixed(2)),
      unit: 'ms',
      baseline: { name: 'storing it (CPU)', value: Number(d.storeCpuMs.toFixed(2)), unit: 'ms' },
      ratio: d.ratio,
      targets: [atMost(1, 'ratio')],
      note: `wall-clock ratio ${d.wallRatio.toFixed(2)}×`,
    },
    ...(await benchRewardComposition()).cases.map((c) => ({
      name: `compose reward (${c.config}, ${c.terms} terms)`,
      value: Number(c.cpuMs.toFixed(2)),
      unit: 'CPU ms/rollout',
      note: `wall ${c.wallMs.toFixed(2)} ms`,
    })),
  ];
}
