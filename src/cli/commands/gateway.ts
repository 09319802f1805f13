import type { Command } from 'commander';
import { InputError, MAX_TIMER_MS, requiredToken, type Store } from '../../core/index.ts';
import { DEFAULT_ABANDON_AFTER_MS, DEFAULT_UPSTREAM_TIMEOUT_MS, startGateway, type EngineSetting, type Gateway } from '../../training/gateway/index.ts';
import type { CliIo } from '../io.ts';
import { nonNegativeInt, number, oneOf, positiveInt } from '../options.ts';
import { openCliStore } from '../store.ts';
import { untilSignal } from '../signals.ts';

/** Where the upstream's key comes from: never a flag, which shell histories and process lists keep. */
export const UPSTREAM_KEY_VARIABLE = 'GAUNTLET_UPSTREAM_API_KEY';

export interface GatewayFlags {
  upstream: string;
  port: number;
  host: string;
  run?: string;
  store: string;
  engine: EngineSetting;
  socket?: string;
  token?: string;
  abandonAfter: number;
  upstreamTimeout: number;
  maxConnections?: number;
  maxConnectionsPerClient?: number;
}

/** For tests: see the gateway once it listens, and stop it without a signal. */
export interface GatewayHooks {
  onReady?: (gateway: Gateway) => void;
  stop?: Promise<void>;
}

export function registerGatewayCommand(program: Command, io: CliIo, hooks: GatewayHooks = {}): void {
  program
    .command('gateway')
    .description(
      'Serve an OpenAI- and Anthropic-compatible proxy in front of vLLM or SGLang that records every call of a rollout with the engine\'s token ids and logprobs (chat completions, completions, the Responses API, Anthropic messages; streaming or not)',
    )
    .requiredOption('--upstream <url>', "the engine's OpenAI base URL, e.g. http://localhost:8000/v1 (its key, if any, in GAUNTLET_UPSTREAM_API_KEY)")
    .option('--port <n>', 'port (0 picks a free one)', nonNegativeInt('--port', { max: 65_535 }), 8100)
    .option('--host <address>', 'address to listen on; anything beyond loopback needs a token', '127.0.0.1')
    .option('--token <secret>', 'bearer token (or x-api-key) every request over TCP must carry; never passed upstream (prefer the GAUNTLET_TOKEN environment variable: flags show in ps)')
    .option('--run <RUN_ID>', 'record requests to /rollouts/ID/... as rollouts of this run (created when missing); POST /rollouts/ID/finish commits one')
    .option('--store <path>', 'SQLite store for --run', '.gauntlet/gauntlet.db')
    .option('--engine <name>', 'which token fields to ask for: vllm, sglang, or auto (asks the upstream\'s /models)', oneOf('--engine', ['auto', 'vllm', 'sglang'] as const), 'auto')
    .option('--socket <path>', 'also listen on this unix socket (for sandboxed agents with no network)')
    .option('--max-connections <n>', 'sockets open at once on each listener (TCP, --socket); more are closed on arrival (default 4096)', positiveInt('--max-connections', { max: 1_000_000 }))
    .option('--max-connections-per-client <n>', 'sockets one client (an IPv4 address, an IPv6 /64) may hold at once; more from it are closed on arrival (default: no limit beyond --max-connections)', positiveInt('--max-connections-per-client', { max: 1_000_000 }))
    .option('--abandon-after <seconds>', 'with --run: commit an open rollout with no call for this long as cancelled, its calls kept (an agent that died never finishes it); 0 never', number('--abandon-after', { min: 0, max: MAX_TIMER_MS / 1000 }), DEFAULT_ABANDON_AFTER_MS / 1000)
    .option(
      '--upstream-timeout <seconds>',
      'hang up on the upstream after this long without a byte from it (before it answers, or between pieces of a stream): the client gets 504 and the call is recorded as a time-out; 0 never',
      number('--upstream-timeout', { min: 0, max: MAX_TIMER_MS / 1000 }),
      DEFAULT_UPSTREAM_TIMEOUT_MS / 1000,
    )
    .action(async (flags: GatewayFlags) => {
      if (flags.token === undefined && io.env.GAUNTLET_TOKEN !== undefined && io.env.GAUNTLET_TOKEN.trim() === '') {
        throw new InputError('GAUNTLET_TOKEN', 'is set but empty', 'a non-empty secret, or unset it');
      }
      const token = flags.token ?? io.env.GAUNTLET_TOKEN;
      // Refused before the store is opened or anything listens.
      try {
        requiredToken({ host: flags.host, token, exposes: 'spend the upstream model and write rollouts into the store' });
      } catch (error) {
        throw error instanceof InputError ? error.at(`--${error.where}`) : error;
      }
      const store: Store | undefined = flags.run ? openCliStore(flags.store, io) : undefined;
      const apiKey = io.env[UPSTREAM_KEY_VARIABLE];
      let gateway: Gateway;
      try {
        gateway = await startGateway({
          upstream: flags.upstream,
          port: flags.port,
          host: flags.host,
          engine: flags.engine,
          ...(token !== undefined ? { token } : {}),
          ...(apiKey ? { apiKey } : {}),
          ...(store && flags.run ? { store, runId: flags.run } : {}),
          ...(flags.socket ? { socketPath: flags.socket } : {}),
          abandonAfterMs: Math.round(flags.abandonAfter * 1000),
          upstreamTimeoutMs: Math.round(flags.upstreamTimeout * 1000),
          ...(flags.maxConnections !== undefined ? { maxConnections: flags.maxConnections } : {}),
          ...(flags.maxConnectionsPerClient !== undefined ? { maxConnectionsPerClient: flags.maxConnectionsPerClient } : {}),
        });
      } catch (error) {
        store?.close();
        throw error instanceof InputError && error.where === 'gateway upstream' ? error.at('--upstream') : error;
      }
      const recording = flags.run ? `recording rollouts into run ${flags.run} (${flags.store}); finish one with POST ${gateway.url}/rollouts/ID/finish {"reward": …}` : 'recording only rollouts a library caller attaches; plain /v1 requests are forwarded unrecorded';
      io.stderr(
        `gateway on ${gateway.url}${token !== undefined ? ' (bearer token required over TCP)' : ''}${gateway.socketPath ? ` and ${gateway.socketPath}` : ''} in front of ${flags.upstream} (engine ${flags.engine})\n` +
          `point a rollout's client at ${gateway.url}/rollouts/ID/v1 (OpenAI) or ${gateway.url}/rollouts/ID (Anthropic); ${recording}\n`,
      );
      hooks.onReady?.(gateway);
      await (hooks.stop ?? untilSignal());
      const stats = gateway.stats();
      const open = stats.rollouts.open;
      await gateway.close();
      store?.close();
      io.stderr(
        `gateway stopped: ${stats.requests} requests, ${stats.recorded} recorded, ${stats.failed} failed, ${stats.refused} refused` +
          (flags.run ? `; ${stats.rollouts.finished} rollouts finished${stats.rollouts.abandoned > 0 ? `, ${stats.rollouts.abandoned} abandoned (no call for ${flags.abandonAfter} s) stored as cancelled` : ''}${open > 0 ? `, ${open} still open stored as cancelled` : ''}` : '') +
          (stats.recordFailureCount > 0 ? `; ${stats.recordFailureCount} calls could not be stored (first: ${stats.recordFailures[0]})` : '') +
          '\n',
      );
    });
}

