import { createRng } from '../../core/index.ts';
import type { ChatTool } from '../../formats/index.ts';
import { checkModel, digest, responseId, stopStrings, tokenBudget, toolCallId, usage, type EngineContext, type Reply } from './context.ts';
import { generate, type Generation } from './generate.ts';
import { chatLogprobs, type ChatLogprobEntry } from './logprobs.ts';
import { readOutput, streamDeltas, type OutputToolCall, type ReadResult, type StreamDelta } from './output.ts';
import type { ToolChoice } from './policy.ts';
import { completionText, renderPrompt, templateMessages, templateTools } from './render.ts';
import { ChatRequest, EngineError, parseBody, type MessageIn } from './wire.ts';

const ROUTE = '/v1/chat/completions';

/** `POST /v1/chat/completions`, stream or not, in vLLM's shapes. */
export function chatCompletion(context: EngineContext, body: unknown): Reply {
  const request = parseBody(ChatRequest, body, ROUTE);
  checkModel(context, request.model);
  rejectUnsupported(request);
  const tools = request.tools ?? undefined;
  const toolChoice = resolveToolChoice(request.tool_choice, tools);
  const messages = templateMessages(request.messages);
  const chatTools = templateTools(tools);
  const vars = request.chat_template_kwargs ?? {};
  const prompt = renderPrompt(context.template, { messages, tools: chatTools, vars });
  const promptIds = context.codec.encode(prompt);
  const maxTokens = tokenBudget(context, promptIds.length, request.max_completion_tokens ?? request.max_tokens, request.max_completion_tokens ? 'max_completion_tokens' : 'max_tokens');

  const conversation = digest({ messages, tools: chatTools ?? null, toolChoice, vars, seed: request.seed ?? null });
  const decided = context.policy.next({
    ...turnCounts(request.messages),
    tools: chatTools ?? [],
    toolChoice,
    parallelToolCalls: request.parallel_tool_calls !== false,
    thinking: vars.enable_thinking !== false,
    rng: createRng(`${context.seed}:${conversation}`),
  });
  if (!decided.ok) throw new EngineError(400, `${context.policy.name} policy: ${decided.message}`, 'messages');
  const turn = decided.turn;

  const text = completionText(context.template, { messages, tools: chatTools, vars, prompt, turn, eosToken: context.eos.text });
  const generation = generate(context.codec, context.codec.encode(text), { maxTokens, stop: stopStrings(request.stop), eosId: context.eos.id });
  const read = readOutput(generation.text, {
    tools: chatTools ?? [],
    parseTools: toolChoice !== 'none' && (tools?.length ?? 0) > 0,
    callId: (i) => turn.toolCalls[i]?.id ?? toolCallId(context.seed, conversation, i),
  });
  if (request.include_reasoning === false) read.message.reasoning = null;
  // vLLM keeps only the first parsed call when parallel calls are off (the ids still hold them all).
  if (request.parallel_tool_calls === false) read.message.toolCalls = read.message.toolCalls.slice(0, 1);
  // As vLLM: tool calls end an auto or required turn with "tool_calls"; a named tool ends it with "stop".
  const finishReason = read.message.toolCalls.length > 0 && (toolChoice === 'auto' || toolChoice === 'required') ? 'tool_calls' : generation.finishReason;
  const logprobs = request.logprobs ? chatLogprobs(context.codec, generation.ids, { seed: context.seed, topK: request.top_logprobs ?? 0, asTokenIds: request.return_tokens_as_token_ids === true }) : null;
  const answer: Answer = { request, promptIds, generation, read, finishReason, logprobs, id: responseId('chatcmpl'), created: context.now() };
  return request.stream ? streamReply(context, answer, chatTools ?? []) : { kind: 'json', body: jsonBody(context, answer), tokens: generation.ids.length };
}

function rejectUnsupported(request: ChatRequest): void {
  if (request.chat_template) throw new EngineError(400, 'Chat template is passed with request, but --trust-request-chat-template is not set. Refused request with untrusted chat template.', 'chat_template');
  if (request.continue_final_message) throw new EngineError(400, 'continue_final_message is not supported by the fake engine (it answers new assistant turns only)', 'continue_final_message');
  if (request.add_generation_prompt === false) throw new EngineError(400, 'add_generation_prompt=false is not supported by the fake engine (it answers new assistant turns only)', 'add_generation_prompt');
  if (request.stream_options && !request.stream) throw new EngineError(400, 'Stream options can only be defined when `stream=True`.', 'stream_options');
  if (request.top_logprobs && !request.logprobs) throw new EngineError(400, 'when using `top_logprobs`, `logprobs` must be set to true.', 'top_logprobs');
}

/** vLLM's rules: tools without a choice mean "auto"; a choice needs tools; "required" with no tools is "none". */
function resolveToolChoice(choice: ChatRequest['tool_choice'], tools: ChatRequest['tools']): ToolChoice {
  if (choice === null || choice === undefined) return tools && tools.length > 0 ? 'auto' : 'none';
  if (choice === 'none') return 'none';
  if (!tools) throw new EngineError(400, 'When using `tool_choice`, `tools` must be set.', 'tool_choice');
  if (choice === 'required') return tools.length === 0 ? 'none' : 'required';
  if (choice === 'auto') return 'auto';
  const name = choice.function.name;
  if (!tools.some((tool) => tool.function.name === name)) throw new EngineError(400, `The tool specified in \`tool_choice\` ("${name}") does not match any of the specified \`tools\``, 'tool_choice');
  return { name };
}

function turnCounts(messages: readonly MessageIn[]): { assistantTurns: number; turnsSinceUser: number } {
  let assistantTurns = 0;
  let turnsSinceUser = 0;
  for (const message of messages) {
    if (message.role === 'assistant') {
      assistantTurns++;
      turnsSinceUser++;
    } else if (message.role === 'user') {
      turnsSinceUser = 0;
    }
  }
  return { assistantTurns, turnsSinceUser };
}

interface Answer {
  request: ChatRequest;
  promptIds: number[];
  generation: Generation;
  read: ReadResult;
  finishReason: 'stop' | 'length' | 'tool_calls';
  logprobs: ChatLogprobEntry[] | null;
  id: string;
  created: number;
}

function wireToolCall(call: OutputToolCall) {
  return { id: call.id, type: 'function' as const, function: { name: call.name, arguments: call.arguments } };
}

function jsonBody(context: EngineContext, answer: Answer) {
  const { message } = answer.read;
  const withIds = answer.request.return_token_ids === true;
  return {
    id: answer.id,
    object: 'chat.completion',
    created: answer.created,
    model: context.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: message.content,
          refusal: null,
          annotations: null,
          audio: null,
          function_call: null,
          tool_calls: message.toolCalls.map(wireToolCall),
          [context.reasoningField]: message.reasoning,
        },
        logprobs: answer.logprobs ? { content: answer.logprobs } : null,
        finish_reason: answer.finishReason,
        stop_reason: answer.generation.stopReason,
        token_ids: withIds ? answer.generation.ids : null,
      },
    ],
    service_tier: null,
    system_fingerprint: null,
    usage: usage(answer.promptIds.length, answer.generation.ids.length),
    prompt_logprobs: null,
    prompt_token_ids: withIds ? answer.promptIds : null,
    kv_transfer_params: null,
  };
}

/**
 * One chunk per generated id, as vLLM streams: the role first (with `prompt_token_ids`), each id's
 * delta with its `token_ids` and logprobs, the finish reason on the last, then usage and [DONE].
 * Ids whose delta is empty still get a chunk when ids or logprobs were asked for, so none is lost.
 */
function streamReply(context: EngineContext, answer: Answer, tools: readonly ChatTool[]): Reply {
  const { request, generation } = answer;
  const withIds = request.return_token_ids === true;
  const options = request.stream_options;
  const includeUsage = options?.include_usage === true;
  const continuousUsage = options?.continuous_usage_stats === true;
  const base = { id: answer.id, object: 'chat.completion.chunk', created: answer.created, model: context.model };
  const deltas = streamDeltas(generation, answer.read, tools);
  const promptTokens = answer.promptIds.length;

  const head = [JSON.stringify({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }], prompt_token_ids: withIds ? answer.promptIds : null })];
  const perToken = generation.ids.map((id, k) => {
    const last = k === generation.ids.length - 1;
    const delta = wireDelta(context, deltas[k] ?? {});
    if (!last && Object.keys(delta).length === 0 && !withIds && !answer.logprobs) return null;
    const choice = {
      index: 0,
      delta,
      logprobs: answer.logprobs ? { content: answer.logprobs.slice(k, k + 1) } : null,
      finish_reason: last ? answer.finishReason : null,
      ...(last ? { stop_reason: generation.stopReason } : {}),
      token_ids: withIds ? [id] : null,
    };
    return JSON.stringify({ ...base, choices: [choice], ...(continuousUsage ? { usage: usage(promptTokens, k + 1) } : {}) });
  });
  const tail = includeUsage ? [JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: promptTokens, completion_tokens: generation.ids.length, total_tokens: promptTokens + generation.ids.length } })] : [];
  return { kind: 'sse', head, perToken, tail };
}

function wireDelta(context: EngineContext, delta: StreamDelta): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (delta.reasoning) out[context.reasoningField] = delta.reasoning;
  if (delta.content) out.content = delta.content;
  if (delta.toolCalls) out.tool_calls = delta.toolCalls.map((call) => ({ index: call.index, ...wireToolCall(call) }));
  return out;
}
