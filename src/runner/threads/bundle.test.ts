// The bundle cache keeps the bundle in use, the few most recently used and any used within a day;
// older bundles of earlier source versions (and their maps) go.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pruneBundles } from './bundle.ts';

const DAY = 24 * 60 * 60 * 1000;

/** A fresh cache folder, and a way to put a file in it last used `ageMs` ago. */
function cacheDir(): { dir: string; now: number; put: (name: string, ageMs: number) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'gauntlet-bundles-'));
  const now = Date.now();
  const put = (name: string, ageMs: number) => {
    writeFileSync(join(dir, name), 'x');
    const at = new Date(now - ageMs);
    utimesSync(join(dir, name), at, at);
  };
  return { dir, now, put };
}

describe('the thread bundle cache', () => {
  it('removes bundles that are neither among the newest three nor used within a day', () => {
    const { dir, now, put } = cacheDir();
    try {
      const bundle = (hex: string, ageMs: number) => {
        put(`thread-${hex.repeat(16)}.mjs`, ageMs);
        put(`thread-${hex.repeat(16)}.mjs.map`, ageMs);
      };
      bundle('0', 10 * DAY); // the one in use: kept whatever its age
      bundle('1', 2 * DAY);
      bundle('2', 3 * DAY);
      bundle('3', 4 * DAY);
      bundle('4', 5 * DAY); // fourth newest of the others, unused for days: goes
      bundle('5', 6 * DAY); // goes
      put(`thread-${'6'.repeat(16)}.mjs.123.tmp`, 7 * DAY); // a write that never finished: goes
      put('notes.txt', 9 * DAY); // not ours: stays
      pruneBundles(dir, join(dir, `thread-${'0'.repeat(16)}.mjs`), now);
      const left = readdirSync(dir).sort();
      assert.deepEqual(left, [
        'notes.txt',
        ...['0', '1', '2', '3'].flatMap((h) => [`thread-${h.repeat(16)}.mjs`, `thread-${h.repeat(16)}.mjs.map`]),
      ].sort());
      // Four used within the day: all kept, beyond the newest three too; the days-old ones go.
      for (const [i, h] of ['7', '8', '9', 'a'].entries()) bundle(h, (i + 1) * 1000);
      pruneBundles(dir, join(dir, `thread-${'0'.repeat(16)}.mjs`), now);
      assert.deepEqual(
        readdirSync(dir).filter((n) => n.endsWith('.mjs')).sort(),
        ['0', '7', '8', '9', 'a'].map((h) => `thread-${h.repeat(16)}.mjs`),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prunes the command line bundles by their own prefix, markers of failed builds with them', () => {
    const { dir, now, put } = cacheDir();
    try {
      for (const [i, h] of ['1', '2', '3', '4'].entries()) {
        put(`cli-${h.repeat(16)}.mjs`, (i + 2) * DAY);
        put(`cli-${h.repeat(16)}.mjs.map`, (i + 2) * DAY);
      }
      put(`cli-${'5'.repeat(16)}.mjs.failed`, 9 * DAY);
      put(`thread-${'6'.repeat(16)}.mjs`, 9 * DAY); // the threads' own: not this prefix's to prune
      pruneBundles(dir, join(dir, `cli-${'0'.repeat(16)}.mjs`), now, 'cli-');
      assert.deepEqual(readdirSync(dir).sort(), [
        ...['1', '2', '3'].flatMap((h) => [`cli-${h.repeat(16)}.mjs`, `cli-${h.repeat(16)}.mjs.map`]),
        `thread-${'6'.repeat(16)}.mjs`,
      ].sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
