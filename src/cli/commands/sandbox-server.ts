import type { Command } from 'commander';
import { InputError } from '../../core/index.ts';
import { LIMIT_RANGES, REMOTE_URL_VARIABLE } from '../../sandbox/index.ts';
import { DEFAULT_BODY_MEMORY_BYTES, DEFAULT_BODY_TIMEOUT_MS, DEFAULT_MAX_READ_BYTES, MAX_READ_BYTES, startSandboxServer, type SandboxServer } from '../../server/sandbox/index.ts';
import type { CliIo } from '../io.ts';
import { bodyTimeoutSeconds, MAX_BODY_MEMORY_MIB, nonNegativeInt, number, oneOf, positiveInt } from '../options.ts';
import { untilSignal } from '../signals.ts';

interface SandboxServerFlags {
  host: string;
  port: number;
  token?: string;
  backend: 'auto' | 'bwrap' | 'virtual';
  mode: 'persistent' | 'fresh';
  leaseTtl: number;
  maxSandboxes: number;
  maxMemoryMb?: number;
  maxConnections?: number;
  maxConnectionsPerClient?: number;
  maxBodyMemory: number;
  maxReadMb: number;
  bodyTimeout: number;
}

export interface SandboxServerHooks {
  /** Resolves when the server should stop. Default: SIGINT or SIGTERM. */
  untilStopped?: (server: SandboxServer) => Promise<void>;
}

const MiB = 1024 * 1024;

/** `--max-memory-mb`: whole MiB within what a sandbox's memory limit may be. */
function memoryCeilingMb(value: string): number {
  const min = Math.ceil(LIMIT_RANGES.memoryBytes.min / MiB);
  const max = Math.floor(LIMIT_RANGES.memoryBytes.max / MiB);
  const mb = positiveInt('--max-memory-mb', { max })(value);
  if (mb < min) throw new InputError('--max-memory-mb', `got "${value}"`, `a whole number from ${min} to ${max}`);
  return mb;
}



/** The server names its options; here they are flags. */
const FLAG_OF = new Map([
  ['host', '--host'],
  ['token', '--token'],
  ['port', '--port'],
  ['backend', '--backend'],
  ['maxBodyMemoryBytes', '--max-body-memory'],
  ['maxReadBytes', '--max-read-mb'],
  ['bodyTimeoutMs', '--body-timeout'],
]);

export function registerSandboxServerCommand(program: Command, io: CliIo, hooks: SandboxServerHooks = {}): void {
  program
    .command('sandbox-server')
    .description('Serve this machine\'s sandboxes (bwrap where it works) over HTTP, so runs elsewhere use --sandbox remote with GAUNTLET_SANDBOX_URL pointing here')
    .option('--host <address>', 'address to bind; anything beyond loopback needs a token', '127.0.0.1')
    .option('--port <n>', 'port (0 picks a free one)', nonNegativeInt('--port', { max: 65_535 }), 7070)
    .option('--token <secret>', 'bearer token every request must carry (prefer the GAUNTLET_TOKEN environment variable: flags show in ps)')
    .option('--backend <backend>', 'local sandbox behind each remote one: auto, bwrap or virtual', oneOf('--backend', ['auto', 'bwrap', 'virtual'] as const), 'auto')
    .option('--mode <mode>', 'bwrap: persistent (one sandbox per episode) or fresh (new namespaces per command)', oneOf('--mode', ['persistent', 'fresh'] as const), 'persistent')
    .option('--lease-ttl <seconds>', 'close a sandbox whose client sent nothing (no request, no heartbeat) for this long', number('--lease-ttl', { min: 1 }), 60)
    .option('--max-sandboxes <n>', 'sandboxes held at once; more are refused with a retryable capacity error', positiveInt('--max-sandboxes'), 64)
    .option('--max-connections <n>', 'sockets open at once; more are closed on arrival (default 1024, or four per sandbox if more)', positiveInt('--max-connections', { max: 1_000_000 }))
    .option('--max-connections-per-client <n>', 'sockets one client (an IPv4 address, an IPv6 /64) may hold at once; more from it are closed on arrival (default: no limit beyond --max-connections)', positiveInt('--max-connections-per-client', { max: 1_000_000 }))
    .option('--max-memory-mb <n>', 'largest memory limit per sandbox: a client may ask for no more, and gets no more by default', memoryCeilingMb)
    .option('--max-body-memory <MiB>', 'request bodies (files, writes, stdin; each at most 64 MiB) and replies (file reads, listings, each running command\'s output limit) held at once, in MiB; one past it is refused with a retryable capacity error (503, Retry-After; an exec before its command runs)', positiveInt('--max-body-memory', { max: MAX_BODY_MEMORY_MIB }), DEFAULT_BODY_MEMORY_BYTES / MiB)
    .option('--max-read-mb <n>', 'largest file a read returns, in MiB (at most 256); a larger one is refused with an error naming the file, its size and this flag', positiveInt('--max-read-mb', { max: MAX_READ_BYTES / MiB }), DEFAULT_MAX_READ_BYTES / MiB)
    .option('--body-timeout <seconds>', 'a request body must arrive whole within this long (at most 300; the upload only, not the command it carries); a slower one gets 408, its connection is closed and its share of --max-body-memory freed', bodyTimeoutSeconds, DEFAULT_BODY_TIMEOUT_MS / 1000)
    .action(async (flags: SandboxServerFlags) => {
      const token = flags.token ?? io.env.GAUNTLET_TOKEN;
      if (flags.token === undefined && io.env.GAUNTLET_TOKEN !== undefined && io.env.GAUNTLET_TOKEN.trim() === '') {
        throw new InputError('GAUNTLET_TOKEN', 'is set but empty', 'a non-empty secret, or unset it');
      }
      const server = await startSandboxServer({
        host: flags.host,
        port: flags.port,
        ...(token !== undefined ? { token } : {}),
        backend: flags.backend,
        mode: flags.mode,
        leaseTtlMs: Math.round(flags.leaseTtl * 1000),
        maxSandboxes: flags.maxSandboxes,
        ...(flags.maxMemoryMb !== undefined ? { maxLimits: { memoryBytes: flags.maxMemoryMb * MiB } } : {}),
        ...(flags.maxConnections !== undefined ? { maxConnections: flags.maxConnections } : {}),
        ...(flags.maxConnectionsPerClient !== undefined ? { maxConnectionsPerClient: flags.maxConnectionsPerClient } : {}),
        maxBodyMemoryBytes: flags.maxBodyMemory * MiB,
        maxReadBytes: flags.maxReadMb * MiB,
        bodyTimeoutMs: Math.round(flags.bodyTimeout * 1000),
        log: (line) => io.stderr(`sandbox-server: ${line}\n`),
      }).catch((error: unknown) => {
        // The server speaks of its options; here they are flags.
        const flag = error instanceof InputError ? FLAG_OF.get(error.where) : undefined;
        throw flag !== undefined ? (error as InputError).at(flag) : error;
      });
      io.stderr(
        [
          `sandbox-server: ${server.backend} sandboxes on ${server.url} (protocol v1)`,
          `  clients: ${REMOTE_URL_VARIABLE}=${server.url} gauntlet run --sandbox remote …${token !== undefined ? ' (with GAUNTLET_SANDBOX_TOKEN)' : ''}`,
          `  at most ${flags.maxSandboxes} sandboxes, lease ${flags.leaseTtl} s${token !== undefined ? ', bearer token required' : ''}`,
          `  at most ${flags.maxBodyMemory} MiB of request bodies at once, each within ${flags.bodyTimeout} s`,
          `  file reads up to ${flags.maxReadMb} MiB each, sent within that memory`,
          '',
        ].join('\n'),
      );
      try {
        await (hooks.untilStopped ?? untilSignal)(server);
      } finally {
        const open = server.stats().sandboxes;
        if (open > 0) io.stderr(`sandbox-server: stopping, closing ${open} open sandbox${open === 1 ? '' : 'es'}\n`);
        await server.close();
      }
    });
}
