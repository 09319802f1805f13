// `startApiServer`: the review API and web app on a port, bound to loopback unless told otherwise
// (then only with a bearer token).
import type { Server } from 'node:http';
import { dirname, join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import { applyHttpLimits, DEFAULT_HTTP_TIMEOUTS, listenOn, requiredToken, resolveHttpLimits, type HttpTimeouts, type Store } from '../../core/index.ts';
import type { SandboxBackend } from '../../sandbox/index.ts';
import { createApiApp } from './app.ts';
import type { ReadOnlyStore } from './context.ts';
import { DEFAULT_WEB_ROOT } from './static.ts';

export interface ApiServerOptions {
  store: Store;
  /** Default 127.0.0.1. Anything beyond loopback needs `token`. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  token?: string;
  /** Default web/dist of this package. */
  webRoot?: string;
  /** Default `reports/` beside the store file. */
  reportsDir?: string;
  /** Default `tasks/` beside the store file. */
  tasksDir?: string;
  /** Sandbox for replaying authored tasks' golden solutions. Default auto. */
  sandbox?: SandboxBackend;
  now?: () => Date;
  log?: (line: string) => void;
  /** Serve the store only to read, saying why: every request that would write it is refused (403). */
  readOnly?: ReadOnlyStore;
  /** Sockets open at once; one more is closed as it arrives. Default 256: a few browsers open six each. */
  maxConnections?: number;
  /** Sockets one client (an IPv4 address, an IPv6 /64) may hold at once; more from it are closed on arrival. Default: no limit beyond maxConnections. */
  maxConnectionsPerClient?: number;
  /** Bytes of request bodies held at once, across every request. Default 64 MiB (eight of the largest). */
  maxBodyMemoryBytes?: number;
  /** A request body must arrive whole this long after its reading began. Default 30 s. */
  bodyTimeoutMs?: number;
  /** How long a client may take over a request head and body, and leave a connection idle (see core/http-limits.ts). */
  httpTimeouts?: Partial<HttpTimeouts>;
}

export interface ApiServer {
  url: string;
  host: string;
  port: number;
  /** Where the web app is served from (it may not be built). */
  webRoot: string;
  close(): Promise<void>;
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 8080;
  const limits = resolveHttpLimits({ maxConnections: 256, ...DEFAULT_HTTP_TIMEOUTS }, options);
  const token = requiredToken({ host, token: options.token, exposes: 'read every stored trajectory and write labels' });
  const beside = options.store.path === ':memory:' ? process.cwd() : dirname(options.store.path);
  const webRoot = options.webRoot ?? DEFAULT_WEB_ROOT;
  const app = createApiApp({
    store: options.store,
    token,
    webRoot,
    reportsDir: options.reportsDir ?? join(beside, 'reports'),
    tasksDir: options.tasksDir ?? join(beside, 'tasks'),
    sandbox: options.sandbox ?? 'auto',
    now: options.now ?? (() => new Date()),
    ...(options.log ? { log: options.log } : {}),
    ...(options.readOnly ? { readOnly: options.readOnly } : {}),
    ...(options.maxBodyMemoryBytes !== undefined ? { maxBodyMemoryBytes: options.maxBodyMemoryBytes } : {}),
    ...(options.bodyTimeoutMs !== undefined ? { bodyTimeoutMs: options.bodyTimeoutMs } : {}),
  });
  const server = createAdaptorServer({ fetch: app.fetch, hostname: host }) as Server;
  applyHttpLimits(server, limits, options.log);
  const address = await listenOn(server, { host, port, log: options.log });
  let closing: Promise<void> | undefined;
  return {
    ...address,
    webRoot,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
