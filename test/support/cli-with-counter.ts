// The real CLI with the test-only `counter` environment registered, its tool slowed down so a
// run lasts long enough to be killed part-way (used by the kill-and-resume test).
import { z } from 'zod';
import { main } from '../../src/cli/main.ts';
import { defineTool, registerEnvironment } from '../../src/envs/index.ts';
import { counterEnv } from './counter-env.ts';

const slowIncrement = defineTool({
  description: 'Add one to a counter (slowly).',
  input: z.object({ id: z.string() }),
  run: async (input, ctx) => {
    await new Promise((resolve) => setTimeout(resolve, 25));
    return counterEnv.tools.increment!.run(input, ctx);
  },
});

registerEnvironment('counter', () => ({ ...counterEnv, tools: { ...counterEnv.tools, increment: slowIncrement } }));
process.exitCode = await main(process.argv);
