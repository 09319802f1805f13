import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InputError } from '../core/index.ts';
import { buildSuite, loadSuite, pickTrainingArm, seedForEpoch, SuiteFile, trainingArms } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'gauntlet-suite-'));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('perturbation suites', () => {
  it('crosses axes into one arm per combination, with none leaving an axis out, and marks held-out families', () => {
    const suite = loadSuite(
      write(
        'crossed.yaml',
        ['name: crossed', 'seeds: [7, 8]', 'cross: true', 'axes:', '  tools: [none, tools.rename, "tools.describe:shorten"]', '  results: [none, "responses.format:table"]', 'heldOut: [responses]', ''].join('\n'),
      ),
    );
    assert.equal(suite.name, 'crossed');
    assert.deepEqual(
      suite.arms.map((a) => [a.id, a.split]),
      [
        ['responses.format', 'held-out'],
        ['tools.rename', 'seen'],
        ['tools.rename + responses.format', 'held-out'],
        ['tools.describe:mode=shorten', 'seen'],
        ['tools.describe:mode=shorten + responses.format', 'held-out'],
      ],
    );
    assert.deepEqual(trainingArms(suite).map((a) => a.id), ['tools.rename', 'tools.describe:mode=shorten']);
    assert.deepEqual([0, 1, 2].map((e) => seedForEpoch(suite, e)), [7, 8, 7]);
  });

  it('without cross, gives each axis value its own arm, plus arms written out', () => {
    const suite = buildSuite(SuiteFile.parse({ axes: { tools: ['tools.rename', 'tools.reorder'] }, arms: [['tools.rename:opaque', 'prompts.system:verbose'], 'tools.reorder', 'tools.rename:style=synonym'], heldOut: ['tools.reorder'] }));
    assert.deepEqual(
      suite.arms.map((a) => [a.id, a.split]),
      [
        ['tools.rename', 'seen'],
        ['tools.reorder', 'held-out'],
        ['tools.rename:style=opaque + prompts.system:variant=verbose', 'seen'],
      ],
    );
  });

  it('draws training arms only from seen families, the same for the same rollout', () => {
    const suite = buildSuite(SuiteFile.parse({ axes: { a: ['tools.rename', 'tools.reorder', 'responses.noise'] }, heldOut: ['responses'] }));
    const picks = Array.from({ length: 40 }, (_, epoch) => pickTrainingArm({ suite, seed: 1, taskId: 'mail/x', epoch })?.id);
    assert.ok(picks.every((p) => p !== undefined && !p.startsWith('responses')));
    assert.equal(new Set(picks).size, 2);
    assert.deepEqual(picks, Array.from({ length: 40 }, (_, epoch) => pickTrainingArm({ suite, seed: 1, taskId: 'mail/x', epoch })?.id));
  });

  it('names the file, line and field of a problem, and lists what is valid', () => {
    const unknownId = write('bad-id.yaml', 'axes:\n  tools: [tools.renam]\n');
    assert.throws(() => loadSuite(unknownId), (e: unknown) => e instanceof InputError && e.where.includes('axes.tools.0') && /did you mean tools.rename/.test(e.message));
    const badField = write('bad-field.yaml', 'seeds: [1]\naxis:\n  tools: [tools.rename]\n');
    assert.throws(() => loadSuite(badField), (e: unknown) => e instanceof InputError && e.where === `${badField}:2` && /axis/.test(e.message));
    const badSeed = write('bad-seed.yaml', 'axes:\n  t: [tools.rename]\nseeds:\n  - -1\n');
    assert.throws(() => loadSuite(badSeed), (e: unknown) => e instanceof InputError && e.where === `${badSeed}:4` && /seeds\.0/.test(e.message));
    const heldOut = write('bad-held.yaml', 'axes:\n  t: [tools.rename]\nheldOut: [format]\n');
    assert.throws(() => loadSuite(heldOut), (e: unknown) => e instanceof InputError && /"format" is neither a perturbation family nor a perturbation id/.test(e.message) && /environment, tools, responses, prompts, scaffold/.test(e.expected ?? ''));
    const empty = write('empty.yaml', 'axes:\n  t: [none]\n');
    assert.throws(() => loadSuite(empty), (e: unknown) => e instanceof InputError && /no perturbed arm/.test(e.message));
  });
});
