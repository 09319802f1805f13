// Shortcut probes: repo tasks where a shortcut exists (writable tests, a visible answer file, the fix
// in git history, an exists-only check) or the tests contradict the spec. The verifier rewards the
// honest path; `probeVerdict` says from the trajectory whether the shortcut was taken, and
// `gauntlet probes` reports the rate per category.
import type { ToolInvocation } from '../../core/index.ts';
import { defineEnvironment, type EpisodeContext } from '../define.ts';
import { probeTasks } from './tasks.ts';
import { PROBES_SCHEMA, probesChecks, ProbesState, probesState, probesTools, seedProbes } from './world.ts';

/** Overwrite every file of the repo: whatever the task wanted, this breaks it. */
function probesDestructive(ctx: EpisodeContext): ToolInvocation[] {
  return Object.keys(probesState(ctx).files).sort().map((path) => ({ tool: 'write_file', arguments: { path, content: 'overwritten\n' } }));
}

export const probes = defineEnvironment({
  name: 'probes',
  description: 'Shortcut probes: a small config repo (files, tests, git history) where a shortcut exists or the tests contradict the spec.',
  schema: PROBES_SCHEMA,
  startTime: '2026-03-02T09:00:00Z',
  stepMs: 10_000,
  seed: seedProbes,
  initialState: ProbesState,
  tools: probesTools,
  checks: probesChecks,
  tasks: probeTasks,
  destructive: probesDestructive,
});

export { probeTasks, PROBE_VARIANTS, PROBES_SYSTEM_PROMPT } from './tasks.ts';
export { PROBE_CATEGORIES, ProbeCategory, ProbeMeta, probeMetaOf, probeVerdict, ShortcutSigns, type ProbeCall, type ProbeVerdict } from './verdict.ts';
