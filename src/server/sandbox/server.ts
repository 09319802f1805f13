// `startSandboxServer`: this machine's local sandboxes (bwrap where it works) served over the remote
// sandbox protocol, so episodes elsewhere run their commands here. Loopback by default; beyond it
// a bearer token is required (core/access.ts).
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { z } from 'zod';
import { applyHttpLimits, DEFAULT_HTTP_TIMEOUTS, InputError, listenOn, MAX_TIMER_MS, parseInput, requiredToken, resolveHttpLimits, type HttpTimeouts } from '../../core/index.ts';
import { createSandbox, sandboxAvailability, type BwrapMode, type SandboxLimits } from '../../sandbox/index.ts';
import { remoteProtocol as P } from '../../sandbox/remote/index.ts';
import { BodyBudget } from '../body-budget.ts';
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
  /**
   * Bytes of request bodies and replies the server holds at once, across every connection: a body
   * takes its Content-Length (a chunked one its bytes as they come) before it is read, and gives it
   * back when its request ends (an exec's when its command ends: its stdin is held that long). An
   * exec takes its sandbox's output limit before its command runs, then holds its reply's length
   * until it is sent; a file read and a listing hold theirs from when they are made until sent.
   * One that does not fit beside the others is refused with `capacity` (503, Retry-After; an exec
   * before its command runs), one that never could with `too_large`. A sandbox may not ask for an
   * output limit over this; one left unsaid is lowered to a quarter of it. Default 256 MiB (see
   * DEFAULT_BODY_MEMORY_BYTES).
   */
  maxBodyMemoryBytes?: number;
  /**
   * The largest file a read answers with, in bytes of its content (as UTF-8); a larger one is
   * refused with `too_large` naming the file, its size and this limit, having been read no further
   * than this (or `maxBodyMemoryBytes`, when less) from its sandbox. The reply streams, holding
   * the file's bytes within `maxBodyMemoryBytes` until it is sent (a busy server answers
   * `capacity` with Retry-After). Default 64 MiB (a default sandbox's whole disk); at most 256 MiB.
   */
  maxReadBytes?: number;
  /**
   * A request body must have arrived whole this long after the server began reading it, else it is
   * answered `body_timeout` (408), its connection closed and its bytes given back to
   * `maxBodyMemoryBytes`. Only the upload: an exec's command runs after its body is in, untimed
   * here. Default 60 s, or the request timeout when that is shorter; at most the request timeout.
   */
  bodyTimeoutMs?: number;
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

export interface SandboxServerStats extends PoolStats {
  /** Bytes of request bodies being read or handled, and of replies held (exec room, file reads, listings), now (see `maxBodyMemoryBytes`). */
  bodyBytes: number;
  maxBodyMemoryBytes: number;
  maxReadBytes: number;
  bodyTimeoutMs: number;
}

export interface SandboxServer {
  url: string;
  host: string;
  port: number;
  backend: 'bwrap' | 'virtual';
  stats(): SandboxServerStats;
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

/**
 * The budget counts bodies' bytes, but handling one holds several times that (its bytes, their
 * text, the parsed strings, a file's decoded content): a 60 MB write took a bwrap server about
 * 340 MiB at its peak. 256 MiB is four of the largest (64 MiB) bodies, or thousands of the usual
 * few-KiB commands, at once, so bodies keep the server near 1.5 GiB at worst, where 1024
 * connections of unbounded bodies could take hundreds.
 */
export const DEFAULT_BODY_MEMORY_BYTES = 256 * 1024 * 1024;
/** Time for a 64 MiB body at about 1 MiB/s; a command of a few KiB needs milliseconds. */
export const DEFAULT_BODY_TIMEOUT_MS = 60_000;
/** A default sandbox's whole disk (DEFAULT_LIMITS.diskBytes), and the largest body a write may send. */
export const DEFAULT_MAX_READ_BYTES = 64 * 1024 * 1024;
/**
 * The client makes the reply one string, base64 (four thirds of the file) in JSON: 256 MiB makes
 * 342 MiB of text, under V8's longest string (about 512 Mi characters) with room to spare.
 */
export const MAX_READ_BYTES = 256 * 1024 * 1024;

/** `maxBodyMemoryBytes` and `bodyTimeoutMs`, or an InputError naming the option (the command restates it as its flag). */
function bodySettings(options: SandboxServerOptions, requestTimeoutMs: number): { maxBodyMemoryBytes: number; bodyTimeoutMs: number } {
  const maxBodyMemoryBytes = options.maxBodyMemoryBytes ?? DEFAULT_BODY_MEMORY_BYTES;
  if (!Number.isSafeInteger(maxBodyMemoryBytes) || maxBodyMemoryBytes < 1) {
    throw new InputError('maxBodyMemoryBytes', `got ${maxBodyMemoryBytes}`, 'a whole number of bytes from 1 upwards');
  }
  if (options.bodyTimeoutMs === undefined) return { maxBodyMemoryBytes, bodyTimeoutMs: Math.min(DEFAULT_BODY_TIMEOUT_MS, requestTimeoutMs) };
  const bodyTimeoutMs = options.bodyTimeoutMs;
  if (!Number.isInteger(bodyTimeoutMs) || bodyTimeoutMs < 1 || bodyTimeoutMs > MAX_TIMER_MS) {
    throw new InputError('bodyTimeoutMs', `got ${bodyTimeoutMs}`, `a whole number of ms from 1 to ${MAX_TIMER_MS}`);
  }
  if (bodyTimeoutMs > requestTimeoutMs) {
    throw new InputError('bodyTimeoutMs', `${bodyTimeoutMs} ms is longer than the request timeout (${requestTimeoutMs} ms), which would cut a slow body first anyway`, `at most ${requestTimeoutMs} ms (httpTimeouts.requestTimeoutMs)`);
  }
  return { maxBodyMemoryBytes, bodyTimeoutMs };
}

/** `maxReadBytes`, or an InputError naming the option (the command restates it as its flag). */
function readLimit(options: SandboxServerOptions): number {
  const maxReadBytes = options.maxReadBytes ?? DEFAULT_MAX_READ_BYTES;
  if (!Number.isSafeInteger(maxReadBytes) || maxReadBytes < 1 || maxReadBytes > MAX_READ_BYTES) {
    throw new InputError('maxReadBytes', `got ${maxReadBytes}`, `a whole number of bytes from 1 to ${MAX_READ_BYTES} (256 MiB)`);
  }
  return maxReadBytes;
}

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
  const { maxBodyMemoryBytes, bodyTimeoutMs } = bodySettings(options, limits.requestTimeoutMs);
  const maxReadBytes = readLimit(options);
  const token = requiredToken({ host: settings.host, token: options.token, exposes: 'run commands on this machine' });
  const backend = await resolveBackend(options.backend ?? 'auto');
  const log = options.log;
  // One budget for what a request brings and what a reply sends back: one figure to size against memory.
  const bodyBudget = new BodyBudget(maxBodyMemoryBytes, 'request bodies and replies');
  const pool = new SandboxPool({ ttlMs: settings.leaseTtlMs, maxSandboxes: settings.maxSandboxes, now: options.now ?? Date.now, ...(log ? { log } : {}) });
  const app = createSandboxApp({
    pool,
    backend,
    token,
    maxBodyBytes: settings.maxBodyBytes,
    bodyBudget,
    maxReadBytes,
    bodyTimeoutMs,
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
  const address = await listenOn(server, { host: settings.host, port: settings.port, log });
  const sweepMs = settings.sweepIntervalMs ?? Math.min(5_000, Math.max(10, Math.floor(settings.leaseTtlMs / 4)));
  const sweep = setInterval(() => void pool.reap(), sweepMs);
  sweep.unref();

  let closing: Promise<void> | undefined;
  return {
    ...address,
    backend,
    stats: () => ({ ...pool.stats(), bodyBytes: bodyBudget.held, maxBodyMemoryBytes, maxReadBytes, bodyTimeoutMs }),
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
