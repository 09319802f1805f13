// Sandboxes on other machines: a command through `gauntlet sandbox-server` (loopback here) against
// the same backend called in process, p50 and p99.
import { benchRemoteSandbox } from '../src/server/sandbox/index.ts';
import type { BenchFigure } from './types.ts';

export async function run(): Promise<BenchFigure[]> {
  const b = await benchRemoteSandbox({ commands: 200 });
  return (['p50Ms', 'p99Ms'] as const).map((p) => ({
    name: `remote exec of \`true\` (${b.backend} behind sandbox-server), ${p.slice(0, 3)}`,
    value: b.remote[p],
    unit: 'ms',
    baseline: { name: `local ${b.backend}, ${p.slice(0, 3)}`, value: b.local[p], unit: 'ms' },
    ratio: b.remote[p] / b.local[p],
    note: `${b.commands} commands over loopback HTTP`,
  }));
}
