import { z } from 'zod';
import { JsonValue, type Message, type ToolSpec } from '../../core/index.ts';
import { pq, type ParquetType } from './parquet.ts';

// Chat messages in the shape Hugging Face chat templates and TRL's SFT trainer read: reasoning
// under `reasoning_content`, tool calls as `{id, type: "function", function: {name, arguments}}`
// with the arguments as an object, tool results as `{role: "tool", name, tool_call_id, content}`.
// Every key is present on every message (null when it does not apply), so Parquet has one shape.

export const ChatToolCall = z.strictObject({
  id: z.string(),
  type: z.literal('function'),
  function: z.strictObject({
    name: z.string(),
    /** The parsed arguments; the exact text the model wrote when it did not parse. */
    arguments: JsonValue,
  }),
});
export type ChatToolCall = z.infer<typeof ChatToolCall>;

export const ChatMessage = z.strictObject({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string(),
  reasoning_content: z.string().nullable(),
  tool_calls: z.array(ChatToolCall).nullable(),
  name: z.string().nullable(),
  tool_call_id: z.string().nullable(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

export const ChatTool = z.strictObject({
  type: z.literal('function'),
  function: z.strictObject({ name: z.string(), description: z.string(), parameters: JsonValue }),
});
export type ChatTool = z.infer<typeof ChatTool>;

/**
 * A stored message as a chat-template message. Reasoning is kept even where a drop-thinking
 * scaffold did not resend it: it is what the model produced, and distillation wants it.
 */
export function chatMessage(message: Message): ChatMessage {
  const base = { reasoning_content: null, tool_calls: null, name: null, tool_call_id: null };
  switch (message.role) {
    case 'system':
    case 'user':
      return { ...base, role: message.role, content: message.content };
    case 'tool':
      return { ...base, role: 'tool', content: message.content, name: message.name, tool_call_id: message.toolCallId };
    case 'assistant':
      return {
        ...base,
        role: 'assistant',
        content: message.content,
        reasoning_content: message.reasoning?.text ? message.reasoning.text : null,
        tool_calls: message.toolCalls.length
          ? message.toolCalls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.arguments ?? c.argumentsText } }))
          : null,
      };
  }
}

export function chatTool(tool: ToolSpec): ChatTool {
  return { type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.parameters } };
}

export const chatMessageColumn: ParquetType = pq.struct({
  role: pq.string(),
  content: pq.string(),
  reasoning_content: pq.nullable(pq.string()),
  tool_calls: pq.nullable(pq.list(pq.struct({ id: pq.string(), type: pq.string(), function: pq.struct({ name: pq.string(), arguments: pq.json() }) }))),
  name: pq.nullable(pq.string()),
  tool_call_id: pq.nullable(pq.string()),
});

export const chatToolColumn: ParquetType = pq.struct({
  type: pq.string(),
  function: pq.struct({ name: pq.string(), description: pq.string(), parameters: pq.json() }),
});
