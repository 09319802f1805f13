import { MAX_JSON_DEPTH, nestsDeeperThan, type JsonObject, type JsonValue } from '../../core/index.ts';
import type { ChatMessage, ChatTemplate, ChatTool, ChatToolCall } from '../../formats/index.ts';
import type { PolicyTurn } from './policy.ts';
import { EngineError, type MessageIn, type ToolIn } from './wire.ts';

// The conversation as vLLM hands it to the chat template (vllm/entrypoints/chat_utils.py), so the
// prompt ids are the ones vLLM would compute: null content is '', text parts are joined with
// newlines, `reasoning_content` is read as `reasoning` and both names are passed on, JSON-string
// tool arguments are parsed, an empty tool_calls list is dropped; tools are pydantic dumps, so an
// absent description or parameters reaches the template as null.

const TEXT_PARTS = new Set(['text', 'input_text', 'output_text', 'refusal', 'thinking']);

export function templateMessages(messages: readonly MessageIn[]): ChatMessage[] {
  return messages.map((message, i) => {
    // `developer` goes to the template as it came, as vLLM passes it (Qwen3's template ignores it).
    const out = { role: message.role, content: contentText(message, i) } as ChatMessage;
    if (message.role === 'assistant') {
      if (message.tool_calls && message.tool_calls.length > 0) out.tool_calls = message.tool_calls.map((call, j) => templateToolCall(call, `messages.${i}.tool_calls.${j}`));
      const reasoning = message.reasoning ?? message.reasoning_content;
      if (reasoning !== null && reasoning !== undefined) {
        out.reasoning = reasoning;
        out.reasoning_content = reasoning;
      }
    }
    if (message.role === 'tool' && typeof message.tool_call_id === 'string') out.tool_call_id = message.tool_call_id;
    if (typeof message.name === 'string') out.name = message.name;
    return out;
  });
}

function contentText(message: MessageIn, index: number): string {
  const content = message.content;
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  return content
    .map((part, j) => {
      if (!TEXT_PARTS.has(part.type) || typeof part.text !== 'string') {
        throw new EngineError(400, `messages.${index}.content.${j}: the fake engine serves text only (got a "${part.type}" part)`, `messages.${index}.content.${j}.type`);
      }
      return part.text;
    })
    .join('\n');
}

function templateToolCall(call: NonNullable<MessageIn['tool_calls']>[number], where: string): ChatToolCall {
  const args = call.function.arguments;
  let parsed: JsonObject;
  if (args === null || args === undefined || args === '') parsed = {};
  else if (typeof args !== 'string') parsed = args;
  else {
    let value: JsonValue;
    try {
      value = JSON.parse(args) as JsonValue;
    } catch (error) {
      throw new EngineError(400, `${where}.function.arguments: not valid JSON (${error instanceof Error ? error.message : String(error)})`, `${where}.function.arguments`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new EngineError(400, `${where}.function.arguments: expected a JSON object`, `${where}.function.arguments`);
    }
    // The body's own depth is checked on arrival; a JSON string inside it is only read here.
    if (nestsDeeperThan(value, MAX_JSON_DEPTH)) {
      throw new EngineError(400, `${where}.function.arguments: nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`, `${where}.function.arguments`);
    }
    parsed = value;
  }
  return { ...call, function: { ...call.function, arguments: parsed } } as ChatToolCall;
}

export function templateTools(tools: readonly ToolIn[] | null | undefined): ChatTool[] | undefined {
  if (!tools) return undefined;
  return tools.map(({ type, function: fn, ...toolExtra }) => {
    const { name, description, parameters, ...fnExtra } = fn;
    // Declared fields first, then whatever else the client sent, as pydantic's model_dump orders
    // them; null where the client left a field out, which the template's `tojson` prints.
    const dumped = { type, function: { name, description: description ?? null, parameters: parameters ?? null, ...fnExtra }, ...toolExtra };
    return dumped as unknown as ChatTool;
  });
}

export interface PromptInput {
  messages: readonly ChatMessage[];
  tools: readonly ChatTool[] | undefined;
  /** chat_template_kwargs. */
  vars: Record<string, unknown>;
}

export function renderPrompt(template: ChatTemplate, input: PromptInput, options: { addGenerationPrompt?: boolean; continueFinalMessage?: boolean } = {}): string {
  if (options.addGenerationPrompt && options.continueFinalMessage) {
    throw new EngineError(400, 'Cannot set both `continue_final_message` and `add_generation_prompt` to true.', 'continue_final_message');
  }
  const rendered = template.render({
    messages: input.messages,
    ...(input.tools ? { tools: input.tools } : {}),
    addGenerationPrompt: options.addGenerationPrompt ?? true,
    vars: input.vars,
  });
  if (!rendered.ok) throw new EngineError(400, rendered.message, 'messages');
  if (!options.continueFinalMessage) return rendered.text;
  // As transformers does: cut the text right after the final message's content, leaving it open.
  const last = input.messages[input.messages.length - 1];
  const final = typeof last?.content === 'string' ? last.content.trim() : '';
  const at = final === '' ? -1 : rendered.text.lastIndexOf(final);
  if (at < 0) throw new EngineError(400, 'continue_final_message: the final message content was not found in the rendered prompt', 'continue_final_message');
  return rendered.text.slice(0, at + final.length);
}

/** The assistant message a policy turn becomes, as a client would send it back on the next turn. */
export function assistantMessage(turn: PolicyTurn): ChatMessage {
  const message: ChatMessage = { role: 'assistant', content: turn.content };
  if (turn.toolCalls.length > 0) {
    message.tool_calls = turn.toolCalls.map((call) => ({ type: 'function' as const, function: { name: call.name, arguments: call.arguments } }));
  }
  if (turn.reasoning !== null) {
    message.reasoning = turn.reasoning;
    message.reasoning_content = turn.reasoning;
  }
  return message;
}

/**
 * What the model writes after `prompt` for `turn`: exactly what the template renders for that
 * assistant message (the conversation rendered with the message, minus the prompt), cut after the
 * end-of-turn token. So a client that sends the message back intact gets a next prompt that holds
 * this text byte for byte, and one that drops something diverges right there.
 */
export function completionText(template: ChatTemplate, input: PromptInput & { prompt: string; turn: PolicyTurn; eosToken: string }): string {
  const rendered = template.render({
    messages: [...input.messages, assistantMessage(input.turn)],
    ...(input.tools ? { tools: input.tools } : {}),
    addGenerationPrompt: false,
    vars: input.vars,
  });
  if (!rendered.ok) throw new EngineError(500, `rendering the policy's turn failed: ${rendered.message}`);
  if (!rendered.text.startsWith(input.prompt)) {
    const at = firstDifference(rendered.text, input.prompt);
    throw new EngineError(
      500,
      `${template.where}: the template does not render the assistant turn as a continuation of the generation prompt ` +
        `(at character ${at} the prompt has ${JSON.stringify(input.prompt.slice(at, at + 40))}, the conversation with the turn ${JSON.stringify(rendered.text.slice(at, at + 40))}), so no completion text can be derived`,
    );
  }
  const text = rendered.text.slice(input.prompt.length);
  const end = text.lastIndexOf(input.eosToken);
  return end >= 0 ? text.slice(0, end + input.eosToken.length) : text + input.eosToken;
}

function firstDifference(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}
