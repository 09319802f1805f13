// `gauntlet worker` in a child process with the test-only `counter` environment registered. With
// GAUNTLET_TEST_BLOCK_AT_CALL=N its increment tool blocks forever at its Nth call in this process
// (announced on stderr), so a test can kill the worker mid-rollout at an exact point.
import { Command } from 'commander';
import { z } from 'zod';
import { registerWorkerCommand } from '../src/cli/commands/worker.ts';
import { processIo } from '../src/cli/io.ts';
import { defineTool, registerEnvironment } from '../src/envs/index.ts';
import { counterEnv } from './support/counter-env.ts';

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

const program = new Command('gauntlet').exitOverride();
registerWorkerCommand(program, processIo);
await program.parseAsync([...process.argv, '--json']);
