import type { Command } from 'commander';
import { InputError } from '../../core/index.ts';
import { cancelQueuedRun, describeQueueStatus, parseRedisUrl, queueStatus, queueStatusMetrics } from '../../runner/queue/index.ts';
import { printJson, safeText, type CliIo } from '../io.ts';
import { positiveInt } from '../options.ts';

interface QueueStatusFlags {
  queue: string;
  limit: number;
  json?: boolean;
  prometheus?: boolean;
}

export function registerQueueCommand(program: Command, io: CliIo): void {
  const queue = program.command('queue').description('Look into the Redis queue that `run --queue` and `gauntlet worker` share');
  queue
    .command('status')
    .description('What the queue holds now, per model endpoint (rollouts by state, workers, rate limit, running and failed rollouts) and per run (results waiting to be stored); reads only')
    .requiredOption('--queue <url>', 'Redis holding the queue: redis://HOST:PORT[/DB]')
    .option('--limit <n>', 'running and failed rollouts listed per endpoint (the counts cover all)', positiveInt('--limit', { max: 10_000 }), 20)
    .option('--json', 'one JSON document on stdout: { redis, at, endpoints, runs, unreadableResults, problems }')
    .option('--prometheus', "the figures in Prometheus' text format on stdout (for a node exporter's textfile collector)")
    .action(async (flags: QueueStatusFlags) => {
      if (flags.json && flags.prometheus) throw new InputError('--prometheus', 'given with --json', 'one output format: --json or --prometheus');
      const status = await queueStatus({ redis: parseRedisUrl(flags.queue), listLimit: flags.limit });
      if (flags.json) return printJson(io, status);
      if (flags.prometheus) return io.stdout(queueStatusMetrics(status));
      // Endpoints, task ids and failure reasons come from run configs and workers: never raw control characters on a terminal.
      io.stdout(safeText(describeQueueStatus(status)));
    });
  queue
    .command('cancel')
    .description("Take a run's rollouts that no worker has started off the queue (for a run whose coordinator is gone); running ones finish, and `run --resume` enqueues the rest again")
    .argument('<runId>', 'the run, as `gauntlet runs` or `gauntlet queue status` shows it')
    .requiredOption('--queue <url>', 'Redis holding the queue: redis://HOST:PORT[/DB]')
    .option('--json', 'one JSON document on stdout: { runId, removed, running, queues }')
    .action(async (runId: string, flags: { queue: string; json?: boolean }) => {
      const cancelled = await cancelQueuedRun({ redis: parseRedisUrl(flags.queue), runId });
      if (flags.json) return printJson(io, cancelled);
      const running = cancelled.running > 0 ? `; ${cancelled.running} running finish, and their results wait for \`gauntlet run --resume ${runId} --queue URL\`` : '';
      io.stdout(safeText(`run ${runId}: ${cancelled.removed} rollout${cancelled.removed === 1 ? '' : 's'} taken off the queue${running}\n`));
    });
}
