// The pieces of `gauntlet detect` that read its input and run the rules: lines past a size are
// refused before they are held whole, and a rollout whose detection fails stops the pass with that
// failure, once the others started have ended (never as a rejection nobody handles).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Detector } from '../../reward/detectors/index.ts';
import { testTrajectory } from '../../reward/detectors/testing.ts';
import { detectAll, textLines, type Job } from './detect.ts';

const file = (content: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'gauntlet-detect-lines-')), 'in.jsonl');
  writeFileSync(path, content);
  return path;
};

async function all(path: string, max?: number): Promise<{ number: number; text: string }[]> {
  const out: { number: number; text: string }[] = [];
  for await (const line of textLines(path, max)) out.push(line);
  return out;
}

describe('reading the lines of --input', () => {
  it('numbers lines, drops a CR before LF and reads a last line without one', async () => {
    assert.deepEqual(await all(file('a\r\n\nb')), [
      { number: 1, text: 'a' },
      { number: 2, text: '' },
      { number: 3, text: 'b' },
    ]);
  });

  it('refuses a line longer than the limit, naming it, without holding it whole', async () => {
    const path = file(`short\n${'x'.repeat(5000)}\n`);
    await assert.rejects(all(path, 1000), (e: unknown) => e instanceof Error && e.message.startsWith(`${path}:2: the line is longer than 1000 bytes`));
  });
});

describe('running the rules over many rollouts', () => {
  it('stops with the first failure once the rollouts already started have ended', async () => {
    const ended: string[] = [];
    const failing: Detector = {
      name: 'rules/failing',
      kind: 'rules',
      categories: ['dangerous_command'],
      detect: async (trajectory) => {
        await new Promise((resolve) => setImmediate(resolve));
        ended.push(trajectory.taskId);
        if (trajectory.taskId === 'bad') throw new Error('a defect in a rule');
        return [];
      },
    };
    const jobs: Job[] = ['a', 'bad', 'c', 'd'].map((taskId) => ({ trajectory: { ...testTrajectory({ task: 'x', turns: [] }), taskId } }));
    let unhandled: unknown = null;
    const onUnhandled = (reason: unknown) => void (unhandled = reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await assert.rejects(detectAll(jobs, [failing], 2), /a defect in a rule/);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    assert.equal(unhandled, null, 'no rejection went unhandled');
    assert.ok(ended.includes('a') && ended.includes('bad'));
  });
});
