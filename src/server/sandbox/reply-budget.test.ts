// What replies hold on the sandbox server beyond file reads: an exec takes room for its reply (its
// sandbox's output limit) from the body budget before its command runs, and holds the reply's
// length until it is sent; a listing is counted and held alike; a read asks its sandbox for no
// more than the largest file it answers. Mostly in process (Hono's app.request): a reply nobody
// reads stays unsent, so what it holds can be counted without racing a socket.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InfraError, type ExecOptions, type ExecResult, type FileEntry, type Sandbox } from '../../core/index.ts';
import { FileTooLargeError } from '../../sandbox/index.ts';
import { createSandbox, sandboxAvailability, type SandboxLimits } from '../../sandbox/index.ts';
import { createRemoteSandbox, remoteProtocol as P } from '../../sandbox/remote/index.ts';
import { closedAfterTests } from '../../../test/support/raw-sockets.ts';
import { waitFor } from '../../../test/support/wait.ts';
import { BodyBudget } from '../body-budget.ts';
import { createSandboxApp } from './app.ts';
import { startSandboxServer, type SandboxServer } from './index.ts';
import { SandboxPool } from './pool.ts';

const GUARD = { timeout: 30_000 };
const headers = { 'content-type': 'application/json', [P.PROTOCOL_HEADER]: String(P.PROTOCOL_VERSION) };
const { bwrap } = await sandboxAvailability();

/** Commands the fake sandbox has run, and those waiting for the test to let them end. */
interface Runs {
  started: string[];
  held: Map<string, () => void>;
}

/** `print N` prints N x's; `held/…` waits until the test lets it end; anything else prints nothing. */
function execSandbox(runs: Runs, files: FileEntry[]): Sandbox {
  return {
    specificationVersion: 'v1',
    backend: 'virtual',
    workdir: '/work',
    exec: async (command: string, options: ExecOptions): Promise<ExecResult> => {
      runs.started.push(command);
      if (command.startsWith('held/')) await new Promise<void>((resolve) => runs.held.set(command, resolve));
      if (options.signal?.aborted) return { exitCode: 130, stdout: '', stderr: 'sandbox: the command was stopped\n', timedOut: false, truncated: false, durationMs: 1 };
      const printed = /^print (\d+)$/.exec(command);
      return { exitCode: 0, stdout: 'x'.repeat(Number(printed?.[1] ?? 0)), stderr: '', timedOut: false, truncated: false, durationMs: 1 };
    },
    readFile: () => Promise.resolve(null),
    writeFile: () => Promise.resolve(),
    listFiles: () => Promise.resolve(files),
    close: () => Promise.resolve(),
  };
}

function appWith(options: { budgetBytes: number; maxReadBytes?: number; files?: FileEntry[]; create?: (limits: SandboxLimits) => Promise<Sandbox> }) {
  const budget = new BodyBudget(options.budgetBytes, 'request bodies and replies');
  const runs: Runs = { started: [], held: new Map() };
  const createdWith: SandboxLimits[] = [];
  const app = createSandboxApp({
    pool: new SandboxPool({ ttlMs: 60_000, maxSandboxes: 8, now: Date.now }),
    backend: 'virtual',
    token: undefined,
    maxBodyBytes: 1024 * 1024,
    bodyBudget: budget,
    maxReadBytes: options.maxReadBytes ?? 1024 * 1024,
    bodyTimeoutMs: 10_000,
    maxLimits: {},
    create: (request) => {
      createdWith.push(request.limits);
      return options.create ? options.create(request.limits) : Promise.resolve(execSandbox(runs, options.files ?? []));
    },
  });
  const request = (method: string, path: string, body?: unknown, signal?: AbortSignal) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    return app.request(`/v1${path}`, {
      method,
      headers: { ...headers, ...(text !== undefined ? { 'content-length': String(Buffer.byteLength(text)) } : {}) },
      ...(text !== undefined ? { body: text } : {}),
      ...(signal ? { signal } : {}),
    });
  };
  const create = async (limits: SandboxLimits = {}) => P.CreateResponse.parse(await (await request('POST', '/sandboxes', { limits })).json()).id;
  const exec = (id: string, command: string, signal?: AbortSignal) => request('POST', `/sandboxes/${id}/exec`, { command }, signal);
  return { budget, runs, createdWith, request, create, exec };
}

const errorOf = async (response: Response) => ({ status: response.status, retryAfter: response.headers.get('retry-after'), ...P.ErrorBody.parse(await response.json()).error });
const bodyBytes = (command: string) => Buffer.byteLength(JSON.stringify({ command }));
const resultText = (stdout: string) => JSON.stringify({ exitCode: 0, stdout, stderr: '', timedOut: false, truncated: false, durationMs: 1 });

describe('sandbox server exec replies', () => {
  it('takes room for a reply before its command runs: with too little it answers capacity with Retry-After and runs nothing', async () => {
    const { budget, runs, create, exec } = appWith({ budgetBytes: 10_000 });
    const id = await create({ maxOutputBytes: 4000 });
    // Something else holds 7000 bytes: the exec's body fits beside them, its reply's room does not.
    assert.ok(budget.take(7000));
    assert.deepEqual(await errorOf(await exec(id, 'touch ran')), {
      status: 503,
      retryAfter: '1',
      code: 'capacity',
      message: `server busy: request bodies and replies being handled hold ${7000 + bodyBytes('touch ran')} of the 10000 bytes allowed at once (--max-body-memory), and this command's reply (its sandbox's output limit, 4000 bytes, held before it runs) would pass it; retry later`,
    });
    assert.deepEqual(runs.started, [], 'the command did not run');
    assert.equal(budget.held, 7000, 'the refused exec holds nothing');
    budget.give(7000);

    const reply = exec(id, 'held/1');
    await waitFor(() => runs.held.has('held/1'), 'the command to start');
    assert.equal(budget.held, bodyBytes('held/1') + 4000, 'while it runs: its body and its reply\'s room');
    runs.held.get('held/1')!();
    const response = await reply;
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.equal(budget.held, resultText('').length, 'the unsent reply holds its own length, the rest of the room given back');
    assert.equal(await response.text(), resultText(''));
    assert.equal(budget.held, 0, 'a reply sent gives its bytes back');

    const printed = await exec(id, 'print 3000');
    assert.equal(P.ExecResponse.parse(await printed.json()).stdout, 'x'.repeat(3000));
    assert.equal(budget.held, 0);
  });

  it('gives a reply\'s bytes back when its client stops reading it, leaves before reading it, or leaves while its command runs', async () => {
    const { budget, runs, create, exec } = appWith({ budgetBytes: 1024 * 1024 });
    const id = await create({ maxOutputBytes: 300_000 });
    const cancelled = await exec(id, 'print 200000');
    assert.equal(budget.held, resultText('x'.repeat(200_000)).length);
    const reader = cancelled.body!.getReader();
    await reader.read();
    await reader.cancel();
    assert.equal(budget.held, 0, 'a reply cancelled mid-way');

    const abandoned = new AbortController();
    const unread = await exec(id, 'print 200000', abandoned.signal);
    assert.equal(unread.status, 200);
    abandoned.abort();
    assert.equal(budget.held, 0, 'a reply whose client left before reading it');

    const leaving = new AbortController();
    const reply = exec(id, 'held/2', leaving.signal);
    await waitFor(() => runs.held.has('held/2'), 'the command to start');
    leaving.abort();
    runs.held.get('held/2')!();
    await reply;
    assert.equal(budget.held, 0, 'a reply whose client left while its command ran, before it was made');
  });

  it('refuses at create an output limit the budget cannot hold, and lowers one left unsaid to a quarter of the budget', async () => {
    const { createdWith, request, create } = appWith({ budgetBytes: 100_000 });
    assert.deepEqual(await errorOf(await request('POST', '/sandboxes', { limits: { maxOutputBytes: 100_001 } })), {
      status: 400,
      retryAfter: null,
      code: 'bad_request',
      message: 'limits.maxOutputBytes: 100001 is more than the 100000 bytes this server holds for request bodies and replies at once (--max-body-memory), within which a command\'s reply is held',
    });
    await create();
    await create({ maxOutputBytes: 100_000 });
    await create({ maxOutputBytes: 10 });
    assert.deepEqual(createdWith.map((limits) => limits.maxOutputBytes), [25_000, 100_000, 10]);
  });
});

describe('sandbox server listings', () => {
  const files: FileEntry[] = Array.from({ length: 2000 }, (_, i) => ({ path: `src/módulo-${String(i).padStart(4, '0')}.ts`, size: i, sha256: 'ab'.repeat(32) }));
  const listing = JSON.stringify({ files });

  it('sends the same JSON as before, holding its bytes in the budget until it is sent', async () => {
    const { budget, request, create } = appWith({ budgetBytes: 1024 * 1024, files });
    const id = await create();
    const response = await request('GET', `/sandboxes/${id}/files`);
    assert.equal(budget.held, Buffer.byteLength(listing), 'the unsent listing holds its length');
    assert.equal(response.headers.get('content-length'), String(Buffer.byteLength(listing)));
    assert.equal(await response.text(), listing);
    assert.equal(budget.held, 0);

    const empty = appWith({ budgetBytes: 1000, files: [] });
    assert.equal(await (await empty.request('GET', `/sandboxes/${await empty.create()}/files`)).text(), '{"files":[]}');
  });

  it('answers capacity with Retry-After when the listing does not fit now, too_large when it never could, and gives the bytes back when its client stops reading', async () => {
    const { budget, request, create } = appWith({ budgetBytes: 1024 * 1024, files });
    const id = await create();
    assert.ok(budget.take(1024 * 1024 - 1000));
    const busy = await errorOf(await request('GET', `/sandboxes/${id}/files`));
    assert.deepEqual([busy.status, busy.retryAfter, busy.code], [503, '1', 'capacity']);
    assert.match(busy.message, new RegExp(`and this listing's ${Buffer.byteLength(listing)} bytes would pass it; retry later$`));
    budget.give(1024 * 1024 - 1000);

    const cancelled = await request('GET', `/sandboxes/${id}/files`);
    const reader = cancelled.body!.getReader();
    await reader.read();
    await reader.cancel();
    assert.equal(budget.held, 0);

    const small = appWith({ budgetBytes: 50_000, files });
    assert.deepEqual(await errorOf(await small.request('GET', `/sandboxes/${await small.create()}/files`)), {
      status: 413,
      retryAfter: null,
      code: 'too_large',
      message: `sandbox listFiles: the listing of 2000 files is ${Buffer.byteLength(listing)} bytes, more than the 50000 bytes the server holds for request bodies and replies at once (--max-body-memory)`,
    });
    assert.equal(small.budget.held, 0);
  });
});

describe('sandbox server reads, bounded in the sandbox', () => {
  const backend = bwrap.available ? 'bwrap' : 'virtual';

  it(`asks the sandbox (${backend}) for no more than the largest file it answers, so a far larger one is refused too_large without being handed over`, GUARD, async () => {
    const asked: { path: string; maxBytes: number | undefined; outcome: string }[] = [];
    let real: Sandbox | undefined;
    // The real backend, its readFile watched: what it was asked for, and whether it handed the file over.
    const spied = async (limits: SandboxLimits): Promise<Sandbox> => {
      const sandbox = await createSandbox({ backend, limits });
      real = sandbox;
      return {
        ...sandbox,
        specificationVersion: 'v1',
        backend: sandbox.backend,
        workdir: sandbox.workdir,
        exec: (command, options) => sandbox.exec(command, options),
        writeFile: (path, content) => sandbox.writeFile(path, content),
        listFiles: () => sandbox.listFiles(),
        close: () => sandbox.close(),
        readFile: async (path, options) => {
          try {
            const content = await sandbox.readFile(path, options);
            asked.push({ path, maxBytes: options?.maxBytes, outcome: content === null ? 'null' : `${Buffer.byteLength(content)} bytes` });
            return content;
          } catch (error) {
            asked.push({ path, maxBytes: options?.maxBytes, outcome: error instanceof Error ? error.name : String(error) });
            throw error;
          }
        },
      };
    };
    const { budget, request, create } = appWith({ budgetBytes: 1024 * 1024, maxReadBytes: 64 * 1024, create: spied });
    const id = await create();
    try {
      await real!.writeFile('big.bin', 'x'.repeat(16 * 1024 * 1024));
      await real!.writeFile('small.txt', 'small');
      assert.deepEqual(await errorOf(await request('POST', `/sandboxes/${id}/files/read`, { path: 'big.bin' })), {
        status: 413,
        retryAfter: null,
        code: 'too_large',
        message: 'sandbox readFile: "big.bin" is 16777216 bytes, over this server\'s limit of 65536 bytes a read (--max-read-mb)',
      });
      const small = await request('POST', `/sandboxes/${id}/files/read`, { path: 'small.txt' });
      assert.equal(P.fromBase64(P.ReadResponse.parse(await small.json()).content ?? ''), 'small');
      assert.deepEqual(asked, [
        { path: 'big.bin', maxBytes: 64 * 1024, outcome: FileTooLargeError.name },
        { path: 'small.txt', maxBytes: 64 * 1024, outcome: '5 bytes' },
      ]);
      assert.equal(budget.held, 0);
    } finally {
      await request('DELETE', `/sandboxes/${id}`);
    }
  });
});

describe('sandbox server exec replies, end to end', () => {
  const opened = closedAfterTests<SandboxServer>();

  it('refuses an exec whose reply has no room as a retryable capacity error on the client, before the command runs, and runs it once there is room', GUARD, async () => {
    const server = opened.started(await startSandboxServer({ port: 0, backend: 'virtual', maxBodyMemoryBytes: 1000 }));
    const box = await createRemoteSandbox({ url: server.url, limits: { maxOutputBytes: 600 }, heartbeatMs: 3_600_000, requestTimeoutMs: 1500, requestSlackMs: 0 });
    try {
      // A body that never ends holds 500 bytes: an exec's body fits beside it, its 600 bytes of room do not.
      const holder = await opened.open(server.url);
      holder.socket.write(`POST /v1/sandboxes/sbx_any/exec HTTP/1.1\r\nHost: ${new URL(server.url).host}\r\nContent-Type: application/json\r\n${P.PROTOCOL_HEADER}: ${P.PROTOCOL_VERSION}\r\nContent-Length: 500\r\n\r\n{`);
      await waitFor(() => server.stats().bodyBytes === 500, 'the held body to take 500 bytes');
      await assert.rejects(
        box.exec('echo ran > ran.txt', { timeoutMs: 1500 }),
        (e: unknown) => e instanceof InfraError && e.retryable && e.detail?.code === 'capacity' && /this command's reply \(its sandbox's output limit, 600 bytes, held before it runs\)/.test(e.message),
      );
      holder.socket.destroy();
      await waitFor(() => server.stats().bodyBytes === 0, 'the held body to give its bytes back');
      assert.equal(await box.readFile('ran.txt'), null, 'the refused command never ran');
      assert.equal((await box.exec('echo ran > ran.txt && echo done', { timeoutMs: 5000 })).stdout, 'done\n');
      assert.equal(await box.readFile('ran.txt'), 'ran\n');
      await waitFor(() => server.stats().bodyBytes === 0, 'every byte given back');
    } finally {
      await box.close();
    }
  });

  it('gives a reply\'s bytes back when its client goes away in the middle of it', GUARD, async () => {
    const server = opened.started(await startSandboxServer({ port: 0, backend: 'virtual' }));
    const box = await createRemoteSandbox({ url: server.url, limits: { maxOutputBytes: 32 * 1024 * 1024 }, heartbeatMs: 3_600_000 });
    try {
      await box.writeFile('big.txt', 'x'.repeat(30 * 1024 * 1024));
      const raw = await opened.open(server.url);
      // Not read from: the reply fills the socket's buffers and waits on it.
      raw.socket.pause();
      const body = JSON.stringify({ command: 'cat big.txt' });
      raw.socket.write(`POST /v1/sandboxes/${(box as { id: string }).id}/exec HTTP/1.1\r\nHost: ${new URL(server.url).host}\r\nContent-Type: application/json\r\n${P.PROTOCOL_HEADER}: ${P.PROTOCOL_VERSION}\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      await waitFor(() => server.stats().running === 0 && server.stats().bodyBytes > 30 * 1024 * 1024, 'the command to end and its reply to be held', 20_000);
      raw.socket.destroy();
      await waitFor(() => server.stats().bodyBytes === 0, 'the reply to give its bytes back');
    } finally {
      await box.close();
    }
  });
});
