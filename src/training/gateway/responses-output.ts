// Chat-completion answers as Responses API answers: a reasoning item (its text as
// `reasoning_text` content), a message item, and one function_call (or custom_tool_call) item per
// tool call; streamed as the Responses events (response.created, output_item.added,
// reasoning_text / output_text / function_call_arguments deltas, the .done events, and
// response.completed, or response.incomplete at the token limit, or response.failed).
import type { JsonObject, JsonValue } from '../../core/index.ts';
import { namedEvent, upstreamErrorMessage, type Translator } from './api.ts';
import { errorBody } from './http.ts';
import { encodeReasoning, type ResponsesChat } from './responses-request.ts';

type JsonRecord = { [key: string]: JsonValue };

function isRecord(value: JsonValue | undefined): value is JsonRecord {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

interface OpenItem {
  kind: 'reasoning' | 'message' | 'call';
  index: number;
  item: JsonRecord;
  /** Text gathered so far: reasoning, message text, or the call's arguments. */
  text: string;
  /** For calls: the chat tool call's index in the delta list. */
  callIndex?: number;
}

function usageOf(raw: JsonValue | undefined): JsonValue {
  if (!isRecord(raw)) return null;
  const input = typeof raw.prompt_tokens === 'number' ? raw.prompt_tokens : 0;
  const output = typeof raw.completion_tokens === 'number' ? raw.completion_tokens : 0;
  const cached = isRecord(raw.prompt_tokens_details) && typeof raw.prompt_tokens_details.cached_tokens === 'number' ? raw.prompt_tokens_details.cached_tokens : 0;
  const reasoning = isRecord(raw.completion_tokens_details) && typeof raw.completion_tokens_details.reasoning_tokens === 'number' ? raw.completion_tokens_details.reasoning_tokens : 0;
  return { input_tokens: input, input_tokens_details: { cached_tokens: cached }, output_tokens: output, output_tokens_details: { reasoning_tokens: reasoning }, total_tokens: input + output };
}

function reasoningOf(message: JsonRecord): string {
  for (const key of ['reasoning_content', 'reasoning']) if (typeof message[key] === 'string' && message[key] !== '') return message[key] as string;
  return '';
}

export class ResponsesTranslator implements Translator {
  readonly passthrough = false;
  private sequence = 0;
  private started = false;
  private readonly output: JsonRecord[] = [];
  private open: OpenItem | null = null;
  private finishReason: JsonValue = null;
  private usage: JsonValue = null;
  private id = 'resp_gateway';
  private itemBase = 'gateway';
  private createdAt = 0;
  private model: JsonValue;
  private final: JsonRecord | null = null;

  constructor(
    private readonly request: JsonRecord,
    private readonly chat: ResponsesChat,
  ) {
    this.model = request.model ?? null;
  }

  // ── whole answers ────────────────────────────────────────────────────────────────────────

  body(json: JsonRecord): string {
    this.identify(json);
    const choice = Array.isArray(json.choices) && isRecord(json.choices[0]) ? json.choices[0] : {};
    const message = isRecord(choice.message) ? choice.message : {};
    const reasoning = reasoningOf(message);
    if (reasoning !== '') this.output.push(this.reasoningItem(this.output.length, reasoning));
    const calls = Array.isArray(message.tool_calls) ? message.tool_calls.filter(isRecord) : [];
    const content = typeof message.content === 'string' ? message.content : '';
    if (content !== '' || calls.length === 0) this.output.push(this.messageItem(this.output.length, content));
    for (const call of calls) {
      const fn = isRecord(call.function) ? call.function : {};
      this.output.push(this.callItem(this.output.length, { id: call.id, name: fn.name, arguments: typeof fn.arguments === 'string' ? fn.arguments : JSON.stringify(fn.arguments ?? {}) }));
    }
    this.finishReason = choice.finish_reason ?? null;
    this.usage = usageOf(json.usage);
    return JSON.stringify(this.response(this.finishReason === 'length' ? 'incomplete' : 'completed'));
  }

  error(status: number, body: JsonValue | undefined, text: string): string {
    return JSON.stringify(errorBody('responses', status, upstreamErrorMessage(body, text)));
  }

  received(): JsonValue {
    return this.final ?? this.response('in_progress');
  }

  // ── streams ──────────────────────────────────────────────────────────────────────────────

  chunk(json: JsonRecord): string {
    let out = this.start(json);
    if (isRecord(json.usage)) this.usage = usageOf(json.usage);
    const choice = Array.isArray(json.choices) && isRecord(json.choices[0]) ? json.choices[0] : undefined;
    if (!choice) return out;
    const delta = isRecord(choice.delta) ? choice.delta : {};
    const reasoning = reasoningOf(delta);
    if (reasoning !== '') out += this.appendText('reasoning', reasoning);
    if (typeof delta.content === 'string' && delta.content !== '') out += this.appendText('message', delta.content);
    for (const call of Array.isArray(delta.tool_calls) ? delta.tool_calls.filter(isRecord) : []) out += this.appendCall(call);
    if (choice.finish_reason !== null && choice.finish_reason !== undefined) this.finishReason = choice.finish_reason;
    return out;
  }

  done(): string {
    let out = this.start({});
    out += this.close();
    const status = this.finishReason === 'length' ? 'incomplete' : 'completed';
    const response = this.response(status);
    out += this.event(status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response });
    return out;
  }

  broken(message: string): string {
    let out = this.start({});
    out += this.close();
    const response = { ...this.response('failed'), error: { code: 'server_error', message } };
    this.final = response;
    out += this.event('response.failed', { response });
    return out;
  }

  // ── building blocks ──────────────────────────────────────────────────────────────────────

  private identify(json: JsonRecord): void {
    const id = typeof json.id === 'string' ? json.id.replace(/^chatcmpl-/, '') : 'gateway';
    this.id = `resp_${id}`;
    this.itemBase = id;
    this.createdAt = typeof json.created === 'number' ? json.created : Math.floor(Date.now() / 1000);
    if (typeof json.model === 'string') this.model = json.model;
  }

  private start(json: JsonRecord): string {
    if (this.started) return '';
    this.started = true;
    this.identify(json);
    const response = this.response('in_progress');
    return this.event('response.created', { response }) + this.event('response.in_progress', { response });
  }

  private event(type: string, data: JsonObject): string {
    return namedEvent(type, { type, sequence_number: this.sequence++, ...data });
  }

  private response(status: string): JsonRecord {
    const { request } = this;
    const response: JsonRecord = {
      id: this.id,
      object: 'response',
      created_at: this.createdAt,
      status,
      background: false,
      error: null,
      incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
      instructions: request.instructions ?? null,
      max_output_tokens: request.max_output_tokens ?? null,
      model: this.model,
      output: this.output.map((item) => ({ ...item })),
      parallel_tool_calls: request.parallel_tool_calls ?? true,
      previous_response_id: null,
      reasoning: { effort: isRecord(request.reasoning) ? (request.reasoning.effort ?? null) : null, summary: null },
      store: request.store ?? false,
      temperature: request.temperature ?? null,
      text: request.text ?? { format: { type: 'text' } },
      tool_choice: request.tool_choice ?? 'auto',
      tools: request.tools ?? [],
      top_p: request.top_p ?? null,
      truncation: request.truncation ?? 'disabled',
      usage: status === 'in_progress' ? null : this.usage,
      metadata: request.metadata ?? {},
    };
    if (status === 'completed' || status === 'incomplete') this.final = response;
    return response;
  }

  private reasoningItem(index: number, text: string): JsonRecord {
    return {
      type: 'reasoning',
      id: `rs_${this.itemBase}_${index}`,
      summary: [],
      content: [{ type: 'reasoning_text', text }],
      ...(this.chat.encryptedReasoning ? { encrypted_content: encodeReasoning(text) } : {}),
    };
  }

  private messageItem(index: number, text: string): JsonRecord {
    return { type: 'message', id: `msg_${this.itemBase}_${index}`, status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [], logprobs: [] }] };
  }

  private callItem(index: number, call: { id: JsonValue | undefined; name: JsonValue | undefined; arguments: string }, status = 'completed'): JsonRecord {
    const name = typeof call.name === 'string' ? call.name : '';
    const callId = typeof call.id === 'string' ? call.id : `call_${this.itemBase}_${index}`;
    if (this.chat.customTools.has(name)) {
      let input = call.arguments;
      try {
        const parsed = JSON.parse(call.arguments) as JsonValue;
        if (isRecord(parsed) && typeof parsed.input === 'string') input = parsed.input;
      } catch (_error) {
        // The model wrote no JSON object: its text is the input as it stands.
      }
      return { type: 'custom_tool_call', id: `ctc_${this.itemBase}_${index}`, status, call_id: callId, name, input };
    }
    return { type: 'function_call', id: `fc_${this.itemBase}_${index}`, status, call_id: callId, name, arguments: call.arguments };
  }

  /** Text for the reasoning or message item: opens it (closing whatever was open) the first time. */
  private appendText(kind: 'reasoning' | 'message', text: string): string {
    let out = '';
    if (this.open?.kind !== kind) {
      out += this.close();
      const index = this.output.length;
      const item: JsonRecord = kind === 'reasoning' ? { ...this.reasoningItem(index, ''), content: [] } : { ...this.messageItem(index, ''), status: 'in_progress', content: [] };
      delete item.encrypted_content;
      this.open = { kind, index, item, text: '' };
      this.output.push(item);
      const part: JsonRecord = kind === 'reasoning' ? { type: 'reasoning_text', text: '' } : { type: 'output_text', text: '', annotations: [], logprobs: [] };
      out += this.event('response.output_item.added', { output_index: index, item });
      out += this.event('response.content_part.added', { item_id: item.id as string, output_index: index, content_index: 0, part });
    }
    const open = this.open as OpenItem;
    open.text += text;
    const type = kind === 'reasoning' ? 'response.reasoning_text.delta' : 'response.output_text.delta';
    return out + this.event(type, { item_id: open.item.id as string, output_index: open.index, content_index: 0, delta: text, ...(kind === 'message' ? { logprobs: [] } : {}) });
  }

  /** A tool call delta: a new index opens its item; argument pieces extend it. */
  private appendCall(call: JsonRecord): string {
    const callIndex = typeof call.index === 'number' ? call.index : 0;
    const fn = isRecord(call.function) ? call.function : {};
    let out = '';
    if (this.open?.kind !== 'call' || this.open.callIndex !== callIndex) {
      out += this.close();
      const index = this.output.length;
      const item = this.callItem(index, { id: call.id, name: fn.name, arguments: '' }, 'in_progress');
      if (item.type === 'custom_tool_call') item.input = '';
      this.open = { kind: 'call', index, item, text: '', callIndex };
      this.output.push(item);
      out += this.event('response.output_item.added', { output_index: index, item: { ...item } });
    }
    const open = this.open as OpenItem;
    const piece = typeof fn.arguments === 'string' ? fn.arguments : '';
    if (piece === '') return out;
    open.text += piece;
    // A free-form tool's input is inside the JSON text, whole only at the end; function arguments stream as they come.
    if (open.item.type !== 'function_call') return out;
    return out + this.event('response.function_call_arguments.delta', { item_id: open.item.id as string, output_index: open.index, delta: piece });
  }

  /** Closes the open item with its .done events and puts its final form into the output. */
  private close(): string {
    const open = this.open;
    if (!open) return '';
    this.open = null;
    const id = open.item.id as string;
    let out = '';
    let item: JsonRecord;
    if (open.kind === 'reasoning') {
      item = this.reasoningItem(open.index, open.text);
      const part = { type: 'reasoning_text', text: open.text };
      out += this.event('response.reasoning_text.done', { item_id: id, output_index: open.index, content_index: 0, text: open.text });
      out += this.event('response.content_part.done', { item_id: id, output_index: open.index, content_index: 0, part });
    } else if (open.kind === 'message') {
      item = this.messageItem(open.index, open.text);
      const part = { type: 'output_text', text: open.text, annotations: [], logprobs: [] };
      out += this.event('response.output_text.done', { item_id: id, output_index: open.index, content_index: 0, text: open.text, logprobs: [] });
      out += this.event('response.content_part.done', { item_id: id, output_index: open.index, content_index: 0, part });
    } else {
      item = this.callItem(open.index, { id: open.item.call_id, name: open.item.name, arguments: open.text });
      if (item.type === 'function_call') out += this.event('response.function_call_arguments.done', { item_id: id, output_index: open.index, arguments: open.text });
      else out += this.event('response.custom_tool_call_input.done', { item_id: id, output_index: open.index, input: item.input as string });
    }
    this.output[open.index] = item;
    return out + this.event('response.output_item.done', { output_index: open.index, item });
  }
}
