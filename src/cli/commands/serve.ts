// `gauntlet serve`: the review API and the web app over a store, on loopback unless told otherwise.
import { existsSync } from 'node:fs';
import { type SandboxBackend, SANDBOX_BACKENDS } from '../../sandbox/index.ts';
import { join } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../../core/index.ts';
import { startApiServer, type ApiServer } from '../../server/api/index.ts';
import type { CliIo } from '../io.ts';
import { nonNegativeInt, oneOf } from '../options.ts';
import { openCliStore } from '../store.ts';
import { untilSignal } from '../signals.ts';

interface ServeFlags {
  port: number;
  host: string;
  token?: string;
  store: string;
  sandbox: SandboxBackend;
}

export interface ServeHooks {
  /** Resolves when the server should stop. Default: SIGINT or SIGTERM. */
  untilStopped?: (server: ApiServer) => Promise<void>;
  /** Where the web app is served from (tests point it at a fixture). */
  webRoot?: string;
}


export function registerServeCommand(program: Command, io: CliIo, hooks: ServeHooks = {}): void {
  program
    .command('serve')
    .description('Serve the viewer and review API over the store: runs, trajectories, labels, review queues, agreement, exports and reports')
    .option('--port <n>', 'port (0 picks a free one)', nonNegativeInt('--port', { max: 65_535 }), 8080)
    .option('--host <address>', 'address to bind; anything beyond loopback needs a token', '127.0.0.1')
    .option('--token <secret>', 'bearer token every API request must carry (prefer the GAUNTLET_TOKEN environment variable: flags show in ps)')
    .option('--store <path>', 'SQLite store', '.gauntlet/gauntlet.db')
    .option('--sandbox <backend>', 'sandbox for replaying authored tasks: auto, virtual, bwrap, remote or k8s', oneOf('--sandbox', SANDBOX_BACKENDS), 'auto')
    .action(async (flags: ServeFlags) => {
      if (flags.token === undefined && io.env.GAUNTLET_TOKEN !== undefined && io.env.GAUNTLET_TOKEN.trim() === '') {
        throw new InputError('GAUNTLET_TOKEN', 'is set but empty', 'a non-empty secret, or unset it');
      }
      const token = flags.token ?? io.env.GAUNTLET_TOKEN;
      const store = openCliStore(flags.store, io);
      let server: ApiServer;
      try {
        server = await startApiServer({
          store,
          host: flags.host,
          port: flags.port,
          sandbox: flags.sandbox,
          ...(token !== undefined ? { token } : {}),
          ...(hooks.webRoot !== undefined ? { webRoot: hooks.webRoot } : {}),
          log: (line) => io.stderr(`serve: ${line}\n`),
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
