// `gauntlet serve`: the review API and the web app over a store, on loopback unless told otherwise.
import { existsSync } from 'node:fs';
import { type SandboxBackend, SANDBOX_BACKENDS } from '../../sandbox/index.ts';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { InputError, StoreError } from '../../core/index.ts';
import { startApiServer, type ApiServer, type ReadOnlyStore } from '../../server/api/index.ts';
import { writable, type SqliteStore } from '../../store/index.ts';
import type { CliIo } from '../io.ts';
import { bodyTimeoutSeconds, MAX_BODY_MEMORY_MIB, nonNegativeInt, oneOf, positiveInt } from '../options.ts';
import { openCliStore, openStoreToRead } from '../store.ts';
import { untilSignal } from '../signals.ts';

interface ServeFlags {
  port: number;
  host: string;
  token?: string;
  store: string;
  sandbox: SandboxBackend;
  readOnly?: boolean;
  maxConnections?: number;
  maxConnectionsPerClient?: number;
  maxBodyMemory: number;
  bodyTimeout: number;
}

export interface ServeHooks {
  /** Resolves when the server should stop. Default: SIGINT or SIGTERM. */
  untilStopped?: (server: ApiServer) => Promise<void>;
  /** Where the web app is served from (tests point it at a fixture). */
  webRoot?: string;
}

/** Why a store the writing open refused as read-only cannot be written, in the words of the path. */
function notWritable(path: string): string {
  const dir = dirname(resolve(path));
  if (!writable(dir)) return `its directory ${dir} is read-only`;
  if (!writable(path)) return 'the file is read-only';
  return 'the file or its directory is read-only';
}

/**
 * The store to serve: written to (labels, queues) where it may be; otherwise, or with --read-only,
 * opened as the reading commands open it, so nothing in or beside the file is written and an older
 * store keeps its schema for the Gauntlet that wrote it.
 */
function openToServe(path: string, readOnly: boolean, io: CliIo): { store: SqliteStore; readOnly?: ReadOnlyStore } {
  let why = 'served with --read-only';
  if (!readOnly) {
    try {
      return { store: openCliStore(path, io) };
    } catch (error) {
      // Browsing a shared results folder or an archive needs no write: serve it to read.
      if (!(error instanceof StoreError) || error.problem !== 'read_only') throw error;
      why = notWritable(path);
    }
  }
  const store = openStoreToRead(path);
  const older = store.olderSchema;
  const reason = older ? `${why}; its schema ${older.stored} is older than this Gauntlet's ${older.current}, so it is read through a migrated private copy and the file is left unmigrated` : why;
  return { store, readOnly: { reason } };
}

export function registerServeCommand(program: Command, io: CliIo, hooks: ServeHooks = {}): void {
  program
    .command('serve')
    .description('Serve the viewer and review API over the store: runs, trajectories, labels, review queues, agreement, exports and reports')
    .option('--port <n>', 'port (0 picks a free one)', nonNegativeInt('--port', { max: 65_535 }), 8080)
    .option('--host <address>', 'address to bind; anything beyond loopback needs a token', '127.0.0.1')
    .option('--token <secret>', 'bearer token every API request must carry (prefer the GAUNTLET_TOKEN environment variable: flags show in ps)')
    .option('--store <path>', 'SQLite store', '.gauntlet/gauntlet.db')
    .option('--max-connections <n>', 'sockets open at once; more are closed on arrival (default 256)', positiveInt('--max-connections', { max: 1_000_000 }))
    .option('--max-connections-per-client <n>', 'sockets one client (an IPv4 address, an IPv6 /64) may hold at once; more from it are closed on arrival (default: no limit beyond --max-connections)', positiveInt('--max-connections-per-client', { max: 1_000_000 }))
    .option('--max-body-memory <MiB>', 'request bodies (labels, authored tasks; each at most 8 MiB) held at once, in MiB; one past it gets 503 with Retry-After', positiveInt('--max-body-memory', { max: MAX_BODY_MEMORY_MIB }), 64)
    .option('--body-timeout <seconds>', 'a request body must arrive whole within this long (at most 300); a slower one gets 408 and its connection is closed', bodyTimeoutSeconds, 30)
    .option('--sandbox <backend>', 'sandbox for replaying authored tasks: auto, virtual, bwrap, remote or k8s', oneOf('--sandbox', SANDBOX_BACKENDS), 'auto')
    .option(
      '--read-only',
      'only read the store: browse runs and trajectories, refuse labels, review queues and new tasks, and leave an older store unmigrated (a store in a read-only file or directory is served so without it)',
    )
    .action(async (flags: ServeFlags) => {
      if (flags.token === undefined && io.env.GAUNTLET_TOKEN !== undefined && io.env.GAUNTLET_TOKEN.trim() === '') {
        throw new InputError('GAUNTLET_TOKEN', 'is set but empty', 'a non-empty secret, or unset it');
      }
      const token = flags.token ?? io.env.GAUNTLET_TOKEN;
      const { store, readOnly } = openToServe(flags.store, flags.readOnly === true, io);
      let server: ApiServer;
      try {
        server = await startApiServer({
          store,
          host: flags.host,
          port: flags.port,
          sandbox: flags.sandbox,
          ...(flags.maxConnections !== undefined ? { maxConnections: flags.maxConnections } : {}),
          ...(flags.maxConnectionsPerClient !== undefined ? { maxConnectionsPerClient: flags.maxConnectionsPerClient } : {}),
          maxBodyMemoryBytes: flags.maxBodyMemory * 1024 * 1024,
          bodyTimeoutMs: Math.round(flags.bodyTimeout * 1000),
          ...(token !== undefined ? { token } : {}),
          ...(hooks.webRoot !== undefined ? { webRoot: hooks.webRoot } : {}),
          log: (line) => io.stderr(`serve: ${line}\n`),
          ...(readOnly ? { readOnly } : {}),
        });
      } catch (error) {
        store.close();
        // The server speaks of its options; here they are flags (the token's from the flag or GAUNTLET_TOKEN).
        if (!(error instanceof InputError)) throw error;
        if (error.where === 'token') throw error.at(flags.token !== undefined ? '--token' : 'GAUNTLET_TOKEN');
        throw ['host', 'port'].includes(error.where) ? error.at(`--${error.where}`) : error;
      }
      const built = existsSync(join(server.webRoot, 'index.html'));
      io.stderr(
        [
          `serve: ${server.url}  (store ${store.path})`,
          built ? `  viewer: ${server.url}/${token !== undefined ? '?token=<your token> (the page keeps it for the tab and drops it from the address)' : ''}` : `  viewer: not built (${server.webRoot} has no index.html); run \`npm run build:web\`. The API is up meanwhile.`,
          `  API: ${server.url}/api${token !== undefined ? ' (bearer token required)' : ''}`,
          ...(readOnly ? [`  read-only: ${readOnly.reason}; labels, review queues and new tasks are refused`] : []),
          '',
        ].join('\n'),
      );
      try {
        await (hooks.untilStopped ?? untilSignal)(server);
      } finally {
        await server.close();
        store.close();
      }
    });
}
