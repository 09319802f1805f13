import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { InputError, type Rollout } from '../core/index.ts';
import { currentLabels, readLabels, recordPreference, recordStepLabel, recordVerdict, VerdictInput, withHistory, type LabelContext } from './labels.ts';
import { createQueue } from './queue-store.ts';
import { reviewFixture, type ReviewFixture } from './test-support.ts';

function clock(start = Date.parse('2025-03-01T10:00:00Z')): () => Date {
  let t = start;
  return () => new Date((t += 1000));
}

describe('labels', () => {
  let fx: ReviewFixture;
  let ctx: LabelContext;
  let rollouts: Rollout[];
  before(async () => {
    fx = await reviewFixture();
    ctx = { store: fx.store, now: clock() };
    rollouts = fx.store.rollouts(fx.oracleRun);
  });

  it('keeps concurrent verdicts from two reviewers on the same trajectory, both current', () => {
    const target = rollouts[0]!;
    const a = recordVerdict(ctx, { rolloutId: target.id, verdict: 'accept', reviewer: 'alice' });
    const b = recordVerdict(ctx, { rolloutId: target.id, verdict: 'unsafe', reason: 'deleted the archive', reviewer: 'bob' });
    const stored = withHistory(readLabels(fx.store, { rolloutId: target.id }));
    assert.deepEqual(stored.map((l) => [l.id, l.reviewer, l.current]), [
      [a.id, 'alice', true],
      [b.id, 'bob', true],
    ]);
    assert.equal(stored[1]!.kind === 'verdict' && stored[1]!.reason, 'deleted the archive');
    assert.equal(a.runId, fx.oracleRun);
    assert.equal(a.taskId, target.taskId);
    assert.match(a.createdAt, /^2025-03-01T10:00/);
  });

  it('takes a reviewer name typed with a combining accent as the same reviewer, and refuses names with control characters', () => {
    const target = rollouts[3]!;
    const composed = recordVerdict(ctx, VerdictInput.parse({ rolloutId: target.id, verdict: 'accept', reviewer: 'Jos\u00e9' }));
    const decomposed = recordVerdict(ctx, VerdictInput.parse({ rolloutId: target.id, verdict: 'reject', reviewer: 'Jose\u0301' }));
    assert.equal(decomposed.reviewer, composed.reviewer);
    // One reviewer: the second verdict supersedes the first.
    assert.deepEqual(currentLabels(readLabels(fx.store, { rolloutId: target.id })).map((l) => l.id), [decomposed.id]);
    for (const reviewer of ['ali\u0000ce', 'bob\u001b[31m', 'half \ud800']) {
      const parsed = VerdictInput.safeParse({ rolloutId: target.id, verdict: 'accept', reviewer });
      assert.equal(parsed.success, false, JSON.stringify(reviewer));
      assert.match(parsed.error!.issues[0]!.message, /printable text/);
    }
  });

  it('never overwrites: a reviewer\'s second verdict supersedes the first in reading, and both stay stored', () => {
    const target = rollouts[1]!;
    const first = recordVerdict(ctx, { rolloutId: target.id, verdict: 'accept', reviewer: 'carol' });
    const second = recordVerdict(ctx, { rolloutId: target.id, verdict: 'reject', reason: 'looked again', reviewer: 'carol' });
    const history = withHistory(readLabels(fx.store, { rolloutId: target.id }));
    assert.equal(history.length, 2);
    assert.deepEqual(history.map((l) => [l.id, l.current, l.supersededBy]), [
      [first.id, false, second.id],
      [second.id, true, null],
    ]);
    assert.deepEqual(currentLabels(readLabels(fx.store, { rolloutId: target.id })).map((l) => l.id), [second.id]);
  });

  it('pins a step rating to a model call of the final attempt, and refuses a call the rollout does not have', () => {
    const target = rollouts[2]!;
    const call = fx.store.modelCalls(target.id)[1]!;
    const label = recordStepLabel(ctx, { rolloutId: target.id, callId: call.id, rating: -1, flag: 'test_tampering', note: 'edits the test', reviewer: 'alice' });
    assert.equal(label.callIndex, call.index);
    assert.equal(label.rating, -1);
    assert.throws(
      () => recordStepLabel(ctx, { rolloutId: target.id, callId: 'mc_nope', rating: 1, reviewer: 'alice' }),
      (e: unknown) => e instanceof InputError && e.where === 'callId' && /has no model call "mc_nope"/.test(e.message),
    );
    assert.throws(() => recordVerdict(ctx, { rolloutId: 'ro_missing', verdict: 'accept', reviewer: 'alice' }), (e: unknown) => e instanceof InputError && e.where === 'rolloutId');
  });

  it('records which sibling was shown first and which won: shown right-then-left, choice A prefers the right one', () => {
    const [left, right] = rollouts.filter((r) => r.taskId === rollouts[0]!.taskId);
    const label = recordPreference(ctx, { taskId: left!.taskId, leftRolloutId: left!.id, rightRolloutId: right!.id, shownOrder: ['right', 'left'], choice: 'A', reviewer: 'dave' });
    assert.deepEqual(label.shown, { A: right!.id, B: left!.id });
    assert.equal(label.preferredRolloutId, right!.id);
    const tie = recordPreference(ctx, { taskId: left!.taskId, leftRolloutId: left!.id, rightRolloutId: right!.id, shownOrder: ['left', 'right'], choice: 'tie', reviewer: 'erin' });
    assert.equal(tie.preferredRolloutId, null);
    // Preferences are found from either rollout.
    assert.ok(readLabels(fx.store, { rolloutId: right!.id }).some((l) => l.id === label.id));
  });

  it('refuses preferences between rollouts of different tasks or runs, or a rollout with itself', () => {
    const [a, b] = [rollouts.find((r) => r.taskId !== rollouts[0]!.taskId)!, rollouts[0]!];
    const other = fx.store.rollouts(fx.randomRun).find((r) => r.taskId === b.taskId)!;
    const bad = (over: Partial<Parameters<typeof recordPreference>[1]>, field: string) =>
      assert.throws(
        () => recordPreference(ctx, { taskId: b.taskId, leftRolloutId: b.id, rightRolloutId: rollouts[1]!.id, shownOrder: ['left', 'right'], choice: 'B', reviewer: 'dave', ...over }),
        (e: unknown) => e instanceof InputError && e.where === field,
      );
    bad({ leftRolloutId: a.id }, 'leftRolloutId');
    bad({ rightRolloutId: b.id }, 'rightRolloutId');
    bad({ rightRolloutId: other.id }, 'rightRolloutId');
  });

  it('checks rubric answers against the queue item\'s rubric, naming the field', () => {
    const queue = createQueue(
      { store: fx.store },
      {
        runId: fx.oracleRun,
        sample: 2,
        strategy: 'random',
        reviewersPerItem: 1,
        reservationMinutes: 30,
        seed: 5,
        rubric: {
          fields: [
            { name: 'hack', type: 'categorical', options: ['none', 'test_tampering', 'other'], required: true },
            { name: 'effort', type: 'numeric', min: 1, max: 5, step: 1, required: false },
            { name: 'safe', type: 'boolean', required: false },
            { name: 'notes', type: 'text', maxLength: 20, required: false },
          ],
        },
      },
    );
    const item = fx.store.reviewItems(queue.id, 0)[0]!.item;
    const verdict = (rubric: Record<string, string | number | boolean>, rolloutId = item.rolloutId) =>
      recordVerdict(ctx, { rolloutId, verdict: 'accept', reviewer: 'frank', queueItemId: item.id, rubric });
    const refused = (rubric: Record<string, string | number | boolean>, field: string, pattern: RegExp) =>
      assert.throws(() => verdict(rubric), (e: unknown) => e instanceof InputError && e.where === field && pattern.test(e.message));
    refused({}, 'rubric.hack', /required/);
    refused({ hack: 'maybe' }, 'rubric.hack', /one of none, test_tampering, other/);
    refused({ hack: 'none', effort: 2.5 }, 'rubric.effort', /in steps of 1/);
    refused({ hack: 'none', safe: 'yes' }, 'rubric.safe', /true or false/);
    refused({ hack: 'none', notes: 'x'.repeat(21) }, 'rubric.notes', /at most 20/);
    refused({ hack: 'none', colour: 'red' }, 'rubric.colour', /not a field/);
    const other = rollouts.find((r) => r.id !== item.rolloutId)!;
    assert.throws(() => verdict({ hack: 'none' }, other.id), (e: unknown) => e instanceof InputError && e.where === 'queueItemId');
    const label = verdict({ hack: 'test_tampering', effort: 4, safe: true });
    assert.deepEqual(label.rubric, { hack: 'test_tampering', effort: 4, safe: true });
    assert.equal(label.rubricHash, queue.rubricHash);
    assert.equal(label.queueId, queue.id);
    // Rubric answers with no rubric to answer are refused rather than stored unchecked.
    assert.throws(() => recordVerdict(ctx, { rolloutId: other.id, verdict: 'accept', reviewer: 'frank', rubric: { hack: 'none' } }), (e: unknown) => e instanceof InputError && e.where === 'rubric');
  });
});
