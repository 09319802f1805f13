import { createRng, type JsonObject } from '../../core/index.ts';
import { ChatTool, promptOpensThinking, renderHermes, type AssistantTurn, type ChatTemplate } from '../../formats/index.ts';
import { checkModel, digest, responseId, stopStrings, tokenBudget, usage, type EngineContext, type Reply } from './context.ts';
import { generate } from './generate.ts';
import { completionLogprobs } from './logprobs.ts';
import type { PolicyTurn } from './policy.ts';
import { renderPrompt, templateMessages, templateTools } from './render.ts';
import { CompletionRequest, DetokenizeRequest, EngineError, parseBody, TokenizeMessagesRequest, TokenizePromptRequest } from './wire.ts';

// The text routes: `/v1/completions` (token in or text in, raw text out), `/tokenize` and
// `/detokenize` at the server root, and `/v1/models`.

/** vLLM's default for `/v1/completions` when the request names no budget. */
const COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

/** The generation prompt this template appends after a conversation, found by rendering one with and without it. */
export function assistantHeaderOf(template: ChatTemplate): string | null {
  const messages = [{ role: 'user' as const, content: 'x' }];
  const open = template.render({ messages, addGenerationPrompt: true });
  const closed = template.render({ messages, addGenerationPrompt: false });
  if (!open.ok || !closed.ok || !open.text.startsWith(closed.text) || open.text.length === closed.text.length) return null;
  return open.text.slice(closed.text.length);
}

/**
 * What a raw prompt tells a policy: earlier assistant turns (headers before the final generation
 * prompt), whether reasoning is off (the prompt closed an empty block) or already opened, and the
 * tools a hermes-style system prompt lists between `<tools>` and `</tools>`, one JSON per line.
 */
function readRawPrompt(context: EngineContext, text: string) {
  const header = context.assistantHeader;
  let turns = 0;
  if (header) for (let at = text.indexOf(header); at >= 0; at = text.indexOf(header, at + header.length)) turns++;
  const generationPrompt = header !== null && text.lastIndexOf(header) >= 0 && !text.slice(text.lastIndexOf(header)).includes(context.eos.text);
  const tools: ChatTool[] = [];
  const block = /<tools>\n([\s\S]*?)\n<\/tools>/.exec(text);
  for (const line of block?.[1]?.split('\n') ?? []) {
    try {
      const parsed = ChatTool.safeParse(JSON.parse(line));
      if (parsed.success) tools.push(parsed.data);
    } catch (_error) {
      // Not a tool line: a template that lists tools differently gives the policy none.
    }
  }
  return {
    assistantTurns: generationPrompt ? turns - 1 : turns,
    thinkingOff: text.trimEnd().endsWith('</think>'),
    thinkOpened: promptOpensThinking(text),
    tools,
  };
}

/** The hermes text of a policy turn (what a Qwen3-style template prints for it), for raw prompts. */
function hermesText(turn: PolicyTurn, where: string, shape: { thinkingOff: boolean; thinkOpened: boolean }): string {
  const toolCalls = turn.toolCalls.map((call, i) => {
    if (typeof call.arguments !== 'string') return { name: call.name, arguments: call.arguments };
    let parsed: unknown;
    try {
      parsed = JSON.parse(call.arguments);
    } catch (_error) {
      parsed = undefined;
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new EngineError(500, `${where}: tool call ${i} has arguments that are not a JSON object; /v1/completions writes calls in the hermes format, which needs an object`);
    }
    return { name: call.name, arguments: parsed as JsonObject };
  });
  // A thinking model always writes the block, empty or not, as the template renders a final turn.
  const reasoning = shape.thinkingOff ? null : (turn.reasoning ?? '');
  const written: AssistantTurn = { reasoning, content: turn.content, toolCalls };
  return renderHermes(written, { thinkOpenedByPrompt: shape.thinkOpened });
}

export function textCompletion(context: EngineContext, body: unknown): Reply {
  const route = '/v1/completions';
  const request = parseBody(CompletionRequest, body, route);
  checkModel(context, request.model);
  const promptIds = typeof request.prompt === 'string' ? context.codec.encode(request.prompt) : request.prompt;
  // The context check comes before the ids are read back: it needs only their count, and decoding millions of ids is not cheap.
  const maxTokens = tokenBudget(context, promptIds.length, request.max_tokens ?? COMPLETIONS_DEFAULT_MAX_TOKENS, 'max_tokens');
  if (typeof request.prompt !== 'string') checkIds(context, promptIds, 'prompt');
  const prompt = typeof request.prompt === 'string' ? request.prompt : context.codec.decode(promptIds);
  const shape = readRawPrompt(context, prompt);
  const conversation = digest({ prompt: promptIds, seed: request.seed ?? null });
  const decided = context.policy.next({
    assistantTurns: shape.assistantTurns,
    turnsSinceUser: shape.assistantTurns,
    tools: shape.tools,
    toolChoice: shape.tools.length > 0 ? 'auto' : 'none',
    parallelToolCalls: true,
    thinking: !shape.thinkingOff,
    rng: createRng(`${context.seed}:${conversation}`),
  });
  if (!decided.ok) throw new EngineError(400, `${context.policy.name} policy: ${decided.message}`, 'prompt');
  const text = hermesText(decided.turn, `${context.policy.name} policy`, shape) + context.eos.text;
  const generation = generate(context.codec, context.codec.encode(text), { maxTokens, stop: stopStrings(request.stop), eosId: context.eos.id });
  const withIds = request.return_token_ids === true;
  const logprobs =
    request.logprobs === null || request.logprobs === undefined
      ? null
      : completionLogprobs(context.codec, generation.ids, generation.pieces, { seed: context.seed, topK: request.logprobs, asTokenIds: request.return_tokens_as_token_ids === true });
  return {
    kind: 'json',
    tokens: generation.ids.length,
    body: {
      id: responseId('cmpl'),
      object: 'text_completion',
      created: context.now(),
      model: context.model,
      choices: [
        {
          index: 0,
          text: generation.text,
          logprobs,
          finish_reason: generation.finishReason,
          stop_reason: generation.stopReason,
          token_ids: withIds ? generation.ids : null,
          prompt_logprobs: null,
          prompt_token_ids: withIds ? promptIds : null,
        },
      ],
      service_tier: null,
      system_fingerprint: null,
      usage: usage(promptIds.length, generation.ids.length),
      kv_transfer_params: null,
    },
  };
}

function checkIds(context: EngineContext, ids: readonly number[], param: string): void {
  const bad = ids.findIndex((id) => id < 0 || id >= context.codec.vocabSize);
  if (bad >= 0) throw new EngineError(400, `Token id ${ids[bad]} is out of vocabulary (${param}.${bad}; ids run from 0 to ${context.codec.vocabSize - 1})`, `${param}.${bad}`);
}

export function tokenize(context: EngineContext, body: unknown): Reply {
  const route = '/tokenize';
  const isChat = body !== null && typeof body === 'object' && 'messages' in body;
  let ids: number[];
  let returnStrs: boolean;
  if (isChat) {
    const request = parseBody(TokenizeMessagesRequest, body, route);
    checkModel(context, request.model);
    if (request.chat_template) throw new EngineError(400, 'Chat template is passed with request, but --trust-request-chat-template is not set. Refused request with untrusted chat template.', 'chat_template');
    const text = renderPrompt(
      context.template,
      { messages: templateMessages(request.messages), tools: templateTools(request.tools), vars: request.chat_template_kwargs ?? {} },
      { addGenerationPrompt: request.add_generation_prompt ?? true, continueFinalMessage: request.continue_final_message ?? false },
    );
    ids = context.codec.encode(text, { addSpecialTokens: request.add_special_tokens ?? false });
    returnStrs = request.return_token_strs === true;
  } else {
    const request = parseBody(TokenizePromptRequest, body, route);
    checkModel(context, request.model);
    ids = context.codec.encode(request.prompt, { addSpecialTokens: request.add_special_tokens ?? true });
    returnStrs = request.return_token_strs === true;
  }
  return {
    kind: 'json',
    tokens: 0,
    body: { count: ids.length, max_model_len: context.maxModelLen, tokens: ids, token_strs: returnStrs ? ids.map((id) => context.codec.tokenText(id)) : null },
  };
}

export function detokenize(context: EngineContext, body: unknown): Reply {
  const request = parseBody(DetokenizeRequest, body, '/detokenize');
  checkModel(context, request.model);
  checkIds(context, request.tokens, 'tokens');
  return { kind: 'json', tokens: 0, body: { prompt: context.codec.decode(request.tokens) } };
}

export function models(context: EngineContext): Reply {
  const created = context.now();
  return {
    kind: 'json',
    tokens: 0,
    body: {
      object: 'list',
      data: [
        {
          id: context.model,
          object: 'model',
          created,
          owned_by: 'vllm',
          root: context.model,
          parent: null,
          max_model_len: context.maxModelLen,
          permission: [
            {
              id: responseId('modelperm'),
              object: 'model_permission',
              created,
              allow_create_engine: false,
              allow_sampling: true,
              allow_logprobs: true,
              allow_search_indices: false,
              allow_view: true,
              allow_fine_tuning: false,
              organization: '*',
              group: null,
              is_blocking: false,
            },
          ],
        },
      ],
    },
  };
}
