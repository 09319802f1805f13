// What one HTTP client may hold on a Gauntlet server: a bounded number of sockets, each of which
// must deliver its request in bounded time and may sit idle between requests only briefly. What
// the server sends back is never timed: streamed answers, long commands and upgraded WebSockets
// run as long as they need.
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { z } from 'zod';
import { InputError } from './errors.ts';
import { MAX_TIMER_MS } from './timers.ts';

export interface HttpTimeouts {
  /** A connection's request head (request line and headers) must have arrived this long after it opened or its request began. */
  headersTimeoutMs: number;
  /** A request, body included, must have arrived this long after it began; at least `headersTimeoutMs`. */
  requestTimeoutMs: number;
  /** A kept-alive connection with no request in flight is closed after this long. */
  keepAliveTimeoutMs: number;
}

export interface HttpLimits extends HttpTimeouts {
  /** Sockets open at once (upgraded WebSockets included); one more is closed as soon as it is accepted. */
  maxConnections: number;
  /**
   * Sockets one client may hold at once (an IPv4 address, or an IPv6 /64 network, which one host
   * commonly holds whole); one more from it is closed as soon as it is accepted. Absent: no limit
   * beyond `maxConnections`.
   */
  maxConnectionsPerClient?: number;
}

/** What a server takes from its caller: any limit left out keeps that server's default. */
export interface HttpLimitOptions {
  maxConnections?: number;
  maxConnectionsPerClient?: number;
  httpTimeouts?: Partial<HttpTimeouts>;
}

/** Timeouts no real client comes near; servers differ only in the keep-alive idle time. */
export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = { headersTimeoutMs: 30_000, requestTimeoutMs: 300_000, keepAliveTimeoutMs: 5_000 };

const CONNECTIONS = 'a whole number of connections from 1 to 1,000,000';
const TIMEOUT = `a whole number of ms from 1 to ${MAX_TIMER_MS}`;
const Timeout = z.number(TIMEOUT).int(TIMEOUT).min(1, TIMEOUT).max(MAX_TIMER_MS, TIMEOUT);
const Connections = z.number(CONNECTIONS).int(CONNECTIONS).min(1, CONNECTIONS).max(1_000_000, CONNECTIONS);
const Limits = z.object({
  maxConnections: Connections,
  maxConnectionsPerClient: Connections.optional(),
  headersTimeoutMs: Timeout,
  requestTimeoutMs: Timeout,
  keepAliveTimeoutMs: Timeout,
});

/**
 * The limits a server runs with: its defaults overridden by what the caller gave, or an InputError
 * naming the option at fault (`maxConnections`, `httpTimeouts.headersTimeoutMs`, …).
 */
export function resolveHttpLimits(defaults: HttpLimits, given: HttpLimitOptions = {}): HttpLimits {
  const raw = {
    ...defaults,
    ...given.httpTimeouts,
    ...(given.maxConnections !== undefined ? { maxConnections: given.maxConnections } : {}),
    ...(given.maxConnectionsPerClient !== undefined ? { maxConnectionsPerClient: given.maxConnectionsPerClient } : {}),
  };
  const result = Limits.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const key = String(issue.path[0]) as keyof HttpLimits;
    throw new InputError(key === 'maxConnections' || key === 'maxConnectionsPerClient' ? key : `httpTimeouts.${key}`, `got ${JSON.stringify(raw[key])}`, issue.message);
  }
  const limits = result.data;
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new InputError('httpTimeouts.headersTimeoutMs', `${limits.headersTimeoutMs} ms is longer than the request timeout (${limits.requestTimeoutMs} ms), which would cut the head first anyway`, 'at most requestTimeoutMs');
  }
  return limits;
}

/**
 * Applies `limits` to a server before it listens. Node times a request head from the moment its
 * connection opens (a socket that sends nothing is cut too, answered 408) and a request until its
 * body has arrived; the response is not timed, nor is a socket once upgraded. Dropped connections
 * are logged on the first and every thousandth, so an attack cannot flood the log.
 */
export function applyHttpLimits(server: Server, limits: HttpLimits, log?: (line: string) => void): void {
  // Node reads the checking interval when it starts listening: later it would be ignored.
  if (server.listening) throw new Error('applyHttpLimits: the server is already listening; apply the limits before listen()');
  server.maxConnections = limits.maxConnections;
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  // Node looks for late heads and bodies this often (30 s by default): often enough that a timeout
  // is enforced near its length, rarely enough to cost nothing.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.min(5_000, Math.max(10, Math.floor(limits.headersTimeoutMs / 4)));

  let dropped = 0;
  server.on('drop', () => {
    dropped++;
    if (dropped === 1 || dropped % 1000 === 0) {
      log?.(`closed ${dropped} connection${dropped === 1 ? '' : 's'} on arrival so far: ${limits.maxConnections} at once is the limit (maxConnections)`);
    }
  });
  const perClient = limits.maxConnectionsPerClient;
  if (perClient !== undefined && perClient < limits.maxConnections) limitPerClient(server, perClient, log);
}

/** Closes a client's sockets beyond `limit` as they arrive; its others, and other clients, are untouched. */
function limitPerClient(server: Server, limit: number, log?: (line: string) => void): void {
  const open = new Map<string, number>();
  let refused = 0;
  server.on('connection', (socket: Socket) => {
    // A Unix socket's peers have no address: they are local processes, not counted.
    if (socket.remoteAddress === undefined) return;
    const client = clientOf(socket.remoteAddress);
    const count = (open.get(client) ?? 0) + 1;
    if (count > limit) {
      refused++;
      if (refused === 1 || refused % 1000 === 0) {
        log?.(`closed ${refused} connection${refused === 1 ? '' : 's'} on arrival so far from clients holding ${limit} already (maxConnectionsPerClient)`);
      }
      socket.destroy();
      return;
    }
    open.set(client, count);
    socket.once('close', () => {
      const left = open.get(client)! - 1;
      if (left === 0) open.delete(client);
      else open.set(client, left);
    });
  });
}

/**
 * Who a socket's peer counts as: its IPv4 address (an IPv4-mapped IPv6 one read as IPv4), or the
 * /64 network of an IPv6 address, since one host is commonly given a whole /64 to pick from.
 */
export function clientOf(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(':')) return address;
  const groups = expandIpv6(address.split('%')[0]!);
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : address;
}

/** The eight 16-bit groups of an IPv6 address, as lower-case hex without leading zeros; null when it is not one. */
function expandIpv6(address: string): string[] | null {
  const halves = address.toLowerCase().split('::');
  if (halves.length > 2) return null;
  const part = (text: string) => (text === '' ? [] : text.split(':'));
  const head = part(halves[0]!);
  const tail = halves.length === 2 ? part(halves[1]!) : [];
  const last = (tail.length > 0 ? tail : head).at(-1);
  // A dotted IPv4 ending (::ffff:1.2.3.4 is handled above; others are rare) stands for two groups.
  if (last?.includes('.')) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 0) return null;
  const groups = [...head, ...Array<string>(missing).fill('0'), ...tail];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.map((g) => Number.parseInt(g, 16).toString(16));
}

/** Where a started server listens. */
export interface ListeningAddress {
  /** `http://host:port`, an IPv6 host in brackets. */
  url: string;
  host: string;
  port: number;
}

/**
 * Starts `server` listening on `host:port`. A port already taken is bad input (`port`); errors
 * after the start go to `log`, so none is left unhandled to end the process.
 */
export async function listenOn(server: Server, options: { host: string; port: number; log?: ((line: string) => void) | undefined }): Promise<ListeningAddress> {
  const { host, port, log } = options;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new InputError('port', `${host}:${port} is already in use`, 'a free port, or 0 to pick one') : error),
    );
    server.listen(port, host, () => {
      server.removeAllListeners('error');
      server.on('error', (error) => log?.(`server: ${error.message}`));
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostInUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { url: `http://${hostInUrl}:${address.port}`, host: address.address, port: address.port };
}
