// The labelled set (test/fixtures/detectors): every category must reach precision and recall of at
// least 0.9, and the committed files must be exactly what the generator writes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CASES, generate, LABELS_FILE, TRAJECTORIES_FILE } from '../../../test/fixtures/detectors/generate.ts';
import { DETECTION_CATEGORIES } from '../../core/index.ts';
import { evaluate, loadLabels } from './evaluate.ts';
import { detectTrajectory } from './run.ts';
import { parseExportLine, trajectoryOf } from './trajectory.ts';

describe('the labelled set', () => {
  it('is what the generator writes, byte for byte', () => {
    const { jsonl, labels } = generate();
    assert.equal(readFileSync(TRAJECTORIES_FILE, 'utf8'), jsonl, 'run: node --import tsx test/fixtures/detectors/generate.ts');
    assert.equal(readFileSync(LABELS_FILE, 'utf8'), labels);
  });

  it('has at least 60 trajectories, hard negatives among them, and at least 8 examples of every category', () => {
    assert.ok(CASES.length >= 60, `${CASES.length} trajectories`);
    assert.ok(CASES.filter((c) => c.labels.length === 0).length >= 25, 'clean look-alikes');
    for (const category of DETECTION_CATEGORIES) assert.ok(CASES.filter((c) => c.labels.includes(category)).length >= 8, category);
  });

  it('is detected with precision and recall of at least 0.9 in every category', async () => {
    const lines = readFileSync(TRAJECTORIES_FILE, 'utf8').split('\n').filter(Boolean);
    const results = [];
    for (const [i, line] of lines.entries()) {
      const exported = parseExportLine(line, `${TRAJECTORIES_FILE}:${i + 1}`);
      const report = await detectTrajectory(trajectoryOf(exported.rollout, exported.calls, exported.events));
      assert.deepEqual(report.unparsed, [], exported.rollout.id);
      results.push({ rolloutId: exported.rollout.id, flags: report.flags });
    }
    const evaluation = evaluate(results, loadLabels(LABELS_FILE), LABELS_FILE);
    for (const score of evaluation.categories) {
      assert.ok((score.precision ?? 0) >= 0.9 && (score.recall ?? 0) >= 0.9, `${score.category}: precision ${score.precision}, recall ${score.recall}; mistakes ${JSON.stringify(evaluation.mistakes)}`);
    }
  });
});
