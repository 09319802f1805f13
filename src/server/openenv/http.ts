// The HTTP side: health, schema, metadata, OpenEnv's stateless /reset, /step and /state
// (simulation mode only), and JSON-RPC POST /mcp. Stateless means what OpenEnv means: each request
// gets a fresh environment, closed before the reply; real episodes use /ws or MCP sessions.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { browserRefusal, errorMessage, GAUNTLET_VERSION, hasBearerToken, nestsDeeperThan } from '../../core/index.ts';
import type { EnvironmentDefinition } from '../../envs/index.ts';
import { bufferBody, type BodyBudget, type RefusalReply } from './body.ts';
import { EpisodeFailure, initialState, type OpenEnvEpisode, type TaskCatalog } from './episode.ts';
import { handleJsonRpc, type McpContext } from './mcp.ts';
import { Action, PROTO_KEY, protoKeyPath, protocolSchemas, RPC, rpcError, StepRequest, TOO_DEEP, validationIssues, type ValidationIssue } from './protocol.ts';
import { SessionEndedError, type Refusal, type SessionRegistry, type Slot } from './sessions.ts';

export type ServerMode = 'simulation' | 'production';

export interface HttpContext {
  definition: EnvironmentDefinition;
  catalog: TaskCatalog;
  mode: ServerMode;
  token: string | undefined;
  /** Stateless requests' episodes count against its capacity like sessions. */
  registry: SessionRegistry;
  mcp: Omit<McpContext, 'bound' | 'signal'>;
  /** One body's bytes at most. */
  maxBodyBytes: number;
  /** Bytes of every body being read or handled at once, shared with the server's other requests. */
  bodyBudget: BodyBudget;
  /** A body not arrived whole this long after its reading began is refused (408) and its bytes given back. */
  bodyTimeoutMs: number;
  log?: (line: string) => void;
}

type Body = { ok: true; value: unknown } | { ok: false; issues: ValidationIssue[] };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The body `bufferBody` read, as text, or null when it is not UTF-8 (a lenient decode would hand on U+FFFD in place of the sender's bytes). */
function bodyText(body: Uint8Array): string | null {
  try {
    return utf8.decode(body);
  } catch {
    return null;
  }
}

const NOT_UTF8 = 'the body is not valid UTF-8 text (send JSON as UTF-8)';

/** The JSON body; empty means `{}` (OpenEnv's /reset body is optional). */
function jsonBody(body: Uint8Array): Body {
  const text = bodyText(body);
  if (text === null) return { ok: false, issues: [{ type: 'json_invalid', loc: ['body'], msg: NOT_UTF8 }] };
  if (text.trim() === '') return { ok: true, value: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, issues: [{ type: 'json_invalid', loc: ['body'], msg: `JSON decode error: ${errorMessage(error)}` }] };
  }
  if (nestsDeeperThan(value)) return { ok: false, issues: [{ type: 'json_too_deep', loc: ['body'], msg: TOO_DEEP }] };
  const proto = protoKeyPath(value);
  if (proto !== null) return { ok: false, issues: [{ type: 'proto_key', loc: ['body', ...proto], msg: PROTO_KEY }] };
  return { ok: true, value };
}

/** FastAPI's validation reply: 422 with a `detail` list. */
const unprocessable = (c: Context, detail: ValidationIssue[]) => c.json({ detail }, 422);

function failure(c: Context, error: unknown) {
  if (error instanceof EpisodeFailure) return c.json({ detail: error.message, failure: error.failure, source: error.source, retryable: error.retryable }, 500);
  throw error;
}

type CapacityRefusal = Extract<Refusal, { code: 'CAPACITY_REACHED' | 'SHUTTING_DOWN' }>;

/** 503 for a full server (try again soon) or one shutting down (whose connections are about to close). */
function capacityReached(c: Context, refusal: CapacityRefusal, headers: Record<string, string> = {}) {
  if (refusal.code === 'SHUTTING_DOWN') return c.json({ detail: refusal.message }, 503, { Connection: 'close' });
  return c.json({ detail: refusal.message, active_sessions: refusal.activeSessions, max_sessions: refusal.maxSessions }, 503, { 'Retry-After': '1', ...headers });
}

/**
 * Runs `work` on a fresh episode opened in the slot `reserveSlot` held for it, stopped when the
 * client goes away, closed before the reply.
 */
async function withEpisode(c: Context, place: { registry: SessionRegistry; slot: Slot }, work: (episode: OpenEnvEpisode, signal: AbortSignal) => Promise<unknown>) {
  let done;
  try {
    done = await place.registry.throwaway(c.req.raw.signal, ({ episode, signal }) => work(episode, signal), place.slot);
  } catch (error) {
    if (error instanceof SessionEndedError) return c.json({ detail: 'the request was stopped before it ran: its client went away or the server is shutting down' }, 503);
    return failure(c, error);
  }
  if (done.ok) return c.json(done.value);
  if (done.code !== 'FACTORY_ERROR') return capacityReached(c, done);
  return c.json({ detail: done.message, factory_name: done.factoryName }, 500);
}

/** What a stateless request's handler finds in its context: the place reserved for its episode (and the body). */
type Reserved = { Variables: { slot: Slot; body: Uint8Array } };

/** A body refused on the FastAPI routes: `{detail, …}` like the capacity refusal. */
const detailReply: RefusalReply = (c, refusal, status, headers) => c.json({ detail: refusal.message, ...refusal.data }, status, headers);

/** A body refused on POST /mcp: a JSON-RPC error with no id (the id is in the body, never read whole); busy is -32000 like CAPACITY_REACHED, the rest (the client's fault) -32600. */
const rpcReply: RefusalReply = (c, refusal, status, headers) => c.json(rpcError(null, refusal.kind === 'busy' ? RPC.serverError : RPC.invalidRequest, refusal.message, refusal.data), status, headers);

/**
 * Reserves the place of a stateless request's episode (it counts against capacity like a session)
 * before anything reads the body, so a full server answers 503 without reading up to 16 MiB it
 * would throw away; the place goes back when the request ends without opening the episode.
 */
function reserveSlot(registry: SessionRegistry): MiddlewareHandler<Reserved> {
  return async (c, next) => {
    const reserved = registry.reserve();
    // The unread body must not be parsed as the connection's next request.
    if (!reserved.ok) return capacityReached(c, reserved, { Connection: 'close' });
    c.set('slot', reserved.slot);
    try {
      await next();
    } finally {
      reserved.slot.release();
    }
  };
}

/** What the Node adapter hands each request beside it (nothing under `app.request` in tests). */
type NodeBindings = { incoming: IncomingMessage; outgoing: ServerResponse } | undefined;

/**
 * Holds each reply's bytes in the body budget from when it is made until the connection has handed
 * it to the socket, or closed: a client that sends requests and does not read would otherwise keep
 * replies (an observation may be megabytes) in memory the budget never saw. A reply goes out
 * whatever the budget holds, since what it answers has happened; while replies fill it, new bodies
 * are refused busy, as with WebSocket replies (ws.ts).
 */
function countedReplies(budget: BodyBudget): MiddlewareHandler<Reserved> {
  return async (c, next) => {
    await next();
    const node = c.env as NodeBindings;
    if (node === undefined || c.res.body === null) return;
    const bytes = new Uint8Array(await c.res.arrayBuffer());
    c.res = new Response(bytes, { status: c.res.status, headers: c.res.headers });
    const { outgoing } = node;
    // A reply queued behind another on a kept-alive connection has no socket of its own yet.
    const socket = node.incoming.socket;
    let held = true;
    const give = () => {
      if (!held) return;
      held = false;
      outgoing.off('close', give);
      socket.off('close', give);
      budget.give(bytes.byteLength);
    };
    budget.hold(bytes.byteLength);
    if (outgoing.destroyed || outgoing.writableFinished || socket.destroyed) return give();
    outgoing.once('close', give);
    socket.once('close', give);
  };
}

export function createOpenEnvApp(ctx: HttpContext): Hono<Reserved> {
  const app = new Hono<Reserved>();
  const schemas = protocolSchemas();

  app.use('*', countedReplies(ctx.bodyBudget));
  const { token } = ctx;
  app.use('*', async (c, next) => {
    if (token !== undefined && !hasBearerToken(c.req.header('authorization'), token)) {
      return c.json({ detail: 'missing or wrong bearer token (send Authorization: Bearer <token>)' }, 401, { 'WWW-Authenticate': 'Bearer' });
    }
    // The URL's host is the Host header the request was addressed with.
    const refusal = browserRefusal({ host: new URL(c.req.url).host, origin: c.req.header('origin'), tokenRequired: token !== undefined });
    if (refusal !== null) return c.json({ detail: refusal }, 403);
    await next();
  });
  // The slot first: a full server refuses without taking any of the body budget.
  const bodyLimits = { maxBytes: ctx.maxBodyBytes, budget: ctx.bodyBudget, timeoutMs: ctx.bodyTimeoutMs };
  if (ctx.mode === 'simulation') app.on('POST', ['/reset', '/step'], reserveSlot(ctx.registry), bufferBody(bodyLimits, detailReply));
  // Only the routes that read a body buffer one; elsewhere it is drained unread.
  app.post('/mcp', bufferBody(bodyLimits, rpcReply));

  app.get('/health', (c) => c.json({ status: 'healthy' }));
  app.get('/schema', (c) => c.json(schemas));
  app.get('/metadata', (c) =>
    c.json({
      name: ctx.definition.name,
      description: ctx.definition.description,
      readme_content: null,
      version: GAUNTLET_VERSION,
      author: null,
      documentation_url: null,
    }),
  );

  if (ctx.mode === 'simulation') {
    app.post('/reset', async (c) => {
      const body = jsonBody(c.get('body'));
      if (!body.ok) return unprocessable(c, body.issues);
      const data = ctx.catalog.resetData.safeParse(body.value);
      if (!data.success) return unprocessable(c, validationIssues(data.error.issues, ['body']));
      return withEpisode(c, { registry: ctx.registry, slot: c.get('slot') }, (episode, signal) => episode.reset(data.data, signal));
    });

    app.post('/step', async (c) => {
      const body = jsonBody(c.get('body'));
      if (!body.ok) return unprocessable(c, body.issues);
      const request = StepRequest.safeParse(body.value);
      if (!request.success) return unprocessable(c, validationIssues(request.error.issues, ['body']));
      const action = Action.safeParse(request.data.action);
      if (!action.success) return unprocessable(c, validationIssues(action.error.issues, ['body', 'action']));
      const reset = ctx.catalog.resetData.safeParse({ ...(request.data.task_id ? { task_id: request.data.task_id } : {}), ...(request.data.seed !== undefined ? { seed: request.data.seed } : {}) });
      if (!reset.success) return unprocessable(c, validationIssues(reset.error.issues, ['body']));
      const timeoutMs = request.data.timeout_s === undefined ? undefined : request.data.timeout_s * 1000;
      return withEpisode(c, { registry: ctx.registry, slot: c.get('slot') }, async (episode, signal) => {
        await episode.reset(reset.data, signal);
        return episode.step(action.data, { signal, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
      });
    });

    app.get('/state', (c) => c.json(initialState()));
  }

  app.post('/mcp', async (c) => {
    const text = bodyText(c.get('body'));
    if (text === null) return c.json(rpcError(null, RPC.parseError, `Parse error: ${NOT_UTF8}`));
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      return c.json(rpcError(null, RPC.parseError, `Parse error: ${errorMessage(error)}`));
    }
    return c.json(await handleJsonRpc(parsed, { ...ctx.mcp, signal: c.req.raw.signal }));
  });

  app.notFound((c) => c.json({ detail: 'Not Found' }, 404));
  app.onError((error, c) => {
    ctx.log?.(`${c.req.method} ${c.req.path}: ${errorMessage(error)}`);
    return c.json({ detail: errorMessage(error) }, 500);
  });
  return app;
}
