import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isTokenPrefix, loadQwen3Tokenizer } from '../../formats/index.ts';
import { toolWalkPolicy } from './policy.ts';
import { startFakeEngine, type FakeEngine } from './server.ts';
import { chat, firstDifference, resend, toolResults, TOOLS, type ChatBody, type WireMessage } from './test-support.ts';

// The property the gateway builds on: a client that sends each assistant message back intact gets
// a next prompt whose ids extend the previous prompt and completion exactly, so a whole rollout is
// one training sequence whose sampled ids are the engine's; a client that drops reasoning gets a
// prompt that departs exactly where the dropped turn began.

const tokenizer = await loadQwen3Tokenizer();
const THINK = tokenizer.tokenToId('<think>');
const TOOL_TURNS = 30;

interface Step {
  promptIds: number[];
  completionIds: number[];
  message: WireMessage;
}

/** Plays the conversation to its answer; `dropFrom(turn)` says whether that turn goes back without its reasoning. */
async function converse(engine: FakeEngine, dropFrom: (turn: number) => boolean = () => false): Promise<Step[]> {
  const messages: WireMessage[] = [
    { role: 'system', content: 'You are a careful coding agent.' },
    { role: 'user', content: 'The build fails in src/parser.ts. Find out why and fix it.' },
  ];
  const steps: Step[] = [];
  for (let turn = 0; turn <= TOOL_TURNS + 1; turn++) {
    const body: ChatBody = await chat(engine, { model: engine.model, messages, tools: TOOLS, logprobs: true, return_token_ids: true });
    const choice = body.choices[0]!;
    steps.push({ promptIds: body.prompt_token_ids!, completionIds: choice.token_ids!, message: choice.message });
    messages.push(resend(choice.message, { dropReasoning: dropFrom(turn) }));
    if (choice.finish_reason !== 'tool_calls') return steps;
    messages.push(...toolResults(choice.message, turn));
  }
  throw new Error(`no answer after ${TOOL_TURNS + 1} turns`);
}

describe('token exactness across turns', () => {
  let engine: FakeEngine;
  /** The rollout with every message sent back intact. */
  let kept: Step[];
  before(async () => {
    engine = await startFakeEngine({ policy: toolWalkPolicy({ turns: TOOL_TURNS }), seed: 5 });
    kept = await converse(engine);
  });
  after(() => engine.close());

  it(`keeps a ${TOOL_TURNS}-turn interleaved rollout with reasoning kept in one segment: zero drift, training ids = sampled ids`, () => {
    const steps = kept;
    assert.equal(steps.length, TOOL_TURNS + 1);
    assert.ok(steps.every((step) => (step.message.reasoning ?? '').length > 0), 'every turn reasons');
    assert.ok(steps.slice(0, -1).every((step) => (step.message.tool_calls ?? []).length > 0), 'every turn but the last calls a tool');
    for (let k = 1; k < steps.length; k++) {
      const previous = [...steps[k - 1]!.promptIds, ...steps[k - 1]!.completionIds];
      assert.ok(isTokenPrefix(previous, steps[k]!.promptIds), `turn ${k} departs from turn ${k - 1} at ${firstDifference(previous, steps[k]!.promptIds)}`);
    }
    // The merged sequence holds every turn's sampled ids at the place the engine produced them.
    const last = steps.at(-1)!;
    const merged = [...last.promptIds, ...last.completionIds];
    for (const step of steps) assert.deepEqual(merged.slice(step.promptIds.length, step.promptIds.length + step.completionIds.length), step.completionIds);
    // Each completion is exactly the template's rendering of the turn, closed by <|im_end|>.
    assert.ok(steps.every((step) => step.completionIds[0] === THINK && step.completionIds.at(-1) === tokenizer.tokenToId('<|im_end|>')));
  });

  it('plays the same rollout again for the same seed, id for id', async () => {
    const again = await converse(engine);
    assert.deepEqual(
      again.map((step) => step.completionIds),
      kept.map((step) => step.completionIds),
    );
    assert.deepEqual(
      again.map((step) => step.message.tool_calls?.map((call) => call.id)),
      kept.map((step) => step.message.tool_calls?.map((call) => call.id)),
    );
  });

  it('drop-thinking: the prompt after the first turn sent back without reasoning departs where that turn began, at its <think>', async () => {
    for (const dropAt of [0, 12]) {
      const steps = await converse(engine, (turn) => turn >= dropAt);
      // Up to the dropped turn the conversation is the same one.
      for (let k = 0; k <= dropAt; k++) assert.deepEqual(steps[k]!.completionIds, kept[k]!.completionIds);
      const drifts = steps.slice(1).flatMap((step, i) => (isTokenPrefix([...steps[i]!.promptIds, ...steps[i]!.completionIds], step.promptIds) ? [] : [i + 1]));
      assert.equal(drifts[0], dropAt + 1, `first drift at request ${drifts[0]}`);
      const before = [...steps[dropAt]!.promptIds, ...steps[dropAt]!.completionIds];
      const next = steps[dropAt + 1]!.promptIds;
      const at = firstDifference(before, next);
      assert.equal(at, steps[dropAt]!.promptIds.length, 'departs at the first id of the dropped turn');
      assert.equal(before[at], THINK, 'what went missing is the reasoning block');
      assert.notEqual(next[at], THINK);
    }
  });
});
