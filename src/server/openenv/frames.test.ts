// What WebSocket messages still arriving may hold on the OpenEnv server: each data frame takes its
// declared length from the body budget as its header arrives (before `ws` holds its payload), a
// message that cannot be covered or does not arrive in time ends its session, and every byte goes
// back. The client here writes frames by hand, so a test can stop half-way through one.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { waitFor } from '../../../test/support/openenv-client.ts';
import { closedAfterTests } from '../../../test/support/raw-sockets.ts';
import { startOpenEnvServer, type OpenEnvServer } from './server.ts';
import { probeEnv } from './test-env.ts';

// A failing test should fail, not wait out a frame that never comes.
const GUARD = { timeout: 20_000 };

const opened = closedAfterTests<OpenEnvServer>();

async function serve(options: Partial<Parameters<typeof startOpenEnvServer>[0]>): Promise<OpenEnvServer> {
  return opened.started(await startOpenEnvServer({ env: probeEnv, port: 0, ...options }));
}

interface Frame {
  opcode: number;
  payload: Buffer;
}

/** A WebSocket client that writes raw bytes and reads the server's (unmasked) frames. */
interface RawWs {
  socket: Socket;
  write(bytes: Buffer | string): void;
  /** Resolves with the first frame received so far or later that `match` accepts; rejects if the socket closes first. */
  frame(match: (frame: Frame) => boolean): Promise<Frame>;
  closed: Promise<void>;
}

const sockets: Socket[] = [];
after(() => {
  for (const socket of sockets) socket.destroy();
});

async function openWs(server: OpenEnvServer, path = '/ws'): Promise<RawWs> {
  const url = new URL(server.url);
  const socket = connect({ host: url.hostname, port: Number(url.port) });
  sockets.push(socket);
  socket.on('error', () => {});
  const closed = new Promise<void>((done) => socket.once('close', () => done()));
  let buffered = Buffer.alloc(0);
  let upgraded = false;
  const frames: Frame[] = [];
  const watchers = new Set<() => void>();
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    if (!upgraded) {
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      assert.match(buffered.subarray(0, end).toString(), /^HTTP\/1\.1 101 /);
      buffered = buffered.subarray(end + 4);
      upgraded = true;
    }
    for (;;) {
      if (buffered.length < 2) break;
      let length = buffered[1]! & 0x7f;
      let at = 2;
      if (length === 126) [length, at] = [buffered.length >= 4 ? buffered.readUInt16BE(2) : Infinity, 4];
      else if (length === 127) [length, at] = [buffered.length >= 10 ? Number(buffered.readBigUInt64BE(2)) : Infinity, 10];
      if (buffered.length < at + length) break;
      frames.push({ opcode: buffered[0]! & 0x0f, payload: buffered.subarray(at, at + length) });
      buffered = buffered.subarray(at + length);
    }
    for (const watch of watchers) watch();
  });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const upgrade = new Promise<void>((resolve) => watchers.add(() => upgraded && resolve()));
  socket.write(`GET ${path} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  await upgrade;
  return {
    socket,
    write: (bytes) => void socket.write(bytes),
    closed,
    frame: (match) =>
      new Promise((resolve, reject) => {
        const look = () => {
          const found = frames.find(match);
          if (!found) return;
          watchers.delete(look);
          resolve(found);
        };
        watchers.add(look);
        void closed.then(() => {
          watchers.delete(look);
          const found = frames.find(match);
          if (found) resolve(found);
          else reject(new Error(`the socket closed without the frame; it got ${JSON.stringify(frames.map((f) => [f.opcode, f.payload.toString()]))}`));
        });
        look();
      }),
  };
}

/** A client frame's header declaring `length` payload bytes, masked with a zero key (so the payload goes as it is). */
function frameHead(length: number, options: { final?: boolean; opcode?: number } = {}): Buffer {
  const extended = length < 126 ? 0 : length < 65_536 ? 2 : 8;
  const head = Buffer.alloc(2 + extended + 4);
  head[0] = (options.final === false ? 0 : 0x80) | (options.opcode ?? 1);
  head[1] = 0x80 | (extended === 0 ? length : extended === 2 ? 126 : 127);
  if (extended === 2) head.writeUInt16BE(length, 2);
  if (extended === 8) head.writeBigUInt64BE(BigInt(length), 2);
  return head;
}

/** `message` as JSON padded with spaces to exactly `bytes` bytes. */
function padded(message: unknown, bytes: number): string {
  const text = JSON.stringify(message);
  return text + ' '.repeat(bytes - text.length);
}

const text = (frame: Frame) => frame.opcode === 1;
const close = (frame: Frame) => frame.opcode === 8;
const json = (frame: Frame) => JSON.parse(frame.payload.toString()) as { type?: string; data?: Record<string, unknown>; error?: { code: number; message: string; data: unknown } };

describe('OpenEnv server WebSocket frames still arriving', () => {
  it("takes each frame's declared length from the budget as its header arrives and gives it back once the message is answered", GUARD, async () => {
    const server = await serve({});
    const client = await openWs(server);
    const reset = padded({ type: 'reset', data: { task_id: 'probe/two' } }, 5000);
    // A first fragment whole, then the header and ten bytes of the last: 5000 bytes declared.
    client.write(Buffer.concat([frameHead(3000, { final: false }), Buffer.from(reset.slice(0, 3000)), frameHead(2000, { opcode: 0 }), Buffer.from(reset.slice(3000, 3010))]));
    await waitFor(() => server.stats().bodyBytes === 5000, 'the message to hold the 5000 bytes its frames declare');
    client.write(reset.slice(3010));
    assert.equal(json(await client.frame(text)).type, 'observation');
    await waitFor(() => server.stats().bodyBytes === 0, 'the answered message to give its bytes back');
  });

  it('ends the session of a message whose frames do not fit beside what the budget holds, before holding them', GUARD, async () => {
    const server = await serve({ maxBodyMemoryBytes: 1000 });
    const holder = await openWs(server);
    const reset = padded({ type: 'reset', data: { task_id: 'probe/two' } }, 800);
    holder.write(Buffer.concat([frameHead(800), Buffer.from(reset.slice(0, 10))]));
    await waitFor(() => server.stats().bodyBytes === 800, 'the first message to hold its 800 bytes');

    const episode = await openWs(server);
    episode.write(Buffer.concat([frameHead(500), Buffer.from('{"type":"st')]));
    assert.deepEqual(json(await episode.frame(text)).data, {
      code: 'SESSION_ERROR',
      message: "server busy: request bodies, WebSocket messages and replies being handled hold 800 of the 1000 bytes allowed at once (--max-body-memory), and this message's frames declare 500 bytes more; it was not run and the session is closed, open a new one and send it again later",
      failure: 'infra',
      source: 'gauntlet',
      retryable: true,
      body_bytes: 500,
      body_memory_bytes: 800,
      max_body_memory_bytes: 1000,
    });
    assert.equal((await episode.frame(close)).payload.readUInt16BE(0), 1013);
    const mcp = await openWs(server, '/mcp');
    mcp.write(Buffer.concat([frameHead(500), Buffer.from('{"jsonrpc"')]));
    const rpc = json(await mcp.frame(text));
    assert.deepEqual([rpc.error?.code, rpc.error?.data], [-32000, { failure: 'infra', source: 'gauntlet', retryable: true, body_bytes: 500, body_memory_bytes: 800, max_body_memory_bytes: 1000 }]);
    assert.equal((await mcp.frame(close)).payload.readUInt16BE(0), 1013);
    await Promise.all([episode.closed, mcp.closed]);
    await waitFor(() => server.stats().sessions === 1, 'the refused sessions to end');
    assert.equal(server.stats().bodyBytes, 800, 'the refused messages took nothing');

    holder.write(reset.slice(10));
    assert.equal(json(await holder.frame(text)).type, 'observation');
    await waitFor(() => server.stats().bodyBytes === 0, 'the answered message to give its bytes back');
  });

  it('ends the session of a message not arrived whole within --body-timeout and gives its share back', GUARD, async () => {
    const server = await serve({ bodyTimeoutMs: 50 });
    const slow = await openWs(server);
    slow.write(Buffer.concat([frameHead(500), Buffer.from('{"type":"s')]));
    assert.deepEqual(json(await slow.frame(text)).data, {
      code: 'SESSION_ERROR',
      message: 'the message did not arrive whole within 0.05 s (--body-timeout): 10 of the 500 bytes its frames declare had come; it was not run and the session is closed',
      received_bytes: 10,
      body_bytes: 500,
      body_timeout_ms: 50,
    });
    assert.equal((await slow.frame(close)).payload.readUInt16BE(0), 1008);
    await slow.closed;
    await waitFor(() => server.stats().bodyBytes === 0 && server.stats().sessions === 0, 'the late message to give its bytes back and its session to end');
  });
});
