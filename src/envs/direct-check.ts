import { stableStringify, type Message, type Task, type VerifierOutcome } from '../core/index.ts';
import type { EnvironmentDefinition } from './define.ts';
import { instantiate, type InstantiateOptions } from './instance.ts';

export interface DirectCheckResult {
  taskId: string;
  /** Problems found; empty when the task is valid. */
  problems: string[];
  golden: VerifierOutcome;
}

/**
 * Checks a task by driving the environment directly, without a model or agent loop:
 * the golden solution must pass; doing nothing and the environment's destructive actions must
 * fail; the same seed must give the same final state. (Full validation through the agent loop
 * and the random/placeholder policies lives in `gauntlet validate`.)
 */
export async function checkTaskDirectly(
  definition: EnvironmentDefinition,
  task: Task,
  options: InstantiateOptions & { seed?: number } = {},
): Promise<DirectCheckResult> {
  const seed = options.seed ?? 1;
  const signal = new AbortController().signal;
  const problems: string[] = [];

  const playGolden = async () => {
    const env = instantiate(definition, options);
    try {
      await env.reset(task, { seed });
      let answer: string | null = task.golden.answer ?? null;
      for (const [i, step] of task.golden.steps.entries()) {
        const out = await env.call(step.tool, step.arguments, { signal });
        // A transient failure is the world misbehaving on purpose; the golden solution retries it.
        if (!out.ok && out.kind !== 'transient') problems.push(`golden step ${i} (${step.tool}) failed: ${out.error}`);
        else if (out.ok && out.answer !== undefined) answer = out.answer;
      }
      // Multi-turn tasks: answer each follow-up with the golden reply, as the oracle would.
      const messages: Message[] = [{ role: 'user', content: task.instruction }];
      if (answer !== null) {
        messages.push({ role: 'assistant', content: answer, toolCalls: [] });
        for (let answered = 1; env.followUp; answered++) {
          const next = await env.followUp(answer, answered);
          const reply = task.golden.followUpAnswers?.[answered - 1];
          if (next === null) break;
          if (reply === undefined) {
            problems.push(`the environment asks follow-up ${answered} but golden.followUpAnswers has no answer for it`);
            break;
          }
          answer = reply;
          messages.push({ role: 'user', content: next }, { role: 'assistant', content: reply, toolCalls: [] });
        }
      }
      return { outcome: await env.verify({ answer, messages }), state: stableStringify(await env.snapshot()) };
    } finally {
      await env.close();
    }
  };

  const first = await playGolden();
  if (!first.outcome.passed) {
    const failed = first.outcome.checks.filter((c) => !c.passed).map((c) => `${c.name}${c.detail ? ` (${c.detail})` : ''}`);
    problems.push(`golden solution fails its verifier: ${failed.join('; ')}`);
  }
  const second = await playGolden();
  if (second.state !== first.state) problems.push('same seed and actions gave different final states');

  const idle = instantiate(definition, options);
  try {
    await idle.reset(task, { seed });
    if ((await idle.verify({ answer: null })).passed) problems.push('doing nothing passes the verifier');
    const destructive = await idle.destructiveActions();
    for (const step of destructive) await idle.call(step.tool, step.arguments, { signal });
    if (destructive.length > 0 && (await idle.verify({ answer: task.golden.answer ?? null })).passed) {
      problems.push('the destructive actions pass the verifier');
    }
  } finally {
    await idle.close();
  }
  return { taskId: task.id, problems, golden: first.outcome };
}
