import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withoutReasoning, type AssistantMessage, type Message, type ModelCall, type RolloutId, type RunId } from '../../core/index.ts';
import { loadQwen3Tokenizer } from '../../formats/index.ts';
import { assembleTrajectory } from './assemble.ts';
import { syntheticCall, type CallSpec } from './synthetic.ts';
import { tokenPolicyVersions, type Trajectory } from './types.ts';

const runId = 'run_t' as RunId;
const rolloutId = 'ro_t' as RolloutId;
const system: Message = { role: 'system', content: 'sys' };
const user: Message = { role: 'user', content: 'task' };

function reply(text: string, reasoning?: string): AssistantMessage {
  return {
    role: 'assistant',
    content: text,
    toolCalls: [{ id: `id_${text}`, name: 'look', arguments: {}, argumentsText: '{}' }],
    ...(reasoning ? { reasoning: { text: reasoning, source: 'reasoning_field' as const } } : {}),
  };
}

function tool(id: string): Message {
  return { role: 'tool', toolCallId: id, name: 'look', content: `seen ${id}`, isError: false };
}

type Spec = Omit<CallSpec, 'runId' | 'rolloutId' | 'parentId'> & { parent?: ModelCall | null };

function call(spec: Spec): ModelCall {
  const { parent, ...rest } = spec;
  return syntheticCall({ runId, rolloutId, parentId: parent ? parent.id : null, ...rest });
}

function assembled(calls: ModelCall[], decode?: (ids: readonly number[]) => string): Trajectory {
  const result = assembleTrajectory(calls, decode ? { decode } : {});
  assert.ok(result.ok, result.ok ? '' : result.detail);
  return result.trajectory;
}

/** Turn 0 → turn 1 with an exact extension: prompt [1,2,3], completion [10,11,12], tool tail [20,21]. */
function twoTurns() {
  const a0 = reply('a0', 'r0');
  const c0 = call({ index: 0, messages: [system, user], reply: a0, promptIds: [1, 2, 3], completionIds: [10, 11, 12], logprobs: [-0.5, -0.25, -1], policyVersion: '7', temperature: 0.8 });
  const a1 = reply('a1', 'r1');
  const c1 = call({ index: 1, parent: c0, messages: [system, user, a0, tool('id_a0')], reply: a1, promptIds: [1, 2, 3, 10, 11, 12, 20, 21], completionIds: [30, 31], logprobs: [-0.125, -2], policyVersion: '8', temperature: 0.8 });
  return { a0, a1, c0, c1 };
}

describe('trajectory assembly', () => {
  it('merges calls whose prompt extends the previous prompt + completion exactly into one segment', () => {
    const { c0, c1 } = twoTurns();
    const t = assembled([c0, c1]);
    assert.equal(t.segments.length, 1);
    assert.deepEqual(t.drift, []);
    const [s] = t.segments;
    assert.deepEqual(s?.tokenIds, [1, 2, 3, 10, 11, 12, 20, 21, 30, 31]);
    assert.deepEqual(s?.lossMask, [0, 0, 0, 1, 1, 1, 0, 0, 1, 1]);
    assert.deepEqual(s?.logprobs, [0, 0, 0, -0.5, -0.25, -1, 0, 0, -0.125, -2]);
    assert.deepEqual(
      s?.spans.map((x) => [x.callIndex, x.start, x.completionStart, x.end, x.policyVersion, x.temperature]),
      [
        [0, 0, 3, 6, '7', 0.8],
        [1, 6, 8, 10, '8', 0.8],
      ],
    );
    assert.deepEqual(tokenPolicyVersions(s!), [null, null, null, '7', '7', '7', null, null, '8', '8']);
    assert.equal(t.perCallTokens, 6 + 10);
    assert.equal(s?.startedBy, 'first');
  });

  it('starts a new segment when a resent assistant turn lost its reasoning, recording dropped_reasoning at that turn', () => {
    const { a0, a1, c0, c1 } = twoTurns();
    // Turn 2 resends turn 0 without its reasoning: ids [10, 11] (the reasoning) vanish from the prompt.
    const c2 = call({ index: 2, parent: c1, messages: [system, user, withoutReasoning(a0), tool('id_a0'), a1, tool('id_a1')], reply: reply('a2'), promptIds: [1, 2, 3, 12, 20, 21, 30, 31, 40], completionIds: [50], logprobs: [-1] });
    const t = assembled([c0, c1, c2]);
    assert.equal(t.segments.length, 2);
    assert.equal(t.segments[1]?.startedBy, 'dropped_reasoning');
    assert.deepEqual(t.segments[1]?.tokenIds, [1, 2, 3, 12, 20, 21, 30, 31, 40, 50]);
    assert.deepEqual(t.segments[1]?.lossMask, [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert.equal(t.drift.length, 1);
    assert.deepEqual({ ...t.drift[0], detail: undefined }, { callIndex: 2, modelCallId: c2.id, turn: 3, position: 3, cause: 'dropped_reasoning', messageIndex: 2, detail: undefined });
  });

  it('calls a divergence in the history with unchanged messages a template re-render', () => {
    const { a0, a1, c0, c1 } = twoTurns();
    // Same messages, but the template re-rendered turn 0 (e.g. a chat template that strips old reasoning).
    const c2 = call({ index: 2, parent: c1, messages: [system, user, a0, tool('id_a0'), a1, tool('id_a1')], reply: reply('a2'), promptIds: [1, 2, 3, 12, 20, 21, 30, 31, 40], completionIds: [50] });
    const t = assembled([c0, c1, c2]);
    assert.equal(t.drift[0]?.cause, 'template_rerender');
    assert.equal(t.drift[0]?.position, 3);
    assert.equal(t.drift[0]?.messageIndex, null);
    assert.equal(t.segments[1]?.logprobs, null, 'the second segment has a call without logprobs');
  });

  it('tells a tokenizer mismatch (same text, other ids) from a re-render (other text) inside the last completion, given a decoder', () => {
    const text: Record<number, string> = { 1: 'a', 2: 'b', 3: 'c', 50: 'xy', 51: 'x', 52: 'y', 53: 'z' };
    const decode = (ids: readonly number[]) => ids.map((id) => text[id] ?? '?').join('');
    const a0 = reply('a0');
    const c0 = call({ index: 0, messages: [user], reply: a0, promptIds: [1, 2], completionIds: [50] });
    const next = (promptIds: number[]) => call({ index: 1, parent: c0, messages: [user, a0, tool('id_a0')], reply: reply('a1'), promptIds, completionIds: [3] });
    assert.equal(assembled([c0, next([1, 2, 51, 52, 3])], decode).drift[0]?.cause, 'tokenizer_mismatch');
    const rerender = assembled([c0, next([1, 2, 51, 53, 3])], decode).drift[0];
    assert.equal(rerender?.cause, 'template_rerender');
    assert.match(rerender?.detail ?? '', /"y" became "zc"/);
    const blind = assembled([c0, next([1, 2, 51, 52, 3])]).drift[0];
    assert.equal(blind?.cause, 'unknown');
    assert.match(blind?.detail ?? '', /give a tokenizer/);
  });

  it('reports drift it cannot decode (ids the tokenizer given does not have) instead of failing the assembly', () => {
    const decode = (ids: readonly number[]) => {
      const unknown = ids.find((id) => id > 60);
      if (unknown !== undefined) throw new Error(`token id ${unknown} is not in the vocabulary`);
      return ids.map(String).join(' ');
    };
    const a0 = reply('a0');
    const c0 = call({ index: 0, messages: [user], reply: a0, promptIds: [1, 2], completionIds: [50] });
    const c1 = call({ index: 1, parent: c0, messages: [user, a0, tool('id_a0')], reply: reply('a1'), promptIds: [1, 2, 99, 3], completionIds: [3] });
    const drift = assembled([c0, c1], decode).drift[0];
    assert.equal(drift?.cause, 'unknown');
    assert.match(drift?.detail ?? '', /the tokenizer given cannot decode them \(token id 99 is not in the vocabulary\)/);
  });

  it('finds a real BPE boundary mismatch with the Qwen3 tokenizer', async () => {
    const tokenizer = await loadQwen3Tokenizer();
    const prompt = tokenizer.encode('<|im_start|>user\nSay it<|im_end|>\n<|im_start|>assistant\n', { addSpecialTokens: false });
    // The model sampled a non-canonical split, "H" + "AVING"; re-tokenising the same text merges differently.
    const sampled = [...tokenizer.encode('H', { addSpecialTokens: false }), ...tokenizer.encode('AVING', { addSpecialTokens: false })];
    const rerendered = tokenizer.encode('<|im_start|>user\nSay it<|im_end|>\n<|im_start|>assistant\nHAVING<|im_end|>\n', { addSpecialTokens: false });
    assert.notDeepEqual(rerendered.slice(prompt.length, prompt.length + sampled.length), sampled, 'the fixture needs a differing merge');
    const a0 = reply('HAVING');
    const c0 = call({ index: 0, messages: [user], reply: a0, promptIds: prompt, completionIds: sampled });
    const c1 = call({ index: 1, parent: c0, messages: [user, a0, tool('id_HAVING')], reply: reply('x'), promptIds: rerendered, completionIds: [1] });
    const t = assembled([c0, c1], (ids) => tokenizer.decode(ids));
    assert.equal(t.drift[0]?.cause, 'tokenizer_mismatch');
    assert.equal(t.drift[0]?.position, prompt.length);
  });

  it('gives summaries and the context after them their own segments as context resets, and ignores judge calls', () => {
    const { a0, c0, c1 } = twoTurns();
    const summary = call({ index: 2, parent: c1, purpose: 'summary', messages: [system, user, a0, tool('id_a0'), { role: 'user', content: 'Summarise.' }], reply: reply('summary'), promptIds: [1, 2, 3, 10, 11, 12, 20, 21, 99], completionIds: [60, 61] });
    const after = call({ index: 3, parent: summary, messages: [system, { role: 'user', content: 'task; so far: summary' }], reply: reply('a3'), promptIds: [1, 2, 3, 60, 61], completionIds: [70] });
    const judge = call({ index: 1000, purpose: 'judge', messages: [user], reply: reply('PASS'), promptIds: [5], completionIds: [6], source: 'none' });
    const t = assembled([c0, c1, summary, after, judge]);
    assert.deepEqual(t.segments.map((s) => s.startedBy), ['first', 'context_reset', 'context_reset']);
    assert.deepEqual(t.drift.map((d) => [d.callIndex, d.cause]), [
      [2, 'context_reset'],
      [3, 'context_reset'],
    ]);
    assert.equal(t.perCallTokens, 6 + 10 + 11 + 6, 'the judge call is not training data');
  });

  it('opens a branch (not drift) when two calls continue the same parent', () => {
    const { a0, c0, c1 } = twoTurns();
    const retry = call({ index: 2, parent: c0, messages: [system, user, a0, tool('id_a0')], reply: reply('b1'), promptIds: [1, 2, 3, 10, 11, 12, 20, 21], completionIds: [80] });
    const t = assembled([c0, c1, retry]);
    assert.deepEqual(t.segments.map((s) => s.startedBy), ['first', 'branch']);
    assert.deepEqual(t.drift, []);
    assert.deepEqual(t.segments[1]?.lossMask, [0, 0, 0, 0, 0, 0, 0, 0, 1], "the parent's sampled tokens are trained once, in the first segment");
  });

  it('refuses a rollout with any call lacking engine ids, and says which', () => {
    const { c0 } = twoTurns();
    const local = call({ index: 1, parent: c0, messages: [user], reply: reply('x'), promptIds: [1, 2, 3, 10, 11, 12], completionIds: [4], source: 'tokenizer' });
    const result = assembleTrajectory([c0, local]);
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.reason, 'no_engine_tokens');
    assert.match(!result.ok ? result.detail : '', /1 of 2 calls .*local tokenizer/);
    const none = assembleTrajectory([call({ index: 0, messages: [user], reply: reply('x'), promptIds: [], completionIds: [], source: 'none' })]);
    assert.equal(!none.ok && none.reason, 'no_engine_tokens');
  });

  it('rejects logprobs that do not line up with the completion, are positive or stand in for −∞', () => {
    const short = call({ index: 0, messages: [user], reply: reply('x'), promptIds: [1], completionIds: [2, 3], logprobs: [-1] });
    const result = assembleTrajectory([short]);
    assert.equal(!result.ok && result.reason, 'invalid_tokens');
    assert.match(!result.ok ? result.detail : '', /1 logprobs for 2 completion ids/);
    const positive = assembleTrajectory([call({ index: 0, messages: [user], reply: reply('x'), promptIds: [1], completionIds: [2], logprobs: [0.5] })]);
    assert.match(!positive.ok ? positive.detail : '', /logprob 0\.5/);
    // vLLM's stand-in for −∞: an importance ratio against it overflows (exp(9999) is Infinity).
    const placeholder = assembleTrajectory([call({ index: 0, messages: [user], reply: reply('x'), promptIds: [1], completionIds: [2, 3], logprobs: [-0.5, -9999] })]);
    assert.equal(!placeholder.ok && placeholder.reason, 'invalid_tokens');
    assert.match(!placeholder.ok ? placeholder.detail : '', /logprob -9999 at completion token 1 .*≥ -744\.44/);
  });

  it('counts an extendsParent hint that the ids contradict', () => {
    const { c0, c1 } = twoTurns();
    const hinted = { ...c1, extendsParent: false } as ModelCall;
    assert.equal(assembled([c0, hinted]).hintMismatches, 1);
    assert.equal(assembled([c0, { ...c1, extendsParent: true } as ModelCall]).hintMismatches, 0);
  });

  it('skips a failed call and continues from its parent', () => {
    const { a0, c0 } = twoTurns();
    const failed: ModelCall = { ...call({ index: 1, parent: c0, messages: [user], reply: reply('x'), promptIds: [1], completionIds: [2] }), response: null, error: { kind: 'http', message: '500' } };
    const retried = call({ index: 2, parent: failed, messages: [system, user, a0, tool('id_a0')], reply: reply('a1'), promptIds: [1, 2, 3, 10, 11, 12, 20, 21], completionIds: [30] });
    const t = assembled([c0, failed, retried]);
    assert.equal(t.segments.length, 1);
    assert.equal(t.segments[0]?.spans.length, 2);
  });
});
