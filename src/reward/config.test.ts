import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_REWARD_CONFIG, environmentRewardConfig, loadRewardConfig, needs, parseRewardConfig, rewardConfigJson } from './config.ts';
import { inputError } from './testing.ts';

const dir = mkdtempSync(join(tmpdir(), 'gauntlet-reward-'));
const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

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

  describe('a rubric term\'s own judge', () => {
    const rubric = { id: 'r', version: 1, criteria: [{ id: 'c', description: 'd', scale: { min: 0, max: 1 } }] };
    const own = 'openai:http://127.0.0.1:8000/v1#term-judge';

    it('is stored with the term, and only terms without one need the run\'s judge', () => {
      const config = parseRewardConfig({ terms: { 'rubric.a': { weight: 1, rubric, judge: own }, 'rubric.b': { weight: 1, rubric, judge: own } } }, 'r');
      assert.equal((rewardConfigJson(config).terms as Record<string, { judge?: string }>)['rubric.a']?.judge, own);
      assert.deepEqual(parseRewardConfig(rewardConfigJson(config), 'stored'), config);
      assert.deepEqual(needs(config), { judge: false, judges: [own], trajectory: true });
      const mixed = parseRewardConfig({ terms: { 'rubric.a': { weight: 1, rubric, judge: own }, rubric: { weight: 1, rubric } } }, 'r');
      assert.deepEqual(needs(mixed), { judge: true, judges: [own], trajectory: true });
    });

    it('is checked as --judge is, where the config is read, naming the field', () => {
      const path = write('bad-judge.yaml', 'terms:\n  rubric:\n    weight: 1\n    judge: gpt:somewhere\n    rubric: { id: r, version: 1, criteria: [{ id: c, description: d, scale: { min: 0, max: 1 } }] }\n');
      const error = inputError(() => loadRewardConfig(path));
      assert.equal(error.where, `${path}: terms.rubric.judge`);
      assert.match(error.problem, /unknown model kind 'gpt'/);
      assert.match(inputError(() => parseRewardConfig({ terms: { rubric: { weight: 1, rubric, judge: 'openai:http://127.0.0.1:8000/v1' } } }, 'reward')).message, /^reward: terms\.rubric\.judge: openai needs '#MODEL'/);
      assert.match(inputError(() => parseRewardConfig({ terms: { rubric: { weight: 1, rubric, judge: '' } } }, 'reward')).message, /judge: a model spec/);
    });

    it('refuses a key in the judge URL without repeating it', () => {
      for (const judge of ['openai:http://robin:hunter2-SECRET@127.0.0.1:8000/v1#j', 'openai:http://127.0.0.1:8000/v1?api_key=hunter2-SECRET#j']) {
        const error = inputError(() => parseRewardConfig({ terms: { rubric: { weight: 1, rubric, judge } } }, 'reward'));
        assert.equal(error.where, 'reward: terms.rubric.judge');
        assert.match(error.problem, /carries (user info \(user:password@\)|the query parameter 'api_key'); keys must not be part of the spec/);
        assert.doesNotMatch(error.message, /hunter2/);
      }
    });
  });

  describe('an environment\'s default reward', () => {
    const turns = { terms: { outcome: { weight: 1 }, turns: { weight: -0.01 } } };

    it('applies when every environment of the run declares the same one, named as its source', () => {
      const config = environmentRewardConfig([{ name: 'mail', reward: turns }, { name: 'workplace', reward: turns }]);
      assert.equal(config?.source, 'environment mail, workplace');
      assert.deepEqual(rewardConfigJson(config!), { version: 1, source: 'environment mail, workplace', terms: { outcome: { weight: 1, use: 'passed' }, turns: { weight: -0.01 } } });
      assert.deepEqual(parseRewardConfig(rewardConfigJson(config!), 'stored'), config, 'the stored source reads back');
      assert.equal(environmentRewardConfig([{ name: 'notes' }]), undefined, 'none declared: the built-in default');
    });

    it('is validated naming the environment and the field', () => {
      const error = inputError(() => environmentRewardConfig([{ name: 'mail', reward: { terms: { turn: { weight: 1 } } } }]));
      assert.equal(error.where, 'environment mail: reward: terms.turn');
    });

    it('makes a run whose environments disagree choose its own', () => {
      for (const other of [{ name: 'notes' }, { name: 'notes', reward: { terms: { outcome: { weight: 1 } } } }]) {
        const error = inputError(() => environmentRewardConfig([{ name: 'mail', reward: turns }, other]));
        assert.equal(error.where, 'reward');
        assert.match(error.message, /different default rewards \(mail: its own; notes: (the built-in default|its own)\).*--reward FILE/);
      }
    });
  });
});
