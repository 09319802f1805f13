// `startSandboxServer`: this machine's local sandboxes (bwrap where it works) served over the remote
// sandbox protocol, so episodes elsewhere run their commands here. Loopback by default; beyond it
// a bearer token is required (core/access.ts).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { z } from 'zod';
import { applyHttpLimits, DEFAULT_HTTP_TIMEOUTS, InputError, parseInput, requiredToken, resolveHttpLimits, type HttpTimeouts } from '../../core/index.ts';
import { createSandbox, sandboxAvailability, type BwrapMode, type SandboxLimits } from '../../sandbox/index.ts';
import { remoteProtocol as P } from '../../sandbox/remote/index.ts';
import { createSandboxApp } from './app.ts';
import { SandboxPool, type PoolStats } from './pool.ts';

export interface SandboxServerOptions {
  /** Default 127.0.0.1. Anything beyond loopback needs `token`. */
  host?: string;
  /** Default 7070; 0 picks a free port. */
  port?: number;
  token?: string;
  /** The local backend each sandbox uses. `auto` (default): bwrap where it works, else virtual. */
  backend?: 'auto' | 'bwrap' | 'virtual';
  /** bwrap: persistent (default) or fresh namespaces per command. */
  mode?: BwrapMode;
  /** A sandbox whose client sends nothing for this long is closed. Default 60 s. */
  leaseTtlMs?: number;
  /** How often expired leases are looked for. Default a quarter of the TTL, at most 5 s. */
  sweepIntervalMs?: number;
  /** Sandboxes held at once. Default 64. */
  maxSandboxes?: number;
  /** The largest limits a client may ask for. Default: none beyond the protocol's. */
  maxLimits?: SandboxLimits;
  /** Largest request body (files at create, writes, stdin). Default 64 MiB. */
  maxBodyBytes?: number;
  /** Sockets open at once; one more is closed as it arrives. Default 1024, or four per sandbox when that is more. */
  maxConnections?: number;
  /** Sockets one client (an IPv4 address, an IPv6 /64) may hold at once; more from it are closed on arrival. Default: no limit beyond maxConnections. */
  maxConnectionsPerClient?: number;
  /**
   * How long a client may take over a request head and body (default 5 minutes: time to upload
   * `maxBodyBytes` on a slow link), and leave a connection idle; see core/http-limits.ts.
   * A command's run is never timed here: its own limits bound it.
   */
  httpTimeouts?: Partial<HttpTimeouts>;
  /** The clock leases are kept by (epoch ms). */
  now?: () => number;
  log?: (line: string) => void;
}

export interface SandboxServer {
  url: string;
  host: string;
  port: number;
  backend: 'bwrap' | 'virtual';
  stats(): PoolStats;
  /** Closes the sandboxes whose lease has run out now, without waiting for the sweep; returns their ids. */
  reap(): Promise<string[]>;
  /** Stops listening and closes every sandbox. */
  close(): Promise<void>;
}

const Settings = z.object({
  host: z.string().min(1),
  port: z.number().int().min(0).max(65_535),
  leaseTtlMs: z.number().int().positive(),
  sweepIntervalMs: z.number().int().positive().optional(),
  maxSandboxes: z.number().int().positive(),
  maxBodyBytes: z.number().int().positive(),
  maxLimits: P.Limits,
});

async function resolveBackend(requested: 'auto' | 'bwrap' | 'virtual'): Promise<'bwrap' | 'virtual'> {
  if (requested === 'virtual') return 'virtual';
  const { bwrap } = await sandboxAvailability();
  if (bwrap.available) return 'bwrap';
  if (requested === 'bwrap') throw new InputError('backend', `bwrap was asked for but cannot run here: ${bwrap.reason ?? 'unknown reason'}`, 'auto or virtual, or install bubblewrap');
  return 'virtual';
}

export async function startSandboxServer(options: SandboxServerOptions = {}): Promise<SandboxServer> {
  const settings = parseInput(
    Settings,
    {
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 7070,
      leaseTtlMs: options.leaseTtlMs ?? 60_000,
      sweepIntervalMs: options.sweepIntervalMs,
      maxSandboxes: options.maxSandboxes ?? 64,
      maxBodyBytes: options.maxBodyBytes ?? 64 * 1024 * 1024,
      maxLimits: options.maxLimits ?? {},
    },
    'sandbox server options',
  );
  const limits = resolveHttpLimits({ maxConnections: Math.max(1024, 4 * settings.maxSandboxes), ...DEFAULT_HTTP_TIMEOUTS }, options);
  const token = requiredToken({ host: settings.host, token: options.token, exposes: 'run commands on this machine' });
  // No client could send it: every request would be refused, which is a server set up wrongly.
  const tokenProblem = token === undefined ? null : P.bearerTokenProblem(token);
  if (tokenProblem !== null) throw new InputError('token', `the bearer token ${tokenProblem}`, 'a secret of printable ASCII, such as one from `openssl rand -hex 32`');
  const backend = await resolveBackend(options.backend ?? 'auto');
  const log = options.log;
  const pool = new SandboxPool({ ttlMs: settings.leaseTtlMs, maxSandboxes: settings.maxSandboxes, now: options.now ?? Date.now, ...(log ? { log } : {}) });
  const app = createSandboxApp({
    pool,
    backend,
    token,
    maxBodyBytes: settings.maxBodyBytes,
    maxLimits: settings.maxLimits,
    create: (request) =>
      createSandbox({
        backend,
        limits: request.limits,
        files: Object.fromEntries(Object.entries(request.files).map(([path, content]) => [path, P.fromBase64(content)])),
        ...(request.workdir !== undefined ? { workdir: request.workdir } : {}),
        ...(backend === 'bwrap' && options.mode ? { mode: options.mode } : {}),
      }),
  });

  const server = createAdaptorServer({ fetch: app.fetch, hostname: settings.host }) as Server;
  applyHttpLimits(server, limits, log);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new InputError('port', `${settings.host}:${settings.port} is already in use`, 'a free port, or 0 to pick one') : error),
    );
    server.listen(settings.port, settings.host, () => {
      server.removeAllListeners('error');
      server.on('error', (error) => log?.(`server: ${error.message}`));
      resolve();
    });
  });
  const sweepMs = settings.sweepIntervalMs ?? Math.min(5_000, Math.max(10, Math.floor(settings.leaseTtlMs / 4)));
  const sweep = setInterval(() => void pool.reap(), sweepMs);
  sweep.unref();

  const address = server.address() as AddressInfo;
  const hostInUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostInUrl}:${address.port}`,
    host: address.address,
    port: address.port,
    backend,
    stats: () => pool.stats(),
    reap: () => pool.reap(),
    close: () =>
      (closing ??= (async () => {
        clearInterval(sweep);
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await pool.closeAll();
        await stopped;
      })()),
  };
}
