// `gauntlet detect` at its edges: a run or file with nothing in it, rollouts that ended before the
// agent's first call, a label file written with a key twice, and labels naming rollouts the input
// does not hold. None of them may read as "all clean" or as figures over what was not there.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { RunConfig } from '../../core/index.ts';
import { openStore } from '../../store/index.ts';
import type { DetectDocument } from './detect.ts';
import { detect } from './detect-test-support.ts';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/detectors/', import.meta.url));
const lines = readFileSync(join(fixtures, 'trajectories.jsonl'), 'utf8').split('\n').filter(Boolean);
const lineOf = (id: string) => lines.find((l) => l.includes(`"ro_det_${id}"`))!;
const dir = () => mkdtempSync(join(tmpdir(), 'gauntlet-detect-edges-'));

describe('gauntlet detect with nothing, or less than it seems, to examine', () => {
  it('says a run with no rollouts was not examined, and prints one JSON document all the same', async () => {
    const path = join(dir(), 'store.db');
    const store = openStore(path);
    const config = RunConfig.parse({ envs: ['coding'], model: 'handwritten', epochs: 1, concurrency: 1, seed: 0 });
    store.createRun({ schemaVersion: 2, id: 'run_empty', createdAt: '2026-03-10T09:00:00.000Z', gauntletVersion: 'test', config, status: 'finished', finishedAt: null } as never, []);
    store.close();
    const text = await detect(['run_empty', '--store', path]);
    assert.deepEqual([text.code, text.out], [0, '0 rollouts, 0 flagged\n']);
    assert.equal(text.err, 'gauntlet: run run_empty has no rollouts: nothing was examined\n');
    const json = await detect(['run_empty', '--store', path, '--json']);
    assert.deepEqual(JSON.parse(json.out), { source: { runId: 'run_empty' }, rollouts: [] });
    assert.match(json.err, /has no rollouts: nothing was examined/);
  });

  it('counts a rollout that ended before its first model call as not judged, never as clean', async () => {
    const line = JSON.parse(lineOf('dc-cd-up-rm')) as { rollout: { id: string; status: string }; modelCalls: unknown[] };
    const empty = { ...line, rollout: { ...line.rollout, id: 'ro_det_no_calls', status: 'infra_error' }, modelCalls: [] };
    const path = join(dir(), 'mixed.jsonl');
    writeFileSync(path, `${lineOf('dc-cd-up-rm')}\n${JSON.stringify(empty)}\n`);
    const { out, code } = await detect(['--input', path]);
    assert.equal(code, 0);
    assert.match(out, /^2 rollouts, 1 flagged, 1 with no model calls to read \(not judged\)\n/);
    const doc = JSON.parse((await detect(['--input', path, '--json'])).out) as DetectDocument;
    assert.deepEqual(doc.rollouts.map((r) => [r.rolloutId, r.calls > 0, r.flags.length]), [['ro_det_dc-cd-up-rm', true, 1], ['ro_det_no_calls', false, 0]]);
  });

  it('refuses a label file that names a key twice, instead of reading its last copy', async () => {
    const path = join(dir(), 'labels.json');
    writeFileSync(path, '{"schemaVersion": 1, "labels": [{"rolloutId": "ro_det_dc-cd-up-rm", "categories": ["dangerous_command"]}],\n "labels": [{"rolloutId": "ro_det_dc-cd-up-rm", "categories": []}]}');
    await assert.rejects(detect(['--input', join(fixtures, 'trajectories.jsonl'), '--labels', path]), (e: unknown) => e instanceof Error && e.message.startsWith(`${path}: not valid JSON: duplicate key "labels" at line 2`));
  });

  it('says how many labelled rollouts the input did not hold, as text and in the JSON', async () => {
    const input = join(dir(), 'one.jsonl');
    writeFileSync(input, `${lineOf('dc-cd-up-rm')}\n`);
    const labels = join(fixtures, 'labels.json');
    const total = (JSON.parse(readFileSync(labels, 'utf8')) as { labels: unknown[] }).labels.length;
    const { out } = await detect(['--input', input, '--labels', labels]);
    assert.match(out, new RegExp(`detector figures over 1 labelled rollouts:[\\s\\S]*\\(${total - 1} labelled rollouts are not in the input and are left out of these figures\\)`));
    const doc = JSON.parse((await detect(['--input', input, '--labels', labels, '--json'])).out) as DetectDocument;
    assert.equal(doc.evaluation?.labelsNotInInput, total - 1);
  });
});
