// The assistant message an OpenAI client builds from a chat stream's `data:` lines: what the
// benchmarks that drive the fake engine (directly or through the gateway) read back.

export interface ChatMessage {
  role: string;
  content: string | null;
  reasoning?: string | null;
  tool_calls?: { id: string; type: string; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}

interface StreamChunk {
  choices: { delta: { content?: string; reasoning?: string; tool_calls?: { index: number; id?: string; function: { name?: string; arguments?: string } }[] }; finish_reason: string | null }[];
}

/** Accumulates a whole event stream's text into the message and its finish reason. */
export function assembleChatStream(text: string): { message: ChatMessage; finish: string | null } {
  const message: ChatMessage = { role: 'assistant', content: '', reasoning: '' };
  const calls: NonNullable<ChatMessage['tool_calls']> = [];
  let finish: string | null = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
    const chunk = JSON.parse(line.slice(6)) as StreamChunk;
    for (const choice of chunk.choices) {
      message.content += choice.delta.content ?? '';
      message.reasoning += choice.delta.reasoning ?? '';
      for (const call of choice.delta.tool_calls ?? []) {
        const slot = (calls[call.index] ??= { id: call.id ?? '', type: 'function', function: { name: '', arguments: '' } });
        slot.function.name += call.function.name ?? '';
        slot.function.arguments += call.function.arguments ?? '';
      }
      finish = choice.finish_reason ?? finish;
    }
  }
  if (calls.length > 0) message.tool_calls = calls;
  return { message, finish };
}
