// `startOpenEnvServer`: one Gauntlet environment behind the OpenEnv protocol. Hono serves HTTP; a
// `ws` server takes the upgrades for /ws and /mcp off the same Node server, after the same token
// and browser (Host, Origin) checks.
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createAdaptorServer } from '@hono/node-server';
import { z } from 'zod';
import { applyHttpLimits, browserRefusal, DEFAULT_HTTP_TIMEOUTS, hasBearerToken, InputError, MAX_TIMER_MS, requiredToken, resolveHttpLimits, type Environment, type HttpLimits, type HttpTimeouts, type Task } from '../../core/index.ts';
import { getEnvironment, instantiate, needsDefaultImage, type EnvironmentDefinition } from '../../envs/index.ts';
import type { RewardConfig } from '../../reward/index.ts';
import { checkK8sSandboxes, sandboxAvailability, type SandboxBackend } from '../../sandbox/index.ts';
import { BodyBudget } from './body.ts';
import { OpenEnvEpisode, taskCatalog } from './episode.ts';
import { FrameMeter } from './frames.ts';
import { createOpenEnvApp, type ServerMode } from './http.ts';
import { checkServerReward, episodeReward } from './reward.ts';
import { countSandboxes } from './sandbox-count.ts';
import { SessionRegistry } from './sessions.ts';
import { serveEpisodeSocket, serveMcpSocket, type SocketContext } from './ws.ts';

export interface OpenEnvServerOptions {
  /** A built-in environment's name, or a definition. */
  env: string | EnvironmentDefinition;
  /** Default 127.0.0.1. Anything beyond loopback needs `token`. */
  host?: string;
  /** Default 8000 (OpenEnv's convention); 0 picks a free port. */
  port?: number;
  /** Bearer token every request and upgrade must carry. */
  token?: string;
  /** Live sessions at most (WS /ws, WS /mcp, MCP sessions and stateless requests in flight together). Default 64. */
  maxSessions?: number;
  /** End a session idle this long; default 10 minutes; null for never. */
  sessionTimeoutMs?: number | null;
  /**
   * Sockets open at once (WebSocket sessions and HTTP requests together); one more is closed as it
   * arrives. At least `maxSessions`; default 4096, or twice `maxSessions` when that is more.
   */
  maxConnections?: number;
  /**
   * Sockets one client (an IPv4 address, an IPv6 /64) may hold at once; more from it are closed on
   * arrival. Default: a quarter of `maxConnections`, but never fewer than `maxSessions` + 16, so
   * one trainer on one host (on loopback every client is one) can still fill every session and
   * check /health. null: no limit beyond `maxConnections`.
   */
  maxConnectionsPerClient?: number | null;
  /**
   * Bytes of HTTP request bodies (POST /reset, /step, /mcp; each at most 16 MiB) the server holds at
   * once, taken before a body is read (its Content-Length) or as it arrives (chunked) and given back
   * when its request ends. A body that would pass it is refused with 503 and `Retry-After`; one whose
   * Content-Length alone passes it, with 413. WebSocket messages take their size from it too, from
   * their first frame's header (its declared length) until their reply is sent; see ws.ts and
   * frames.ts for what happens to one that does not fit. Default 256 MiB; one WebSocket message
   * may be at most 16 MiB or this, whichever is less.
   */
  maxBodyMemoryBytes?: number;
  /**
   * A body (POST /reset, /step, /mcp) must have arrived whole this long after the server began
   * reading it, else it is answered 408, its bytes go back to `maxBodyMemoryBytes` at once and its
   * connection is closed: a slow sender cannot hold its share of that budget for long. A WebSocket
   * message likewise, from its first frame's header (its session is closed). At most
   * `httpTimeouts.requestTimeoutMs`, which would cut it first. Default 30 s, or the request timeout
   * when that is shorter.
   */
  bodyTimeoutMs?: number;
  /** How long a client may take over a request head and body, and leave a connection idle (see core/http-limits.ts). */
  httpTimeouts?: Partial<HttpTimeouts>;
  /** `production` leaves out the stateless /reset, /step and /state. Default `simulation`. */
  mode?: ServerMode;
  sandbox?: SandboxBackend;
  /**
   * The reward every episode earns (`--reward FILE`); without it, each episode earns the default
   * its environment declares, else the built-in one. Only terms computed from the verifier and the
   * tool calls: one that needs the model (detector, rubric) is an InputError at `reward`.
   */
  reward?: RewardConfig;
  /** Builds one episode's environment (tests inject failures here). Default: `instantiate`. */
  environmentFactory?: (definition: EnvironmentDefinition) => Environment;
  /** Wall clock for task deadlines and the `duration` reward term. */
  now?: () => number;
  /** Where server-side problems are reported (a failed close, a socket error). */
  log?: (line: string) => void;
}

export interface OpenEnvStats {
  /** Sessions holding an environment (closing ones included). */
  sessions: number;
  maxSessions: number;
  /** Sandboxes opened by this server's episodes and not yet closed. */
  sandboxes: number;
  /** Bytes of request bodies and WebSocket messages being read or handled, and of replies not yet sent (see `maxBodyMemoryBytes`). */
  bodyBytes: number;
  /** Sockets open at once. */
  maxConnections: number;
  /** Sockets one client may hold at once; `maxConnections` when it is not limited beyond that. */
  maxConnectionsPerClient: number;
  maxBodyMemoryBytes: number;
  bodyTimeoutMs: number;
}

export interface OpenEnvServer {
  /** `http://host:port`. */
  url: string;
  host: string;
  port: number;
  env: string;
  stats(): OpenEnvStats;
  /** Ends every session (each told SESSION_ERROR), closes their environments, stops listening. */
  close(): Promise<void>;
}

const PORT = 'a whole number from 0 to 65535';
const TIMEOUT = `a whole number of ms from 1 to ${MAX_TIMER_MS} (about 24.8 days), or null for none`;
const BYTES = 'a whole number of bytes from 1 upwards';
const BODY_TIMEOUT = `a whole number of ms from 1 to ${MAX_TIMER_MS}`;

const Settings = z.object({
  host: z.string().min(1, 'an address to bind'),
  port: z.number(PORT).int(PORT).min(0, PORT).max(65_535, PORT),
  maxSessions: z.number('a positive whole number').int('a positive whole number').positive('a positive whole number'),
  // setTimeout fires at once past its longest delay: a longer timeout would end every session at once.
  sessionTimeoutMs: z.number(TIMEOUT).int(TIMEOUT).min(1, TIMEOUT).max(MAX_TIMER_MS, TIMEOUT).nullable(),
  mode: z.enum(['simulation', 'production'], 'simulation or production'),
  maxBodyMemoryBytes: z.number(BYTES).int(BYTES).min(1, BYTES).max(Number.MAX_SAFE_INTEGER, BYTES),
  bodyTimeoutMs: z.number(BODY_TIMEOUT).int(BODY_TIMEOUT).min(1, BODY_TIMEOUT).max(MAX_TIMER_MS, BODY_TIMEOUT),
});
type Settings = z.infer<typeof Settings>;

/** The settings, or an InputError naming the option at fault (the command restates it as its flag). */
function parseSettings(raw: Settings): Settings {
  const result = Settings.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const option = String(issue.path[0]) as keyof Settings;
  throw new InputError(option, `got ${JSON.stringify(raw[option])}`, issue.message);
}

const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** Sixteen of the largest bodies, or thousands of the usual few-KiB ones, at once. */
const DEFAULT_BODY_MEMORY_BYTES = 256 * 1024 * 1024;
/** Time for 16 MiB at about 0.5 MiB/s; an action or a JSON-RPC call of a few KiB needs milliseconds. */
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;

/** Sockets beyond its sessions that one client may always hold: /health, /schema and the like beside a full set of episodes. */
const PER_CLIENT_SPARE = 16;

/**
 * The HTTP limits, sized so sessions run out (and clients are told CAPACITY_REACHED) well before
 * sockets do: below `maxSessions` a client would be cut off without a word instead. Unless told
 * otherwise, one client holds at most a quarter of the sockets, so it cannot keep every other out
 * until its own close or time out; never fewer than its sessions could need.
 */
function httpLimits(options: OpenEnvServerOptions, maxSessions: number): HttpLimits {
  const perClient = options.maxConnectionsPerClient;
  const limits = resolveHttpLimits(
    { maxConnections: Math.max(4096, 2 * maxSessions), ...DEFAULT_HTTP_TIMEOUTS },
    {
      ...(options.maxConnections !== undefined ? { maxConnections: options.maxConnections } : {}),
      ...(typeof perClient === 'number' ? { maxConnectionsPerClient: perClient } : {}),
      ...(options.httpTimeouts ? { httpTimeouts: options.httpTimeouts } : {}),
    },
  );
  if (limits.maxConnections < maxSessions) {
    throw new InputError('maxConnections', `${limits.maxConnections} is fewer than the ${maxSessions} sessions allowed: clients past it would be cut off unanswered rather than told CAPACITY_REACHED`, `at least ${maxSessions}`);
  }
  if (perClient !== undefined) return limits;
  return { ...limits, maxConnectionsPerClient: Math.min(limits.maxConnections, Math.max(Math.floor(limits.maxConnections / 4), maxSessions + PER_CLIENT_SPARE)) };
}

function refuseUpgrade(socket: Duplex, status: 401 | 403 | 404 | 503, reason: string): void {
  const extra = status === 401 ? 'WWW-Authenticate: Bearer\r\n' : '';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\n${extra}Connection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** Fails at startup, not on the first reset, when the environment's sandbox cannot run here. */
async function checkSandbox(definition: EnvironmentDefinition, backend: SandboxBackend, tasks: readonly Task[]): Promise<void> {
  if (!definition.sandbox) return;
  // Sandboxes elsewhere do not depend on this machine's bubblewrap; a cluster must answer now.
  if (backend === 'k8s') {
    await checkK8sSandboxes(process.env, { defaultImage: tasks.some((task) => needsDefaultImage(definition, task)) }).catch((error: unknown) => {
      throw error instanceof InputError ? error.at(`--sandbox k8s: ${error.where}`) : error;
    });
    return;
  }
  if (backend === 'remote') return;
  const { bwrap } = await sandboxAvailability();
  if (backend === 'bwrap' && !bwrap.available) throw new InputError('--sandbox', `bwrap was asked for but cannot run here: ${bwrap.reason ?? 'unknown reason'}`, 'auto or virtual, or install bubblewrap');
  if (definition.requiresProcessSandbox && (backend === 'virtual' || !bwrap.available)) {
    const why = bwrap.available ? '' : `, which cannot run here: ${bwrap.reason ?? 'unknown reason'}`;
    throw new InputError('--sandbox', `${definition.name} needs a process sandbox (bwrap)${why}`, 'auto or bwrap on a machine with bubblewrap');
  }
}

export async function startOpenEnvServer(options: OpenEnvServerOptions): Promise<OpenEnvServer> {
  const settings = parseSettings({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 8000,
    maxSessions: options.maxSessions ?? 64,
    sessionTimeoutMs: options.sessionTimeoutMs === undefined ? 600_000 : options.sessionTimeoutMs,
    mode: options.mode ?? 'simulation',
    maxBodyMemoryBytes: options.maxBodyMemoryBytes ?? DEFAULT_BODY_MEMORY_BYTES,
    bodyTimeoutMs: options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS,
  });
  const limits = httpLimits(options, settings.maxSessions);
  if (options.bodyTimeoutMs !== undefined && settings.bodyTimeoutMs > limits.requestTimeoutMs) {
    throw new InputError('bodyTimeoutMs', `${settings.bodyTimeoutMs} ms is longer than the request timeout (${limits.requestTimeoutMs} ms), which would cut a slow body first anyway`, `at most ${limits.requestTimeoutMs} ms (httpTimeouts.requestTimeoutMs)`);
  }
  // The default gives way to a shorter request timeout, so what stats() reports is what holds.
  const bodyTimeoutMs = Math.min(settings.bodyTimeoutMs, limits.requestTimeoutMs);
  const token = requiredToken({ host: settings.host, token: options.token, exposes: 'drive the environment' });
  const reward = options.reward && checkServerReward(options.reward);
  const base = typeof options.env === 'string' ? getEnvironment(options.env) : options.env;
  const catalog = taskCatalog(base.tasks());
  if (catalog.tasks.length === 0) throw new InputError('--env', `environment ${base.name} has no tasks to serve`);
  await checkSandbox(base, options.sandbox ?? 'auto', catalog.tasks);
  const sandboxes = countSandboxes(base);
  const factory = options.environmentFactory ?? ((definition: EnvironmentDefinition) => instantiate(definition, options.sandbox ? { sandbox: options.sandbox } : {}));
  const log = options.log;
  // Verification may run this much longer past a task's deadline, as `gauntlet run` allows it.
  const overheadMs = (task: Task) => base.overheadMs?.(task) ?? 0;
  const createEpisode = () => {
    const definition = sandboxes.definition;
    return new OpenEnvEpisode({ environment: factory(definition), catalog, reward: episodeReward(definition, reward), overheadMs, ...(options.now ? { now: options.now } : {}) });
  };

  const registry = new SessionRegistry({
    maxSessions: settings.maxSessions,
    ...(settings.sessionTimeoutMs !== null ? { idleTimeoutMs: settings.sessionTimeoutMs } : {}),
    createEpisode,
    factoryName: `gauntlet:${base.name}`,
    ...(log ? { log } : {}),
  });
  const mcp = { registry, catalog, ...(log ? { log } : {}) };
  // WebSocket messages draw on it too (ws.ts), and a busy refusal says so.
  const bodyBudget = new BodyBudget(settings.maxBodyMemoryBytes, 'request bodies, WebSocket messages and replies');
  const app = createOpenEnvApp({ definition: base, catalog, mode: settings.mode, token, registry, mcp, maxBodyBytes: MAX_MESSAGE_BYTES, bodyBudget, bodyTimeoutMs, ...(log ? { log } : {}) });
  // A message larger than the whole budget could never be held: it is refused as its first frame arrives.
  const maxMessageBytes = Math.min(MAX_MESSAGE_BYTES, bodyBudget.limitBytes);
  const socketContext: SocketContext = { registry, catalog, mcp, maxMessageBytes, bodyBudget, ...(log ? { log } : {}) };
  const frameLimits = { budget: bodyBudget, maxMessageBytes, timeoutMs: bodyTimeoutMs };

  const server = createAdaptorServer({ fetch: app.fetch, hostname: settings.host }) as Server;
  applyHttpLimits(server, limits, log);
  // Loaded here: only a command that serves environments needs it.
  const { WebSocketServer } = await import('ws');
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxMessageBytes });
  let closing: Promise<void> | undefined;
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', (error) => log?.(`upgrade: ${error.message}`));
    if (closing) return refuseUpgrade(socket, 503, 'Service Unavailable');
    const url = new URL(request.url ?? '/', 'http://openenv.invalid');
    if (url.pathname !== '/ws' && url.pathname !== '/mcp') return refuseUpgrade(socket, 404, 'Not Found');
    if (token !== undefined && !hasBearerToken(request.headers.authorization, token)) return refuseUpgrade(socket, 401, 'Unauthorized');
    // Browsers send Origin on WebSocket upgrades too; a page elsewhere must not drive episodes through one.
    const refusal = browserRefusal({ host: request.headers.host, origin: request.headers.origin, tokenRequired: token !== undefined });
    if (refusal !== null) return refuseUpgrade(socket, 403, 'Forbidden');
    wss.handleUpgrade(request, socket, head, (ws) => {
      // Before any frame is read (the head's bytes too): `ws` reads them on a later tick.
      const connection = { socket: ws, frames: new FrameMeter(socket, frameLimits) };
      if (url.pathname === '/ws') serveEpisodeSocket(connection, socketContext);
      else void serveMcpSocket(connection, socketContext, url.searchParams);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new InputError('--port', `${settings.host}:${settings.port} is already in use`, 'a free port, or 0 to pick one') : error),
    );
    server.listen(settings.port, settings.host, () => {
      server.removeAllListeners('error');
      server.on('error', (error) => log?.(`server: ${error.message}`));
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostInUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${hostInUrl}:${address.port}`,
    host: address.address,
    port: address.port,
    env: base.name,
    stats: () => ({
      sessions: registry.size,
      maxSessions: settings.maxSessions,
      sandboxes: sandboxes.live(),
      bodyBytes: bodyBudget.held,
      maxBodyMemoryBytes: bodyBudget.limitBytes,
      bodyTimeoutMs,
      maxConnections: limits.maxConnections,
      maxConnectionsPerClient: Math.min(limits.maxConnectionsPerClient ?? limits.maxConnections, limits.maxConnections),
    }),
    close: () =>
      (closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        await registry.endAll('server shutting down');
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.closeAllConnections();
        await stopped;
      })()),
  };
}
