// A read given `maxBytes` on the remote client: the reply is read no further than the base64 of the
// bound (a larger file stops the read there), a file over the bound is FileTooLargeError rather than
// a malformed reply, and a caller that passes nothing gets what the server's limit allows.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FileTooLargeError } from '../files.ts';
import { createRemoteSandbox, type FetchLike } from './index.ts';

const created = { id: 'sbx_test', backend: 'bwrap', workdir: '/work', lease: { ttlMs: 60_000, expiresAt: 1 }, maxReadBytes: 64 * 1024 ** 2 };

/** A server whose reads answer `content`, counting in `sent` the reply bytes pulled from it. */
function readServer(content: string, sent: { bytes: number }): FetchLike {
  return (url) => {
    if (url.endsWith('/v1/sandboxes')) return Promise.resolve(Response.json(created, { status: 201 }));
    const reply = Buffer.from(JSON.stringify({ content: Buffer.from(content).toString('base64') }));
    let offset = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        pull: (controller) => {
          if (offset >= reply.length) return controller.close();
          const chunk = reply.subarray(offset, offset + 16 * 1024);
          offset += chunk.length;
          sent.bytes += chunk.length;
          controller.enqueue(chunk);
        },
      },
      { highWaterMark: 0 },
    );
    return Promise.resolve(new Response(body, { headers: { 'content-type': 'application/json' } }));
  };
}

describe('remote sandbox bounded reads', () => {
  it('stops reading a reply past the base64 of maxBytes, and refuses a file over it with FileTooLargeError', async () => {
    const sent = { bytes: 0 };
    const big = 'y'.repeat(8 * 1024 ** 2);
    const box = await createRemoteSandbox({ url: 'http://sandbox.test', fetch: readServer(big, sent), heartbeatMs: 3_600_000 });
    try {
      await assert.rejects(box.readFile('big.txt', { maxBytes: 1000 }), (e: unknown) => e instanceof FileTooLargeError && e.path === 'big.txt' && e.maxBytes === 1000);
      assert.ok(sent.bytes < 256 * 1024, `${sent.bytes} bytes of an 11 MB reply were read`);
      assert.equal(await box.readFile('big.txt'), big, 'without a bound the file comes whole');
    } finally {
      await box.close().catch(() => undefined);
    }
  });

  it('refuses a file just over maxBytes by its decoded size, and answers one within it', async () => {
    const box = await createRemoteSandbox({ url: 'http://sandbox.test', fetch: readServer('héllo', { bytes: 0 }), heartbeatMs: 3_600_000 });
    try {
      await assert.rejects(box.readFile('notes.txt', { maxBytes: 5 }), (e: unknown) => e instanceof FileTooLargeError && e.sizeBytes === 6);
      assert.equal(await box.readFile('notes.txt', { maxBytes: 6 }), 'héllo');
    } finally {
      await box.close().catch(() => undefined);
    }
  });
});
