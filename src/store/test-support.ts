// Records for the store's own tests.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { modelCallIdFor, SCHEMA_VERSION, type ModelCall, type Rollout, type RolloutId, type RunId, type TaskId } from '../core/index.ts';

/** A scored, passed one-turn rollout of counter/a: the smallest row a commit accepts. */
export function scoredRollout(ids: { id: RolloutId; runId: RunId; epoch?: number }): Rollout {
  return {
    schemaVersion: SCHEMA_VERSION,
    id: ids.id,
    runId: ids.runId,
    taskId: 'counter/a' as TaskId,
    env: 'counter',
    epoch: ids.epoch ?? 0,
    attempt: 1,
    seed: 1,
    model: 'test',
    scaffold: 'interleaved',
    status: 'scored',
    terminationReason: 'answered',
    score: 1,
    passed: true,
    rewardTerms: [],
    verifier: { passed: true, score: 1, checks: [] },
    error: null,
    finalAnswer: 'done',
    stats: { turns: 1, modelCalls: 1, toolCalls: 0, toolErrors: 0, promptTokens: 0, completionTokens: 0 },
    perturbations: [],
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: '2026-01-01T00:00:01.000Z',
    durationMs: 1000,
  };
}

/** Turn `index` of attempt 1, its parent the turn before; `over` replaces fields (the request, a wire record). */
export function turnCall(ids: { runId: RunId; rolloutId: RolloutId }, index: number, over: Partial<ModelCall> = {}): ModelCall {
  return {
    schemaVersion: SCHEMA_VERSION,
    id: modelCallIdFor(ids.rolloutId, 1, index),
    runId: ids.runId,
    rolloutId: ids.rolloutId,
    attempt: 1,
    index,
    parentId: index === 0 ? null : modelCallIdFor(ids.rolloutId, 1, index - 1),
    purpose: 'turn',
    model: 'test',
    request: { messages: [{ role: 'user', content: 'hi' }], tools: [], sampling: {} },
    response: { message: { role: 'assistant', content: `turn ${index}`, toolCalls: [] }, finishReason: 'stop', usage: {} },
    startedAt: '2026-01-01T00:00:00.000Z',
    latencyMs: 1,
    ...over,
  };
}

/** The schema version in a store file's meta table, read from a copy: a read-only connection would leave -wal and -shm beside the file. */
export function storedSchemaVersion(path: string): number {
  const dir = mkdtempSync(join(tmpdir(), 'gauntlet-version-'));
  const copy = join(dir, 'copy.db');
  copyFileSync(path, copy);
  const db = new Database(copy, { readonly: true });
  try {
    return Number((db.prepare(`SELECT value FROM meta WHERE key = 'schemaVersion'`).get() as { value: string }).value);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
