import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { FunctionTool, ResponseInputItem, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { scriptPolicy } from '../fake-engine/index.ts';
import { assembleTrajectory } from '../trajectory/index.ts';
import { gatewayBaseUrl } from './index.ts';
import { attachMemory, startStack, WORKSPACE_TOOLS, type Stack } from './test-support.ts';

// The Responses API (codex speaks nothing else), served through the engine's chat completions:
// the official client reads our answers, reasoning and calls round-trip through its input items
// back to the same prompt, and every call is recorded with the engine's tokens.

const SCRIPT = {
  turns: [
    { reasoning: 'The parser is the place to look.', toolCalls: [{ name: 'read_file', arguments: { path: 'src/parser.ts' } }] },
    { reasoning: 'Line 41 lacks its brace.', content: 'The closing brace is missing on line 41.' },
  ],
};
const tools: FunctionTool[] = WORKSPACE_TOOLS.map((tool) => ({ type: 'function', name: tool.name, description: tool.description, parameters: tool.parameters, strict: false }));
const INSTRUCTIONS = 'You are a careful coding agent.';
const INPUT: ResponseInputItem[] = [{ role: 'user', content: [{ type: 'input_text', text: 'The build fails in src/parser.ts. Find out why.' }] }];

describe('the Responses API through the gateway', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ policy: scriptPolicy(SCRIPT), model: 'fake-qwen' });
  });
  after(() => stack.close());

  function client(rolloutId: string): OpenAI {
    return new OpenAI({ baseURL: gatewayBaseUrl(stack.gateway.url, rolloutId), apiKey: 'unused', maxRetries: 0 });
  }

  it('answers with reasoning and function_call items, takes them back as input, and records both calls with tokens on one sequence', async () => {
    const { recorder } = attachMemory(stack.gateway, 'ro_responses');
    const openai = client('ro_responses');
    const first = await openai.responses.create({ model: 'fake-qwen', instructions: INSTRUCTIONS, input: INPUT, tools, store: false, include: ['reasoning.encrypted_content'] });
    assert.equal(first.status, 'completed');
    assert.deepEqual(first.output.map((item) => item.type), ['reasoning', 'function_call']);
    const [reasoning, call] = first.output;
    assert.ok(reasoning?.type === 'reasoning' && call?.type === 'function_call');
    assert.equal(reasoning.content?.[0]?.text, 'The parser is the place to look.');
    assert.equal(call.name, 'read_file');
    assert.deepEqual(JSON.parse(call.arguments), { path: 'src/parser.ts' });
    assert.ok(first.usage && first.usage.input_tokens > 0 && first.usage.output_tokens > 0);

    const second = await openai.responses.create({
      model: 'fake-qwen',
      instructions: INSTRUCTIONS,
      input: [...INPUT, ...(first.output as ResponseInputItem[]), { type: 'function_call_output', call_id: call.call_id, output: 'line 41: expected }' }],
      tools,
      store: false,
    });
    assert.equal(second.output_text, 'The closing brace is missing on line 41.');

    assert.equal(recorder.calls.length, 2);
    const [one, two] = recorder.calls;
    assert.equal(two!.parentId, one!.id);
    assert.equal(two!.extendsParent, true, 'the resent items are the same turn the engine produced');
    assert.deepEqual((one!.wire!.request as { input: unknown }).input, INPUT, 'the wire record holds the client request');
    assert.equal((one!.wire!.response as { object: string }).object, 'response');
    assert.equal(one!.response!.message.reasoning?.text, 'The parser is the place to look.');
    const assembled = assembleTrajectory(recorder.calls);
    assert.ok(assembled.ok && assembled.trajectory.segments.length === 1 && assembled.trajectory.drift.length === 0, 'one sequence, no drift');
  });

  it('streams the events the official client assembles into the same answer, and records the streamed call', async () => {
    const { recorder } = attachMemory(stack.gateway, 'ro_responses_stream');
    const openai = client('ro_responses_stream');
    const stream = openai.responses.stream({ model: 'fake-qwen', instructions: INSTRUCTIONS, input: INPUT, tools, store: false });
    const types: ResponseStreamEvent['type'][] = [];
    for await (const event of stream) types.push(event.type);
    const first = await stream.finalResponse();
    assert.equal(types[0], 'response.created');
    assert.equal(types.at(-1), 'response.completed');
    for (const type of ['response.output_item.added', 'response.reasoning_text.delta', 'response.reasoning_text.done', 'response.function_call_arguments.delta', 'response.function_call_arguments.done', 'response.output_item.done'] as const) {
      assert.ok(types.includes(type), `${type} in ${types.join(', ')}`);
    }
    assert.deepEqual(first.output.map((item) => item.type), ['reasoning', 'function_call']);
    const call = first.output[1];
    assert.ok(call?.type === 'function_call');
    assert.deepEqual(JSON.parse(call.arguments), { path: 'src/parser.ts' });

    const second = openai.responses.stream({
      model: 'fake-qwen',
      instructions: INSTRUCTIONS,
      input: [...INPUT, ...(first.output as ResponseInputItem[]), { type: 'function_call_output', call_id: call.call_id, output: 'line 41: expected }' }],
      tools,
      store: false,
    });
    const deltas: string[] = [];
    second.on('response.output_text.delta', (event) => void deltas.push(event.delta));
    const answer = await second.finalResponse();
    assert.equal(answer.output_text, 'The closing brace is missing on line 41.');
    assert.equal(deltas.join(''), answer.output_text);
    assert.equal(recorder.calls.length, 2);
    assert.equal(recorder.calls[1]!.extendsParent, true);
    assert.ok(recorder.calls.every((c) => (c.response?.tokens?.completionIds?.length ?? 0) > 0 && c.response!.tokens!.completionIds!.length === c.response!.tokens!.completionLogprobs!.length));
    assert.deepEqual((recorder.calls[0]!.wire!.response as { output: { type: string }[] }).output.map((item) => item.type), ['reasoning', 'function_call']);
  });

  it('refuses what a chat engine cannot serve with a 400 naming the field, in the API\'s error shape', async () => {
    attachMemory(stack.gateway, 'ro_responses_bad');
    const openai = client('ro_responses_bad');
    for (const [params, param] of [
      [{ model: 'fake-qwen', input: INPUT, previous_response_id: 'resp_1' }, 'previous_response_id'],
      [{ model: 'fake-qwen', input: [{ type: 'web_search_call', id: 'ws_1', status: 'completed' }] }, 'input[0].type'],
      [{ model: 'fake-qwen', input: INPUT, tools: [{ type: 'web_search' }] }, 'tools[0]'],
    ] as const) {
      await assert.rejects(
        openai.responses.create(params as unknown as Parameters<OpenAI['responses']['create']>[0]),
        (error: unknown) => error instanceof OpenAI.APIError && error.status === 400 && error.param === param,
      );
    }
  });
});

describe('free-form (custom) tools through the Responses API', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ policy: scriptPolicy({ turns: [{ reasoning: 'A patch will do.', toolCalls: [{ name: 'apply_patch', arguments: { input: '*** Begin Patch\n*** End Patch' } }] }, { content: 'Patched.' }] }), model: 'fake-qwen' });
  });
  after(() => stack.close());

  it('calls come back as custom_tool_call items with their raw input, and go back to the engine as the same call', async () => {
    const { recorder } = attachMemory(stack.gateway, 'ro_custom');
    const openai = new OpenAI({ baseURL: gatewayBaseUrl(stack.gateway.url, 'ro_custom'), apiKey: 'unused', maxRetries: 0 });
    const custom = [{ type: 'custom' as const, name: 'apply_patch', description: 'Apply a patch in the V4A format.' }];
    for (const stream of [false, true]) {
      const first = stream
        ? await openai.responses.stream({ model: 'fake-qwen', input: INPUT, tools: custom, store: false }).finalResponse()
        : await openai.responses.create({ model: 'fake-qwen', input: INPUT, tools: custom, store: false });
      const call = first.output.find((item) => item.type === 'custom_tool_call');
      assert.ok(call?.type === 'custom_tool_call', `stream ${stream}: ${JSON.stringify(first.output)}`);
      assert.equal(call.input, '*** Begin Patch\n*** End Patch');
      const second = await openai.responses.create({ model: 'fake-qwen', input: [...INPUT, ...(first.output as ResponseInputItem[]), { type: 'custom_tool_call_output', call_id: call.call_id, output: 'Done.' }], tools: custom, store: false });
      assert.equal(second.output_text, 'Patched.');
      assert.equal(recorder.calls.at(-1)!.extendsParent, true);
    }
  });
});
