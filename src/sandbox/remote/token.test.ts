// `run --sandbox remote` against a server that wants a token: the refusal is reported as such,
// naming the variable, never as a server that does not answer.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSandboxServer } from '../../server/sandbox/index.ts';
import { cli } from '../../../test/support/cli.ts';

describe('gauntlet run --sandbox remote with a server that requires a token', () => {
  let server: Awaited<ReturnType<typeof startSandboxServer>>;
  const store = join(mkdtempSync(join(tmpdir(), 'gauntlet-remote-token-')), 'g.db');
  before(async () => {
    server = await startSandboxServer({ host: '127.0.0.1', port: 0, token: 'the-servers-token', backend: 'virtual' });
  });
  after(() => server.close());

  const run = (env: Record<string, string>) => cli(['run', '--env', 'mail', '--sandbox', 'remote', '--model', 'oracle', '--store', store], { GAUNTLET_SANDBOX_URL: server.url, ...env });

  it('without GAUNTLET_SANDBOX_TOKEN says the server refused the request for its missing token', async () => {
    const { code, err } = await run({});
    assert.equal(code, 2, err);
    assert.doesNotMatch(err, /does not answer/);
    assert.match(err, /GAUNTLET_SANDBOX_TOKEN: .*the server refused the request: its bearer token is missing \(HTTP 401: .*\); set GAUNTLET_SANDBOX_TOKEN to the token the server was started with/);
  });

  it('with a wrong GAUNTLET_SANDBOX_TOKEN says the server refused it, without quoting it', async () => {
    const { code, err } = await run({ GAUNTLET_SANDBOX_TOKEN: 'not-the-token' });
    assert.equal(code, 2, err);
    assert.doesNotMatch(err, /does not answer|not-the-token/);
    assert.match(err, /the server refused the bearer token sent \(HTTP 401: .*\): GAUNTLET_SANDBOX_TOKEN is not the token the server was started with/);
  });
});
