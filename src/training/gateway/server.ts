// The gateway's HTTP server: routes `/rollouts/ID/v1/...` (or `/v1/...` with a rollout header)
// to the rollout's recorder, `/v1/...` without a rollout straight through, and
// `POST /rollouts/ID/finish` to the run it records into. See docs/design/gateway.md.
import { lstatSync, unlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { applyHttpLimits, DEFAULT_HTTP_TIMEOUTS, errorMessage, hasBearerToken, InputError, modelCallIdFor, parseInput, MAX_TIMER_MS, requiredToken, resolveHttpLimits, StoreError, timerDelay, type HttpLimits, type HttpTimeouts, type Rollout, type Store } from '../../core/index.ts';
import type { ClientApiHandler } from './api.ts';
import { chatApi } from './chat.ts';
import { completionsApi } from './completions.ts';
import { runExchange, type ExchangeOutcome, type Recording } from './exchange.ts';
import { GatewayError, parseJsonObject, readBody, RECORDED_BY_HEADER, RECORDED_HEADER, ROLLOUT_HEADER, sendError, sendJson, type ClientApi } from './http.ts';
import { messagesApi } from './messages.ts';
import { RolloutTrack, type GatewayRoute } from './recording.ts';
import { responsesApi } from './responses.ts';
import { FinishBody, GatewayRun } from './run-mode.ts';
import { Upstream, type EngineInfo, type EngineSetting } from './upstream.ts';

export interface GatewayOptions {
  /** The upstream's OpenAI base URL, ending in `/v1` (vLLM, SGLang, the fake engine). */
  upstream: string;
  /** Default 127.0.0.1; any address beyond loopback needs `token`. */
  host?: string;
  /**
   * Bearer token every TCP request must carry (`Authorization: Bearer …`, or Anthropic's
   * `x-api-key`); it is never passed on to the upstream. The unix socket is not checked: its file
   * permissions guard it, as loopback guards a loopback bind.
   */
  token?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** With `runId`: requests to `/rollouts/ID/...` with no attached route are recorded under that run. */
  store?: Store;
  runId?: string;
  /** Sent to the upstream as a Bearer token (else the client's own credentials are passed on). */
  apiKey?: string;
  /** Which engine's token fields to ask for; `auto` (the default) asks the upstream's `/models`. */
  engine?: EngineSetting;
  /** Replaces the built-in node:http transport to the upstream (tests, custom networking). */
  fetch?: typeof fetch;
  /** The most bytes of one upstream answer the gateway holds or records (default 256 MiB); past it the call fails as malformed. */
  maxResponseBytes?: number;
  /** Also listen on this unix socket (sandboxed agents whose only way out is a socket). */
  socketPath?: string;
  /** Milliseconds since the epoch, for call timings. */
  now?: () => number;
  /**
   * Run mode: an open rollout with no call in flight and none for this long is committed as
   * `cancelled`, its calls kept (an agent that crashed never finishes it). Default one hour; 0 never.
   */
  abandonAfterMs?: number;
  /**
   * How long the upstream may send nothing (before answering, or between pieces of its answer)
   * before the gateway hangs up: the client is told (504, or the stream's failure) and the call is
   * recorded as a time-out, so a hung engine cannot hold a rollout's finish. Default ten minutes; 0 never.
   */
  upstreamTimeoutMs?: number;
  /**
   * Sockets open at once on each listener (TCP, unix socket); one more is closed as it arrives.
   * Default 4096: above any rollout concurrency one machine runs.
   */
  maxConnections?: number;
  /** Sockets one client (an IPv4 address, an IPv6 /64) may hold at once; more from it are closed on arrival. Default: no limit beyond maxConnections. */
  maxConnectionsPerClient?: number;
  /**
   * How long a client may take over a request head and body, and leave a connection idle (default
   * 65 s, longer than clients' own pool timeouts, so the gateway is not the side that closes a
   * socket a client is about to reuse); see core/http-limits.ts. A model's answer is never timed here.
   */
  httpTimeouts?: Partial<HttpTimeouts>;
}

export const DEFAULT_ABANDON_AFTER_MS = 3_600_000;
/**
 * Recorder failures whose messages a gateway keeps (the first ones, which name the cause); the rest
 * are only counted. A store that fails for days must not fill the gateway's memory, nor /health.
 */
export const RECORD_FAILURES_KEPT = 100;
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 600_000;

export interface GatewayStats {
  requests: number;
  /** Calls the gateway recorded into a rollout (succeeded or failed). */
  recorded: number;
  /** Calls whose client records tokens itself (`x-gauntlet-recorded-by: client`). */
  clientRecorded: number;
  /** Calls forwarded without a rollout. */
  unrecorded: number;
  /** Calls whose upstream failed, was cut, or whose client went away. */
  failed: number;
  /** Requests the gateway answered itself: bad bodies, unknown routes and rollouts. */
  refused: number;
  inFlight: number;
  rollouts: { attached: number; open: number; finished: number; abandoned: number };
  /** Recorder writes that failed (a full disk): the first `RECORD_FAILURES_KEPT` of them. */
  recordFailures: string[];
  /** Every recorder write that failed, including those `recordFailures` no longer lists. */
  recordFailureCount: number;
  engine: EngineInfo;
}

export interface Gateway {
  /** `http://host:port`, without `/v1`; see `gatewayBaseUrl`. */
  url: string;
  socketPath?: string;
  /** Routes `/rollouts/<rolloutId>/...` to this recorder until the returned function is called. */
  attach(route: GatewayRoute): () => void;
  stats(): GatewayStats;
  /** Stops listening, ends calls in flight (recorded as aborted), commits open run-mode rollouts as cancelled. */
  close(): Promise<void>;
}

const APIS: Record<string, ClientApiHandler> = {
  '/v1/chat/completions': chatApi,
  '/v1/completions': completionsApi,
  '/v1/responses': responsesApi,
  '/v1/messages': messagesApi,
};

const ROUTES = 'POST /v1/chat/completions, /v1/completions, /v1/responses, /v1/messages (each also under /rollouts/ID), other /v1/* passed through, POST /rollouts/ID/finish, GET /health';

const ROLLOUT_ID = /^[A-Za-z0-9_.:@-]{1,200}$/;

function apiOfPath(path: string): ClientApi {
  return APIS[path]?.api ?? 'gateway';
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  if ((options.store === undefined) !== (options.runId === undefined)) {
    throw new InputError(options.store ? 'runId' : 'store', 'a run-mode gateway needs both a store and a run id', 'both, or neither');
  }
  // Checked before anything opens: an open proxy beyond loopback is refused, not served.
  const token = requiredToken({ host: options.host ?? '127.0.0.1', token: options.token, exposes: 'spend the upstream model and write rollouts into the store' });
  const limits = resolveHttpLimits({ maxConnections: 4096, ...DEFAULT_HTTP_TIMEOUTS, keepAliveTimeoutMs: 65_000 }, options);
  const silenceMs = options.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
  if (!Number.isSafeInteger(silenceMs) || silenceMs < 0 || silenceMs > MAX_TIMER_MS) {
    throw new InputError('upstreamTimeoutMs', `got ${silenceMs}`, `a whole number of milliseconds from 0 (never) to ${MAX_TIMER_MS}`);
  }
  const upstream = new Upstream({ baseUrl: options.upstream, fetch: options.fetch, apiKey: options.apiKey, engine: options.engine ?? 'auto', maxResponseBytes: options.maxResponseBytes, silenceMs });
  const run = options.store && options.runId ? new GatewayRun({ store: options.store, runId: options.runId, upstream: upstream.describe(), engine: options.engine ?? 'auto' }) : null;
  const abandonAfterMs = options.abandonAfterMs ?? DEFAULT_ABANDON_AFTER_MS;
  if (!Number.isSafeInteger(abandonAfterMs) || abandonAfterMs < 0) throw new InputError('abandonAfterMs', `got ${abandonAfterMs}`, 'a whole number of milliseconds ≥ 0 (0: never)');
  const gateway = new GatewayServer({ upstream, run, now: options.now ?? Date.now, token, abandonAfterMs, limits });
  try {
    return await gateway.listen(options);
  } catch (error) {
    run?.close();
    upstream.close();
    throw error;
  }
}

class GatewayServer {
  private readonly attached = new Map<string, RolloutTrack>();
  /** Run-mode rollouts with calls and no finish yet. */
  private readonly open = new Map<string, RolloutTrack>();
  /** Run-mode rollouts whose finish waits for their calls in flight: no new call or second finish may start a second attempt of them. */
  private readonly finishing = new Set<string>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly servers: Server[] = [];
  private readonly counts = { requests: 0, recorded: 0, clientRecorded: 0, unrecorded: 0, failed: 0, refused: 0, finished: 0, abandoned: 0 };
  /** When each open run-mode rollout last had a call (by `now`), for `abandonAfterMs`. */
  private readonly lastCall = new Map<string, number>();
  private sweeper: ReturnType<typeof setInterval> | undefined;
  private readonly recordFailures: string[] = [];
  private recordFailureCount = 0;
  private closing: Promise<void> | null = null;

  private readonly upstream: Upstream;
  private readonly run: GatewayRun | null;
  private readonly now: () => number;
  private readonly token: string | undefined;

  private readonly abandonAfterMs: number;
  private readonly limits: HttpLimits;

  constructor(parts: { upstream: Upstream; run: GatewayRun | null; now: () => number; token: string | undefined; abandonAfterMs: number; limits: HttpLimits }) {
    this.upstream = parts.upstream;
    this.run = parts.run;
    this.now = parts.now;
    this.token = parts.token;
    this.abandonAfterMs = parts.abandonAfterMs;
    this.limits = parts.limits;
    if (this.run && this.abandonAfterMs > 0) {
      // A guard, not work: it must not keep the process alive.
      this.sweeper = setInterval(() => void this.commitAbandoned(), timerDelay(Math.max(10, Math.min(60_000, Math.floor(this.abandonAfterMs / 4)))));
      this.sweeper.unref();
    }
  }

  /**
   * Commits, as `cancelled`, open run-mode rollouts that have had no call for `abandonAfterMs`
   * and have none in flight: without this an agent that crashed before finishing would hold its
   * rollout, and its calls, in memory until the gateway stops.
   */
  private async commitAbandoned(): Promise<void> {
    if (!this.run || this.closing) return;
    const cutoff = this.now() - this.abandonAfterMs;
    for (const [id, track] of this.open) {
      if (track.inFlight > 0 || (this.lastCall.get(id) ?? 0) > cutoff) continue;
      try {
        await this.commitOpen(id, track, 'cancelled');
        this.counts.abandoned++;
      } catch (error) {
        // A store that refuses the commit is reported as a recorder failure; the sweep goes on.
        this.noteRecordFailures([`rollout ${id}: committing it after ${this.abandonAfterMs} ms without a call failed: ${errorMessage(error)}`]);
      }
    }
  }

  /**
   * Takes an open run-mode rollout out of play (new calls and a second finish are refused while
   * it waits) and commits it once its calls in flight have ended.
   */
  private async commitOpen(id: string, track: RolloutTrack, finish: FinishBody | 'cancelled'): Promise<Rollout> {
    this.open.delete(id);
    this.lastCall.delete(id);
    this.finishing.add(id);
    try {
      await track.settled();
      this.noteRecordFailures(track.recordFailures);
      return this.run!.commit(track.route, track.report(), finish);
    } finally {
      this.finishing.delete(id);
    }
  }

  async listen(options: GatewayOptions): Promise<Gateway> {
    const server = this.server({ checkToken: true });
    await listenOn(server, { port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
    const address = server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    if (options.socketPath) await listenOnSocket(this.server({ checkToken: false }), options.socketPath);
    return {
      url: `http://${host}:${address.port}`,
      ...(options.socketPath ? { socketPath: options.socketPath } : {}),
      attach: (route) => this.attach(route),
      stats: () => this.stats(),
      close: () => (this.closing ??= this.close(options.socketPath)),
    };
  }

  private server(options: { checkToken: boolean }): Server {
    const server = createServer((req, res) => {
      if (options.checkToken && this.token !== undefined && !this.admit(req, res, this.token)) return;
      const work = this.handle(req, res).catch((error: unknown) => {
        // A bug, not a model's or client's doing: say so rather than hang the client.
        if (!res.headersSent) sendJson(res, 500, { error: { message: `the gateway failed: ${errorMessage(error)}`, type: 'server_error', param: null, code: null } });
        else res.destroy();
      });
      this.inFlight.add(work);
      void work.finally(() => this.inFlight.delete(work));
    });
    applyHttpLimits(server, this.limits);
    this.servers.push(server);
    return server;
  }

  /** Lets a request through when it carries the token, which is then dropped so it never reaches the upstream. */
  private admit(req: IncomingMessage, res: ServerResponse, token: string): boolean {
    const apiKey = req.headers['x-api-key'];
    const offered = typeof apiKey === 'string' && req.headers.authorization === undefined ? `Bearer ${apiKey}` : req.headers.authorization;
    if (!hasBearerToken(offered, token)) {
      this.counts.requests++;
      this.counts.refused++;
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const error = new GatewayError(401, 'missing or wrong gateway token (send Authorization: Bearer <token>, or x-api-key: <token>)');
      sendError(res, apiOfPath(path.replace(/^\/rollouts\/[^/]+/, '')), error, { [RECORDED_HEADER]: 'false', 'www-authenticate': 'Bearer' });
      return false;
    }
    delete req.headers.authorization;
    delete req.headers['x-api-key'];
    return true;
  }

  private attach(route: GatewayRoute): () => void {
    const id = route.identity.rolloutId;
    if (!ROLLOUT_ID.test(id)) throw new InputError('attach: identity.rolloutId', `got ${JSON.stringify(id)}`, 'letters, digits and _ . : @ - (it goes in a URL path)');
    if (this.attached.has(id)) throw new InputError('attach', `rollout ${id} is already attached to this gateway`, 'one route per rollout; detach the earlier one first');
    const track = new RolloutTrack(route, (index) => modelCallIdFor(route.identity.rolloutId, route.identity.attempt, index));
    this.attached.set(id, track);
    return () => {
      if (this.attached.get(id) !== track) return;
      this.attached.delete(id);
      this.noteRecordFailures(track.recordFailures);
    };
  }

  private noteRecordFailures(messages: readonly string[]): void {
    this.recordFailureCount += messages.length;
    const room = RECORD_FAILURES_KEPT - this.recordFailures.length;
    if (room > 0) this.recordFailures.push(...messages.slice(0, room));
  }

  private stats(): GatewayStats {
    const tracks = [...this.attached.values(), ...this.open.values()];
    return {
      requests: this.counts.requests,
      recorded: this.counts.recorded,
      clientRecorded: this.counts.clientRecorded,
      unrecorded: this.counts.unrecorded,
      failed: this.counts.failed,
      refused: this.counts.refused,
      inFlight: this.inFlight.size,
      rollouts: { attached: this.attached.size, open: this.open.size, finished: this.counts.finished, abandoned: this.counts.abandoned },
      recordFailures: [...this.recordFailures, ...tracks.flatMap((track) => track.recordFailures)].slice(0, RECORD_FAILURES_KEPT),
      recordFailureCount: this.recordFailureCount + tracks.reduce((n, track) => n + track.recordFailures.length, 0),
      engine: this.upstream.engineInfo(),
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.counts.requests++;
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    let rolloutId: string | null = null;
    let rest = path;
    const match = /^\/rollouts\/([^/]+)(\/.*)?$/.exec(path);
    if (match) {
      rolloutId = decodePathSegment(match[1] as string);
      rest = match[2] ?? '/';
    } else {
      const header = req.headers[ROLLOUT_HEADER];
      if (typeof header === 'string' && header !== '') rolloutId = header;
    }
    const api = apiOfPath(rest);
    try {
      if (rolloutId !== null && !ROLLOUT_ID.test(rolloutId)) throw new GatewayError(400, `the rollout id ${JSON.stringify(rolloutId)} has characters a rollout id may not (letters, digits and _ . : @ - only)`);
      if (req.method === 'GET' && rest === '/health') return sendJson(res, 200, JSON.stringify({ status: 'ok', ...this.stats() }));
      if (rest === '/finish' && match) {
        if (req.method !== 'POST') throw new GatewayError(404, `${req.method} ${path}: finishing a rollout is POST /rollouts/ID/finish`);
        return await this.finish(rolloutId as string, req, res);
      }
      const handler = req.method === 'POST' ? APIS[rest] : undefined;
      if (handler) return await this.serve(handler, { req, res, path, rolloutId });
      if (rest.startsWith('/v1/')) {
        this.counts.unrecorded++;
        const controller = new AbortController();
        res.on('close', () => controller.abort());
        return await this.upstream.forward(req, res, rest.slice('/v1'.length) + url.slice(path.length), controller.signal);
      }
      throw new GatewayError(404, `no route ${req.method} ${path}; the gateway serves ${ROUTES}`);
    } catch (error) {
      this.counts.refused++;
      if (error instanceof GatewayError) return sendError(res, api, error, { [RECORDED_HEADER]: 'false' });
      if (error instanceof InputError) return sendError(res, api, GatewayError.fromInput(error), { [RECORDED_HEADER]: 'false' });
      throw error;
    }
  }

  private async serve(handler: ClientApiHandler, call: { req: IncomingMessage; res: ServerResponse; path: string; rolloutId: string | null }): Promise<void> {
    const { req, res } = call;
    const bodyText = await readBody(req);
    const body = parseJsonObject(bodyText);
    const prepared = handler.prepare(body);
    const recordedByClient = req.headers[RECORDED_BY_HEADER] === 'client';
    if (recordedByClient && (handler.api === 'responses' || handler.api === 'messages')) {
      throw new GatewayError(400, `${RECORDED_BY_HEADER}: client is for chat completions and completions, whose answers can carry token ids; this API has no place for them`, RECORDED_BY_HEADER);
    }
    // Checked before a run-mode rollout is opened: a refused call must open none (it would be held
    // until abandoned, then stored as a cancelled rollout with no calls).
    if (recordedByClient || call.rolloutId !== null) refuseSeveralChoices(body);
    let recording: Recording;
    let opens = false;
    if (recordedByClient) recording = { kind: 'client' };
    else if (call.rolloutId !== null) {
      opens = this.run !== null && !this.attached.has(call.rolloutId) && !this.open.has(call.rolloutId);
      recording = { kind: 'gateway', track: this.trackFor(call.rolloutId) };
    } else recording = { kind: 'none' };
    let exchange: Promise<ExchangeOutcome>;
    try {
      exchange = runExchange({ req, res, path: call.path, body, bodyText, prepared, upstream: this.upstream, recording, now: this.now });
    } catch (error) {
      // A body refused before anything was sent is no call: the run-mode rollout it opened is closed again, else a finish would commit it with no calls.
      if (opens && call.rolloutId !== null) {
        this.open.delete(call.rolloutId);
        this.lastCall.delete(call.rolloutId);
      }
      throw error;
    }
    const outcome: ExchangeOutcome = await (recording.kind === 'gateway' ? recording.track.hold(exchange) : exchange);
    // Idle is counted from a call's end: a long generation is not time without calls.
    if (recording.kind === 'gateway' && call.rolloutId !== null && this.lastCall.has(call.rolloutId)) this.lastCall.set(call.rolloutId, this.now());
    if (recording.kind === 'gateway') this.counts.recorded++;
    else if (recording.kind === 'client') this.counts.clientRecorded++;
    else this.counts.unrecorded++;
    if (!outcome.ok) this.counts.failed++;
  }

  private trackFor(rolloutId: string): RolloutTrack {
    const attached = this.attached.get(rolloutId);
    if (attached) return attached;
    if (!this.run) throw new GatewayError(404, `no rollout ${rolloutId} is attached to this gateway, and it records no run (start it with --run RUN_ID to record rollouts it was not told about)`);
    const open = this.open.get(rolloutId);
    if (open) {
      this.lastCall.set(rolloutId, this.now());
      return open;
    }
    if (this.finishing.has(rolloutId)) throw new GatewayError(409, `rollout ${rolloutId} of run ${this.run.runId} is being finished; it takes no more calls, and a new rollout needs a new id`);
    if (this.closing) throw new GatewayError(409, `the gateway is stopping; rollout ${rolloutId} cannot start`);
    if (this.run.finished(rolloutId)) throw new GatewayError(409, `rollout ${rolloutId} of run ${this.run.runId} is finished; a new rollout needs a new id`);
    const route = this.run.route(rolloutId);
    const track = new RolloutTrack(route, (index) => modelCallIdFor(route.identity.rolloutId, route.identity.attempt, index));
    this.open.set(rolloutId, track);
    this.lastCall.set(rolloutId, this.now());
    return track;
  }

  private async finish(rolloutId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.attached.has(rolloutId)) throw new GatewayError(409, `rollout ${rolloutId} is attached by a library caller, which commits it itself`);
    if (!this.run) throw new GatewayError(404, 'this gateway records no run (start it with --run RUN_ID), so there is no rollout to finish');
    const text = await readBody(req);
    const finish = parseInput(FinishBody, text.trim() === '' ? {} : parseJsonObject(text), 'finish body');
    const track = this.open.get(rolloutId);
    if (!track) {
      if (this.finishing.has(rolloutId)) throw new GatewayError(409, `rollout ${rolloutId} is already being finished`);
      if (this.run.finished(rolloutId)) throw new GatewayError(409, `rollout ${rolloutId} is already finished`);
      throw new GatewayError(404, `rollout ${rolloutId} made no model calls through this gateway; there is nothing to finish`);
    }
    try {
      const rollout = await this.commitOpen(rolloutId, track, finish);
      this.counts.finished++;
      sendJson(res, 200, { rollout: { id: rollout.id, runId: rollout.runId, attempt: rollout.attempt, status: rollout.status, terminationReason: rollout.terminationReason, score: rollout.score, passed: rollout.passed, modelCalls: rollout.stats.modelCalls } });
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      sendJson(res, 500, { error: { message: `rollout ${rolloutId} could not be stored: ${error.message}`, type: 'server_error', param: null, code: null } });
    }
  }

  private async close(socketPath: string | undefined): Promise<void> {
    clearInterval(this.sweeper);
    const stopped = Promise.all(this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    // Calls in flight end now: their clients see the connection close, and they are recorded as aborted.
    for (const server of this.servers) server.closeAllConnections();
    await stopped;
    await Promise.all([...this.inFlight]);
    if (this.run) {
      for (const [id, track] of this.open) {
        this.open.delete(id);
        await track.settled();
        this.run.commit(track.route, track.report(), 'cancelled');
      }
      this.run.close();
    }
    if (socketPath) removeSocket(socketPath);
    this.upstream.close();
  }
}

/** A `%` escape that is no UTF-8 stays as it came: the rollout-id check then refuses it with a 400, not a 500. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch (_error) {
    return segment;
  }
}

function listenOn(server: Server, where: { port: number; host: string } | { path: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const ready = (): void => {
      server.off('error', reject);
      resolve();
    };
    if ('path' in where) server.listen(where.path, ready);
    else server.listen(where.port, where.host, ready);
  });
}

/** Listens on a unix socket, replacing a stale socket file that nothing answers on (never a live one, never another kind of file). */
async function listenOnSocket(server: Server, path: string): Promise<void> {
  try {
    await listenOn(server, { path });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw new InputError('socketPath', `cannot listen on ${path}: ${errorMessage(error)}`, 'a writable path for a new unix socket');
    if (!isSocket(path) || (await socketAnswers(path))) throw new InputError('socketPath', `${path} is in use`, 'a path no live server listens on');
    unlinkSync(path);
    await listenOn(server, { path });
  }
}

function isSocket(path: string): boolean {
  try {
    return lstatSync(path).isSocket();
  } catch (_error) {
    return false;
  }
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function removeSocket(path: string): void {
  if (isSocket(path)) unlinkSync(path);
}

/**
 * A recorded call holds one sampled answer; asked for several (`n`, or completions' `best_of`), the
 * engine's other choices would reach the client and never the record, and a trainer would miss
 * them without a word. One request per sample records each.
 */
function refuseSeveralChoices(body: Record<string, unknown>): void {
  for (const field of ['n', 'best_of']) {
    const value = body[field];
    if (value === undefined || value === null || value === 1) continue;
    throw new GatewayError(400, `${field}: got ${JSON.stringify(value)}; a recorded call keeps one sampled answer, so ask for one choice per request (send ${field === 'n' ? 'n' : 'best_of'} requests in parallel; each is recorded as its own call)`, field);
  }
}
