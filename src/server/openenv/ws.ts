// The WebSocket transports. `/ws`: OpenEnv's episode channel ({type, data} messages, error codes,
// one session per connection). WS `/mcp`: raw JSON-RPC frames over a session of their own.
// Every frame is handled in the session's queue, so replies come back in the order of requests.
import type { RawData, WebSocket } from 'ws';
import { errorMessage, nestsDeeperThan } from '../../core/index.ts';
import { EpisodeFailure, EpisodeStateError, type TaskCatalog } from './episode.ts';
import { handleJsonRpc, invalidParams, type McpContext } from './mcp.ts';
import { Action, isWsMessageType, RPC, rpcError, TOO_DEEP, validationIssues, WsMessage, type WsErrorCode } from './protocol.ts';
import { SessionEndedError, type EndReason, type OpenResult, type Session, type SessionRegistry } from './sessions.ts';

export interface SocketContext {
  registry: SessionRegistry;
  catalog: TaskCatalog;
  mcp: Omit<McpContext, 'bound'>;
  log?: (line: string) => void;
}

/** Frames a client may have waiting before the session is dropped (a client that never reads replies). */
const MAX_PENDING = 64;

/** Close codes: 1000 normal, 1001 going away (idle, shutdown), 1011 server error, 1013 try again later (capacity). */
const CLOSE_CODES: Record<EndReason, number> = { 'closed by client': 1000, disconnected: 1000, 'idle timeout': 1001, 'server shutting down': 1001 };

type Outgoing = { type: 'observation' | 'state' | 'mcp' | 'error'; data: unknown };

function send(socket: WebSocket, message: unknown): void {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
}

function wsError(code: WsErrorCode, message: string, extra: Record<string, unknown> = {}): Outgoing {
  return { type: 'error', data: { message, code, ...extra } };
}

function textOf(raw: RawData): string {
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8');
  return Buffer.isBuffer(raw) ? raw.toString('utf8') : Buffer.from(raw).toString('utf8');
}

/** Opens the connection's session, or says why not (CAPACITY_REACHED / FACTORY_ERROR) and closes. */
function openOrRefuse(socket: WebSocket, opened: OpenResult, refuse: (opened: Exclude<OpenResult, { ok: true }>) => unknown): Session | undefined {
  if (opened.ok) return opened.session;
  send(socket, refuse(opened));
  socket.close(opened.code === 'CAPACITY_REACHED' ? 1013 : 1011, opened.code);
  return undefined;
}

/** Wires a socket's frames into the session queue and its end into the session's end. */
function attach(socket: WebSocket, session: Session, ctx: SocketContext, handle: (text: string) => Promise<unknown>): void {
  let pending = 0;
  session.onEnd = (reason) => {
    if (reason === 'idle timeout' || reason === 'server shutting down') {
      const why = reason === 'idle timeout' ? 'session closed after being idle past the server\'s session timeout' : 'server shutting down';
      send(socket, session.kind === 'ws' ? wsError('SESSION_ERROR', why) : rpcError(null, RPC.serverError, why));
    }
    socket.close(CLOSE_CODES[reason], reason);
  };
  socket.on('message', (raw) => {
    if (++pending > MAX_PENDING) {
      send(socket, session.kind === 'ws' ? wsError('SESSION_ERROR', `more than ${MAX_PENDING} messages waiting for replies; read replies before sending more`) : rpcError(null, RPC.serverError, `more than ${MAX_PENDING} requests waiting`));
      socket.close(1008, 'too many pending messages');
      void ctx.registry.end(session, 'closed by client');
      return;
    }
    const text = textOf(raw);
    ctx.registry
      .run(session, () => handle(text))
      .then(
        (reply) => {
          if (reply !== 'close') return send(socket, reply);
          socket.close(1000, 'closed by client');
          void ctx.registry.end(session, 'closed by client');
        },
        (error: unknown) => {
          if (!(error instanceof SessionEndedError)) ctx.log?.(`session ${session.id}: ${errorMessage(error)}`);
        },
      )
      .finally(() => pending--);
  });
  socket.on('close', () => void ctx.registry.end(session, 'disconnected'));
  socket.on('error', (error) => ctx.log?.(`session ${session.id}: socket error: ${error.message}`));
}

/** `/ws`: one episode per connection. */
export function serveEpisodeSocket(socket: WebSocket, ctx: SocketContext): void {
  const session = openOrRefuse(socket, ctx.registry.open('ws'), (refused) =>
    refused.code === 'CAPACITY_REACHED'
      ? wsError('CAPACITY_REACHED', refused.message, { active_sessions: refused.activeSessions, max_sessions: refused.maxSessions })
      : wsError('FACTORY_ERROR', refused.message, { factory_name: refused.factoryName }),
  );
  if (!session) return;
  attach(socket, session, ctx, (text) => episodeMessage(text, session, ctx));
}

async function episodeMessage(text: string, session: Session, ctx: SocketContext): Promise<Outgoing | 'close'> {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch (error) {
    return wsError('INVALID_JSON', `Invalid JSON: ${errorMessage(error)}`);
  }
  if (nestsDeeperThan(message)) return wsError('VALIDATION_ERROR', 'Invalid message', { errors: [{ type: 'json_too_deep', loc: [], msg: TOO_DEEP }] });
  if (message === null || typeof message !== 'object' || Array.isArray(message)) {
    return wsError('VALIDATION_ERROR', 'Invalid message', { errors: [{ type: 'object_type', loc: [], msg: 'expected a JSON object {"type": …, "data": …}' }] });
  }
  const type = (message as { type?: unknown }).type;
  if (!isWsMessageType(type)) return wsError('UNKNOWN_TYPE', `Unknown message type: ${typeof type === 'string' ? type : JSON.stringify(type ?? '')}`);
  const envelope = WsMessage.safeParse(message);
  if (!envelope.success) return wsError('VALIDATION_ERROR', 'Invalid message', { errors: validationIssues(envelope.error.issues) });
  const { episode, signal } = session;
  const parsed = envelope.data;
  try {
    switch (parsed.type) {
      case 'reset': {
        const data = ctx.catalog.resetData.safeParse(parsed.data);
        if (!data.success) return wsError('VALIDATION_ERROR', 'Invalid reset data', { errors: validationIssues(data.error.issues, ['data']) });
        return { type: 'observation', data: await episode.reset(data.data, signal) };
      }
      case 'step': {
        const action = Action.safeParse(parsed.data);
        if (!action.success) return wsError('VALIDATION_ERROR', 'Invalid action', { errors: validationIssues(action.error.issues, ['data']) });
        return { type: 'observation', data: await episode.step(action.data, { signal }) };
      }
      case 'state':
        return { type: 'state', data: episode.state() };
      case 'close':
        return 'close';
      case 'mcp':
        return { type: 'mcp', data: await handleJsonRpc(parsed.data, { ...ctx.mcp, bound: session }) };
    }
  } catch (error) {
    return executionError(error, ctx, session);
  }
}

function executionError(error: unknown, ctx: SocketContext, session: Session): Outgoing {
  if (error instanceof EpisodeStateError) return wsError('EXECUTION_ERROR', error.message);
  // Not a reward, not a score: the trainer must drop or retry this episode.
  if (error instanceof EpisodeFailure) return wsError('EXECUTION_ERROR', error.message, { failure: error.failure, source: error.source, retryable: error.retryable });
  ctx.log?.(`session ${session.id}: ${errorMessage(error)}`);
  return wsError('EXECUTION_ERROR', errorMessage(error), { failure: 'defect', source: 'gauntlet', retryable: false });
}

/** WS `/mcp`: raw JSON-RPC per frame over a session reset at connect (query `task_id`, `seed`, `episode_id`). */
export async function serveMcpSocket(socket: WebSocket, ctx: SocketContext, query: URLSearchParams): Promise<void> {
  const seed = query.get('seed');
  const reset = ctx.catalog.resetData.safeParse({
    ...(query.has('task_id') ? { task_id: query.get('task_id') } : {}),
    // Any number goes to the schema as a number, so -1 or 1.5 is told its range, not its type.
    ...(seed !== null ? { seed: /^-?\d+(\.\d+)?$/.test(seed) ? Number(seed) : seed } : {}),
    ...(query.has('episode_id') ? { episode_id: query.get('episode_id') } : {}),
  });
  if (!reset.success) {
    send(socket, invalidParams(null, reset.error.issues));
    socket.close(1008, 'invalid query');
    return;
  }
  const session = openOrRefuse(socket, ctx.registry.open('mcp-ws'), (refused) =>
    rpcError(null, RPC.serverError, refused.message, refused.code === 'CAPACITY_REACHED' ? { active_sessions: refused.activeSessions, max_sessions: refused.maxSessions } : { factory_name: refused.factoryName }),
  );
  if (!session) return;
  attach(socket, session, ctx, async (text) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      return rpcError(null, RPC.parseError, `Parse error: ${errorMessage(error)}`);
    }
    return handleJsonRpc(parsed, { ...ctx.mcp, bound: session });
  });
  try {
    await ctx.registry.run(session, () => session.episode.reset(reset.data, session.signal));
  } catch (error) {
    if (error instanceof SessionEndedError) return;
    send(socket, rpcError(null, RPC.serverError, `could not start the episode: ${errorMessage(error)}`));
    socket.close(1011, 'reset failed');
    await ctx.registry.end(session, 'closed by client');
  }
}
