// What a file read may hold on the sandbox server: its reply takes the file's bytes from the body
// budget until it is sent, a file over `maxReadBytes` is refused, small files are read side by side
// with their bound counted first, and larger ones one at a time. In process (Hono's app.request): a
// reply nobody reads stays unsent, so what it holds can be counted without racing a socket.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Sandbox } from '../../core/index.ts';
import { FileTooLargeError } from '../../sandbox/index.ts';
import { remoteProtocol as P } from '../../sandbox/remote/index.ts';
import { waitFor } from '../../../test/support/wait.ts';
import { BodyBudget } from '../body-budget.ts';
import { createSandboxApp } from './app.ts';
import { SandboxPool } from './pool.ts';
import { SIDE_BY_SIDE_READ_BYTES } from './read-reply.ts';

const headers = { 'content-type': 'application/json', [P.PROTOCOL_HEADER]: String(P.PROTOCOL_VERSION) };

/**
 * A sandbox holding `files`; a read of a path in `held` waits until the test lets it go. It honours
 * `maxBytes` as the real backends do, refusing a larger file; `asked` records each read's bound.
 */
function filesSandbox(files: Record<string, string>, reads: { started: string[]; asked: number[]; inFlight: number; most: number; held: Map<string, () => void> }): Sandbox {
  return {
    specificationVersion: 'v1',
    backend: 'virtual',
    workdir: '/work',
    exec: () => Promise.resolve({ exitCode: 0, stdout: '', stderr: '', timedOut: false, truncated: false, durationMs: 0 }),
    readFile: async (path, options) => {
      reads.asked.push(options?.maxBytes ?? Infinity);
      const content = files[path];
      // Measured as it is opened, before anything is read: a larger file is refused at once.
      const size = content === undefined ? 0 : Buffer.byteLength(content, 'utf8');
      if (options?.maxBytes !== undefined && size > options.maxBytes) throw new FileTooLargeError(path, options.maxBytes, size);
      reads.started.push(path);
      reads.most = Math.max(reads.most, ++reads.inFlight);
      try {
        if (path.startsWith('held/')) await new Promise<void>((resolve) => reads.held.set(path, resolve));
        return content ?? null;
      } finally {
        reads.inFlight--;
      }
    },
    writeFile: () => Promise.resolve(),
    listFiles: () => Promise.resolve([]),
    close: () => Promise.resolve(),
  };
}

async function appWith(options: { files: Record<string, string>; budgetBytes: number; maxReadBytes: number }) {
  const budget = new BodyBudget(options.budgetBytes, 'request bodies and file reads');
  const reads = { started: [] as string[], asked: [] as number[], inFlight: 0, most: 0, held: new Map<string, () => void>() };
  const app = createSandboxApp({
    pool: new SandboxPool({ ttlMs: 60_000, maxSandboxes: 8, now: Date.now }),
    backend: 'virtual',
    token: undefined,
    maxBodyBytes: 1024 * 1024,
    bodyBudget: budget,
    maxReadBytes: options.maxReadBytes,
    bodyTimeoutMs: 10_000,
    maxLimits: {},
    create: () => Promise.resolve(filesSandbox(options.files, reads)),
  });
  const post = (path: string, body: unknown, signal?: AbortSignal) => {
    const text = JSON.stringify(body);
    return app.request(`/v1${path}`, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(text)) }, body: text, ...(signal ? { signal } : {}) });
  };
  const created = P.CreateResponse.parse(await (await post('/sandboxes', {})).json());
  const read = (path: string, signal?: AbortSignal) => post(`/sandboxes/${created.id}/files/read`, { path }, signal);
  return { budget, reads, created, read };
}

const errorOf = async (response: Response) => ({ status: response.status, retryAfter: response.headers.get('retry-after'), ...P.ErrorBody.parse(await response.json()).error });

describe('sandbox server file reads', () => {
  it('sends the same JSON as before, a chunk at a time, with its length declared', async () => {
    // Sizes around the base64 groups and the chunk (192 KiB), and text that is not ASCII.
    const files: Record<string, string> = { empty: '', one: 'a', two: 'ab', three: 'abc', chunk: 'x'.repeat(3 * 64 * 1024), past: 'y'.repeat(3 * 64 * 1024 + 1), text: 'héllo wörld ✓ 😀\n'.repeat(20_000) };
    const { read } = await appWith({ files, budgetBytes: 16 * 1024 * 1024, maxReadBytes: 16 * 1024 * 1024 });
    for (const [path, content] of Object.entries(files)) {
      const response = await read(path);
      const text = await response.text();
      assert.equal(text, JSON.stringify({ content: P.toBase64(content) }), path);
      assert.equal(response.headers.get('content-length'), String(Buffer.byteLength(text)), path);
      assert.equal(P.fromBase64(P.ReadResponse.parse(JSON.parse(text)).content ?? ''), content, path);
    }
    assert.equal(await (await read('missing')).text(), '{"content":null}');
  });

  it('holds a reply\'s bytes in the body budget until it is sent, and answers a read that does not fit beside it capacity with Retry-After', async () => {
    const { budget, read } = await appWith({ files: { a: 'a'.repeat(600), b: 'b'.repeat(500) }, budgetBytes: 1000, maxReadBytes: 1000 });
    const first = await read('a');
    assert.equal(first.status, 200);
    assert.equal(budget.held, 600, 'the unsent reply holds its file\'s 600 bytes (its request body went back when it was handled)');

    const refused = await errorOf(await read('b'));
    assert.deepEqual(refused, {
      status: 503,
      retryAfter: '1',
      code: 'capacity',
      // 600 for the unsent reply, 12 for this read's own body ({"path":"b"}), still held while it is handled.
      message: 'server busy: request bodies and file reads being handled hold 612 of the 1000 bytes allowed at once (--max-body-memory), and this read\'s 500 bytes would pass it; retry later',
    });
    assert.equal(budget.held, 600, 'the refused read holds nothing');

    assert.equal(P.fromBase64(P.ReadResponse.parse(await first.json()).content ?? ''), 'a'.repeat(600));
    assert.equal(budget.held, 0, 'a reply sent gives its bytes back');
    const second = await read('b');
    assert.equal(P.fromBase64(P.ReadResponse.parse(await second.json()).content ?? ''), 'b'.repeat(500));
    assert.equal(budget.held, 0);
  });

  it('gives a reply\'s bytes back when its client stops reading it, or went away before reading any', async () => {
    const { budget, read } = await appWith({ files: { big: 'z'.repeat(800_000) }, budgetBytes: 1_000_000, maxReadBytes: 1_000_000 });
    const cancelled = await read('big');
    assert.equal(budget.held, 800_000);
    const reader = cancelled.body!.getReader();
    await reader.read();
    await reader.cancel();
    assert.equal(budget.held, 0);

    const controller = new AbortController();
    const abandoned = await read('big', controller.signal);
    assert.equal([abandoned.status, budget.held].join(), '200,800000');
    controller.abort();
    assert.equal(budget.held, 0);
  });

  it('refuses a file over maxReadBytes, or over the whole budget, with too_large naming the file, its size and the limit', async () => {
    const { budget, read, created } = await appWith({ files: { 'out/big.bin': 'x'.repeat(101), 'huge.txt': 'é'.repeat(100), small: 'x'.repeat(100) }, budgetBytes: 150, maxReadBytes: 200 });
    // The limit counts the bytes the reply carries: 'é' is two of them.
    assert.deepEqual(await errorOf(await read('huge.txt')), {
      status: 413,
      retryAfter: null,
      code: 'too_large',
      message: 'sandbox readFile: "huge.txt" is 200 bytes, more than the 150 bytes the server holds for request bodies and file reads at once (--max-body-memory)',
    });
    assert.equal(budget.held, 0);
    assert.equal(created.maxReadBytes, 150, 'the create reply says the largest read it answers: the limit, or the budget when that is less');

    const strict = await appWith({ files: { 'out/big.bin': 'x'.repeat(101) }, budgetBytes: 1000, maxReadBytes: 100 });
    assert.deepEqual(await errorOf(await strict.read('out/big.bin')), {
      status: 413,
      retryAfter: null,
      code: 'too_large',
      message: 'sandbox readFile: "out/big.bin" is 101 bytes, over this server\'s limit of 100 bytes a read (--max-read-mb)',
    });
    assert.equal(strict.budget.held, 0);
    assert.equal(strict.created.maxReadBytes, 100);
    assert.equal((await read('small')).status, 200);
  });

  it('reads small files side by side, each counted before the sandbox is asked, and a missing one as null', async () => {
    const files = { 'held/1': '1'.repeat(100), 'held/2': '2'.repeat(200) };
    const { budget, reads, read } = await appWith({ files, budgetBytes: 4 * SIDE_BY_SIDE_READ_BYTES, maxReadBytes: 4 * SIDE_BY_SIDE_READ_BYTES });
    const replies = [read('held/1'), read('held/2')];
    await waitFor(() => reads.held.has('held/1') && reads.held.has('held/2'), 'both reads to reach the sandbox at once');
    assert.deepEqual(reads.asked, [SIDE_BY_SIDE_READ_BYTES, SIDE_BY_SIDE_READ_BYTES], 'each asked for no more than it reserved');
    assert.ok(budget.held >= 2 * SIDE_BY_SIDE_READ_BYTES, `both bounds counted while the files are read (${budget.held} bytes held)`);
    reads.held.get('held/2')!();
    reads.held.get('held/1')!();
    const [first, second] = await Promise.all(replies);
    assert.equal(budget.held, 300, 'once read, each holds its file\'s bytes, not its bound');
    assert.equal(P.ReadResponse.parse(await first!.json()).content, P.toBase64(files['held/1']));
    assert.equal(P.ReadResponse.parse(await second!.json()).content, P.toBase64(files['held/2']));
    assert.equal(budget.held, 0);
    assert.equal(await (await read('missing')).text(), '{"content":null}');
    assert.equal(budget.held, 0, 'a missing file gives its reservation back');
    assert.equal(reads.most, 2);
  });

  it('reads a file larger than the side-by-side bound again on its own, whole, within maxReadBytes', async () => {
    const large = 'L'.repeat(SIDE_BY_SIDE_READ_BYTES + 10);
    const { budget, reads, read } = await appWith({ files: { large }, budgetBytes: 4 * SIDE_BY_SIDE_READ_BYTES, maxReadBytes: 2 * SIDE_BY_SIDE_READ_BYTES });
    const reply = await read('large');
    assert.deepEqual(reads.asked, [SIDE_BY_SIDE_READ_BYTES, 2 * SIDE_BY_SIDE_READ_BYTES], 'refused at the small bound, then read to the limit');
    assert.equal(budget.held, large.length);
    assert.equal(P.fromBase64(P.ReadResponse.parse(await reply.json()).content ?? ''), large);
    assert.equal(budget.held, 0);
  });

  it('reads larger files from its sandboxes one at a time, so only one is held before it is counted, and skips a read whose client left while it waited', async () => {
    // Each over the side-by-side bound: every read is refused there at once, then waits its turn.
    const size = SIDE_BY_SIDE_READ_BYTES + 100;
    const files = { 'held/1': '1'.repeat(size), 'held/2': '2'.repeat(size), 'held/3': '3'.repeat(size) };
    const { reads, read } = await appWith({ files, budgetBytes: 8 * SIDE_BY_SIDE_READ_BYTES, maxReadBytes: 2 * SIDE_BY_SIDE_READ_BYTES });
    const controller = new AbortController();
    const replies = [read('held/1'), read('held/2', controller.signal), read('held/3')];
    await waitFor(() => reads.held.has('held/1'), 'the first read to reach the sandbox');
    assert.deepEqual(reads.started, ['held/1'], 'the others wait their turn');
    controller.abort();
    reads.held.get('held/1')!();
    await waitFor(() => reads.held.has('held/3'), 'the third read to reach the sandbox');
    assert.deepEqual(reads.started, ['held/1', 'held/3'], 'the read whose client went away was never made');
    reads.held.get('held/3')!();
    const [first, abandoned, third] = replies;
    assert.equal(P.ReadResponse.parse(await (await first!).json()).content, P.toBase64(files['held/1']));
    assert.equal(P.ReadResponse.parse(await (await third!).json()).content, P.toBase64(files['held/3']));
    const gone = await Promise.resolve(abandoned!).then((response) => response.status, () => 'rejected');
    assert.ok(gone === 'rejected' || (typeof gone === 'number' && gone >= 400), `the abandoned read got no file (${gone})`);
    assert.equal(reads.most, 1);
  });
});
