// The WebSocket transports. `/ws`: OpenEnv's episode channel ({type, data} messages, error codes,
// one session per connection). WS `/mcp`: raw JSON-RPC frames over a session of their own.
// Every frame is handled in the session's queue, so replies come back in the order of requests.
// A message holds its share of the body budget from its first frame's header (frames.ts) until its
// reply is sent.
import type { RawData, WebSocket } from 'ws';
import { errorMessage, nestsDeeperThan } from '../../core/index.ts';
import { describeBytes, type BodyBudget } from './body.ts';
import { EpisodeFailure, EpisodeStateError, type TaskCatalog } from './episode.ts';
import type { FrameMeter, FrameRefusal } from './frames.ts';
import { handleJsonRpc, invalidParams, refused as rpcRefusal, type McpContext } from './mcp.ts';
import { Action, isWsMessageType, PROTO_KEY, protoKeyPath, RPC, rpcError, TOO_DEEP, validationIssues, WsMessage, type WsErrorCode } from './protocol.ts';
import { SessionEndedError, type EndReason, type OpenResult, type Session, type SessionRegistry } from './sessions.ts';

export interface SocketContext {
  registry: SessionRegistry;
  catalog: TaskCatalog;
  mcp: Omit<McpContext, 'bound' | 'signal'>;
  /** The largest message a client may send (no more than the whole budget); also the bytes of messages it may have waiting, twice over. */
  maxMessageBytes: number;
  /** Shared with the HTTP request bodies: a message holds its bytes from its first frame until its reply is sent. */
  bodyBudget: BodyBudget;
  log?: (line: string) => void;
}

/** One upgraded connection: the WebSocket, and the meter reading its frames as they arrive. */
export interface Connection {
  socket: WebSocket;
  frames: FrameMeter;
}

/** Frames a client may have waiting before the session is dropped (a client that never reads replies). */
const MAX_PENDING = 64;

/**
 * Reply bytes a client may leave unread before it is dropped. `ws` buffers what the socket cannot
 * take yet without limit, so a client that sends without reading would otherwise grow the server's
 * memory without end (a free `list_tools`, over and over, costs it nothing).
 */
const MAX_UNREAD_BYTES = 16 * 1024 * 1024;

/** Close codes: 1000 normal, 1001 going away (idle, shutdown), 1011 server error, 1013 try again later (capacity). */
const CLOSE_CODES: Record<EndReason, number> = { 'closed by client': 1000, disconnected: 1000, 'idle timeout': 1001, 'server shutting down': 1001 };

type Outgoing = { type: 'observation' | 'state' | 'mcp' | 'error'; data: unknown };

function send(socket: WebSocket, message: unknown): void {
  if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
}

/**
 * A session's replies, counted in the body budget until `ws` has handed them to the socket: what a
 * slow client has not taken yet is memory the server holds (up to MAX_UNREAD_BYTES a session). While
 * they hold it, new messages and bodies are refused busy. Whatever is still held when the socket
 * closes goes back then (a send's callback may come after, or not at all).
 */
class UnsentReplies {
  #held = 0;
  #closed = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly budget: BodyBudget,
  ) {}

  send(message: unknown): void {
    if (this.#closed || this.socket.readyState !== this.socket.OPEN) return;
    const text = JSON.stringify(message);
    const bytes = Buffer.byteLength(text);
    this.budget.hold(bytes);
    this.#held += bytes;
    this.socket.send(text, () => this.#sent(bytes));
  }

  #sent(bytes: number): void {
    if (this.#closed) return;
    this.#held -= bytes;
    this.budget.give(bytes);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.budget.give(this.#held);
    this.#held = 0;
  }
}

function wsError(code: WsErrorCode, message: string, extra: Record<string, unknown> = {}): Outgoing {
  return { type: 'error', data: { message, code, ...extra } };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function bytesOf(raw: RawData): Buffer {
  if (Array.isArray(raw)) return Buffer.concat(raw);
  return Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
}

/**
 * The frame's text, or null when it is not UTF-8. `ws` checks text frames, not binary ones, and a
 * lenient decode would hand the tool U+FFFD in place of the bytes the client sent.
 */
function textOf(bytes: Buffer): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

const NOT_UTF8 = 'the frame is not valid UTF-8 text (send JSON as UTF-8)';

/** Opens the connection's session, or says why not (CAPACITY_REACHED / FACTORY_ERROR) and closes. */
function openOrRefuse(socket: WebSocket, opened: OpenResult, refuse: (opened: Exclude<OpenResult, { ok: true }>) => unknown): Session | undefined {
  if (opened.ok) return opened.session;
  send(socket, refuse(opened));
  socket.close(opened.code === 'CAPACITY_REACHED' ? 1013 : opened.code === 'SHUTTING_DOWN' ? 1001 : 1011, opened.code);
  return undefined;
}

/**
 * Holds `size` bytes of the budget for a whole message, counting the `claimed` bytes its frames took
 * as they arrived; false, holding nothing, when the rest does not fit (its frames came whole in one
 * read while the budget was short).
 */
function holdMessage(budget: BodyBudget, size: number, claimed: number): boolean {
  if (claimed >= size) {
    budget.give(claimed - size);
    return true;
  }
  if (budget.take(size - claimed)) return true;
  budget.give(claimed);
  return false;
}

/** Wires a socket's frames into the session queue and its end into the session's end. */
function attach(connection: Connection, session: Session, ctx: SocketContext, handle: (text: string | null) => Promise<unknown>): void {
  const { socket, frames } = connection;
  const replies = new UnsentReplies(socket, ctx.bodyBudget);
  let pending = 0;
  // Frames waiting hold their text in memory: 64 frames of the largest size would be a gigabyte.
  let pendingBytes = 0;
  const maxPendingBytes = 2 * ctx.maxMessageBytes;
  /** Ends the session of a client that floods it: told why, or (one that does not read would not read that, nor a closing handshake) cut off. */
  const drop = (why: string, tell: boolean) => {
    if (tell) {
      replies.send(session.kind === 'ws' ? wsError('SESSION_ERROR', why) : rpcError(null, RPC.serverError, why));
      socket.close(1008, 'too many pending messages');
    } else {
      socket.terminate();
    }
    void ctx.registry.end(session, 'closed by client');
  };
  session.onEnd = (reason) => {
    if (reason === 'idle timeout' || reason === 'server shutting down') {
      const why = reason === 'idle timeout' ? 'session closed after being idle past the server\'s session timeout' : 'server shutting down';
      replies.send(session.kind === 'ws' ? wsError('SESSION_ERROR', why) : rpcError(null, RPC.serverError, why));
    }
    socket.close(CLOSE_CODES[reason], reason);
  };
  frames.onRefusal = (refusal) => {
    replies.send(frameRefusal(session, ctx.bodyBudget, refusal));
    // `ws` closes an oversized message's socket itself (1009), after this explanation.
    if (refusal.kind === 'too large') return;
    socket.close(refusal.kind === 'busy' ? 1013 : 1008, refusal.kind === 'busy' ? 'server busy' : 'message too slow');
    frames.hangUp();
    void ctx.registry.end(session, 'closed by client');
  };
  socket.on('message', (raw) => {
    const bytes = bytesOf(raw);
    // The size, not the buffer, is kept for later: the frame's bytes are freed once decoded.
    const size = bytes.length;
    // Waiting messages across every socket draw on the HTTP bodies' budget, so many sockets cannot
    // hold 64 sessions × 32 MiB; one that does not fit is answered (in its turn) and never run.
    const taken = holdMessage(ctx.bodyBudget, size, frames.claim());
    pendingBytes += size;
    const flooding =
      ++pending > MAX_PENDING
        ? `more than ${MAX_PENDING} messages waiting for replies; read replies before sending more`
        : pendingBytes > maxPendingBytes
          ? `more than ${maxPendingBytes} bytes of messages waiting for replies; wait for replies before sending more`
          : undefined;
    if (flooding !== undefined) {
      if (taken) ctx.bodyBudget.give(size);
      return drop(flooding, true);
    }
    const refusal = taken ? undefined : busy(session, ctx.bodyBudget, size);
    const text = taken ? textOf(bytes) : null;
    ctx.registry
      .run(session, async () => refusal ?? handle(text))
      .then(
        (reply) => {
          if (reply === 'close') {
            socket.close(1000, 'closed by client');
            void ctx.registry.end(session, 'closed by client');
            return;
          }
          if (socket.bufferedAmount > MAX_UNREAD_BYTES) {
            ctx.log?.(`session ${session.id}: dropped a client that left more than ${MAX_UNREAD_BYTES} bytes of replies unread`);
            return drop('replies left unread', false);
          }
          replies.send(reply);
        },
        (error: unknown) => {
          if (!(error instanceof SessionEndedError)) ctx.log?.(`session ${session.id}: ${errorMessage(error)}`);
        },
      )
      .finally(() => {
        pending--;
        pendingBytes -= size;
        if (taken) ctx.bodyBudget.give(size);
      });
  });
  socket.on('close', () => {
    replies.close();
    void ctx.registry.end(session, 'disconnected');
  });
  socket.on('error', (error) => {
    // A socket `ws` gave up on (a protocol error) is closing: nothing more it sends is held for it.
    frames.stop();
    ctx.log?.(`session ${session.id}: socket error: ${error.message}`);
  });
}

/**
 * A whole message refused for the shared budget, in the session's shape. Nothing ran; like HTTP's
 * 503 it may be sent again later. (One larger than the whole budget never gets this far: it is over
 * the largest message, refused as its first frame arrives.)
 */
function busy(session: Session, budget: BodyBudget, size: number): unknown {
  const message = `server busy: ${budget.holds} being handled hold ${budget.held} of the ${describeBytes(budget.limitBytes)} allowed at once (--max-body-memory), and this ${size}-byte message would pass it; it was not run, send it again later`;
  const data = { body_memory_bytes: budget.held, max_body_memory_bytes: budget.limitBytes };
  if (session.kind === 'ws') return wsError('EXECUTION_ERROR', message, { failure: 'infra', source: 'gauntlet', retryable: true, ...data });
  return rpcError(null, RPC.serverError, message, data);
}

/**
 * Why a message still arriving was stopped, in the session's shape; the session ends with it (the
 * protocol's SESSION_ERROR). Busy is the server's state (an infrastructure failure, retryable on a
 * new session); too large and too slow are the client's.
 */
function frameRefusal(session: Session, budget: BodyBudget, refusal: FrameRefusal): unknown {
  const closed = 'it was not run and the session is closed';
  let message: string;
  let data: Record<string, unknown>;
  switch (refusal.kind) {
    case 'busy':
      message = `server busy: ${budget.holds} being handled hold ${budget.held} of the ${describeBytes(budget.limitBytes)} allowed at once (--max-body-memory), and this message's frames declare ${refusal.declared} bytes more; ${closed}, open a new one and send it again later`;
      data = { failure: 'infra', source: 'gauntlet', retryable: true, body_bytes: refusal.declared, body_memory_bytes: budget.held, max_body_memory_bytes: budget.limitBytes };
      break;
    case 'too large':
      message = `this message's frames declare ${refusal.declared} bytes, more than the ${refusal.maxBytes} bytes one message may hold (16 MiB, or --max-body-memory when that is less); ${closed}`;
      data = { body_bytes: refusal.declared, max_message_bytes: refusal.maxBytes };
      break;
    case 'late':
      message = `the message did not arrive whole within ${refusal.timeoutMs / 1000} s (--body-timeout): ${refusal.received} of the ${refusal.declared} bytes its frames declare had come; ${closed}`;
      data = { received_bytes: refusal.received, body_bytes: refusal.declared, body_timeout_ms: refusal.timeoutMs };
      break;
  }
  if (session.kind === 'ws') return wsError('SESSION_ERROR', message, data);
  return rpcError(null, refusal.kind === 'busy' ? RPC.serverError : RPC.invalidRequest, message, data);
}

/** `/ws`: one episode per connection. */
export function serveEpisodeSocket(connection: Connection, ctx: SocketContext): void {
  const { socket } = connection;
  const session = openOrRefuse(socket, ctx.registry.open('ws'), (refused) =>
    refused.code === 'CAPACITY_REACHED'
      ? wsError('CAPACITY_REACHED', refused.message, { active_sessions: refused.activeSessions, max_sessions: refused.maxSessions })
      : refused.code === 'FACTORY_ERROR'
        ? wsError('FACTORY_ERROR', refused.message, { factory_name: refused.factoryName })
        : wsError('SESSION_ERROR', refused.message),
  );
  if (!session) return;
  attach(connection, session, ctx, (text) => episodeMessage(text, session, ctx));
}

async function episodeMessage(text: string | null, session: Session, ctx: SocketContext): Promise<Outgoing | 'close'> {
  if (text === null) return wsError('INVALID_JSON', `Invalid JSON: ${NOT_UTF8}`);
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch (error) {
    return wsError('INVALID_JSON', `Invalid JSON: ${errorMessage(error)}`);
  }
  if (nestsDeeperThan(message)) return wsError('VALIDATION_ERROR', 'Invalid message', { errors: [{ type: 'json_too_deep', loc: [], msg: TOO_DEEP }] });
  const proto = protoKeyPath(message);
  if (proto !== null) return wsError('VALIDATION_ERROR', 'Invalid message', { errors: [{ type: 'proto_key', loc: proto, msg: PROTO_KEY }] });
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
export async function serveMcpSocket(connection: Connection, ctx: SocketContext, query: URLSearchParams): Promise<void> {
  const { socket } = connection;
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
    rpcRefusal(null, refused),
  );
  if (!session) return;
  attach(connection, session, ctx, async (text) => {
    if (text === null) return rpcError(null, RPC.parseError, `Parse error: ${NOT_UTF8}`);
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
