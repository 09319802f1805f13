// LLM-judge grading in a run: judge calls are recorded model calls; no judge is an infra error.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RunConfig } from '../src/core/index.ts';
import { loadTaskFile } from '../src/envs/index.ts';
import { createOraclePolicy } from '../src/model/index.ts';
import { executeRun } from '../src/runner/index.ts';
import { openStore } from '../src/store/index.ts';
import { assistant, functionModel, reply } from './support/models.ts';

const tasks = loadTaskFile('examples/judge-questions.yaml').slice(0, 1);
const config = RunConfig.parse({ envs: ['qa'], model: 'oracle', epochs: 1, concurrency: 1, seed: 1, maxAttempts: 1, judge: 'openai:http://127.0.0.1:9/v1#judge' });
const run = { resolved: { config, tasks } };

describe('judge grading', () => {
  it('asks the judge, records its call, and scores on its verdict', async () => {
    const prompts: string[] = [];
    const judge = functionModel('test:judge', (_i, request) => {
      prompts.push(request.messages[0]!.content);
      return reply(assistant({ content: 'YES: accurate and simple.' }));
    });
    const store = openStore(':memory:');
    const summary = await executeRun({ store, model: createOraclePolicy(), judge, run });
    assert.equal(summary.passRate, 1);
    assert.equal(prompts.length, 1);
    assert.match(prompts[0]!, /Rayleigh/);
    const calls = store.modelCalls(store.rollouts(summary.runId)[0]!.id);
    const judged = calls.filter((c) => c.purpose === 'judge');
    assert.equal(judged.length, 1);
    assert.equal(judged[0]!.response?.message.content, 'YES: accurate and simple.');
  });

  it('makes a rollout an infra error when the judge fails or none is configured', async () => {
    const store = openStore(':memory:');
    const broken = functionModel('test:judge', () => ({ ok: false, kind: 'http', message: 'HTTP 503', retryable: true }));
    const failed = await executeRun({ store, model: createOraclePolicy(), judge: broken, run });
    assert.equal(failed.infraErrors, 1);
    assert.equal(store.rollouts(failed.runId)[0]!.score, null);
    const { judge: _judge, ...withoutJudge } = config;
    const none = await executeRun({ store, model: createOraclePolicy(), run: { resolved: { config: withoutJudge, tasks } } });
    assert.equal(none.infraErrors, 1);
    assert.match(store.rollouts(none.runId)[0]!.error!.message, /judge/);
  });
});
