import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { InputError } from '../../core/index.ts';
import { getEnvironment } from '../../envs/index.ts';
import { openStore } from '../../store/index.ts';
import { startFakeEngine, type FakeEngine } from '../../training/fake-engine/index.ts';
import { RolloutServiceClient, type RolloutService, type StreamLine } from '../../training/rollout-service/index.ts';
import { fillConnections, getHead } from '../../../test/support/raw-sockets.ts';
import type { CliIo } from '../io.ts';
import { registerServeRolloutsCommand, type ServeRolloutsHooks } from './serve-rollouts.ts';

function setup(env: Record<string, string> = {}, hooks: ServeRolloutsHooks = {}) {
  const err: string[] = [];
  const io: CliIo = { stdout: () => undefined, stderr: (text) => void err.push(text), interactive: false, env };
  const program = new Command('gauntlet').exitOverride().configureOutput({ writeOut: () => undefined, writeErr: (t) => void err.push(t) });
  registerServeRolloutsCommand(program, io, hooks);
  for (const command of program.commands) command.exitOverride();
  return { err, run: (...args: string[]) => program.parseAsync(['node', 'gauntlet', 'serve-rollouts', ...args]) };
}

describe('gauntlet serve-rollouts', () => {
  let engine: FakeEngine;
  const store = join(mkdtempSync(join(tmpdir(), 'gauntlet-serve-rollouts-')), 'g.db');
  const task = getEnvironment('mail').tasks()[0]!.id;
  before(async () => {
    engine = await startFakeEngine();
  });
  after(() => engine.close());

  it('serves batches in the chosen trainer format until stopped, then says what it handed out', async () => {
    let served: RolloutService | undefined;
    const lines: StreamLine[] = [];
    const { run, err } = setup({}, {
      untilStopped: async (service) => {
        served = service;
        const client = new RolloutServiceClient(service.url);
        const batch = await client.requestBatch({ groups: 1, groupSize: 2, policyVersion: 3 });
        for await (const line of client.stream(batch.id)) lines.push(line);
      },
    });
    await run('--env', 'mail', '--task', task, '--model', `openai:${engine.url}#${engine.model}`, '--group-size', '2', '--window', '0', '--policy-version', '3', '--format', 'verl', '--port', '0', '--store', store);
    assert.ok(served);
    const [group, done] = lines;
    assert.equal(group?.type, 'group');
    if (group?.type !== 'group') return;
    assert.deepEqual({ task: group.taskId, versions: group.policyVersions, format: group.format }, { task, versions: { min: 3, max: 3 }, format: { target: 'verl', variant: 'agent-loop' } });
    assert.ok(group.rows.every((row) => (row as { min_global_steps: number }).min_global_steps === 3));
    assert.equal(done?.type, 'done');
    const text = err.join('');
    assert.match(text, new RegExp(`run ${served.runId} on ${served.url.replace(/\./g, '\\.')}`));
    assert.match(text, /policy version 3 served by openai:http:\/\/127\.0\.0\.1:\d+\/v1#Qwen\/Qwen3-8B/);
    assert.match(text, /stopped; 1 of 1 groups handed out/);
    const reopened = openStore(store);
    assert.equal(reopened.getRun(served.runId)?.status, 'finished');
    assert.equal(reopened.rollouts(served.runId).length, 2);
    reopened.close();
  });

  it('restates bad settings as the flags that set them, before serving', async () => {
    const never: ServeRolloutsHooks = { untilStopped: () => assert.fail('must not start') };
    const model = `openai:${engine.url}#${engine.model}`;
    const where = (flag: string) => (e: unknown) => e instanceof InputError && e.where === flag;
    await assert.rejects(setup({}, never).run('--env', 'mail', '--model', 'oracle', '--port', '0', '--store', store), where('--model'));
    await assert.rejects(setup({}, never).run('--env', 'mail', '--model', model, '--host', '0.0.0.0', '--port', '0', '--store', store), where('--host'));
    await assert.rejects(setup({}, never).run('--env', 'mail', '--task', 'mail/none', '--model', model, '--port', '0', '--store', store), where('--task'));
    await assert.rejects(setup({}, never).run('--model', model, '--port', '0', '--store', store), where('--env'));
    await assert.rejects(setup({}, never).run('--env', 'mail', '--model', model, '--max-staleness', '-1'), /--max-staleness/);
    await assert.rejects(setup({ GAUNTLET_TOKEN: ' ' }, never).run('--env', 'mail', '--model', model, '--port', '0', '--store', store), where('GAUNTLET_TOKEN'));
  });

  it('closes connections past --max-connections as they arrive, and names the flag when it is out of range', async () => {
    const model = `openai:${engine.url}#${engine.model}`;
    const { run, err } = setup({}, {
      untilStopped: async (service) => {
        const { answers, extra, sockets } = await fillConnections(service.url, 1, getHead('/health', new URL(service.url).host));
        for (const raw of sockets) raw.socket.destroy();
        assert.deepEqual([answers, extra], [['HTTP/1.1 200 OK'], null]);
      },
    });
    await run('--env', 'mail', '--task', task, '--model', model, '--port', '0', '--store', store, '--max-connections', '1');
    assert.match(err.join(''), /serve-rollouts: closed 1 connection on arrival so far: 1 at once is the limit/);
    const never: ServeRolloutsHooks = { untilStopped: () => assert.fail('must not start') };
    await assert.rejects(setup({}, never).run('--env', 'mail', '--model', model, '--max-connections', '0'), (e: unknown) => e instanceof InputError && e.where === '--max-connections');
  });
});
