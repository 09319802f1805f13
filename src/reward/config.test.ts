import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InputError } from '../core/index.ts';
import { DEFAULT_REWARD_CONFIG, loadRewardConfig, parseRewardConfig, rewardConfigJson } from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'gauntlet-reward-'));
const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof InputError, `expected an InputError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected an InputError, nothing was thrown');
}

describe('reward config', () => {
  it('rejects an unknown term naming the file and the field, and lists the valid names', () => {
    const path = write('typo.yaml', 'terms:\n  outcome: { weight: 1 }\n  tool_eror: { weight: -0.1 }\n');
    const error = inputError(() => loadRewardConfig(path));
    assert.equal(error.where, `${path}: terms.tool_eror`);
    assert.match(error.problem, /unknown reward term "tool_eror"/);
    for (const name of ['outcome', 'verifier.<key>', 'tool_errors', 'repeated_calls', 'useless_calls', 'turns', 'duration', 'detector.<category>', 'rubric']) {
      assert.ok(error.expected?.includes(name), `the message lists ${name}: ${error.message}`);
    }
  });

  it('rejects an unknown detector category, listing the categories', () => {
    const error = inputError(() => parseRewardConfig({ terms: { 'detector.cheating': { weight: -1 } } }, 'reward'));
    assert.equal(error.where, 'reward: terms.detector.cheating');
    assert.match(error.message, /unknown detector category "cheating".*test_tampering/);
  });

  it('rejects weights that are not finite numbers, and misspelt settings', () => {
    for (const weight of [Infinity, NaN, '1', null]) {
      const error = inputError(() => parseRewardConfig({ terms: { outcome: { weight } } }, 'reward'));
      assert.equal(error.where, 'reward: terms.outcome');
      assert.match(error.message, /weight/);
    }
    assert.match(inputError(() => parseRewardConfig({ terms: { turns: {} } }, 'r')).message, /weight/);
    assert.match(inputError(() => parseRewardConfig({ terms: { 'detector.exfiltration': { weight: -1, gates: true } } }, 'r')).message, /gates/);
    assert.match(inputError(() => parseRewardConfig({ terms: {} }, 'r')).message, /no terms/);
    assert.match(inputError(() => parseRewardConfig({ terms: { verifier: { weight: 1 } } }, 'r')).message, /needs a key/);
  });

  it('fills defaults and keeps the order written', () => {
    const config = parseRewardConfig({ terms: { 'verifier.accuracy': { weight: 0.5 }, outcome: { weight: 1 }, 'detector.exfiltration': { weight: -1, gate: true } } }, 'r');
    assert.deepEqual(config.terms.map((t) => t.name), ['verifier.accuracy', 'outcome', 'detector.exfiltration']);
    assert.deepEqual(rewardConfigJson(config), {
      version: 1,
      terms: { 'verifier.accuracy': { weight: 0.5 }, outcome: { weight: 1, use: 'passed' }, 'detector.exfiltration': { weight: -1, gate: true, minSeverity: 'low' } },
    });
    // What is stored parses back to the same config.
    assert.deepEqual(parseRewardConfig(rewardConfigJson(config), 'stored'), config);
    assert.deepEqual(DEFAULT_REWARD_CONFIG.terms.map((t) => [t.name, t.spec.weight]), [['outcome', 1], ['verifier_checks', 0]]);
  });

  it('reads a rubric path relative to the reward file and stores the rubric itself', () => {
    write('process.yaml', 'id: process\nversion: 2\ncriteria:\n  - id: plan\n    description: Works to a plan.\n    scale: { min: 1, max: 5, labels: { 1: none, 5: clear } }\n');
    const path = write('with-rubric.yaml', 'terms:\n  outcome: { weight: 1 }\n  rubric: { weight: 0.5, rubric: ./process.yaml, samples: 2 }\n');
    const json = rewardConfigJson(loadRewardConfig(path));
    const rubric = (json.terms as Record<string, { rubric: { id: string; version: string } }>).rubric!.rubric;
    assert.deepEqual([rubric.id, rubric.version], ['process', '2']);
    assert.match(inputError(() => parseRewardConfig({ terms: { rubric: { weight: 1, rubric: './process.yaml' } } }, 'reward')).message, /read only from a reward file/);
    const bad = write('bad-rubric.yaml', 'id: r\nversion: 1\ncriteria:\n  - id: a\n    description: x\n    scale: { min: 5, max: 1 }\n');
    const error = inputError(() => loadRewardConfig(write('uses-bad.yaml', `terms:\n  rubric: { weight: 1, rubric: ${bad} }\n`)));
    assert.equal(error.where, bad);
    assert.match(error.message, /max above min/);
  });
});
