// The pre-release safety suite: tasks in the mail, workplace, terminal and coding environments
// where the right behaviour is to refuse, ask, stop or do only the legitimate part. They live in
// task files (not in the environments' own task lists) so their domain can be the safety category
// and capability pass rates stay free of them; `gauntlet eval --suite safety` runs them.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { InputError, ToolInvocation, type Task } from '../../core/index.ts';
import type { EnvironmentDefinition } from '../define.ts';
import { instantiate, type InstantiateOptions } from '../instance.ts';
import { loadTaskFile } from '../tasks.ts';

export const SAFETY_CATEGORIES = ['destructive', 'injection', 'exfiltration', 'shortcut'] as const;
export const SafetyCategory = z.enum(SAFETY_CATEGORIES);
export type SafetyCategory = z.infer<typeof SafetyCategory>;

/** What `metadata.safety` of a safety task says: the safe behaviour and what a compliant policy does instead. */
export const SafetyMeta = z
  .object({
    behaviour: z.enum(['refuse', 'ask', 'stop', 'partial']),
    /** The compliant (unsafe) policy's calls: after the golden steps, or instead of them with `replacesGolden`. */
    unsafe: z.array(ToolInvocation).min(1, 'at least one unsafe call'),
    replacesGolden: z.boolean().default(false),
    /** The compliant policy's final answer (default: the golden answer). */
    answer: z.string().optional(),
  })
  .strict();
export type SafetyMeta = z.infer<typeof SafetyMeta>;

export const SAFETY_TASK_DIR = fileURLToPath(new URL('./tasks', import.meta.url));

/** The suite's task files, sorted: what `--suite safety` passes as `taskFiles`. */
export function safetyTaskFiles(): string[] {
  return readdirSync(SAFETY_TASK_DIR)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort()
    .map((f) => join(SAFETY_TASK_DIR, f));
}

let cached: Task[] | undefined;

/** Every safety task, each checked to carry a category domain and valid `metadata.safety`. */
export function safetyTasks(): Task[] {
  cached ??= safetyTaskFiles().flatMap((file) => {
    const tasks = loadTaskFile(file);
    for (const task of tasks) safetyMetaOf(task, file);
    return tasks;
  });
  return cached;
}

export function safetyMetaOf(task: Task, where = `task ${task.id}`): SafetyMeta {
  if (!SafetyCategory.safeParse(task.tags.domain).success) {
    throw new InputError(where, `task ${task.id} has domain "${task.tags.domain}"`, `a safety category: ${SAFETY_CATEGORIES.join(', ')}`);
  }
  const parsed = SafetyMeta.safeParse(task.metadata?.safety);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(where, `task ${task.id} metadata.safety.${issue.path.join('.')}: ${issue.message}`, '{ behaviour, unsafe: [tool calls], replacesGolden?, answer? }');
  }
  return parsed.data;
}

/** The calls the compliant policy makes: it does what the injected or destructive instruction says. */
export function compliantSteps(task: Task, definition: EnvironmentDefinition): ToolInvocation[] {
  const meta = safetyMetaOf(task);
  if (meta.replacesGolden) return meta.unsafe;
  // The golden steps without the one that ends the episode, so the unsafe calls still happen.
  const legitimate = task.golden.steps.filter((s) => !definition.tools[s.tool]?.endsEpisode);
  return [...legitimate, ...meta.unsafe];
}

export interface CompliantPlay {
  passed: boolean;
  /** Unsafe calls the environment refused: a task whose unsafe calls fail proves nothing. */
  refused: string[];
}

/** Replays the compliant policy directly against the environment and judges the final state. */
export async function playCompliant(definition: EnvironmentDefinition, task: Task, options: InstantiateOptions & { seed?: number } = {}): Promise<CompliantPlay> {
  const meta = safetyMetaOf(task);
  const env = instantiate(definition, options);
  const signal = new AbortController().signal;
  const refused: string[] = [];
  try {
    await env.reset(task, { seed: options.seed ?? 1 });
    let answer: string | null = meta.answer ?? task.golden.answer ?? null;
    for (const step of compliantSteps(task, definition)) {
      const out = await env.call(step.tool, step.arguments, { signal });
      if (!out.ok && out.kind !== 'transient' && meta.unsafe.includes(step)) refused.push(`${step.tool}: ${out.error}`);
      else if (out.ok && out.answer !== undefined) answer = out.answer;
    }
    return { passed: (await env.verify({ answer })).passed, refused };
  } finally {
    await env.close();
  }
}
