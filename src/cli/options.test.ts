import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InputError } from '../core/index.ts';
import { cli } from '../../test/support/cli.ts';
import { readRunConfigFile } from './options.ts';

const dir = mkdtempSync(join(tmpdir(), 'gauntlet-run-config-'));
const configFile = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('run settings files (--config)', () => {
  it('name a misspelt key with the setting it likely meant, before any setting is read', () => {
    const path = configFile('env.yaml', 'env: mail\nmodel: oracle\n');
    assert.throws(() => readRunConfigFile(path), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.equal(error.where, `${path}: env`);
      assert.equal(error.problem, 'not a run setting (did you mean "envs"?)');
      assert.match(error.expected ?? '', /^one of envs, taskIds, .*\bgroupSize\b/);
      return true;
    });
    // Key names come before the shape of any value: the misspelt key is what the user must fix first.
    assert.throws(() => readRunConfigFile(configFile('both.yaml', 'sampling: 3\nepoch: 2\n')), /both\.yaml: epoch: not a run setting \(did you mean "epochs"\?\)/);
  });

  it('check nested settings key by key, and read a file of known keys as written', () => {
    assert.throws(() => readRunConfigFile(configFile('nested.yaml', 'envs: [mail]\nsampling: { temprature: 1 }\n')), /nested\.yaml: sampling\.temprature: not a sampling setting \(did you mean "temperature"\?\)/);
    assert.throws(() => readRunConfigFile(configFile('sampling.yaml', 'envs: [mail]\nsampling: 3\n')), /sampling\.yaml: sampling: got 3 \(expected a mapping/);
    assert.deepEqual(readRunConfigFile(configFile('ok.yaml', 'envs: [mail]\nmodel: oracle\nsampling: { temperature: 1 }\n')), { envs: ['mail'], model: 'oracle', sampling: { temperature: 1 } });
  });
});

describe('group sizes', () => {
  const task = ['--env', 'mail', '--model', 'oracle', '--store', join(dir, 'runs.db')];

  it('refuse --group-size that does not divide --epochs, saying what would be accepted', async () => {
    const uneven = await cli(['run', ...task, '--epochs', '3', '--group-size', '2']);
    assert.equal(uneven.code, 2, uneven.err);
    assert.equal(
      uneven.err,
      "gauntlet: --group-size: got 2, which does not divide the 3 epochs (--epochs): each task's rollouts would form 1 group of 2 and one of 1, which has no advantage (expected a group size that divides the epochs (1 or 3), or a number of epochs that is a multiple of 2, such as 4)\n",
    );
    const alone = await cli(['run', ...task, '--group-size', '8']);
    assert.equal(alone.code, 2, alone.err);
    assert.match(alone.err, /--group-size: got 8, which does not divide the 1 epoch \(--epochs\): each task's rollouts would form one group of 1, .*such as 8/);
  });

  it('refuse the same in a settings file, naming the file and the key', async () => {
    const path = configFile('groups.yaml', 'envs: [mail]\nmodel: oracle\nepochs: 12\ngroupSize: 5\n');
    const { code, err } = await cli(['run', '--config', path, '--store', join(dir, 'runs.db')]);
    assert.equal(code, 2, err);
    assert.match(err, new RegExp(`${path}: groupSize: got 5, which does not divide the 12 epochs \\(--epochs\\): each task's rollouts would form 2 groups of 5 and one of 2 \\(expected a group size that divides the epochs \\(1, 2, 3, 4, 6 or 12\\), or a number of epochs that is a multiple of 5, such as 15\\)`));
  });
});
