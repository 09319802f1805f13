// Helpers shared by the mail tests: playing golden solutions and the validation policies directly
// against an environment instance.
import { placeholderPasses as sharedPlaceholderPasses } from '../test-support.ts';
import { createRng, Task, type Environment, type JsonObject, type TaskInput } from '../../core/index.ts';
import { randomArguments } from '../../model/index.ts';
import { instantiate } from '../instance.ts';
import { rowsOf } from '../state.ts';
import { mail } from './index.ts';

export const signal = new AbortController().signal;

/** A started episode of `task`. Close it when done. */
export async function episode(task: Task, seed = 1): Promise<Environment> {
  const env = instantiate(mail);
  await env.reset(task, { seed });
  return env;
}

/** Runs the golden steps, throwing on the first failed one; returns the answer given. */
export async function playGolden(env: Environment, task: Task): Promise<string | null> {
  let answer = task.golden.answer ?? null;
  for (const [i, s] of task.golden.steps.entries()) {
    const out = await env.call(s.tool, s.arguments, { signal });
    if (!out.ok) throw new Error(`${task.id} golden step ${i} (${s.tool}): ${out.error}`);
    if (out.answer !== undefined) answer = out.answer;
  }
  return answer;
}

/** Calls every tool once with placeholder arguments; true when the task still passes. */
export function placeholderPasses(task: Task, seed = 1): Promise<boolean> {
  return sharedPlaceholderPasses(mail, task, seed);
}

/** Makes `count` seeded random tool calls with schema-valid random arguments; true when the task passes. */
export async function randomPasses(task: Task, count: number, seed = 1): Promise<boolean> {
  const env = await episode(task, seed);
  const rng = createRng(`random:${task.id}`);
  try {
    let answer: string | null = null;
    const tools = env.tools();
    for (let i = 0; i < count; i++) {
      const tool = rng.pick(tools);
      const out = await env.call(tool.name, randomArguments(tool.parameters, rng), { signal });
      if (out.ok && out.answer !== undefined) answer = out.answer;
    }
    return (await env.verify({ answer })).passed;
  } finally {
    await env.close();
  }
}

/** A message in the inbox or archive that the task never mentions (background mail). */
export async function unrelatedMessageId(env: Environment, task: Task): Promise<string> {
  const text = JSON.stringify(task);
  const row = rowsOf(await env.snapshot(), 'messages').find((r) => (r.folder === 'inbox' || r.folder === 'archive') && !text.includes(String(r.id)));
  if (!row) throw new Error(`${task.id}: no unrelated message in the mailbox`);
  return String(row.id);
}

/** A small task for tool tests: the given fixtures, a verifier that is never the point, no background unless asked. */
export function toolTask(initialState: JsonObject, extra: Partial<TaskInput> = {}): Task {
  return Task.parse({
    id: 'mail/tool-test',
    env: 'mail',
    instruction: 'Tool test.',
    initialState: { background: false, ...initialState },
    verifier: { checks: [{ check: 'no_other_sent', max: 0 }] },
    golden: { steps: [] },
    tags: { domain: 'mail', difficulty: 'easy' },
    ...extra,
  });
}
