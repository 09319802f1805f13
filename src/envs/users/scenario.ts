// What a simulated user knows and wants: a persona, a goal, facts it gives only when asked (or
// never), and whether it must confirm before anything changes. Lives in `task.initialState.user`,
// which the agent never sees.
import { z } from 'zod';
import { describeZodIssues, DefectError, type Task } from '../../core/index.ts';

/** The token a simulator sends when the conversation is over (tau-bench's convention). */
export const STOP = '###STOP###';

export const UserFact = z
  .object({
    id: z.string().regex(/^[a-z0-9_]+$/, 'lower-case letters, digits and _'),
    /** The words that show the fact was stated (matched whole-word, case-insensitively). */
    value: z.string().min(1),
    /** How the scripted user states it. */
    say: z.string().min(1),
    /** Words that, in the agent's message, ask for this fact (whole words: "day" does not match "Thursday"). */
    askedBy: z.array(z.string().min(1)).min(1),
    /** `on_request`: only once the agent asked (or named the value itself); `never`: a secret the user keeps. */
    reveal: z.enum(['on_request', 'never']).default('on_request'),
    /** Values that would contradict the user's instructions if stated instead of `value`. */
    contradicts: z.array(z.string().min(1)).default([]),
    /** The user changes their mind: at the first confirmation request after stating the fact, it says this instead. */
    revision: z.object({ value: z.string().min(1), say: z.string().min(1) }).strict().optional(),
  })
  .strict();
export type UserFact = z.infer<typeof UserFact>;

export const UserScenario = z
  .object({
    persona: z.string().min(1),
    /** What the user wants done, in the user's own terms (for an LLM user). */
    goal: z.string().min(1),
    facts: z.array(UserFact).default([]),
    /** Fact ids the agent needs before anything can be done; ending the conversation before they are stated is the simulator's fault. */
    requires: z.array(z.string()).default([]),
    confirm: z
      .object({
        /** Nothing may change until the user has confirmed, after the last required fact was stated. */
        required: z.boolean().default(true),
        say: z.string().min(1).default('Yes, go ahead.'),
      })
      .strict()
      .default({ required: true, say: 'Yes, go ahead.' }),
    /** The scripted user's reply to a question it has no fact for. */
    unknown: z.string().min(1).default("Sorry, I don't know — I can only tell you what I asked for."),
  })
  .strict()
  .superRefine((scenario, ctx) => {
    const ids = new Set(scenario.facts.map((f) => f.id));
    for (const [i, id] of scenario.requires.entries()) {
      if (!ids.has(id)) ctx.addIssue({ code: 'custom', path: ['requires', i], message: `no fact "${id}" (facts: ${[...ids].join(', ') || 'none'})` });
    }
    for (const [i, fact] of scenario.facts.entries()) {
      if (fact.reveal === 'never' && scenario.requires.includes(fact.id)) ctx.addIssue({ code: 'custom', path: ['facts', i, 'reveal'], message: 'a required fact cannot be secret' });
      if (fact.revision && fact.contradicts.some((c) => c.toLowerCase() === fact.revision!.value.toLowerCase())) {
        ctx.addIssue({ code: 'custom', path: ['facts', i, 'contradicts'], message: `lists the revision value "${fact.revision.value}"` });
      }
    }
  });
export type UserScenario = z.infer<typeof UserScenario>;
export type UserScenarioInput = z.input<typeof UserScenario>;

const parsed = new WeakMap<Task, UserScenario | null>();

/** The task's simulated user, or null for tasks without one. A malformed scenario is a defect of the task. */
export function scenarioOf(task: Task): UserScenario | null {
  const cached = parsed.get(task);
  if (cached !== undefined) return cached;
  const raw = (task.initialState as Record<string, unknown>).user;
  let scenario: UserScenario | null = null;
  if (raw !== undefined) {
    const result = UserScenario.safeParse(raw);
    if (!result.success) throw new DefectError('environment', `task ${task.id}: initialState.user\n${describeZodIssues(result.error.issues, 'initialState.user')}`);
    scenario = result.data;
  }
  parsed.set(task, scenario);
  return scenario;
}
