import { z } from 'zod';
import { JsonObject } from '../../core/index.ts';

// Request bodies of the routes the fake engine serves, as vLLM's OpenAI server accepts them.
// Objects are loose: clients send many sampling fields a fake cannot honour (temperature, top_p…),
// and vLLM accepts unknown fields too. What the engine does act on is typed here, so a wrong type
// is a 400 naming the field.

/** An HTTP error in vLLM's shape: `{"error": {"message", "type", "param", "code"}}`. */
export class EngineError extends Error {
  readonly status: 400 | 404 | 413 | 500;
  readonly param: string | null;
  constructor(status: EngineError['status'], message: string, param: string | null = null) {
    super(message);
    this.name = 'EngineError';
    this.status = status;
    this.param = param;
  }
}

const ERROR_TYPES: Record<EngineError['status'], string> = {
  400: 'BadRequestError',
  404: 'NotFoundError',
  413: 'BadRequestError',
  500: 'InternalServerError',
};

export function errorBody(error: EngineError): { error: { message: string; type: string; param: string | null; code: number } } {
  return { error: { message: error.message, type: ERROR_TYPES[error.status], param: error.param, code: error.status } };
}

/** Parses `value` with `schema`; a failure is a 400 naming the first bad field (all of them in the message). */
export function parseBody<T>(schema: z.ZodType<T>, value: unknown, route: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues;
  const param = issues[0]?.path.map(String).join('.') || null;
  const lines = issues.map((issue) => `${issue.path.map(String).join('.') || '(body)'}: ${issue.message}`);
  throw new EngineError(400, `${route}: invalid request body\n${lines.join('\n')}`, param);
}

const nullish = <T extends z.ZodType>(schema: T) => schema.nullable().optional();

const ContentPart = z.looseObject({
  type: z.string({ error: 'expected a content part type such as "text"' }),
  text: z.string().optional(),
});

export const MessageContent = z.union([z.string(), z.array(ContentPart), z.null()], { error: 'expected a string, a list of content parts or null' });

const ToolCallIn = z.looseObject({
  id: nullish(z.string()),
  type: nullish(z.literal('function', { error: 'expected "function"' })),
  function: z.looseObject({
    name: z.string({ error: 'expected the tool name as a string' }),
    arguments: nullish(z.union([z.string(), JsonObject], { error: 'expected a JSON string (or an object)' })),
  }),
});

const ROLES = ['system', 'developer', 'user', 'assistant', 'tool'] as const;

export const MessageIn = z.looseObject({
  role: z.enum(ROLES, { error: `expected one of ${ROLES.join('|')}` }),
  content: MessageContent.optional(),
  reasoning: nullish(z.string()),
  reasoning_content: nullish(z.string()),
  tool_calls: nullish(z.array(ToolCallIn)),
  tool_call_id: nullish(z.string()),
  name: nullish(z.string()),
});
export type MessageIn = z.infer<typeof MessageIn>;

export const ToolIn = z.looseObject({
  type: z.literal('function', { error: 'expected "function"' }),
  function: z.looseObject({
    name: z.string({ error: 'expected the tool name as a string' }).min(1, 'expected a non-empty tool name'),
    description: nullish(z.string()),
    parameters: nullish(JsonObject),
  }),
});
export type ToolIn = z.infer<typeof ToolIn>;

const NamedToolChoice = z.looseObject({
  type: z.literal('function').optional(),
  function: z.looseObject({ name: z.string().min(1, 'expected a tool name') }, { error: 'expected {"name": <tool name>}' }),
});

const ToolChoiceIn = z.union([z.enum(['none', 'auto', 'required']), NamedToolChoice], {
  error: 'expected "none", "auto", "required" or {"type": "function", "function": {"name": …}}',
});

const Stop = z.union([z.string(), z.array(z.string())], { error: 'expected a string or a list of strings' });
const MaxTokens = z.number().int('expected an integer').min(1, 'expected at least 1');
const TemplateKwargs = z.record(z.string(), z.unknown(), { error: 'expected an object of template variables' });

export const ChatRequest = z.looseObject({
  model: nullish(z.string()),
  messages: z.array(MessageIn, { error: 'expected an array of messages' }).min(1, 'expected at least one message'),
  stream: nullish(z.boolean()),
  stream_options: nullish(z.looseObject({ include_usage: nullish(z.boolean()), continuous_usage_stats: nullish(z.boolean()) })),
  logprobs: nullish(z.boolean()),
  top_logprobs: nullish(z.number().int().min(0).max(20, 'the fake engine returns at most 20')),
  max_tokens: nullish(MaxTokens),
  max_completion_tokens: nullish(MaxTokens),
  n: nullish(z.literal(1, { error: 'the fake engine produces one choice per request (n = 1)' })),
  stop: nullish(Stop),
  tools: nullish(z.array(ToolIn, { error: 'expected an array of {"type":"function","function":{…}} tools' })),
  tool_choice: nullish(ToolChoiceIn),
  parallel_tool_calls: nullish(z.boolean()),
  chat_template_kwargs: nullish(TemplateKwargs),
  chat_template: nullish(z.string()),
  add_generation_prompt: z.boolean().optional(),
  continue_final_message: z.boolean().optional(),
  include_reasoning: z.boolean().optional(),
  return_token_ids: nullish(z.boolean()),
  return_tokens_as_token_ids: nullish(z.boolean()),
  seed: nullish(z.number().int()),
  echo: nullish(z.literal(false, { error: 'echo is not supported by the fake engine' })),
  response_format: nullish(z.looseObject({ type: z.literal('text', { error: 'structured outputs (json_object, json_schema) are not supported by the fake engine' }) })),
});
export type ChatRequest = z.infer<typeof ChatRequest>;

export const CompletionRequest = z.looseObject({
  model: nullish(z.string()),
  prompt: z.union([z.string(), z.array(z.number().int().min(0)).min(1)], { error: 'expected a string or an array of token ids (one prompt per request)' }),
  stream: nullish(z.literal(false, { error: 'the fake engine serves /v1/completions without streaming' })),
  echo: nullish(z.literal(false, { error: 'echo is not supported by the fake engine' })),
  logprobs: nullish(z.number().int().min(0).max(20, 'the fake engine returns at most 20')),
  max_tokens: nullish(MaxTokens),
  n: nullish(z.literal(1, { error: 'the fake engine produces one choice per request (n = 1)' })),
  stop: nullish(Stop),
  return_token_ids: nullish(z.boolean()),
  return_tokens_as_token_ids: nullish(z.boolean()),
  seed: nullish(z.number().int()),
});
export type CompletionRequest = z.infer<typeof CompletionRequest>;

/** `/tokenize` with a conversation: rendered through the chat template first. */
export const TokenizeMessagesRequest = z.looseObject({
  model: nullish(z.string()),
  messages: z.array(MessageIn, { error: 'expected an array of messages' }).min(1, 'expected at least one message'),
  tools: nullish(z.array(ToolIn, { error: 'expected an array of {"type":"function","function":{…}} tools' })),
  add_generation_prompt: z.boolean().optional(),
  continue_final_message: z.boolean().optional(),
  add_special_tokens: z.boolean().optional(),
  chat_template: nullish(z.string()),
  chat_template_kwargs: nullish(TemplateKwargs),
  return_token_strs: nullish(z.boolean()),
});
export type TokenizeMessagesRequest = z.infer<typeof TokenizeMessagesRequest>;

/** `/tokenize` with plain text. */
export const TokenizePromptRequest = z.looseObject({
  model: nullish(z.string()),
  prompt: z.string({ error: 'expected the prompt text (or send "messages" instead)' }),
  add_special_tokens: z.boolean().optional(),
  return_token_strs: nullish(z.boolean()),
});
export type TokenizePromptRequest = z.infer<typeof TokenizePromptRequest>;

export const DetokenizeRequest = z.looseObject({
  model: nullish(z.string()),
  tokens: z.array(z.number({ error: 'expected token ids (integers)' }).int('expected token ids (integers)'), { error: 'expected an array of token ids' }),
});
