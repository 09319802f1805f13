// LLM-judge grading in a run: judge calls are recorded model calls; no judge is an infra error.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { RunConfig } from '../src/core/index.ts';
import { loadTaskFile } from '../src/envs/index.ts';
import { createOraclePolicy } from '../src/model/index.ts';
import { executeRun, resolveRun } from '../src/runner/index.ts';
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

describe('a rubric term with its own judge', () => {
  // A loopback OpenAI-compatible judge: every request is kept, every answer is the same grade.
  const seen: { model: string; system: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const request = JSON.parse(body) as { model: string; messages: { content: string }[] };
      seen.push({ model: request.model, system: request.messages[0]!.content });
      const content = JSON.stringify({ scores: [{ criterion: 'plan', score: 5, reason: 'Straight to the edit.' }] });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'j', object: 'chat.completion', model: request.model, choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 5 } }));
    });
  });
  const listening = new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`openai:http://127.0.0.1:${(server.address() as AddressInfo).port}/v1#term-judge`)));
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const rubric = { id: 'process', version: 1, criteria: [{ id: 'plan', description: 'Works to a plan.', scale: { min: 1, max: 5 } }] };
  const settings = { envs: ['terminal'], taskIds: ['terminal/bump-package-version'], model: 'oracle', sandbox: 'virtual' as const, epochs: 1, concurrency: 1, seed: 0, maxAttempts: 1 };

  it('needs no --judge, grades with its own endpoint, and stores which judge graded', { timeout: 60_000 }, async () => {
    const own = await listening;
    const reward = { terms: { outcome: { weight: 1 }, 'rubric.own': { weight: 0.5, rubric, samples: 2, judge: own } } };
    const resolved = await resolveRun({ ...settings, reward });
    const store = openStore(':memory:');
    const summary = await executeRun({ store, run: { resolved }, modelEnvironment: { env: {} } });
    assert.equal(summary.scored, 1);
    assert.deepEqual(seen.map((r) => r.model), ['term-judge', 'term-judge'], 'one call per sample, to the term\'s own model');
    assert.match(seen[0]!.system, /process@1/);
    const stored = store.getRun(summary.runId)!.config.reward as { terms: Record<string, { judge?: string }> };
    assert.equal(stored.terms['rubric.own']?.judge, own, 'the run holds the judge spec');
    const [rollout] = store.rollouts(summary.runId);
    const term = rollout!.rewardTerms.find((t) => t.name === 'rubric.own')!;
    assert.equal(term.value, 1);
    assert.deepEqual([(term.detail as { judge: string }).judge, (term.detail as { judgeFrom: string }).judgeFrom], [own, 'term']);
    const judged = store.modelCalls(rollout!.id).filter((c) => c.purpose === 'judge');
    assert.deepEqual(judged.map((c) => c.model), [own, own]);
  });

  it('leaves terms without one to the run\'s --judge', { timeout: 60_000 }, async () => {
    const own = await listening;
    seen.length = 0;
    const reward = { terms: { 'rubric.own': { weight: 1, rubric, samples: 1, judge: own }, rubric: { weight: 1, rubric, samples: 1 } } };
    await assert.rejects(resolveRun({ ...settings, reward }), /reward: the rubric term rubric needs a judge model.*a `judge:` on the term/);
    const resolved = await resolveRun({ ...settings, reward, judge: 'openai:http://127.0.0.1:9/v1#run-judge' });
    const runJudge = functionModel('test:run-judge', () => reply(assistant({ content: JSON.stringify({ scores: [{ criterion: 'plan', score: 1, reason: 'No plan.' }] }) })));
    const store = openStore(':memory:');
    const summary = await executeRun({ store, run: { resolved }, judge: runJudge, modelEnvironment: { env: {} } });
    const terms = store.rollouts(summary.runId)[0]!.rewardTerms;
    assert.deepEqual(terms.map((t) => [t.name, t.value, (t.detail as { judge: string }).judge, (t.detail as { judgeFrom: string }).judgeFrom]), [
      ['rubric.own', 1, own, 'term'],
      ['rubric', 0, 'test:run-judge', 'run'],
    ]);
    assert.equal(seen.length, 1);
  });
});
