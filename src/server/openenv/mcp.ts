// The MCP side of the protocol: JSON-RPC 2.0 with tools/list, tools/call and OpenEnv's
// openenv/session/create|close, for HTTP POST /mcp, WS /mcp frames and `mcp` messages on /ws.
// Tool calls go through the same episode as WS steps, so turns, deadline and reward are the same.
import type { z } from 'zod';
import { errorMessage, nestsDeeperThan, type JsonObject } from '../../core/index.ts';
import { EpisodeFailure, EpisodeStateError, type OpenEnvEpisode, type TaskCatalog } from './episode.ts';
import { JsonRpcRequest, PROTO_KEY, protoKeyPath, RPC, rpcError, rpcResult, TOO_DEEP, type JsonRpcId, type JsonRpcResponse, type StepResult } from './protocol.ts';
import { SessionEndedError, type Refusal, type Session, type SessionRegistry } from './sessions.ts';

export interface McpContext {
  registry: SessionRegistry;
  catalog: TaskCatalog;
  /** The session of the connection the request came on (WS), if any. */
  bound?: Session;
  /** The HTTP request's signal: a session-less call stops when its client goes away. */
  signal?: AbortSignal;
  log?: (line: string) => void;
}

function idOf(raw: unknown): JsonRpcId {
  const id = (raw as { id?: unknown } | null)?.id;
  return typeof id === 'string' || (typeof id === 'number' && Number.isInteger(id)) ? id : null;
}

/** `raw` is the parsed JSON of one request; JSON that did not parse is the caller's -32700. */
export async function handleJsonRpc(raw: unknown, ctx: McpContext): Promise<JsonRpcResponse> {
  if (nestsDeeperThan(raw)) return rpcError(idOf(raw), RPC.invalidRequest, `Invalid request: ${TOO_DEEP}`);
  const proto = protoKeyPath(raw);
  if (proto !== null) return rpcError(idOf(raw), RPC.invalidRequest, `Invalid request: ${proto.join('.')}: ${PROTO_KEY}`);
  const parsed = JsonRpcRequest.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    return rpcError(idOf(raw), RPC.invalidRequest, `Invalid request: ${problems}`);
  }
  const request = parsed.data;
  const id = request.id ?? null;
  try {
    switch (request.method) {
      case 'openenv/session/create':
        return await createSession(id, request.params, ctx);
      case 'openenv/session/close':
        return await closeSession(id, request.params, ctx);
      case 'tools/list':
      case 'tools/call':
        return await onEpisode(id, request.params, ctx, (episode, signal) => (request.method === 'tools/list' ? listTools(id, episode) : callTool(id, request.params, { episode, signal })));
      default:
        return rpcError(id, RPC.methodNotFound, `Method not found: ${request.method}`);
    }
  } catch (error) {
    if (error instanceof EpisodeStateError) return rpcError(id, RPC.invalidRequest, error.message);
    if (error instanceof EpisodeFailure) return rpcError(id, RPC.internalError, error.message, { failure: error.failure, source: error.source, retryable: error.retryable });
    ctx.log?.(`mcp ${request.method}: ${errorMessage(error)}`);
    return rpcError(id, RPC.internalError, errorMessage(error));
  }
}

/** Runs `work` on the request's episode: the connection's, the named session's, or a throwaway one. */
async function onEpisode(
  id: JsonRpcId,
  params: Record<string, unknown>,
  ctx: McpContext,
  work: (episode: OpenEnvEpisode, signal: AbortSignal) => Promise<JsonRpcResponse>,
): Promise<JsonRpcResponse> {
  const sessionId = params.session_id;
  if (sessionId !== undefined && typeof sessionId !== 'string') return rpcError(id, RPC.invalidParams, 'Invalid params - session_id must be a string');
  const session = sessionId === undefined ? ctx.bound : ctx.registry.get(sessionId);
  if (sessionId !== undefined && !session) return rpcError(id, RPC.invalidParams, `Unknown session_id: ${sessionId}`);
  if (session) {
    // The connection's own session already runs this request in its queue; queueing again would wait on itself.
    if (session === ctx.bound) return work(session.episode, session.signal);
    // A socket's session is its connection's alone; reaching in from elsewhere could also deadlock two sockets' queues on each other.
    if (session.kind !== 'mcp-http') return rpcError(id, RPC.invalidParams, `Session ${sessionId} is not an MCP session (openenv/session/create): only the WebSocket connection that holds it can use it`);
    return ctx.registry.run(session, () => work(session.episode, session.signal));
  }
  // Stateless: a fresh episode of the default (or named) task, counted against capacity, closed when the request is done.
  const reset = ctx.catalog.resetData.safeParse(pick(params, ['task_id', 'seed']));
  if (!reset.success) return invalidParams(id, reset.error.issues);
  try {
    const done = await ctx.registry.throwaway(ctx.signal, async ({ episode, signal }) => {
      await episode.reset(reset.data, signal);
      return work(episode, signal);
    });
    return done.ok ? done.value : refused(id, done);
  } catch (error) {
    if (error instanceof SessionEndedError) return rpcError(id, RPC.serverError, 'the request was stopped before it ran: its client went away or the server is shutting down');
    throw error;
  }
}

/** CAPACITY_REACHED, FACTORY_ERROR or SHUTTING_DOWN as JSON-RPC's server error, with the protocol's data. */
export function refused(id: JsonRpcId, refusal: Refusal): JsonRpcResponse {
  const data =
    refusal.code === 'CAPACITY_REACHED'
      ? { active_sessions: refusal.activeSessions, max_sessions: refusal.maxSessions }
      : refusal.code === 'FACTORY_ERROR'
        ? { factory_name: refusal.factoryName }
        : null;
  return rpcError(id, RPC.serverError, refusal.message, data);
}

export function invalidParams(id: JsonRpcId, issues: readonly z.core.$ZodIssue[]): JsonRpcResponse {
  return rpcError(id, RPC.invalidParams, `Invalid params - ${issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`).join('; ')}`);
}

function pick(params: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => params[k] !== undefined).map((k) => [k, params[k]]));
}

async function createSession(id: JsonRpcId, params: Record<string, unknown>, ctx: McpContext): Promise<JsonRpcResponse> {
  if (ctx.bound) return rpcResult(id, { session_id: ctx.bound.id });
  const reset = ctx.catalog.resetData.safeParse(pick(params, ['task_id', 'seed', 'episode_id']));
  if (!reset.success) return invalidParams(id, reset.error.issues);
  const opened = ctx.registry.open('mcp-http');
  if (!opened.ok) return refused(id, opened);
  const session = opened.session;
  try {
    const result = await ctx.registry.run(session, () => session.episode.reset(reset.data, session.signal));
    // Beyond OpenEnv's {session_id}: the task's instruction and tools, which an agent needs first.
    return rpcResult(id, { session_id: session.id, observation: result.observation });
  } catch (error) {
    await ctx.registry.end(session, 'closed by client');
    throw error;
  }
}

async function closeSession(id: JsonRpcId, params: Record<string, unknown>, ctx: McpContext): Promise<JsonRpcResponse> {
  const target = params.session_id;
  if (typeof target !== 'string' || target === '') return rpcError(id, RPC.invalidParams, "Invalid params - 'session_id' is required");
  if (ctx.bound?.id === target) return rpcError(id, RPC.invalidRequest, 'Cannot close the WebSocket-managed session of this connection via MCP; close the socket');
  const session = ctx.registry.get(target);
  if (!session) return rpcError(id, RPC.invalidParams, `Unknown session_id: ${target}`);
  if (session.kind !== 'mcp-http') return rpcError(id, RPC.invalidRequest, `Session ${target} belongs to a WebSocket connection; close that socket to end it`);
  await ctx.registry.end(session, 'closed by client');
  return rpcResult(id, { session_id: target, closed: true });
}

async function listTools(id: JsonRpcId, episode: OpenEnvEpisode): Promise<JsonRpcResponse> {
  return rpcResult(id, { tools: episode.tools().map((t) => ({ name: t.name, description: t.description, inputSchema: t.input_schema })) });
}

async function callTool(id: JsonRpcId, params: Record<string, unknown>, target: { episode: OpenEnvEpisode; signal: AbortSignal }): Promise<JsonRpcResponse> {
  const name = params.name;
  if (typeof name !== 'string' || name === '') return rpcError(id, RPC.invalidParams, "Missing 'name' in params");
  const args = params.arguments ?? {};
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return rpcError(id, RPC.invalidParams, "Invalid params - 'arguments' must be an object");
  if (!target.episode.tools().some((t) => t.name === name)) return rpcError(id, RPC.invalidParams, `Tool not found: ${name}`);
  const result = await target.episode.step({ type: 'call_tool', tool_name: name, arguments: args as Record<string, unknown> }, { signal: target.signal });
  return rpcResult(id, callToolResult(result));
}

/** An MCP CallToolResult; the episode's reward and end travel in `_meta` since MCP has no place for them. */
function callToolResult(step: StepResult): JsonObject {
  const observation = step.observation;
  if (observation.kind !== 'call_tool') throw new Error(`call_tool answered with a ${observation.kind} observation`);
  const text = observation.result?.content ?? observation.error?.message ?? '';
  const out: JsonObject = { content: [{ type: 'text', text }], isError: observation.error !== null };
  const data = observation.result?.data;
  if (data !== undefined && data !== null && typeof data === 'object' && !Array.isArray(data)) out.structuredContent = data;
  const meta: JsonObject = {};
  if (observation.error) meta['openenv/error_type'] = observation.error.error_type;
  if (step.done) {
    meta['openenv/done'] = true;
    meta['openenv/reward'] = step.reward;
    if (observation.episode_end) meta['gauntlet/episode_end'] = observation.episode_end as unknown as JsonObject;
  }
  if (Object.keys(meta).length > 0) out._meta = meta;
  return out;
}
