// Records for the store's own tests.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { GAUNTLET_VERSION, modelCallIdFor, rolloutIdFor, RunConfig, SCHEMA_VERSION, Task, type ModelCall, type Rollout, type RolloutId, type RunId, type Store, type TaskId } from '../core/index.ts';
import { openStore } from './sqlite-store.ts';

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

/**
 * A finished run of `tasks` × `epochs` rollouts in the store file at `path`, its rollout rows
 * written by one SQL statement from a template record (200k in a few seconds, where committing
 * records one by one takes minutes): for benches of reads over huge runs. Rows go in as a run
 * stores them, epoch by epoch. Rollout i is an infra error where i mod 100 is 1, an error where
 * i mod 1,000 is 2, cancelled where it is 3, and otherwise scored: failed with a partial score
 * where i mod 3 is 0, ended by max turns where i mod 5 is 0.
 */
export function writeRunBySql(path: string, options: { runId: string; tasks: number; epochs: number }): RunId {
  const runId = options.runId as RunId;
  const taskIds = Array.from({ length: options.tasks }, (_, i) => `synthetic/task-${String(i).padStart(6, '0')}`);
  const store = openStore(path);
  try {
    createTerminalRun(store, { runId, taskIds, epochs: options.epochs });
  } finally {
    store.close();
  }
  const template: Rollout = {
    ...scoredRollout({ id: 'ro_template' as RolloutId, runId }),
    env: 'terminal',
    model: 'scripted:synthetic',
    rewardTerms: [{ name: 'verifier', value: 1, weight: 1, source: 'verifier' }],
    verifier: { passed: true, score: 1, checks: [{ name: 'logs tidied', kind: 'outcome', passed: true }] },
    stats: { turns: 3, modelCalls: 3, toolCalls: 2, toolErrors: 0, promptTokens: 900, completionTokens: 300 },
  };
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    // i runs epoch by epoch; i mod 100 and mod 1000 pick the outcome. Counts go in as integers (a JS number binds as REAL).
    db.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < @total),
      rows AS (
        SELECT i, @runId AS run_id, json_extract(@tasks, '$[' || (i % @tasks_n) || ']') AS task_id, i / @tasks_n AS epoch,
          CASE WHEN i % 100 = 1 THEN 'infra_error' WHEN i % 1000 = 2 THEN 'error' WHEN i % 1000 = 3 THEN 'cancelled' ELSE 'scored' END AS status
        FROM n),
      outcomes AS (
        SELECT *, CASE status WHEN 'scored' THEN (CASE WHEN i % 5 = 0 THEN 'max_turns' ELSE 'answered' END) ELSE status END AS reason,
          CASE WHEN status <> 'scored' THEN NULL WHEN i % 3 = 0 THEN (i % 7) / 10.0 ELSE 1.0 END AS score,
          CASE WHEN status <> 'scored' THEN NULL WHEN i % 3 = 0 THEN 0 ELSE 1 END AS passed
        FROM rows)
      INSERT INTO rollouts (id, run_id, task_id, epoch, status, termination_reason, score, passed, json)
      SELECT 'ro_' || @runId || '_' || i, run_id, task_id, epoch, status, reason, score, passed,
        json_set(@template, '$.id', 'ro_' || @runId || '_' || i, '$.taskId', task_id, '$.epoch', epoch, '$.seed', epoch, '$.status', status,
          '$.terminationReason', reason, '$.score', score, '$.passed', CASE passed WHEN 1 THEN json('true') WHEN 0 THEN json('false') END,
          '$.verifier', CASE WHEN status = 'scored' THEN json_object('passed', CASE passed WHEN 1 THEN json('true') ELSE json('false') END, 'score', score, 'checks', json('[]')) END,
          '$.rewardTerms', CASE WHEN status = 'scored' THEN json_array(json_object('name', 'verifier', 'value', score, 'weight', 1, 'source', 'verifier')) ELSE json('[]') END,
          '$.error', CASE status WHEN 'infra_error' THEN json_object('source', 'model', 'message', 'the endpoint answered 503') WHEN 'error' THEN json_object('source', 'environment', 'message', 'reset failed') END)
      FROM outcomes`,
    ).run({ total: BigInt(options.tasks * options.epochs), runId, tasks: JSON.stringify(taskIds), tasks_n: BigInt(options.tasks), template: JSON.stringify(template) });
  } finally {
    db.close();
  }
  return runId;
}

const AT = '2026-01-01T00:00:00.000Z';

/** A finished run of the terminal environment over synthetic tasks with these ids, with no rollouts yet. */
export function createTerminalRun(store: Store, options: { runId: RunId; taskIds: readonly string[]; epochs: number }): void {
  const tasks = options.taskIds.map((id) => Task.parse({ id, env: 'terminal', instruction: `Synthetic task ${id}.`, verifier: { checks: [] }, golden: { steps: [] }, tags: { domain: 'synthetic', difficulty: 'easy' } }));
  const config = RunConfig.parse({ envs: ['terminal'], model: 'scripted:synthetic', epochs: options.epochs, concurrency: 1, seed: 0, sandbox: 'virtual' });
  store.createRun({ schemaVersion: SCHEMA_VERSION, id: options.runId, createdAt: AT, gauntletVersion: GAUNTLET_VERSION, config, status: 'finished', finishedAt: AT }, tasks);
}

/**
 * A run with a bit of everything a summary counts, in the store file at `path` (closed again):
 * 6 tasks × 4 epochs, of which some are missing; passed, failed and partial scores whose float
 * total depends on the order they are added; infra errors retried into a score (the earlier
 * attempt superseded, its model call kept) and retried into another infra error; errors with
 * their causes; a cancellation; gateway rollouts scored with only a reward or with nothing; and three
 * scored rollouts whose reward an older Gauntlet stored damaged (they read as errors).
 */
export function writeVariedRun(path: string, runId = 'run_varied'): { runId: RunId; damagedIds: RolloutId[] } {
  const id = runId as RunId;
  const store = openStore(path, { warn: () => {} });
  const row = (taskId: string, epoch: number, over: Partial<Rollout>): Rollout => ({
    ...scoredRollout({ id: rolloutIdFor(id, taskId, epoch), runId: id, epoch }),
    taskId: taskId as TaskId,
    env: 'terminal',
    seed: epoch,
    rewardTerms: [{ name: 'verifier', value: over.score ?? 0, weight: 1, source: 'verifier' }],
    ...over,
  });
  const failed = (reason: Rollout['terminationReason'], status: Rollout['status'], message: string): Partial<Rollout> => ({
    status,
    terminationReason: reason,
    score: null,
    passed: null,
    rewardTerms: [],
    verifier: null,
    error: { source: status === 'error' ? 'environment' : 'model', message },
  });
  const scored = (passed: boolean | null, score: number | null, reason: Rollout['terminationReason'] = 'answered'): Partial<Rollout> => ({
    passed,
    score,
    terminationReason: reason,
    verifier: passed === null ? null : { passed, score: score ?? 0, checks: [] },
  });
  try {
    createTerminalRun(store, { runId: id, taskIds: ['t/a', 't/b', 't/c', 't/d', 't/e', 't/f'], epochs: 4 });
    const commit = (taskId: string, epoch: number, over: Partial<Rollout>) => store.commitRollout(row(taskId, epoch, over));
    commit('t/a', 0, scored(true, 0.1));
    commit('t/a', 1, scored(false, 0.2, 'max_turns'));
    commit('t/a', 2, scored(true, 0.7));
    commit('t/a', 3, scored(true, 1 / 3));
    // An infra error, then its retry: the first attempt's model call stays beside the scored record.
    const retried = rolloutIdFor(id, 't/b', 0);
    store.recorder({ runId: id, rolloutId: retried, attempt: 1 }).modelCall(turnCall({ runId: id, rolloutId: retried }, 0));
    commit('t/b', 0, { ...failed('infra_error', 'infra_error', 'the endpoint answered 503'), attempt: 1 });
    commit('t/b', 0, { ...scored(false, 0.1), attempt: 2 });
    commit('t/b', 1, { ...failed('infra_error', 'infra_error', 'the endpoint answered 503'), attempt: 1 });
    commit('t/b', 1, { ...failed('infra_error', 'infra_error', 'the endpoint timed out'), attempt: 2 });
    commit('t/b', 2, failed('error', 'error', 'reset failed:\nstate.messages.0.id: msg_ followed by four digits'));
    commit('t/b', 3, { ...failed('cancelled', 'cancelled', 'cancelled'), error: null });
    // Gateway rollouts: a reward without a verdict, nothing at all, then a verdict.
    commit('t/c', 0, { ...scored(null, 0.5), rewardTerms: [] });
    commit('t/c', 1, { ...scored(null, null), rewardTerms: [] });
    commit('t/c', 2, scored(true, 0.1));
    commit('t/c', 3, scored(false, 0.1, 'context_limit'));
    commit('t/d', 0, scored(true, 0.1));
    commit('t/d', 1, scored(true, 0.3));
    commit('t/d', 2, scored(false, 0.6, 'output_truncated'));
    commit('t/d', 3, failed('error', 'error', 'the verifier threw'));
    // A task with no scored rollout: it has no pass rate to average in.
    commit('t/e', 0, failed('infra_error', 'infra_error', 'the sandbox would not start'));
    commit('t/e', 2, failed('infra_error', 'infra_error', 'the judge endpoint answered 500'));
  } finally {
    store.close();
  }
  // As a Gauntlet before the non-finite check stored a NaN term: null where a number belongs.
  const damagedId = rolloutIdFor(id, 't/d', 1);
  const db = new Database(path);
  try {
    db.prepare(`UPDATE rollouts SET json = json_set(json, '$.rewardTerms[0].value', json('null')) WHERE id = ?`).run(damagedId);
    // And a verifier's named reward, as Harbor's reward.json gives them.
    db.prepare(`UPDATE rollouts SET json = json_set(json, '$.verifier.rewards', json('{"pass":null}')) WHERE id = ?`).run(rolloutIdFor(id, 't/a', 2));
    // And a total over terms.
    db.prepare(`UPDATE rollouts SET json = json_set(json, '$.reward', json('null')) WHERE id = ?`).run(rolloutIdFor(id, 't/c', 3));
  } finally {
    db.close();
  }
  return { runId: id, damagedIds: [damagedId, rolloutIdFor(id, 't/a', 2), rolloutIdFor(id, 't/c', 3)] };
}
