// A small environment for the OpenEnv server's tests: one tool per outcome the protocol must map
// (plain, tool error, transient, infrastructure failure, a call that waits for its abort, a tool
// named like an OpenEnv control word), an answer check, and tasks with tight limits.
import { z } from 'zod';
import { InfraError, Task } from '../../core/index.ts';
import { defineCheck, defineEnvironment, defineTool, ToolError, TransientToolError } from '../../envs/index.ts';

/** Calls of the `wait` tool that have started and not yet returned, across all probe episodes. */
export const probeWaits = { active: 0 };

function probeTask(id: string, limits: { maxTurns: number; deadlineMs: number }): Task {
  return Task.parse({
    id: `probe/${id}`,
    env: 'probe',
    instruction: `Answer "${id}".`,
    verifier: { checks: [{ check: 'answer_is', value: id }] },
    golden: { steps: [{ tool: 'echo', arguments: { text: 'hello' } }], answer: id },
    tags: { domain: 'probe', difficulty: 'easy' },
    limits,
  });
}

export const probeTasks: Task[] = [probeTask('one', { maxTurns: 3, deadlineMs: 60_000 }), probeTask('two', { maxTurns: 50, deadlineMs: 60_000 })];

export const probeEnv = defineEnvironment({
  name: 'probe',
  description: 'Tools with every outcome the OpenEnv mapping handles (tests).',
  schema: 'CREATE TABLE calls (tool TEXT NOT NULL)',
  startTime: '2026-01-05T09:00:00Z',
  seed: () => undefined,
  tools: {
    echo: defineTool({ description: 'Echo the text.', input: z.object({ text: z.string() }), run: ({ text }) => ({ content: text, data: { text } }) }),
    fail: defineTool({
      description: 'Always fails the way a tool reports a bad request.',
      input: z.object({}),
      run: () => {
        throw new ToolError('nothing to fail on');
      },
    }),
    flaky: defineTool({
      description: 'Fails as a transient outage.',
      input: z.object({}),
      run: () => {
        throw new TransientToolError('service temporarily unavailable (try again)');
      },
    }),
    crash: defineTool({
      description: 'Its backing service is down: an infrastructure failure.',
      input: z.object({}),
      run: () => {
        throw new InfraError('environment', 'probe backend unreachable');
      },
    }),
    reset: defineTool({ description: 'A tool that happens to be called reset.', input: z.object({}), run: () => 'reset tool ran' }),
    wait: defineTool({
      description: 'Returns only when its call is aborted.',
      input: z.object({}),
      run: (_input, { signal }) => {
        probeWaits.active++;
        return new Promise<string>((resolve) => {
          const done = () => {
            probeWaits.active--;
            resolve('aborted');
          };
          if (signal.aborted) done();
          else signal.addEventListener('abort', done, { once: true });
        });
      },
    }),
    pause: defineTool({
      description: 'Returns after ms milliseconds.',
      input: z.object({ ms: z.number().int().min(0).max(1000) }),
      run: ({ ms }) => new Promise<string>((resolve) => setTimeout(() => resolve(`paused ${ms} ms`), ms)),
    }),
    submit: defineTool({
      description: 'Finish with an answer.',
      input: z.object({ answer: z.string() }),
      endsEpisode: true,
      run: ({ answer }) => ({ content: 'Submitted.', answer }),
    }),
  },
  checks: {
    answer_is: defineCheck({
      kind: 'outcome',
      description: 'the answer equals value',
      params: z.object({ value: z.string() }),
      run: ({ value }, { answer }) => ({ passed: answer === value, detail: `answer ${JSON.stringify(answer)}` }),
    }),
  },
  tasks: () => probeTasks,
  destructive: () => [],
});
