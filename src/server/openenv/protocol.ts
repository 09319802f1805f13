// The OpenEnv wire format as zod schemas: what a client may send (WS messages, actions, reset data,
// HTTP bodies, JSON-RPC requests) and what we answer (observations, state, errors). Field names are
// the protocol's (snake_case); the Gauntlet side lives in episode.ts.
import { z } from 'zod';
import { JsonObject, JsonValue, MAX_JSON_DEPTH } from '../../core/index.ts';

// ── Error codes ───────────────────────────────────────────────────────────────────────────

/** WS error codes (OpenEnv `WSErrorCode`). The first four keep the socket open; the last three close it. */
export const WsErrorCode = z.enum([
  'INVALID_JSON',
  'UNKNOWN_TYPE',
  'VALIDATION_ERROR',
  'EXECUTION_ERROR',
  'CAPACITY_REACHED',
  'FACTORY_ERROR',
  'SESSION_ERROR',
]);
export type WsErrorCode = z.infer<typeof WsErrorCode>;

export const RPC = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  serverError: -32000,
} as const;

/** One entry of a VALIDATION_ERROR's `errors` list, shaped like Pydantic's so Python clients can read it. */
export interface ValidationIssue {
  type: string;
  loc: (string | number)[];
  msg: string;
}

/** What a message nested too deep is told (checked on every parsed message: validating or echoing deeper JSON recurses past the stack). */
export const TOO_DEEP = `JSON nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep, the most this server accepts`;

/** What a message carrying a `__proto__` key is told. */
export const PROTO_KEY = 'a key named __proto__ would be dropped by validation rather than carried (it would set the prototype); rename it';

/**
 * The path of the first key named `__proto__` in parsed JSON, or null. JSON.parse keeps one as an
 * own key, but zod's records copy by assignment, which sets the prototype instead: the key and its
 * value would vanish without a word (an argument the agent sent, silently missing).
 */
export function protoKeyPath(value: unknown): (string | number)[] | null {
  // Each entry links to its parent: the path is built only for the key found, not copied per node.
  type Entry = { node: object; key: string | number; parent: Entry | null };
  const pending: Entry[] = value !== null && typeof value === 'object' ? [{ node: value, key: '', parent: null }] : [];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const array = Array.isArray(next.node);
    for (const [key, child] of Object.entries(next.node)) {
      if (key === '__proto__') {
        const path: (string | number)[] = [key];
        for (let up: Entry | null = next; up?.parent; up = up.parent) path.unshift(up.key);
        return path;
      }
      if (child !== null && typeof child === 'object') pending.push({ node: child as object, key: array ? Number(key) : key, parent: next });
    }
  }
  return null;
}

export function validationIssues(issues: readonly z.core.$ZodIssue[], loc: (string | number)[] = []): ValidationIssue[] {
  return issues.map((issue) => ({ type: issue.code, loc: [...loc, ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))], msg: issue.message }));
}

// ── Actions ───────────────────────────────────────────────────────────────────────────────

/** Every OpenEnv action may carry client metadata; it is accepted and ignored. */
const ActionMetadata = z.record(z.string(), z.unknown()).optional().describe('Client metadata; ignored by the server.');

export const ListToolsAction = z.strictObject({
  type: z.literal('list_tools'),
  metadata: ActionMetadata,
});

export const CallToolAction = z.strictObject({
  type: z.literal('call_tool'),
  tool_name: z.string().min(1).describe('A tool from the reset observation or list_tools.'),
  arguments: z.record(z.string(), z.unknown()).default({}).describe("Arguments matching the tool's input_schema."),
  metadata: ActionMetadata,
});

export const SubmitAction = z.strictObject({
  type: z.literal('submit'),
  answer: z.string().nullable().optional().describe('The final answer; omit when the task only asks for changes.'),
  metadata: ActionMetadata,
});

export const Action = z.discriminatedUnion('type', [ListToolsAction, CallToolAction, SubmitAction]);
export type Action = z.infer<typeof Action>;

// ── Reset ─────────────────────────────────────────────────────────────────────────────────

/** Reset parameters. Unknown keys are ignored, as OpenEnv drops what `reset()` does not accept. */
export const ResetData = z.looseObject({
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  episode_id: z.string().min(1).max(255).optional(),
  task_id: z.string().min(1).optional().describe('Which task to play; default: a seeded pick when seed is given, else the first task.'),
});
export type ResetData = z.infer<typeof ResetData>;

// ── Observations ──────────────────────────────────────────────────────────────────────────

export const ToolInfo = z.object({ name: z.string(), description: z.string(), input_schema: JsonObject });
export type ToolInfo = z.infer<typeof ToolInfo>;

/** OpenEnv `ToolError`: exactly these two fields (the official client rejects others). */
export const ToolErrorInfo = z.object({
  error_type: z.enum(['execution_error', 'invalid_args', 'transport_error', 'tool_not_found', 'timeout']),
  message: z.string(),
});
export type ToolErrorInfo = z.infer<typeof ToolErrorInfo>;

export const TerminationReason = z.enum(['submitted', 'answered', 'max_turns', 'deadline']);
export type TerminationReason = z.infer<typeof TerminationReason>;

/** How the episode ended and how it was judged; present on the observation that ended it. */
export const EpisodeEnd = z.object({
  termination_reason: TerminationReason,
  answer: z.string().nullable(),
  passed: z.boolean(),
  /** The verifier's partial credit (passed checks / checks): every ending is judged, out of turns or time too. */
  verifier_score: z.number().min(0).max(1),
  checks: z.array(z.object({ name: z.string(), kind: z.enum(['outcome', 'invariant']), passed: z.boolean(), detail: z.string().optional() })),
  reward_terms: z.array(z.object({ name: z.string(), value: z.number(), weight: z.number(), source: z.string() })),
});
export type EpisodeEnd = z.infer<typeof EpisodeEnd>;

export const ResetObservation = z.object({
  kind: z.literal('reset'),
  episode_id: z.string(),
  task_id: z.string(),
  instruction: z.string(),
  system_prompt: z.string().nullable(),
  /** Extra context the environment gives with the first user turn (e.g. a listing the task promises). */
  context: z.string().nullable(),
  tools: z.array(ToolInfo),
  max_turns: z.number().int().positive(),
  deadline_s: z.number().positive(),
});

export const ListToolsObservation = z.object({ kind: z.literal('list_tools'), tools: z.array(ToolInfo) });

export const CallToolObservation = z.object({
  kind: z.literal('call_tool'),
  tool_name: z.string(),
  /** What the tool returned: its text, plus structured data when the tool gives some. */
  result: z.object({ content: z.string(), data: JsonValue.optional() }).nullable(),
  error: ToolErrorInfo.nullable(),
  episode_end: EpisodeEnd.nullable(),
});

export const SubmitObservation = z.object({
  kind: z.literal('submit'),
  /** The user's next message on multi-turn tasks; the episode goes on. */
  follow_up: z.string().nullable(),
  episode_end: EpisodeEnd.nullable(),
});

export const Observation = z.discriminatedUnion('kind', [ResetObservation, ListToolsObservation, CallToolObservation, SubmitObservation]);
export type Observation = z.infer<typeof Observation>;

/** What reset and step return: OpenEnv's serialized observation (no `metadata` on the wire). */
export interface StepResult {
  observation: Observation;
  reward: number | null;
  done: boolean;
}

// ── State ─────────────────────────────────────────────────────────────────────────────────

export const EpisodeState = z.looseObject({
  episode_id: z.string().nullable(),
  step_count: z.number().int().min(0),
  task_id: z.string().nullable(),
  /** Turns used: call_tool and submit actions (list_tools is free), against max_turns. */
  turns: z.number().int().min(0),
  max_turns: z.number().int().positive().nullable(),
  done: z.boolean(),
  termination_reason: TerminationReason.nullable(),
});
export type EpisodeState = z.infer<typeof EpisodeState>;

// ── WebSocket messages ────────────────────────────────────────────────────────────────────

const Data = z.record(z.string(), z.unknown());

/** Client → server messages on `/ws`, by `type`; each is closed to unknown keys (OpenEnv `BaseMessage`). */
export const WsMessages = {
  reset: z.strictObject({ type: z.literal('reset'), data: Data.default({}) }),
  step: z.strictObject({ type: z.literal('step'), data: Data }),
  state: z.strictObject({ type: z.literal('state') }),
  close: z.strictObject({ type: z.literal('close') }),
  mcp: z.strictObject({ type: z.literal('mcp'), data: Data }),
} as const;
export type WsMessageType = keyof typeof WsMessages;

export const WsMessage = z.discriminatedUnion('type', [WsMessages.reset, WsMessages.step, WsMessages.state, WsMessages.close, WsMessages.mcp]);

export function isWsMessageType(type: unknown): type is WsMessageType {
  return typeof type === 'string' && Object.hasOwn(WsMessages, type);
}

// ── HTTP bodies ───────────────────────────────────────────────────────────────────────────

export const StepRequest = z.looseObject({
  action: Data,
  timeout_s: z.number().positive().optional(),
  request_id: z.string().max(255).optional(),
  /** Stateless /step plays its action in a fresh episode; these pick that episode's task and seed. */
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  task_id: z.string().min(1).optional(),
});
export type StepRequest = z.infer<typeof StepRequest>;

// ── JSON-RPC (the /mcp endpoints and WS `mcp` messages) ───────────────────────────────────

export const JsonRpcRequest = z.strictObject({
  jsonrpc: z.literal('2.0'),
  method: z.string().min(1),
  params: Data.default({}),
  id: z.union([z.string(), z.number().int()]).nullable().optional(),
});
export type JsonRpcRequest = z.infer<typeof JsonRpcRequest>;

export type JsonRpcId = string | number | null;

export type JsonRpcResponse =
  | { jsonrpc: '2.0'; id: JsonRpcId; result: unknown }
  | { jsonrpc: '2.0'; id: JsonRpcId; error: { code: number; message: string; data: unknown } };

export function rpcResult(id: JsonRpcId, result: unknown): JsonRpcResponse {
  return { jsonrpc: '2.0', id, result };
}

export function rpcError(id: JsonRpcId, code: number, message: string, data: unknown = null): JsonRpcResponse {
  return { jsonrpc: '2.0', id, error: { code, message, data } };
}

// ── /schema ───────────────────────────────────────────────────────────────────────────────

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json as JsonObject;
}

/** `GET /schema`: what an action may be, what observations and state look like. */
export function protocolSchemas(): { action: JsonObject; observation: JsonObject; state: JsonObject } {
  return { action: jsonSchema(Action, 'input'), observation: jsonSchema(Observation, 'output'), state: jsonSchema(EpisodeState, 'output') };
}
