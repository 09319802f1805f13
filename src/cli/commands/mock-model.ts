import type { Command } from 'commander';
import { loadScript, startMockModelServer } from '../../model/index.ts';
import type { CliIo } from '../io.ts';
import { nonNegativeInt } from '../options.ts';

export function registerMockModelCommand(program: Command, io: CliIo): void {
  program
    .command('mock-model')
    .description('Serve a scripted model over an OpenAI-compatible API on loopback, to try the HTTP path without a real model')
    .requiredOption('--script <file>', 'YAML/JSON script of turns')
    .option('--port <n>', 'port (0 picks a free one)', nonNegativeInt('--port', { max: 65_535 }), 8000)
    .action(async (flags: { script: string; port: number }) => {
      const script = await loadScript(flags.script);
      const server = await startMockModelServer({ script, port: flags.port });
      io.stderr(`mock model on ${server.url} (${script.turns.length} turns); try --model openai:${server.url}#mock\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
    });
}
