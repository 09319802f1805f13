// The real CLI with test-only environments registered:
// - `counter`, whose increment tool can be made to block forever at its Nth call in this process
//   (GAUNTLET_TEST_BLOCK_AT_CALL=N), so a test can kill the run at an exact point;
// - `counter_broken`, whose verifier has a check that throws (a defect, not a failure).
import { z } from 'zod';
import { Task } from '../../src/core/index.ts';
import { main } from '../../src/cli/main.ts';
import { defineCheck, defineTool, registerEnvironment } from '../../src/envs/index.ts';
import { counterEnv, counterTasks } from './counter-env.ts';

const blockAt = Number(process.env.GAUNTLET_TEST_BLOCK_AT_CALL ?? 0);
let calls = 0;

const gatedIncrement = defineTool({
  description: 'Add one to a counter.',
  input: z.object({ id: z.string() }),
  run: async (input, ctx) => {
    calls++;
    if (calls === blockAt) {
      process.stderr.write(`test: blocked at increment call ${calls}\n`);
      await new Promise(() => {});
    }
    return counterEnv.tools.increment!.run(input, ctx);
  },
});

registerEnvironment('counter', () => ({ ...counterEnv, tools: { ...counterEnv.tools, increment: gatedIncrement } }));

const brokenTasks = counterTasks.map((t) =>
  Task.parse({ ...t, id: t.id.replace('counter/', 'counter_broken/'), env: 'counter_broken', verifier: { checks: [...(t.verifier.checks as object[]), { check: 'explodes' }] } }),
);
registerEnvironment('counter_broken', () => ({
  ...counterEnv,
  name: 'counter_broken',
  checks: {
    ...counterEnv.checks,
    explodes: defineCheck({
      kind: 'outcome',
      description: 'a check with a bug in it',
      params: z.object({}),
      run: () => {
        throw new TypeError("Cannot read properties of undefined (reading 'value')");
      },
    }),
  },
  tasks: () => brokenTasks,
}));

process.exitCode = await main(process.argv);
