import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { JsonValue } from '../../core/index.ts';
import { parseMessagesResponse } from '../../model/index.ts';
import { anthropicMessagesStream } from '../../model/anthropic-stream.ts';
import { scriptPolicy } from '../fake-engine/index.ts';
import { assembleTrajectory } from '../trajectory/index.ts';
import { gatewayBaseUrl } from './index.ts';
import { attachMemory, postJson, sseEvents, startStack, WORKSPACE_TOOLS, type Stack } from './test-support.ts';

// Anthropic's Messages API, served through the engine's chat completions: thinking blocks,
// tool_use and tool_result round-trip to the same prompt, streams assemble (with Gauntlet's own
// Anthropic reader) into the same message a plain request returns.

const SCRIPT = {
  turns: [
    { reasoning: 'The parser is the place to look.', toolCalls: [{ name: 'read_file', arguments: { path: 'src/parser.ts' } }] },
    { reasoning: 'Line 41 lacks its brace.', content: 'The closing brace is missing on line 41.' },
  ],
};
const tools = WORKSPACE_TOOLS.map((tool) => ({ name: tool.name, description: tool.description, input_schema: tool.parameters }));
const USER = { role: 'user', content: 'The build fails in src/parser.ts. Find out why.' };

type Block = { type: string; [key: string]: JsonValue };
interface Message {
  id: string;
  type: string;
  role: string;
  content: Block[];
  stop_reason: string;
  usage: { input_tokens: number; output_tokens: number };
}

/** An event stream read by Gauntlet's own Anthropic adapter code, into the message it would store. */
function assemble(text: string): Message {
  const assembler = anthropicMessagesStream();
  let done = false;
  for (const event of sseEvents(text)) {
    const step = assembler.push(event);
    if (step === 'done') done = true;
    else assert.equal(step, 'more', JSON.stringify(step));
  }
  assert.ok(done, 'the stream ends with message_stop');
  return assembler.body() as unknown as Message;
}

describe('the Anthropic Messages API through the gateway', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ policy: scriptPolicy(SCRIPT), model: 'fake-qwen' });
  });
  after(() => stack.close());

  async function messages(rolloutId: string, body: Record<string, unknown>): Promise<{ status: number; text: string }> {
    return postJson(`${gatewayBaseUrl(stack.gateway.url, rolloutId).replace(/\/v1$/, '')}/v1/messages`, body, { 'anthropic-version': '2023-06-01', 'x-api-key': 'unused' });
  }

  for (const stream of [false, true]) {
    it(`${stream ? 'streams' : 'answers'} thinking and tool_use blocks, takes them back with a tool_result, and records both calls on one sequence`, async () => {
      const rolloutId = stream ? 'ro_messages_stream' : 'ro_messages';
      const { recorder } = attachMemory(stack.gateway, rolloutId);
      const ask = async (turns: unknown[]): Promise<Message> => {
        const reply = await messages(rolloutId, { model: 'fake-qwen', max_tokens: 512, system: 'You are a careful coding agent.', messages: turns, tools, stream });
        assert.equal(reply.status, 200, reply.text);
        return stream ? assemble(reply.text) : (JSON.parse(reply.text) as Message);
      };
      const first = await ask([USER]);
      assert.equal(first.type, 'message');
      assert.equal(first.stop_reason, 'tool_use');
      assert.deepEqual(first.content.map((block) => block.type), ['thinking', 'tool_use']);
      assert.equal(first.content[0]!.thinking, 'The parser is the place to look.');
      const use = first.content[1]!;
      assert.equal(use.name, 'read_file');
      assert.deepEqual(use.input, { path: 'src/parser.ts' });
      const parsed = parseMessagesResponse(first as unknown as JsonValue);
      assert.ok(parsed.ok && parsed.response.message.toolCalls[0]?.name === 'read_file', 'Gauntlet\'s Anthropic parser reads it');

      const second = await ask([USER, { role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'line 41: expected }' }] }]);
      assert.equal(second.stop_reason, 'end_turn');
      assert.deepEqual(second.content.map((block) => block.type), ['thinking', 'text']);
      assert.equal(second.content[1]!.text, 'The closing brace is missing on line 41.');
      assert.ok(second.usage.output_tokens > 0);

      assert.equal(recorder.calls.length, 2);
      assert.equal(recorder.calls[1]!.extendsParent, true);
      assert.ok(recorder.calls.every((c) => c.response?.tokens?.source === 'engine' && (c.response.tokens.promptIds?.length ?? 0) > 0));
      const assembled = assembleTrajectory(recorder.calls);
      assert.ok(assembled.ok && assembled.trajectory.segments.length === 1 && assembled.trajectory.drift.length === 0);
      if (stream) assert.deepEqual((recorder.calls[0]!.wire!.response as unknown as Message).content, first.content, 'the wire record is what the client assembled');
    });
  }

  it('returns an engine error with the engine\'s status and message, in Anthropic\'s error shape, and records it', async () => {
    const { recorder } = attachMemory(stack.gateway, 'ro_messages_error');
    const reply = await messages('ro_messages_error', { model: 'not-served', max_tokens: 10, messages: [USER] });
    assert.equal(reply.status, 404);
    assert.deepEqual(JSON.parse(reply.text), { type: 'error', error: { type: 'not_found_error', message: 'The model `not-served` does not exist.' } });
    assert.equal(recorder.calls[0]!.error?.kind, 'http');
    assert.deepEqual(recorder.calls[0]!.wire!.response, JSON.parse(reply.text), 'recorded as the client received it');
  });

  it('refuses bad bodies with a 400 in Anthropic\'s error shape, naming the field', async () => {
    attachMemory(stack.gateway, 'ro_messages_bad');
    for (const [body, field] of [
      [{ model: 'fake-qwen', messages: [USER] }, 'max_tokens'],
      [{ model: 'fake-qwen', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'document', source: {} }] }] }, 'messages[0].content[0].type'],
      [{ model: 'fake-qwen', max_tokens: 10, messages: [USER], tools: [{ type: 'bash_20250124', name: 'bash' }] }, 'tools[0]'],
    ] as const) {
      const reply = await messages('ro_messages_bad', body);
      assert.equal(reply.status, 400);
      const error = JSON.parse(reply.text) as { type: string; error: { type: string; message: string } };
      assert.equal(error.type, 'error');
      assert.equal(error.error.type, 'invalid_request_error');
      assert.ok(error.error.message.startsWith(`${field}:`), error.error.message);
    }
  });
});
