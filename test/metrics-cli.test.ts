// `--metrics-port` on `gauntlet run` and `gauntlet worker`: bad flags fail before anything starts,
// naming the flag; a good one serves while the command runs and is gone when it ends.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { getEnvironment } from '../src/envs/index.ts';
import { cli } from './support/cli.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'gauntlet-metrics-cli-'));

describe('metrics flags', () => {
  it('refuses bad metrics flags before anything starts, naming the flag and what was expected', async () => {
    const dir = tmp();
    const store = join(dir, 'gauntlet.db');
    const run = ['run', '--env', 'mail', '--model', 'oracle', '--store', store];
    const cases: [string[], Record<string, string>, RegExp][] = [
      [[...run, '--metrics-port', '0', '--metrics-host', '0.0.0.0'], {}, /--metrics-host: serving metrics on 0\.0\.0\.0 \(beyond loopback\) needs a bearer token \(expected --metrics-token SECRET or the GAUNTLET_TOKEN environment variable/],
      [[...run, '--metrics-port', '0', '--metrics-host', '0.0.0.0'], { GAUNTLET_TOKEN: ' ' }, /GAUNTLET_TOKEN: is set but empty/],
      [[...run, '--metrics-host', '127.0.0.1'], {}, /--metrics-host: only applies with --metrics-port \(expected --metrics-port PORT as well\)/],
      [[...run, '--metrics-token', 'sesame'], {}, /--metrics-token: only applies with --metrics-port/],
      [[...run, '--metrics-port', '70000'], {}, /--metrics-port: got "70000" \(expected a whole number from 0 to 65535\)/],
      [[...run, '--metrics-port', 'nine'], {}, /--metrics-port: got "nine"/],
      [['worker', '--queue', 'redis://127.0.0.1:9', '--metrics-port', '0', '--metrics-host', '10.1.2.3'], {}, /--metrics-host: serving metrics on 10\.1\.2\.3 \(beyond loopback\) needs a bearer token/],
    ];
    for (const [args, env, pattern] of cases) {
      const { code, err, out } = await cli(args, env);
      assert.equal(code, 2, `${args.join(' ')} → ${err}`);
      assert.match(err, pattern);
      assert.equal(out, '');
      assert.doesNotMatch(err, /^\s+at /m, 'no stack trace');
    }
    assert.equal(existsSync(store), false, 'no store was opened, no run was created');
  });

  it('prints the address it serves metrics at, and stops serving when the run ends', async () => {
    const dir = tmp();
    const task = getEnvironment('mail').tasks()[0]!.id;
    const { code, err } = await cli(['run', '--env', 'mail', '--task', task, '--model', 'oracle', '--metrics-port', '0', '--store', join(dir, 'gauntlet.db'), '--json']);
    assert.equal(code, 0, err);
    const url = /metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)\n/.exec(err)?.[1];
    assert.ok(url, `the address is printed: ${err}`);
    await assert.rejects(fetch(url), 'the endpoint closed with the run');
  });

  it('lets a resumed run serve metrics', async () => {
    const dir = tmp();
    const store = join(dir, 'gauntlet.db');
    const task = getEnvironment('mail').tasks()[0]!.id;
    const first = await cli(['run', '--env', 'mail', '--task', task, '--model', 'oracle', '--store', store, '--json']);
    const { runId } = JSON.parse(first.out) as { runId: string };
    const resumed = await cli(['run', '--resume', runId, '--metrics-port', '0', '--store', store, '--json']);
    assert.equal(resumed.code, 0, resumed.err);
    assert.match(resumed.err, /metrics on http:\/\/127\.0\.0\.1:\d+\/metrics/);
  });
});
