// A simulated user played by a hostile or broken model: replies that are empty, tool calls,
// enormous or not valid Unicode are the simulator's infrastructure failure, never passed on to
// the agent (whose context they would fill) or stored altered in the user log.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InfraError, type ModelResult, type ToolCall } from '../../core/index.ts';
import { isStop, withoutStop } from './conversation.ts';
import { createLlmUser, MAX_USER_REPLY_CHARS, type UserModel } from './llm-user.ts';
import { detectSimulatorFault } from './monitor.ts';
import { STOP, UserScenario } from './scenario.ts';

const scenario = UserScenario.parse({
  persona: 'Robin, brief',
  goal: 'Tell Priya which day works',
  facts: [{ id: 'day', value: 'Thursday', say: 'Thursday works.', askedBy: ['day'], contradicts: ['Monday'] }],
  requires: ['day'],
});

function answering(message: { content?: string; reasoning?: string; toolCalls?: ToolCall[] }): UserModel {
  const reasoning = message.reasoning === undefined ? {} : { reasoning: { text: message.reasoning, source: 'reasoning_field' as const } };
  const result: ModelResult = { ok: true, response: { message: { role: 'assistant', content: message.content ?? '', ...reasoning, toolCalls: message.toolCalls ?? [] }, finishReason: 'stop', usage: {} } };
  return { spec: 'fake:user', complete: async () => result };
}

const signal = new AbortController().signal;
const replyOf = (model: UserModel, options: { maxReplyChars?: number } = {}) =>
  createLlmUser({ model, ...options }).reply({ scenario, opening: 'Tell Priya a day.', log: [], message: 'Which day works?', signal });

async function simulatorFailure(promise: Promise<unknown>): Promise<InfraError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof InfraError, `expected an InfraError, got ${String(error)}`);
    assert.deepEqual([error.source, error.kind, error.retryable], ['user_simulator', 'malformed_response', true]);
    return error;
  }
  assert.fail('expected the reply to be refused');
}

describe('a hostile LLM user', () => {
  it('takes a plain reply as written, trimmed', async () => {
    assert.equal(await replyOf(answering({ content: '  Thursday works.\n' })), 'Thursday works.');
  });

  it('says what came instead of text: tool calls, reasoning alone, or nothing', async () => {
    const call: ToolCall = { id: 'c1', name: 'send_direct_message', arguments: {}, argumentsText: '{}' };
    assert.match((await simulatorFailure(replyOf(answering({ toolCalls: [call] })))).message, /replied with no text \(it called "send_direct_message", but a user has no tools\)/);
    assert.match((await simulatorFailure(replyOf(answering({ reasoning: 'Thursday works.' })))).message, /replied with no text \(only reasoning\)/);
    assert.match((await simulatorFailure(replyOf(answering({ content: ' \n\t ' })))).message, /replied with no text$/);
  });

  it('refuses a reply longer than a user message may be, instead of handing it to the agent', async () => {
    const huge = `Thursday. ${'blah '.repeat(400_000)}`;
    const error = await simulatorFailure(replyOf(answering({ content: huge })));
    assert.match(error.message, new RegExp(`replied with ${huge.trim().length} characters, more than the ${MAX_USER_REPLY_CHARS}`));
    assert.ok(error.message.length < 200);
    await simulatorFailure(replyOf(answering({ content: 'Thursday works.' }), { maxReplyChars: 5 }));
  });

  it('refuses a lone surrogate, which the user log would store as replacement characters', async () => {
    const error = await simulatorFailure(replyOf(answering({ content: 'Thursday \uD83D works.' })));
    assert.match(error.message, /not valid Unicode \(a lone surrogate\)/);
    assert.equal(await replyOf(answering({ content: 'Thursday 👍' })), 'Thursday 👍', 'a whole pair is fine');
  });

  it('quotes a faulty reply in its error without cutting a character in half', () => {
    const reply = `Monday ${'x'.repeat(149)}👍👍 and more words to pass the limit`;
    const fault = detectSimulatorFault({ scenario, log: [], message: 'Which day works?', reply });
    assert.equal(fault?.kind, 'contradiction');
    assert.doesNotMatch(fault!.message, /[\uD800-\uDFFF]/u, 'no lone surrogate in the message');
  });

  it('ends the conversation on the stop marker wherever it stands, and only on the marker as written', () => {
    for (const reply of [`${STOP} Thanks!`, `Thanks!${STOP}`, `Thanks ${STOP} bye ${STOP}`]) {
      assert.equal(isStop(reply), true, reply);
      assert.doesNotMatch(withoutStop(reply), /###/, 'the agent never reads the marker');
    }
    for (const reply of ['###stop###', '### STOP ###', '##STOP##']) assert.equal(isStop(reply), false, reply);
  });
});
