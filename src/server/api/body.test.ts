// What request bodies may hold on the review API: every body is read within one byte budget
// shared by all requests, and must arrive within a deadline, so slow or large bodies on many
// connections cannot hold 256 × 8 MiB.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { openStore } from '../../store/index.ts';
import { answerOnClose, closedAfterTests } from '../../../test/support/raw-sockets.ts';
import { waitFor } from '../../../test/support/wait.ts';
import { startApiServer, type ApiServer } from './server.ts';

const GUARD = { timeout: 30_000 };
const opened = closedAfterTests<ApiServer>();
const store = openStore(':memory:');
after(() => store.close());

function heldBody(server: ApiServer, bytes: number): string {
  return `POST /api/labels HTTP/1.1\r\nHost: ${new URL(server.url).host}\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: ${bytes}\r\n\r\n{`;
}

const post = (server: ApiServer, body: string) => fetch(`${server.url}/api/labels`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('review API request bodies', () => {
  it('refuses a body that does not fit beside those being read (503, Retry-After), and serves it once they are done', GUARD, async () => {
    const server = opened.started(await startApiServer({ store, port: 0, maxBodyMemoryBytes: 1000 }));
    const holder = await opened.open(server.url);
    holder.socket.write(heldBody(server, 1000));
    let refused: Response | undefined;
    await waitFor(async () => {
      const response = await post(server, '{"x": 1}');
      if (response.status === 503) refused = response;
      else await response.body?.cancel();
      return refused !== undefined;
    }, 'a body refused while the held one takes the whole budget');
    assert.equal(refused!.headers.get('retry-after'), '1');
    const error = ((await refused!.json()) as { error: { message: string; field: string } }).error;
    assert.equal(error.field, 'body');
    assert.match(error.message, /server busy: .*1000 bytes allowed at once/);
    holder.socket.destroy();
    let served: Response | undefined;
    await waitFor(async () => {
      const response = await post(server, '{"x": 1}');
      if (response.status !== 503) served = response;
      else await response.body?.cancel();
      return served !== undefined;
    }, 'the body served once the held one gave its bytes back');
    // Past the body's budget, routing answers (there is no such route): the body got through.
    assert.equal(served!.status, 404);
    assert.match(((await served!.json()) as { error: { message: string } }).error.message, /^no route POST \/api\/labels/);
  });

  it('answers 408 to a body that does not arrive in time, and closes its connection', GUARD, async () => {
    const server = opened.started(await startApiServer({ store, port: 0, bodyTimeoutMs: 200 }));
    const slow = await opened.open(server.url);
    slow.socket.write(heldBody(server, 100));
    const answer = await answerOnClose(slow);
    assert.match(answer.status, /^HTTP\/1\.1 408/);
    assert.match(String((answer.body.error as { message: string }).message), /did not arrive within 0\.2 s/);
  });
});
