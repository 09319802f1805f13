import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../core/index.ts';
import { passes, passRuleFrom, readRewards } from './rewards.ts';

const rule = { require: [], min: {}, default: 1 };

function files(content: Record<string, string>) {
  return async (name: string) => content[name] ?? null;
}

describe("reading rewards as Harbor's verifier does", () => {
  it('reward.txt is one number under the key `reward`', async () => {
    assert.deepEqual(await readRewards(files({ 'reward.txt': ' 0.75\n' })), { kind: 'rewards', file: 'reward.txt', rewards: { reward: 0.75 } });
  });

  it('reward.json keeps every named number and drops booleans and non-numbers', async () => {
    const read = await readRewards(files({ 'reward.json': '{"correctness": 1, "performance": 0.25, "passed": true, "note": "fast", "n": null}' }));
    assert.deepEqual(read, { kind: 'rewards', file: 'reward.json', rewards: { correctness: 1, performance: 0.25 } });
  });

  it('with both files, reward.json wins and reward.txt fills in `reward` when the JSON lacks it', async () => {
    assert.deepEqual(await readRewards(files({ 'reward.json': '{"style": 0}', 'reward.txt': '1' })), { kind: 'rewards', file: 'reward.json', rewards: { style: 0, reward: 1 } });
    assert.deepEqual(await readRewards(files({ 'reward.json': '{"reward": 0}', 'reward.txt': '1' })), { kind: 'rewards', file: 'reward.json', rewards: { reward: 0 } });
  });

  it('no file, an empty file and a file that is not a reward are told apart', async () => {
    assert.deepEqual(await readRewards(files({})), { kind: 'none' });
    assert.deepEqual(await readRewards(files({ 'reward.txt': '\n' })), { kind: 'invalid', problem: 'reward.txt is empty' });
    assert.deepEqual(await readRewards(files({ 'reward.txt': 'PASS' })), { kind: 'invalid', problem: 'reward.txt holds "PASS", not a number' });
    assert.deepEqual(await readRewards(files({ 'reward.txt': '1e999' })), { kind: 'invalid', problem: 'reward.txt holds "1e999", not a number' });
    // A long run of digits that is no number: linear to refuse (the quadratic pattern needs over a minute here).
    const digits = `${'7'.repeat(200_000)}x`;
    const started = performance.now();
    assert.equal((await readRewards(files({ 'reward.txt': digits }))).kind, 'invalid');
    assert.ok(performance.now() - started < 5_000, `took ${Math.round(performance.now() - started)} ms`);
    assert.deepEqual(await readRewards(files({ 'reward.json': '{"reward": 1e999, "style": -1e999}' })), { kind: 'invalid', problem: 'reward.json has no numeric values' });
    assert.deepEqual(await readRewards(files({ 'reward.json': '[1]' })), { kind: 'invalid', problem: 'reward.json is not an object of named numbers' });
    assert.deepEqual(await readRewards(files({ 'reward.json': '{"ok": true}' })), { kind: 'invalid', problem: 'reward.json has no numeric values' });
    assert.deepEqual(await readRewards(files({ 'reward.json': '{oops' })), { kind: 'invalid', problem: 'reward.json is not valid JSON' });
  });
});

describe('the pass rule', () => {
  it('by default every key must be at 1 (its maximum)', () => {
    assert.deepEqual(passes({ correctness: 1, style: 1 }, rule), { passed: true });
    assert.deepEqual(passes({ correctness: 1, style: 0.5 }, rule), { passed: false, reason: 'short of the pass rule: style 0.5 < 1' });
  });

  it('minimums per key, and keys that must be present', () => {
    const relaxed = { require: ['correctness', 'safety'], min: { style: 0 }, default: 1 };
    assert.deepEqual(passes({ correctness: 1, style: 0, safety: 1 }, relaxed), { passed: true });
    assert.deepEqual(passes({ correctness: 1, style: 0 }, relaxed), { passed: false, reason: 'short of the pass rule: safety missing' });
  });

  it('reads --pass-min key=value pairs, naming a bad one', () => {
    assert.deepEqual(passRuleFrom(['correctness=1', 'style=0.5'], '--pass-min'), { require: ['correctness', 'style'], min: { correctness: 1, style: 0.5 }, default: 1 });
    assert.throws(() => passRuleFrom(['style=1e999'], '--pass-min'), /not a key and a minimum/);
    assert.throws(() => passRuleFrom(['style'], '--pass-min'), (e: unknown) => e instanceof InputError && /--pass-min: "style" is not a key and a minimum \(expected key=number/.test(e.message));
  });
});
