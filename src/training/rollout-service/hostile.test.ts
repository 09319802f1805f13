// The rollout service against faulty and hostile trainers: batch requests in a loop that nobody
// reads, announcements after shutdown, and a stream line that never ends.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFakeEngine, type FakeEngine } from '../fake-engine/index.ts';
import { RolloutServiceClient, ServiceRequestError } from './client.ts';
import { startRolloutService } from './service.ts';
import { Gate, serviceOptions } from './test-support.ts';

const options = serviceOptions;

describe('rollout service under a faulty trainer', () => {
  let engine: FakeEngine;
  before(async () => (engine = await startFakeEngine()));
  after(() => engine.close());

  it('refuses a batch once open batches already await maxOpenGroups groups, naming the field, so unread batches cannot start groups without bound', async () => {
    const gate = new Gate(() => true);
    const service = await startRolloutService(options(engine, { maxOpenGroups: 3, modelEnvironment: { env: {}, fetch: gate.fetch } }));
    try {
      const client = new RolloutServiceClient(service.url);
      await client.requestBatch({ groups: 2, policyVersion: 0 });
      await assert.rejects(client.requestBatch({ groups: 2, policyVersion: 0 }), (e: unknown) => e instanceof ServiceRequestError && e.status === 409 && e.field === 'groups' && /already await 2 groups/.test(e.message));
      await client.requestBatch({ groups: 1, policyVersion: 0 });
      await assert.rejects(client.requestBatch({ groups: 1, policyVersion: 0 }), (e: unknown) => e instanceof ServiceRequestError && e.status === 409);
    } finally {
      gate.release({ stop: true });
      await service.close();
    }
  });

  it('applies no announcement once shut down: the endpoints are closed and the run is finished', async () => {
    const service = await startRolloutService(options(engine));
    await service.close();
    const outcome = await service.core.announce({ version: 1 });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.ok ? null : outcome.status, 503);
    assert.equal(service.core.policy().current.version, 0, 'the version stays where the session ended');
  });
});

describe('rollout service client reading a line that never ends', () => {
  it('fails once a line runs past maxLineChars, naming the batch and the line, without reading the rest', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024));
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 64 * 1024 * 1024) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const client = new RolloutServiceClient('http://service.test', { maxLineChars: 1024 * 1024, fetch: () => Promise.resolve(new Response(endless)) });
    await assert.rejects(
      (async () => {
        for await (const _line of client.stream('b1')) assert.fail('no line is complete');
      })(),
      /batch b1: line 1 of the stream runs past 1048576 characters without a newline/,
    );
    assert.ok(sent < 4 * 1024 * 1024, `read ${sent} bytes of a line already too long at 1 MiB`);
  });

  it('reads lines split across chunks and several lines in one chunk alike', async () => {
    const pieces = ['{"type":"done","ba', 'tchId":"b1","served":0,"currentVersion":0}\n{"type":"error","batchId":"b1",', '"message":"x"}\n\n{"type":"done","batchId":"b1","served":1,"currentVersion":2}\n'];
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const piece of pieces) controller.enqueue(new TextEncoder().encode(piece));
        controller.close();
      },
    });
    const client = new RolloutServiceClient('http://service.test', { fetch: () => Promise.resolve(new Response(body)) });
    const seen: string[] = [];
    for await (const line of client.stream('b1')) seen.push(line.type);
    assert.deepEqual(seen, ['done', 'error', 'done']);
  });
});
