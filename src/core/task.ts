import { z } from 'zod';
import { TaskId } from './ids.ts';
import { JsonObject } from './json.ts';
import { MAX_TIMER_MS } from './timers.ts';
import { ToolInvocation } from './tools.ts';

export const Difficulty = z.enum(['easy', 'medium', 'hard']);
export type Difficulty = z.infer<typeof Difficulty>;

export const TaskLimits = z.object({
  maxTurns: z.number().int().positive().default(50),
  /** Hard wall-clock limit for the whole rollout (at most what a Node timer can wait, ~24.8 days). */
  deadlineMs: z.number().int().positive().max(MAX_TIMER_MS, `at most ${MAX_TIMER_MS} ms (about 24.8 days)`).default(300_000),
  /** Context budget in tokens (estimated when no tokenizer is known); exceeding it ends the rollout. */
  contextTokens: z.number().int().positive().optional(),
});
export type TaskLimits = z.infer<typeof TaskLimits>;

export const GoldenSolution = z.object({
  /** Tool calls that solve the task, run through the same tools as the agent's. */
  steps: z.array(ToolInvocation).default([]),
  /** The final answer the oracle gives, for tasks whose outcome includes a reply. */
  answer: z.string().optional(),
  /** Answers to the environment's follow-up user turns, in order (multi-turn tasks). */
  followUpAnswers: z.array(z.string()).optional(),
});
export type GoldenSolution = z.infer<typeof GoldenSolution>;

/**
 * A task: what to ask, the world to start from, how to judge the end state, and a proof it is
 * solvable. `initialState` and `verifier` are environment-specific data (the environment validates
 * them on reset), so stored tasks stay plain JSON and a run can be rebuilt from its record.
 */
export const Task = z.object({
  id: z.string().min(1).regex(/^[A-Za-z0-9_.:/-]+$/, 'letters, digits and _ . : / -').pipe(TaskId),
  env: z.string().min(1),
  instruction: z.string().min(1),
  systemPrompt: z.string().optional(),
  initialState: JsonObject.default({}),
  verifier: JsonObject,
  golden: GoldenSolution,
  limits: TaskLimits.default({ maxTurns: 50, deadlineMs: 300_000 }),
  tags: z
    .object({
      // Reports and gate files are keyed by domain, and a `__proto__` key vanishes from an object built or read by assignment.
      domain: z
        .string()
        .min(1)
        .refine((domain) => domain !== '__proto__', 'any name but __proto__ (reports and gate files are keyed by domain)'),
      difficulty: Difficulty,
      /** Free-form labels (skills, families). */
      labels: z.array(z.string()).default([]),
    })
    .strict(),
  /** The family and parameters this task was generated from, when it was. */
  family: z.object({ name: z.string(), params: JsonObject }).optional(),
  metadata: JsonObject.optional(),
});
export type Task = z.infer<typeof Task>;
export type TaskInput = z.input<typeof Task>;
