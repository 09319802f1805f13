import type { Command } from 'commander';
import { type SandboxBackend, SANDBOX_BACKENDS } from '../../sandbox/index.ts';
import { InputError, MAX_TIMER_MS } from '../../core/index.ts';
import { scaffoldNames } from '../../agent/index.ts';
import { environmentNames, loadTaskFile } from '../../envs/index.ts';
import { createMetrics } from '../../runner/index.ts';
import { AdvantageMethod } from '../../training/advantages/index.ts';
import { startRolloutService, StreamFormat, type RolloutService } from '../../training/rollout-service/index.ts';
import type { CliIo } from '../io.ts';
import { collect, nonNegativeInt, number, oneOf, positiveInt } from '../options.ts';
import { openCliStore } from '../store.ts';
import { untilSignal } from '../signals.ts';

interface ServeRolloutsFlags {
  env?: string[];
  task?: string[];
  tasksFile?: string[];
  model: string;
  groupSize: number;
  concurrency: number;
  seed: number;
  maxStaleness: number;
  window: number;
  leftovers: 'keep' | 'cancel';
  policyVersion: number;
  format: StreamFormat;
  variant?: string;
  advantage: AdvantageMethod;
  scaffold?: 'interleaved' | 'drop-thinking';
  temperature?: number;
  maxTokens?: number;
  maxTurns?: number;
  deadline?: number;
  maxAttempts?: number;
  sandbox?: SandboxBackend;
  stream: boolean;
  port: number;
  host: string;
  token?: string;
  store: string;
  maxConnections?: number;
  maxConnectionsPerClient?: number;
}

export interface ServeRolloutsHooks {
  /** Resolves when the service should stop. Default: SIGINT or SIGTERM. */
  untilStopped?: (service: RolloutService) => Promise<void>;
}

/** Settings the runner and the service name by field, restated as the flag that set them. */
const FLAG_OF_FIELD: Record<string, string> = {
  envs: '--env',
  taskIds: '--task',
  taskFiles: '--tasks-file',
  model: '--model',
  scaffold: '--scaffold',
  groupSize: '--group-size',
  epochs: '--group-size',
  concurrency: '--concurrency',
  seed: '--seed',
  maxAttempts: '--max-attempts',
  maxTurns: '--max-turns',
  deadlineMs: '--deadline',
  'sampling.temperature': '--temperature',
  'sampling.maxTokens': '--max-tokens',
  sandbox: '--sandbox',
  host: '--host',
  port: '--port',
  token: '--token',
};


export function registerServeRolloutsCommand(program: Command, io: CliIo, hooks: ServeRolloutsHooks = {}): void {
  const chatScaffolds = scaffoldNames().filter((name) => name !== 'text-tools') as ('interleaved' | 'drop-thinking')[];
  program
    .command('serve-rollouts')
    .description('Serve rollouts to a trainer over HTTP: batches of finished groups at its policy version, with version announcements, a staleness bound and window-bias figures')
    .option('--env <name>', `environment(s), repeatable or comma-separated (${environmentNames().join(', ')})`, collect)
    .option('--task <id>', 'only these task ids, repeatable or comma-separated', collect)
    .option('--tasks-file <file>', 'serve the tasks in this YAML/JSON file (repeatable)', collect)
    .requiredOption('--model <spec>', 'the engine serving the current policy: openai:BASE_URL/v1#MODEL (vLLM, SGLang: it must return token ids)')
    .option('--group-size <n>', 'rollouts per group (one task, one world), as the trainer\'s n', positiveInt('--group-size', { max: 10_000 }), 8)
    .option('--concurrency <n>', 'rollouts in flight at once', positiveInt('--concurrency', { max: 10_000 }), 32)
    .option('--seed <n>', 'seed for worlds', nonNegativeInt('--seed', { max: 2 ** 32 - 1 }), 0)
    .option('--max-staleness <k>', 'versions a call may lag the trainer and still be handed out (0: on-policy)', nonNegativeInt('--max-staleness', { max: 1_000_000 }), 1)
    .option('--window <w>', 'groups kept in flight beyond what batches need; the first to finish are handed out (0: no bias, waits for the slowest)', nonNegativeInt('--window', { max: 10_000 }), 4)
    .option('--leftovers <mode>', 'unfinished groups of a full batch: keep (for later batches, within the bound) or cancel', oneOf('--leftovers', ['keep', 'cancel'] as const), 'keep')
    .option('--policy-version <v>', 'the version --model serves now (a training step)', nonNegativeInt('--policy-version'), 0)
    .option('--format <target>', `default row format of a batch (${StreamFormat.options.join(', ')})`, oneOf('--format', StreamFormat.options), 'generic')
    .option('--variant <name>', 'the format\'s other row shape (skyrl step-wise, trl async, prime-rl legacy)')
    .option('--advantage <method>', 'group advantage: grpo | drgrpo | rloo', oneOf('--advantage', AdvantageMethod.options), 'grpo')
    .option('--scaffold <name>', `agent scaffold (${chatScaffolds.join(', ')})`, oneOf('--scaffold', chatScaffolds))
    .option('--temperature <t>', 'sampling temperature (default 1)', number('--temperature', { min: 0, max: 2 }))
    .option('--max-tokens <n>', 'completion token limit per call', positiveInt('--max-tokens', { max: 100_000_000 }))
    .option('--max-turns <n>', 'override every task\'s turn limit', positiveInt('--max-turns', { max: 100_000 }))
    .option('--deadline <seconds>', 'override every task\'s wall-clock deadline', number('--deadline', { min: 0.001, max: MAX_TIMER_MS / 1000 }))
    .option('--max-attempts <n>', 'attempts per rollout when infrastructure fails', positiveInt('--max-attempts', { max: 100 }))
    .option('--sandbox <backend>', 'command sandbox: auto, virtual, bwrap, remote (GAUNTLET_SANDBOX_URL) or k8s (GAUNTLET_K8S_IMAGE)', oneOf('--sandbox', SANDBOX_BACKENDS))
    .option('--no-stream', 'ask the engine for whole responses instead of SSE streams')
    .option('--port <n>', 'port (0 picks a free one)', nonNegativeInt('--port', { max: 65_535 }), 8100)
    .option('--host <address>', 'address to bind; anything beyond loopback needs a token', '127.0.0.1')
    .option('--token <secret>', 'bearer token every request must carry (prefer the GAUNTLET_TOKEN environment variable: flags show in ps)')
    .option('--store <path>', 'SQLite store', '.gauntlet/gauntlet.db')
    .option('--max-connections <n>', 'sockets open at once; more are closed on arrival (default 256)', positiveInt('--max-connections', { max: 1_000_000 }))
    .option('--max-connections-per-client <n>', 'sockets one client (an IPv4 address, an IPv6 /64) may hold at once; more from it are closed on arrival (default: no limit beyond --max-connections)', positiveInt('--max-connections-per-client', { max: 1_000_000 }))
    .action(async (flags: ServeRolloutsFlags) => {
      // Without --env, the environments are those the task files name.
      const envs = flags.env?.length ? flags.env : [...new Set((flags.tasksFile ?? []).flatMap((file) => loadTaskFile(file).map((t) => t.env)))];
      if (envs.length === 0) throw new InputError('--env', 'no environment given', `--env NAME (one of ${environmentNames().join(', ')}) or --tasks-file FILE`);
      if (flags.token === undefined && io.env.GAUNTLET_TOKEN !== undefined && io.env.GAUNTLET_TOKEN.trim() === '') {
        throw new InputError('GAUNTLET_TOKEN', 'is set but empty', 'a non-empty secret, or unset it');
      }
      const token = flags.token ?? io.env.GAUNTLET_TOKEN;
      const store = openCliStore(flags.store, io);
      let service: RolloutService;
      try {
        // GET /metrics on the service's own server, behind its token: the session runs for days beside a trainer.
        const metrics = await createMetrics('service');
        service = await startRolloutService({
          store,
          run: {
            envs,
            ...(flags.task?.length ? { taskIds: flags.task } : {}),
            ...(flags.tasksFile?.length ? { taskFiles: flags.tasksFile } : {}),
            model: flags.model,
            groupSize: flags.groupSize,
            concurrency: flags.concurrency,
            seed: flags.seed,
            ...(flags.scaffold ? { scaffold: flags.scaffold } : {}),
            ...(flags.maxTurns ? { maxTurns: flags.maxTurns } : {}),
            ...(flags.deadline ? { deadlineMs: Math.round(flags.deadline * 1000) } : {}),
            ...(flags.maxAttempts ? { maxAttempts: flags.maxAttempts } : {}),
            ...(flags.sandbox ? { sandbox: flags.sandbox } : {}),
            ...(flags.stream === false ? { modelOptions: { stream: false } } : {}),
            sampling: { ...(flags.temperature !== undefined ? { temperature: flags.temperature } : {}), ...(flags.maxTokens ? { maxTokens: flags.maxTokens } : {}) },
          },
          maxStaleness: flags.maxStaleness,
          window: flags.window,
          leftovers: flags.leftovers,
          policyVersion: flags.policyVersion,
          format: flags.format,
          ...(flags.variant ? { variant: flags.variant } : {}),
          advantage: flags.advantage,
          host: flags.host,
          port: flags.port,
          ...(token !== undefined ? { token } : {}),
          ...(flags.maxConnections !== undefined ? { maxConnections: flags.maxConnections } : {}),
          ...(flags.maxConnectionsPerClient !== undefined ? { maxConnectionsPerClient: flags.maxConnectionsPerClient } : {}),
          metrics,
          modelEnvironment: { env: io.env },
          log: (line) => io.stderr(`serve-rollouts: ${line}\n`),
        });
      } catch (error) {
        store.close();
        throw error instanceof InputError && FLAG_OF_FIELD[error.where] ? error.at(FLAG_OF_FIELD[error.where] as string) : error;
      }
      const stats = service.core.stats();
      io.stderr(
        [
          `serve-rollouts: run ${service.runId} on ${service.url}`,
          `  policy version ${stats.policy.version} served by ${stats.policy.spec}`,
          `  groups of ${flags.groupSize}, max staleness ${flags.maxStaleness}, window ${flags.window} (leftovers ${flags.leftovers}), rows as ${flags.format}${token !== undefined ? ', bearer token required' : ''}`,
          `  POST ${service.url}/v1/batches · GET …/v1/batches/ID/stream · POST …/v1/policy · GET …/v1/stats · GET …/metrics`,
          '',
        ].join('\n'),
      );
      try {
        await (hooks.untilStopped ?? untilSignal)(service);
      } finally {
        await service.close();
        const end = service.core.stats();
        const dropped = Object.entries(end.groups.dropped).map(([why, n]) => `${n} ${why}`).join(', ') || 'none';
        const cancelled = Object.entries(end.groups.cancelled).map(([why, n]) => `${n} ${why}`).join(', ') || 'none';
        io.stderr(`serve-rollouts: stopped; ${end.groups.served} of ${end.groups.started} groups handed out; dropped: ${dropped}; cancelled: ${cancelled}\n`);
        store.close();
      }
    });
}
