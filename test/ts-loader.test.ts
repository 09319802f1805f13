// The test suite's TypeScript loader (scripts/ts-loader): compiled files are found by their text,
// never by a name or time that an edit could leave unchanged, and old ones are removed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pruneCompiled } from '../scripts/ts-loader/cache.mjs';
import { TYPESCRIPT_NODE_ARGS } from './support/typescript.ts';

describe('the test loader', () => {
  it('runs a file again as edited, even when the edit keeps its size and time', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-ts-loader-'));
    try {
      const file = join(dir, 'answer.ts');
      const run = () => execFileSync(process.execPath, [...TYPESCRIPT_NODE_ARGS, file], { encoding: 'utf8' }).trim();
      const when = new Date('2026-01-01T00:00:00Z');
      writeFileSync(file, 'const answer: number = 41;\nconsole.log(answer);\n');
      utimesSync(file, when, when);
      assert.equal(run(), '41');
      assert.equal(run(), '41', 'read back from the cache');
      writeFileSync(file, 'const answer: number = 42;\nconsole.log(answer);\n');
      utimesSync(file, when, when);
      assert.equal(run(), '42');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('removes compiled files written more than a week ago and keeps newer ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-ts-cache-'));
    try {
      const now = Date.now();
      const old = join(dir, 'old.js');
      const recent = join(dir, 'recent.js');
      writeFileSync(old, '');
      writeFileSync(recent, '');
      const eightDaysAgo = new Date(now - 8 * 24 * 60 * 60 * 1000);
      const sixDaysAgo = new Date(now - 6 * 24 * 60 * 60 * 1000);
      utimesSync(old, eightDaysAgo, eightDaysAgo);
      utimesSync(recent, sixDaysAgo, sixDaysAgo);
      pruneCompiled(dir, now);
      assert.equal(existsSync(old), false);
      assert.equal(existsSync(recent), true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
