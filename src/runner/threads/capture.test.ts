import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GAUNTLET_VERSION, RunConfig, SCHEMA_VERSION, rolloutIdFor, type Rollout, type RunId } from '../../core/index.ts';
import { openStore } from '../../store/index.ts';
import { commitResult } from '../queue/replay.ts';
import { CapturedRollout } from './capture.ts';

describe('a captured rollout', () => {
  it('is stored with its events at the times they happened, not when the main thread stored them', () => {
    const later = new Date('2031-01-01T00:00:00.000Z');
    const store = openStore(':memory:', { now: () => later });
    const runId = 'run_20260101T000000Z_abcdef' as RunId;
    const config = RunConfig.parse({ envs: ['mail'], model: 'random', epochs: 1, concurrency: 1, seed: 1 });
    store.createRun({ schemaVersion: SCHEMA_VERSION, id: runId, createdAt: new Date().toISOString(), gauntletVersion: GAUNTLET_VERSION, config, status: 'running', finishedAt: null }, []);
    const id = rolloutIdFor(runId, 'mail.t', 0);
    const capture = new CapturedRollout({ rolloutId: id, firstAttempt: 1 });
    const before = Date.now();
    const recorder = capture.recorder({ runId, rolloutId: id, attempt: 1 });
    recorder.event('infra_retry', { attempt: 1, source: 'model', kind: 'timeout', message: 'slow' });
    recorder.seal();
    recorder.event('infra_retry', { attempt: 1, source: 'model', kind: 'timeout', message: 'after the seal' });
    const rollout = { id, runId, taskId: 'mail.t', epoch: 0 } as Rollout;
    const result = capture.result(rollout);
    assert.equal(result.sessions.length, 1);
    assert.equal(result.sessions[0]!.entries.length, 1, 'a sealed recorder drops what arrives after');
    commitResult({ recorder: (identity) => store.recorder(identity), commitRollout: () => store.flush() }, result);
    const [event] = store.events(id);
    assert.ok(event);
    const at = Date.parse(event.at);
    assert.ok(at >= before && at <= Date.now(), `stored at ${event.at}, not the store's clock (${later.toISOString()})`);
  });
});
