import type { Command } from 'commander';
import { SANDBOX_BACKENDS } from '../../sandbox/index.ts';
import { InputError, MAX_TIMER_MS } from '../../core/index.ts';
import { environmentNames, getEnvironment } from '../../envs/index.ts';
import { loadRewardConfig } from '../../reward/index.ts';
import type { SandboxBackend } from '../../sandbox/index.ts';
import { DEFAULT_BODY_TIMEOUT_MS, startOpenEnvServer, type OpenEnvServer, type ServerMode } from '../../server/openenv/index.ts';
import type { CliIo } from '../io.ts';
import { bodyTimeoutSeconds, MAX_BODY_MEMORY_MIB, nonNegativeInt, oneOf, positiveInt } from '../options.ts';
import { untilSignal } from '../signals.ts';
import { environmentFor } from '../tasks.ts';

interface ServeEnvFlags {
  env: string;
  port: number;
  host: string;
  token?: string;
  maxSessions: number;
  maxConnections?: number;
  maxConnectionsPerClient?: number;
  maxBodyMemory: number;
  bodyTimeout: number;
  sessionTimeout: number;
  mode: ServerMode;
  sandbox: SandboxBackend;
  reward?: string;
}

export interface ServeEnvHooks {
  /** Resolves when the server should stop. Default: SIGINT or SIGTERM. */
  untilStopped?: (server: OpenEnvServer) => Promise<void>;
}


/** Seconds of idleness before a session ends: 0 for never, else from 1 ms to the longest wait a timer can keep (~24.8 days). */
function sessionTimeout(value: string): number {
  const seconds = Number(value);
  const max = MAX_TIMER_MS / 1000;
  if (value.trim() === '' || !Number.isFinite(seconds) || (seconds !== 0 && (seconds < 0.001 || seconds > max))) {
    throw new InputError('--session-timeout', `got "${value}"`, `0 (never), or seconds from 0.001 to ${max}`);
  }
  return seconds;
}


const MiB = 1024 * 1024;

/** The server names its options; here they are flags (the token's from the flag or GAUNTLET_TOKEN). */
const FLAG_OF = new Map([
  ['host', '--host'],
  ['port', '--port'],
  ['maxSessions', '--max-sessions'],
  ['maxConnections', '--max-connections'],
  ['maxConnectionsPerClient', '--max-connections-per-client'],
  ['maxBodyMemoryBytes', '--max-body-memory'],
  ['bodyTimeoutMs', '--body-timeout'],
  ['sessionTimeoutMs', '--session-timeout'],
  ['mode', '--mode'],
]);

/** Where episodes' rewards come from, for the start-up lines. */
function rewardLine(flags: ServeEnvFlags): string {
  if (flags.reward !== undefined) return flags.reward;
  return getEnvironment(flags.env).reward === undefined ? "the built-in default (the verifier's verdict)" : `the ${flags.env} environment's default`;
}

export function registerServeEnvCommand(program: Command, io: CliIo, hooks: ServeEnvHooks = {}): void {
  program
    .command('serve-env')
    .description('Serve an environment over the OpenEnv protocol (HTTP, /ws, /mcp) so OpenEnv trainers play its tasks and get its verifier\'s reward')
    .requiredOption('--env <name>', `environment to serve (${environmentNames().join(', ')}, or one from --env-module)`)
    .option('--port <n>', 'port (0 picks a free one)', nonNegativeInt('--port', { max: 65_535 }), 8000)
    .option('--host <address>', 'address to bind; anything beyond loopback needs a token', '127.0.0.1')
    .option('--token <secret>', 'bearer token every request must carry (prefer the GAUNTLET_TOKEN environment variable: flags show in ps)')
    .option('--max-sessions <n>', 'live sessions at most (WS and MCP together); more get CAPACITY_REACHED', positiveInt('--max-sessions'), 64)
    .option('--max-connections <n>', 'sockets open at once, WebSockets included; more are closed on arrival (default 4096, or twice --max-sessions if more)', positiveInt('--max-connections', { max: 1_000_000 }))
    .option('--max-connections-per-client <n>', 'sockets one client (an IPv4 address, an IPv6 /64) may hold at once; more from it are closed on arrival (default a quarter of --max-connections, but at least --max-sessions + 16; 0: no limit beyond --max-connections)', nonNegativeInt('--max-connections-per-client', { max: 1_000_000 }))
    .option('--max-body-memory <MiB>', 'request bodies (POST /reset, /step, /mcp), WebSocket messages and replies not yet sent, held at once, in MiB; a body past it gets 503 with Retry-After, a message an error', positiveInt('--max-body-memory', { max: MAX_BODY_MEMORY_MIB }), 256)
    .option('--body-timeout <seconds>', 'a request body (POST /reset, /step, /mcp) or WebSocket message must arrive whole within this long (at most 300); a slower body gets 408, a slower message ends its session, and its share of --max-body-memory is freed', bodyTimeoutSeconds, DEFAULT_BODY_TIMEOUT_MS / 1000)
    .option('--session-timeout <seconds>', 'end a session idle this long (0: never)', sessionTimeout, 600)
    .option('--mode <mode>', 'simulation (also stateless /reset, /step, /state) or production', oneOf('--mode', ['simulation', 'production'] as const), 'simulation')
    .option('--sandbox <backend>', 'sandbox for terminal and coding: auto, virtual, bwrap, remote or k8s', oneOf('--sandbox', SANDBOX_BACKENDS), 'auto')
    .option('--reward <file>', "reward config (YAML/JSON, as `gauntlet run --reward`) for every episode; default: the environment's own, else the built-in one. Only terms computed from the verifier and tool calls")
    .action(async (flags: ServeEnvFlags) => {
      // Known only now: --env-module loads its environments just before the action.
      environmentFor(flags.env);
      const token = flags.token ?? io.env.GAUNTLET_TOKEN;
      if (flags.token === undefined && io.env.GAUNTLET_TOKEN !== undefined && io.env.GAUNTLET_TOKEN.trim() === '') {
        throw new InputError('GAUNTLET_TOKEN', 'is set but empty', 'a non-empty secret, or unset it');
      }
      const reward = flags.reward === undefined ? undefined : loadRewardConfig(flags.reward);
      const server = await startOpenEnvServer({
        env: flags.env,
        host: flags.host,
        port: flags.port,
        ...(token !== undefined ? { token } : {}),
        maxSessions: flags.maxSessions,
        ...(flags.maxConnections !== undefined ? { maxConnections: flags.maxConnections } : {}),
        // 0 is the flag's "no limit"; the server takes null for it.
        ...(flags.maxConnectionsPerClient !== undefined ? { maxConnectionsPerClient: flags.maxConnectionsPerClient === 0 ? null : flags.maxConnectionsPerClient } : {}),
        maxBodyMemoryBytes: flags.maxBodyMemory * MiB,
        bodyTimeoutMs: Math.round(flags.bodyTimeout * 1000),
        sessionTimeoutMs: flags.sessionTimeout === 0 ? null : Math.round(flags.sessionTimeout * 1000),
        mode: flags.mode,
        sandbox: flags.sandbox,
        ...(reward ? { reward } : {}),
        log: (line) => io.stderr(`serve-env: ${line}\n`),
      }).catch((error: unknown) => {
        if (!(error instanceof InputError)) throw error;
        const flag = error.where === 'token' ? (flags.token !== undefined ? '--token' : 'GAUNTLET_TOKEN') : error.where === 'reward' ? `--reward ${flags.reward}` : FLAG_OF.get(error.where);
        throw flag ? error.at(flag) : error;
      });
      const ws = server.url.replace(/^http/, 'ws');
      const limits = server.stats();
      io.stderr(
        [
          `serve-env: ${server.env} on ${server.url} (${flags.mode} mode)`,
          `  episodes: ${ws}/ws   MCP: ${server.url}/mcp and ${ws}/mcp`,
          `  at most ${flags.maxSessions} sessions and ${flags.maxBodyMemory} MiB of request bodies (each within ${flags.bodyTimeout} s), idle timeout ${flags.sessionTimeout === 0 ? 'none' : `${flags.sessionTimeout} s`}${token !== undefined ? ', bearer token required' : ''}`,
          `  at most ${limits.maxConnections} connections, ${limits.maxConnectionsPerClient === limits.maxConnections ? 'with no limit per client' : `${limits.maxConnectionsPerClient} per client address`}`,
          `  reward: ${rewardLine(flags)}`,
          '',
        ].join('\n'),
      );
      try {
        await (hooks.untilStopped ?? untilSignal)(server);
      } finally {
        const open = server.stats().sessions;
        if (open > 0) io.stderr(`serve-env: stopping, closing ${open} open session${open === 1 ? '' : 's'}\n`);
        await server.close();
      }
    });
}
