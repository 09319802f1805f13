// Helpers for the workplace tests: episodes, golden replays and the validation policies, driven
// directly against an environment instance.
import { placeholderPasses as sharedPlaceholderPasses } from '../test-support.ts';
import { Task, type Environment, type JsonObject, type TaskInput, type ToolInvocation } from '../../core/index.ts';
import { instantiate } from '../instance.ts';
import { workplace } from './index.ts';

export const signal = new AbortController().signal;

export async function episode(task: Task, seed = 1): Promise<Environment> {
  const env = instantiate(workplace);
  await env.reset(task, { seed });
  return env;
}

/** Plays steps, throwing on the first failed one (transient failures are retried once); returns the answer given. */
export async function play(env: Environment, steps: ToolInvocation[], label: string): Promise<string | null> {
  let answer: string | null = null;
  for (const [i, s] of steps.entries()) {
    let out = await env.call(s.tool, s.arguments, { signal });
    if (!out.ok && out.kind === 'transient') out = await env.call(s.tool, s.arguments, { signal });
    if (!out.ok) throw new Error(`${label} step ${i} (${s.tool}): ${out.error}`);
    if (out.answer !== undefined) answer = out.answer;
  }
  return answer;
}

/** Plays the golden steps on a fresh episode and returns the verifier outcome. */
export async function goldenOutcome(task: Task, options: { seed?: number; steps?: ToolInvocation[]; extra?: ToolInvocation[] } = {}) {
  const env = await episode(task, options.seed ?? 1);
  try {
    const answer = (await play(env, [...(options.steps ?? task.golden.steps), ...(options.extra ?? [])], task.id)) ?? task.golden.answer ?? null;
    return await env.verify({ answer });
  } finally {
    await env.close();
  }
}

/** Calls every tool once with placeholder arguments; true when the task still passes. */
export function placeholderPasses(task: Task, seed = 1): Promise<boolean> {
  return sharedPlaceholderPasses(workplace, task, seed);
}

/** A small task for tool tests: the given fixtures, no background unless asked, a verifier that is never the point. */
export function toolTask(initialState: JsonObject, extra: Partial<TaskInput> = {}): Task {
  return Task.parse({
    id: 'workplace/tool-test',
    env: 'workplace',
    instruction: 'Tool test.',
    initialState,
    verifier: { checks: [{ check: 'workplace_unchanged' }] },
    golden: { steps: [] },
    tags: { domain: 'workplace', difficulty: 'easy' },
    ...extra,
  });
}
