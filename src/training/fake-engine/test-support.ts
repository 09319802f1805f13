// Helpers for this folder's tests: HTTP calls, an event-stream reader and a conversation driver.
import type { ChatTool } from '../../formats/index.ts';
import type { FakeEngine } from './server.ts';

export const TOOLS: ChatTool[] = [
  {
    type: 'function' as const,
    function: {
      name: 'read_file',
      description: 'Read a file of the workspace.',
      parameters: { type: 'object', properties: { path: { type: 'string' }, start_line: { type: 'integer', minimum: 1 } }, required: ['path'] },
    },
  },
  {
    type: 'function' as const,
    function: {
      name: 'run_command',
      description: 'Run a shell command.',
      parameters: { type: 'object', properties: { cmd: { type: 'string' }, timeout_s: { type: 'number', maximum: 600 } }, required: ['cmd'] },
    },
  },
];

export interface WireToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface WireMessage {
  role: string;
  content: string | null;
  reasoning?: string | null;
  reasoning_content?: string | null;
  tool_calls?: WireToolCall[];
  tool_call_id?: string;
}

export interface ChatBody {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: {
    index: number;
    message: WireMessage & { refusal: null; annotations: null; audio: null; function_call: null; tool_calls: WireToolCall[] };
    logprobs: { content: { token: string; logprob: number; bytes: number[]; top_logprobs: { token: string; logprob: number; bytes: number[] }[] }[] } | null;
    finish_reason: string;
    stop_reason: string | null;
    token_ids: number[] | null;
  }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number; prompt_tokens_details: null };
  prompt_token_ids: number[] | null;
  prompt_logprobs: null;
  kv_transfer_params: null;
  service_tier: null;
  system_fingerprint: null;
}

export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: number };
}

export async function post(engine: FakeEngine, path: string, body: unknown): Promise<{ status: number; json: unknown; text: string; contentType: string }> {
  const response = await fetch(`${engine.origin}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await response.text();
  const contentType = response.headers.get('content-type') ?? '';
  return { status: response.status, text, contentType, json: contentType.includes('application/json') ? (JSON.parse(text) as unknown) : undefined };
}

export async function chat(engine: FakeEngine, body: Record<string, unknown>): Promise<ChatBody> {
  const reply = await post(engine, '/v1/chat/completions', body);
  if (reply.status !== 200) throw new Error(`HTTP ${reply.status}: ${reply.text}`);
  return reply.json as ChatBody;
}

/** The `data:` payloads of an event stream, in order (`[DONE]` kept as the string). */
export function sseData(text: string): (Record<string, unknown> | '[DONE]')[] {
  const out: (Record<string, unknown> | '[DONE]')[] = [];
  for (const event of text.split('\n\n')) {
    if (event.trim() === '') continue;
    if (!event.startsWith('data: ')) throw new Error(`not an SSE data event: ${JSON.stringify(event)}`);
    const data = event.slice('data: '.length);
    out.push(data === '[DONE]' ? '[DONE]' : (JSON.parse(data) as Record<string, unknown>));
  }
  return out;
}

/** The assistant message as a client sends it back: reasoning kept (or dropped) under `reasoning`. */
export function resend(message: WireMessage, options: { dropReasoning?: boolean } = {}): WireMessage {
  return {
    role: 'assistant',
    content: message.content,
    ...(options.dropReasoning ? {} : { reasoning: message.reasoning ?? null }),
    ...(message.tool_calls && message.tool_calls.length > 0 ? { tool_calls: message.tool_calls } : {}),
  };
}

export function toolResults(message: WireMessage, turn: number): WireMessage[] {
  return (message.tool_calls ?? []).map((call, i) => ({ role: 'tool', tool_call_id: call.id, content: `result ${turn}.${i} of ${call.function.name}: ok` }));
}

/** Index of the first position where the two id lists differ (their common length when one extends the other). */
export function firstDifference(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}
