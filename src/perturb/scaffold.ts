// Scaffold perturbations change how the agent loop runs, not the task: native tool calling or
// calls written in a chat format's text (`text-tools`), whether earlier reasoning is resent, and
// the turn and context budgets. They produce settings the runner applies.
import { z } from 'zod';
import type { Task } from '../core/index.ts';
import { FORMAT_NAMES } from '../formats/index.ts';
import { definePerturbation } from './types.ts';

export const thinking = definePerturbation({
  id: 'scaffold.thinking',
  family: 'scaffold',
  summary: 'resends every earlier turn’s reasoning (interleaved) or drops it (drop-thinking)',
  randomised: () => false,
  params: z.object({ mode: z.enum(['interleaved', 'drop-thinking']).default('drop-thinking') }).strict(),
  supports: () => null,
  apply: (_target, { params }) => ({ settings: { scaffold: params.mode } }),
});

export const toolCalling = definePerturbation({
  id: 'scaffold.tools',
  family: 'scaffold',
  summary: 'tool calls through the API (native) or written as text in a chat format (text, with `format`); text needs the run’s chat template',
  randomised: () => false,
  params: z
    .object({
      mode: z.enum(['native', 'text']).default('text'),
      format: z.enum(FORMAT_NAMES).default('hermes'),
    })
    .strict(),
  supports: (target) => (target.tools.length === 0 ? 'the task offers no tools' : null),
  apply: (_target, { params }) => ({ settings: params.mode === 'native' ? { scaffold: 'interleaved' } : { scaffold: 'text-tools', toolFormat: params.format } }),
});

/** Turns the oracle needs: one per golden step, one for the answer, one per follow-up answer. */
export function goldenTurns(task: Task): number {
  return task.golden.steps.length + 1 + (task.golden.followUpAnswers?.length ?? 0);
}

/**
 * The smallest context budget `scaffold.budget` sets. The longest golden trajectory of a built-in
 * task is about 10,000 estimated tokens (calendar/interview-loops, measured), and result
 * perturbations can make it two or so times longer; at 24,000 the golden solution never needs
 * compaction (a test holds every built-in task to it), while a model that reads far more than it
 * must is squeezed.
 */
export const MIN_CONTEXT_BUDGET = 24_000;

export const budget = definePerturbation({
  id: 'scaffold.budget',
  family: 'scaffold',
  summary: 'scales the turn budget by `turns` (never below what the golden solution needs) and/or sets a context budget with compaction',
  randomised: () => false,
  params: z
    .object({
      /** Factor on the task's turn limit. */
      turns: z.number().min(0.1).max(10).optional(),
      /** Context budget in tokens; older turns are summarised beyond it. */
      contextTokens: z.number().int().min(MIN_CONTEXT_BUDGET).max(1_000_000).optional(),
      keepRecentTurns: z.number().int().min(1).max(100).default(4),
    })
    .strict()
    .refine((p) => p.turns !== undefined || p.contextTokens !== undefined, 'give turns, contextTokens or both'),
  supports: () => null,
  apply(target, { params }) {
    const limit = target.settings.maxTurns ?? target.task.limits.maxTurns;
    return {
      settings: {
        ...(params.turns !== undefined ? { maxTurns: Math.max(goldenTurns(target.task), Math.round(limit * params.turns)) } : {}),
        ...(params.contextTokens !== undefined ? { context: { budgetTokens: params.contextTokens, keepRecentTurns: params.keepRecentTurns } } : {}),
      },
    };
  },
});
