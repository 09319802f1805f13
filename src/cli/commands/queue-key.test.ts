// `run --queue` and `gauntlet worker` read the queue key from GAUNTLET_QUEUE_KEY (never a flag),
// say whether they sign, tell the user which side lacks the key, and never print or store it.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Command } from 'commander';
import { getEnvironment } from '../../envs/index.ts';
import type { CliIo } from '../io.ts';
import { startRedis, until, type RedisServer } from '../../../test/queue-support.ts';
import { cli } from '../../../test/support/cli.ts';
import { registerWorkerCommand } from './worker.ts';

const SECRET = 'cli-queue-key-0c5e9b2a7d41f3';

function captureIo(env: Record<string, string>): CliIo & { out: string; err: string } {
  const io = { out: '', err: '', interactive: false, env } as CliIo & { out: string; err: string };
  io.stdout = (t) => void (io.out += t);
  io.stderr = (t) => void (io.err += t);
  return io;
}

/** `gauntlet worker` in this process until `stop()`, with `env` as its environment. */
function startCliWorker(url: string, env: Record<string, string>) {
  const io = captureIo(env);
  let stop: () => void = () => {};
  const stopped = new Promise<'graceful'>((resolve) => (stop = () => resolve('graceful')));
  const program = new Command('gauntlet').exitOverride();
  registerWorkerCommand(program, io, { untilStopped: () => stopped });
  const done = program.parseAsync(['node', 'gauntlet', 'worker', '--queue', url, '--concurrency', '2']);
  return { io, stop: async () => (stop(), await done) };
}

describe('the queue key on the command line', () => {
  let redis: RedisServer;
  before(async () => (redis = await startRedis()));
  after(async () => redis?.stop());

  it('signs a run whose coordinator and workers hold it, tells a keyless coordinator to set it, and never prints or stores it', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gauntlet-queue-key-cli-'));
    const task = getEnvironment('mail').tasks()[0]!.id;
    const runArgs = (store: string) => ['run', '--env', 'mail', '--task', task, '--model', 'oracle', '--queue', redis.url, '--store', join(dir, store), '--json'];
    const worker = startCliWorker(redis.url, { GAUNTLET_QUEUE_KEY: SECRET });
    let keyed, keyless;
    try {
      await until('the worker started', () => (worker.io.err.includes('taking rollouts') ? true : undefined));
      assert.match(worker.io.err, /taking rollouts from redis:\/\/127\.0\.0\.1:\d+\/0 \(concurrency 2; only jobs signed with GAUNTLET_QUEUE_KEY\)/);
      keyed = await cli(runArgs('keyed.db'), { GAUNTLET_QUEUE_KEY: SECRET });
      keyless = await cli(runArgs('keyless.db'), {});
    } finally {
      await worker.stop();
    }
    assert.equal(keyed.code, 0, keyed.err);
    assert.equal((JSON.parse(keyed.out) as { status: string }).status, 'finished');
    assert.match(keyed.err, /rollouts enqueued on rollouts-\w+ \(oracle\); jobs signed with GAUNTLET_QUEUE_KEY/);

    assert.notEqual(keyless.code, 0);
    assert.equal((JSON.parse(keyless.out) as { status: string }).status, 'interrupted');
    assert.match(keyless.err, /no worker could run ro_\w+: job ro_\w+ of run run_\w+ on rollouts-\w+ refused: it is unsigned.*set GAUNTLET_QUEUE_KEY to this worker's key in the coordinator's environment/);
    assert.match(worker.io.err, /FAILED ro_\w+: job ro_\w+ of run run_\w+ .*refused: it is unsigned/);

    const stored = readdirSync(dir).map((f) => readFileSync(join(dir, f)).toString('latin1')).join('\n');
    for (const [what, text] of [['the stores', stored], ['the worker', worker.io.out + worker.io.err], ['the keyed run', keyed.out + keyed.err], ['the keyless run', keyless.out + keyless.err]] as const) {
      assert.ok(!text.includes(SECRET), `the key appears in ${what}`);
    }
  });

  it('refuses an unusable key by its variable, before reaching Redis, without printing it', async () => {
    const task = getEnvironment('mail').tasks()[0]!.id;
    for (const args of [
      ['worker', '--queue', 'redis://127.0.0.1:1'],
      ['run', '--env', 'mail', '--task', task, '--model', 'oracle', '--queue', 'redis://127.0.0.1:1', '--store', join(mkdtempSync(join(tmpdir(), 'gauntlet-queue-key-bad-')), 'g.db')],
    ]) {
      const { code, err } = await cli(args, { GAUNTLET_QUEUE_KEY: 'tiny-k3y' });
      assert.equal(code, 2, err);
      assert.match(err, /GAUNTLET_QUEUE_KEY: is 8 characters long \(expected a secret of at least 16 characters/);
      assert.ok(!err.includes('tiny-k3y'));
    }
  });
});
