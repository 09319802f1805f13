// responses.transient: some tools fail their first call(s) with a transient error, as flaky
// services do. The failing call never reaches the environment (nothing half-done), and retrying
// succeeds; the golden solution retries, so the oracle still solves the task.
import { z } from 'zod';
import type { ToolInvocation } from '../../core/index.ts';
import { definePerturbation, type LayerSession } from '../types.ts';

/** The steps with `times` extra copies before the first call of each flaky tool. */
export function withRetries(steps: readonly ToolInvocation[], flaky: ReadonlySet<string>, times: number): ToolInvocation[] {
  const seen = new Set<string>();
  return steps.flatMap((step) => {
    if (!flaky.has(step.tool) || seen.has(step.tool)) return [step];
    seen.add(step.tool);
    return [...Array.from({ length: times }, () => structuredClone(step)), step];
  });
}

export const transient = definePerturbation({
  id: 'responses.transient',
  family: 'responses',
  summary: 'makes the first call(s) of some tools fail with a transient error; retrying succeeds',
  randomised: () => true,
  params: z
    .object({
      /** Share of the tools that are flaky (at least one is). */
      rate: z.number().gt(0).max(1).default(0.3),
      /** Failures before a flaky tool works. */
      times: z.number().int().min(1).max(3).default(1),
    })
    .strict(),
  supports: (target) => (target.tools.length === 0 ? 'the task offers no tools' : null),
  apply(target, { rng, params }) {
    const names = target.tools.map((t) => t.name);
    const chosen = names.filter(() => rng.next() < params.rate);
    const flaky = new Set(chosen.length > 0 ? chosen : [rng.pick(names)]);
    const open = (): LayerSession => {
      const failures = new Map<string, number>();
      return {
        async call(tool, args, below) {
          const failed = failures.get(tool) ?? 0;
          if (flaky.has(tool) && failed < params.times) {
            failures.set(tool, failed + 1);
            return { ok: false, kind: 'transient', error: `${tool}: the service is temporarily unavailable (503); retry the call` };
          }
          return below(tool, args);
        },
      };
    };
    return { layer: { tools: target.tools, lift: (steps) => withRetries(steps, flaky, params.times), lower: (call) => call, open } };
  },
});
