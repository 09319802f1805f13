// The undici transport (and an injected fetch) over a real loopback server: what is sent, what
// arrives, connections kept alive, and every way a request can end early.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { sendThroughFetch, sendThroughUndici, type HttpAnswer, type HttpPost, type SendPost } from './transport.ts';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
  socket: Socket;
}

type Handler = (res: ServerResponse, received: Received) => void;

async function withServer(handler: Handler, body: (url: string, received: Received[]) => Promise<void>): Promise<void> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const pieces: Buffer[] = [];
    req.on('data', (piece: Buffer) => pieces.push(piece));
    req.on('end', () => {
      const entry = { headers: req.headers, body: Buffer.concat(pieces).toString('utf8'), socket: req.socket };
      received.push(entry);
      handler(res, entry);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await body(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat`, received);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function readAll(answer: HttpAnswer): Promise<string> {
  const pieces: Uint8Array[] = [];
  for (let piece = await answer.read(); piece !== null; piece = await answer.read()) pieces.push(piece);
  return Buffer.concat(pieces).toString('utf8');
}

/** A POST whose body goes in three pieces, cut through the middle of characters where the text has them. */
function post(url: string, body: string, signal = new AbortController().signal): HttpPost {
  const bytes = Buffer.from(body, 'utf8');
  const cuts = [Math.floor(bytes.length / 3) + 1, Math.floor((2 * bytes.length) / 3) + 1];
  const pieces = [bytes.subarray(0, cuts[0]), bytes.subarray(cuts[0], cuts[1]), bytes.subarray(cuts[1])];
  return { url, headers: { 'content-type': 'application/json', authorization: 'Bearer k' }, body: pieces, signal };
}

for (const [name, send] of [
  ['undici', sendThroughUndici],
  ['fetch', sendThroughFetch(globalThis.fetch)],
] as Array<[string, SendPost]>) {
  describe(`sending through ${name}`, () => {
    it('sends the body and headers exactly and reads status, headers and a body written in pieces', async () => {
      const body = JSON.stringify({ text: 'naïve – 日本語 🙂'.repeat(50) });
      await withServer(
        (res) => {
          res.writeHead(201, { 'content-type': 'text/event-stream', 'retry-after': '3' });
          res.write('data: one\n\n');
          setImmediate(() => res.end('data: two ✓\n\n'));
        },
        async (url, received) => {
          const answer = await send(post(url, body));
          assert.equal(answer.status, 201);
          assert.equal(answer.header('content-type'), 'text/event-stream');
          assert.equal(answer.header('retry-after'), '3');
          assert.equal(answer.header('x-absent'), undefined);
          assert.equal(await readAll(answer), 'data: one\n\ndata: two ✓\n\n');
          assert.equal(received[0]!.body, body);
          assert.equal(received[0]!.headers.authorization, 'Bearer k');
          assert.equal(received[0]!.headers['content-type'], 'application/json');
        },
      );
    });

    it('rejects when nothing listens', async () => {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as AddressInfo).port;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await assert.rejects(send(post(`http://127.0.0.1:${port}/v1`, '{}')), (error: Error) => /ECONNREFUSED/.test(`${error.message} ${String((error.cause as Error | undefined)?.message)}`));
    });

    it('rejects a read when the server drops the connection mid-body', async () => {
      await withServer(
        (res) => {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write('data: partial\n\n', () => res.destroy());
        },
        async (url) => {
          const answer = await send(post(url, '{}'));
          await assert.rejects(readAll(answer));
        },
      );
    });

    it('abandons a request whose signal aborts before the answer, and the server sees it go', async () => {
      const controller = new AbortController();
      let closed = false;
      await withServer(
        (res) => res.on('close', () => (closed = true)),
        async (url, received) => {
          const pending = send(post(url, '{}', controller.signal));
          while (received.length === 0) await new Promise((resolve) => setImmediate(resolve));
          controller.abort(new Error('stop'));
          await assert.rejects(pending);
          while (!closed) await new Promise((resolve) => setImmediate(resolve));
        },
      );
    });
  });
}

describe('sending through an injected fetch', () => {
  it('hands it the body as text, as wrappers that read or rewrite `init.body` expect', async () => {
    let seen: unknown;
    const spy: typeof fetch = async (_input, init) => {
      seen = init?.body;
      return new Response('{}', { status: 200 });
    };
    const body = JSON.stringify({ text: 'ünïcode 🙂' });
    await readAll(await sendThroughFetch(spy)(post('http://127.0.0.1:9/v1', body)));
    assert.equal(seen, body);
  });
});

describe('undici connections', () => {
  it('keeps a connection alive between requests', async () => {
    await withServer(
      (res) => res.end('{"ok":true}'),
      async (url, received) => {
        assert.equal(await readAll(await sendThroughUndici(post(url, '{}'))), '{"ok":true}');
        // undici lends a connection again one loop turn after its answer ended (a server may close
        // one it said it would keep); a request sent sooner gets a connection of its own.
        await new Promise((resolve) => setImmediate(resolve));
        assert.equal(await readAll(await sendThroughUndici(post(url, '{}'))), '{"ok":true}');
        assert.equal(received.length, 2);
        assert.equal(received[0]!.socket, received[1]!.socket);
      },
    );
  });

  it('closes the connection when the rest of a body is not wanted, so it is never reused half-read', async () => {
    await withServer(
      (res, entry) => {
        if (received(entry)) return res.end('second');
        res.writeHead(200);
        res.write('first part');
      },
      async (url, all) => {
        const answer = await sendThroughUndici(post(url, '{}'));
        assert.equal(Buffer.from((await answer.read())!).toString(), 'first part');
        answer.cancel();
        assert.equal(await readAll(await sendThroughUndici(post(url, '{"n":2}'))), 'second');
        assert.notEqual(all[0]!.socket, all[1]!.socket);
      },
    );
    function received(entry: Received): boolean {
      return entry.body === '{"n":2}';
    }
  });

  it('decodes a body the server compressed anyway, and refuses an encoding it cannot decode', async () => {
    const text = JSON.stringify({ choices: [{ message: { content: 'ünïcode '.repeat(200) } }] });
    await withServer(
      (res, entry) => {
        if (entry.body === '"odd"') {
          res.writeHead(200, { 'content-encoding': 'zstd-ish' });
          return res.end('???');
        }
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        const packed = gzipSync(text);
        res.write(packed.subarray(0, 20));
        setImmediate(() => res.end(packed.subarray(20)));
      },
      async (url) => {
        assert.equal(await readAll(await sendThroughUndici(post(url, '{}'))), text);
        await assert.rejects(sendThroughUndici(post(url, '"odd"')), /encoded as "zstd-ish"/);
      },
    );
  });

  it('fails a read when a compressed body is corrupt', async () => {
    await withServer(
      (res) => {
        res.writeHead(200, { 'content-encoding': 'gzip' });
        res.end(Buffer.from('definitely not gzip'));
      },
      async (url) => {
        await assert.rejects(readAll(await sendThroughUndici(post(url, '{}'))));
      },
    );
  });

  it('sends credentials written in the URL as Basic authorization, unless the request names its own', async () => {
    await withServer(
      (res) => res.end('{}'),
      async (url, received) => {
        const withCredentials = post(url.replace('http://', 'http://ops:p%40ss@'), '{}');
        await readAll(await sendThroughUndici({ ...withCredentials, headers: { 'content-type': 'application/json' } }));
        await readAll(await sendThroughUndici({ ...withCredentials, headers: { 'content-type': 'application/json', Authorization: 'Bearer mine' } }));
        assert.equal(received[0]!.headers.authorization, `Basic ${Buffer.from('ops:p@ss').toString('base64')}`);
        assert.equal(received[1]!.headers.authorization, 'Bearer mine');
      },
    );
  });

  it('refuses a URL that is neither http nor https', async () => {
    await assert.rejects(sendThroughUndici(post('ftp://127.0.0.1/x', '{}')), /unsupported protocol ftp:/);
  });

  it('sends to the host, path and query each URL names, an IPv6 literal included, however often it was used before', async (t) => {
    const seen: { url: string; host: string }[] = [];
    const server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', host: req.headers.host ?? '' });
      req.resume().once('end', () => res.end('{}'));
    });
    const listening = await new Promise<boolean>((resolve) => server.once('error', () => resolve(false)).listen(0, '::1', () => resolve(true)));
    if (!listening) return t.skip('no IPv6 loopback on this machine');
    const { port } = server.address() as AddressInfo;
    try {
      for (const url of [`http://[::1]:${port}/v1/chat?x=1`, `http://[::1]:${port}/v1/chat?x=1`, `http://[::1]:${port}/other`]) {
        const answer = await sendThroughUndici(post(url, '{}'));
        while ((await answer.read()) !== null);
      }
      assert.deepEqual(seen, [
        { url: '/v1/chat?x=1', host: `[::1]:${port}` },
        { url: '/v1/chat?x=1', host: `[::1]:${port}` },
        { url: '/other', host: `[::1]:${port}` },
      ]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
