// The k8s backend under attack: an API server (or a proxy in front of it) that is broken or
// hostile, and an agent inside the pod that is hostile. Each case says what must hold: no crash or
// hang, nothing leaked, an infrastructure failure reported as such (never as the command's
// outcome). The reaper's own attacks are in reap.test.ts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import type { WebSocket } from 'ws';
import { InfraError, InputError } from '../../core/index.ts';
import { waitFor } from '../../../test/support/wait.ts';
import { sandboxAvailability } from '../index.ts';
import { resolveLimits } from '../limits.ts';
import { startFakeKubeApi, type FakeKubeApi } from './fake-api.ts';
import { createK8sSandbox } from './index.ts';
import { podManifest, reapScript } from './pod.ts';
import { fakeCluster } from './test-support.ts';

const { bwrap } = await sandboxAvailability();

const frame = (channel: number, payload: string | Buffer = '') => Buffer.concat([Buffer.from([channel]), Buffer.from(payload)]);
const SUCCESS = frame(3, JSON.stringify({ status: 'Success', metadata: {} }));
const exitFrame = (code: string | undefined) => frame(3, JSON.stringify({ status: 'Failure', reason: 'NonZeroExitCode', message: 'command terminated', details: { causes: code === undefined ? [] : [{ reason: 'ExitCode', message: code }] } }));
const statusBody = (code: number) => JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason: 'Refused', message: `refused with ${code} on purpose` });
const refuse = (code: number) => new Response(statusBody(code), { status: code, headers: { 'content-type': 'application/json' } });
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
/** The exec that kills what a command left after the client stopped listening to it: hooks let it through to the pod. */
const cleanUp = (exec: { command: string }) => exec.command.includes(reapScript());

/** Asserts an InfraError from the sandbox of `kind` (and `retryable`, and a message matching `message`), showing what came instead. */
function infra(kind: string, options: { retryable?: boolean; message?: RegExp } = {}) {
  return (error: unknown) => {
    assert.ok(error instanceof InfraError, `expected an InfraError, got ${String(error)}`);
    assert.equal(error.source, 'sandbox');
    assert.equal(error.kind, kind, error.message);
    if (options.retryable !== undefined) assert.equal(error.retryable, options.retryable, error.message);
    if (options.message) assert.match(error.message, options.message);
    return true;
  };
}

describe('k8s sandboxes against a hostile or broken API and agent', { skip: bwrap.available ? false : `the fake's pods need bwrap: ${bwrap.reason}` }, () => {
  const cluster = fakeCluster();
  const { open } = cluster;

  describe('exec over a hostile WebSocket', () => {
    it('takes frames exec does not have and broken statuses as the API failing, without crashing the process', async () => {
      const box = await open();
      try {
        const attacks: Array<[string, (ws: WebSocket) => void, RegExp]> = [
          ['a frame on channel 7', (ws) => ws.send(frame(7, 'abc')), /a frame on channel 7/],
          ['a status that is not JSON', (ws) => ws.send(frame(3, 'garbage')), /status that is not JSON: "garbage"/],
          ['a status that is JSON null', (ws) => ws.send(frame(3, 'null')), /not a Status object: null/],
          ['a status that is a number', (ws) => ws.send(frame(3, '5')), /not a Status object: 5/],
          ['an empty frame', (ws) => ws.send(Buffer.alloc(0)), /an empty frame/],
          ['a text frame', (ws) => ws.send('hello'), /a text frame/],
        ];
        for (const [what, attack, message] of attacks) {
          cluster.api.execHook = (ws) => {
            attack(ws);
            return true;
          };
          await assert.rejects(box.exec('true', { timeoutMs: 10_000 }), infra('malformed_response', { message }), what);
        }
      } finally {
        await box.close();
      }
    });

    it("ignores the far side's close frames, and never ends this process's own stdout or stderr", async () => {
      const box = await open();
      try {
        cluster.api.execHook = (ws) => {
          ws.send(frame(1, 'kept\n'));
          for (const close of [[255], [255, 1], [255, 2], [255, 0]]) ws.send(Buffer.from(close));
          ws.send(SUCCESS);
          return true;
        };
        const result = await box.exec('true', { timeoutMs: 10_000 });
        assert.deepEqual({ exitCode: result.exitCode, stdout: result.stdout }, { exitCode: 0, stdout: 'kept\n' });
        assert.equal(process.stdout.writableEnded, false, 'stdout still open');
        assert.equal(process.stderr.writableEnded, false, 'stderr still open');
      } finally {
        await box.close();
      }
    });

    it('takes an exit code that is no exit status (0, over 255, negative, words, missing) as malformed', async () => {
      const box = await open();
      try {
        for (const code of ['99999', '-1', 'abc', '0', '1e2', undefined]) {
          cluster.api.execHook = (ws) => {
            ws.send(exitFrame(code));
            return true;
          };
          await assert.rejects(box.exec('true', { timeoutMs: 10_000 }), infra('malformed_response', { message: /NonZeroExitCode with exit code/ }), `exit code ${code}`);
        }
        cluster.api.execHook = (ws) => {
          ws.send(exitFrame('3'));
          return true;
        };
        assert.equal((await box.exec('true', { timeoutMs: 10_000 })).exitCode, 3);
      } finally {
        await box.close();
      }
    });

    it('cuts an output flood at the output limit and drops the stream; refuses one frame far over it', async () => {
      const box = await open({ limits: { maxOutputBytes: 100_000 } });
      try {
        let closed = false;
        cluster.api.execHook = (ws, exec) => {
          if (cleanUp(exec)) return false;
          ws.on('close', () => (closed = true));
          const chunk = frame(1, Buffer.alloc(64 * 1024, 'x'));
          const pump = () => {
            while (ws.readyState === ws.OPEN && ws.bufferedAmount < 1024 ** 2) ws.send(chunk);
            if (ws.readyState === ws.OPEN) setImmediate(pump);
          };
          pump();
          return true;
        };
        const flooded = await box.exec('yes', { timeoutMs: 60_000 });
        assert.deepEqual({ truncated: flooded.truncated, bytes: flooded.stdout.length }, { truncated: true, bytes: 100_000 });
        await waitFor(() => closed, 'the flooding stream to be dropped');
        // Past the frame bound (the larger of the output limit and 1 MiB) the frame is never read whole.
        cluster.api.execHook = (ws) => {
          ws.send(frame(1, Buffer.alloc(3 * 1024 ** 2, 'y')));
          return true;
        };
        await assert.rejects(box.exec('true', { timeoutMs: 10_000 }), infra('malformed_response', { message: /a frame over 1048576 bytes/ }));
      } finally {
        await box.close();
      }
    });

    it('takes a stream that never opens as the API timing out, and drops the connection', async () => {
      const box = await open({ statusGraceMs: 200 });
      try {
        let held = 0;
        let dropped = 0;
        cluster.api.upgradeHook = (socket: Duplex) => {
          held++;
          socket.on('end', () => dropped++);
          socket.resume();
          return true;
        };
        await assert.rejects(box.exec('true', { timeoutMs: 50 }), infra('timeout', { message: /the stream did not open within 250 ms/ }));
        assert.equal(held, 1);
        await waitFor(() => dropped === 1, 'the client to drop the unanswered connection');
      } finally {
        await box.close();
      }
    });

    it('names the status and message of a refused exec, retryable only for 429 and 5xx', async () => {
      const box = await open();
      try {
        for (const code of [401, 403, 404, 410, 429, 500, 503]) {
          cluster.api.upgradeHook = (socket) => {
            const body = statusBody(code);
            socket.end(`HTTP/1.1 ${code} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
            return true;
          };
          await assert.rejects(box.exec('true', { timeoutMs: 10_000 }), infra('http', { retryable: code >= 500 || code === 429, message: new RegExp(`exec refused: HTTP ${code}: refused with ${code} on purpose`) }), `HTTP ${code}`);
        }
      } finally {
        await box.close();
      }
    });

    it('takes a stream closed or cut without a status as a connection failure', async () => {
      const box = await open();
      try {
        for (const end of ['close', 'terminate'] as const) {
          cluster.api.execHook = (ws) => {
            ws.send(frame(1, 'partial'));
            ws[end]();
            return true;
          };
          await assert.rejects(box.exec('true', { timeoutMs: 10_000 }), infra('connection', { retryable: true, message: /closed before the command's status arrived/ }), end);
        }
      } finally {
        await box.close();
      }
    });

    it("gives up on a silent stream past the command's own timeout: a timeout while the pod runs, the sandbox failing once it ended", async () => {
      const box = await open({ statusGraceMs: 100 });
      try {
        cluster.api.execHook = (_ws, exec) => !cleanUp(exec);
        const silent = await box.exec('sleep 1', { timeoutMs: 50 });
        assert.deepEqual({ exitCode: silent.exitCode, timedOut: silent.timedOut, failure: silent.sandboxFailure }, { exitCode: 124, timedOut: true, failure: undefined });
        cluster.api.execHook = () => {
          cluster.api.setStatus(box.pod, { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' });
          return true;
        };
        const evicted = await box.exec('sleep 1', { timeoutMs: 50 });
        assert.equal(evicted.sandboxFailure, 'the pod ended while the command ran: the pod ended (Failed: Evicted: The node was low on resource: memory.)');
      } finally {
        await box.close();
      }
    });

    it('refuses stdin on an API server that speaks only v4.channel.k8s.io, saying why', async () => {
      const older = await startFakeKubeApi({ execProtocols: ['v4.channel.k8s.io'] });
      try {
        const config = new KubeConfig();
        config.loadFromString(older.kubeconfig());
        const box = await createK8sSandbox({ kubeConfig: config, image: 'busybox', pollMs: 5, reapEveryMs: 0 });
        try {
          assert.equal((await box.exec('echo v4', { timeoutMs: 10_000 })).stdout, 'v4\n');
          await assert.rejects(box.exec('cat', { timeoutMs: 10_000, stdin: 'x' }), infra('unavailable', { retryable: false, message: /speaks v4\.channel\.k8s\.io, which cannot close stdin/ }));
        } finally {
          await box.close();
        }
      } finally {
        await older.close();
      }
    });
  });

  describe('API requests that stall, flood, lie or fail', () => {
    it('fails a request the API never answers after requestTimeoutMs, and deletes the pod', { timeout: 60_000 }, async () => {
      // Created at once (no pod behind it, so that only the stalled reads can take long); reads never answered.
      const seen = cluster.api.requests.length;
      cluster.api.intercept = (request) => {
        if (request.method === 'POST') return Response.json({ kind: 'Pod', apiVersion: 'v1', metadata: { name: 'made' } }, { status: 201 });
        return request.method === 'GET' && /\/pods\/gauntlet-sbx-/.test(request.path) ? new Promise<never>(() => undefined) : undefined;
      };
      // The create is answered at once, but on a loaded machine that can still take over 100 ms to
      // arrive: the bound is one an answered request always meets.
      await assert.rejects(open({ requestTimeoutMs: 1_000, startTimeoutMs: 3_000 }), infra('timeout', { retryable: true, message: /was not running after 3000 ms \(the last read failed: .*no answer within 1000 ms/ }));
      assert.ok(cluster.api.requests.slice(seen).some((r) => r.startsWith('DELETE /api/v1/namespaces/sandboxes/pods/gauntlet-sbx-')), 'the pod deleted after the failed start');
      cluster.api.intercept = (request) => (request.method === 'POST' ? new Promise<never>(() => undefined) : undefined);
      await assert.rejects(open({ requestTimeoutMs: 100 }), infra('timeout', { retryable: true, message: /create: no answer within 100 ms/ }));
    });

    it('refuses an answer over the size bound instead of reading it whole', { timeout: 60_000 }, async () => {
      const huge = `{"kind":"Pod","apiVersion":"v1","status":{"phase":"Pending","message":"${'x'.repeat(17 * 1024 ** 2)}"}}`;
      cluster.api.intercept = (request) => (request.method === 'GET' && /\/pods\/gauntlet-sbx-/.test(request.path) ? new Response(huge, { headers: { 'content-type': 'application/json' } }) : undefined);
      await assert.rejects(open({ startTimeoutMs: 300 }), infra('timeout', { message: /the answer \(HTTP 200\) is over 16777216 bytes/ }));
      assert.deepEqual(cluster.api.pods(), []);
    });

    it('deletes a pod whose create answer was lost or unreadable, and never one whose name was taken', async () => {
      const answers: Array<[string, () => Response, string]> = [
        ['a 500 after creating it', () => refuse(500), 'http'],
        ['a 201 that is not JSON', () => new Response('{"kind":"Pod", trunc', { status: 201, headers: { 'content-type': 'application/json' } }), 'malformed_response'],
        ["a proxy's HTML page", () => new Response('<html>sign in</html>', { status: 200, headers: { 'content-type': 'text/html' } }), 'malformed_response'],
      ];
      for (const [what, answer, kind] of answers) {
        cluster.api.intercept = async (request) => {
          if (request.method !== 'POST') return undefined;
          await request.forward();
          return answer();
        };
        await assert.rejects(open(), infra(kind), what);
        assert.deepEqual(cluster.api.pods(), [], what);
      }
      const deletes = () => cluster.api.requests.filter((r) => r.startsWith('DELETE')).length;
      const before = deletes();
      cluster.api.intercept = (request) => (request.method === 'POST' ? refuse(409) : undefined);
      await assert.rejects(open(), infra('http', { retryable: false, message: /refused with 409/ }));
      assert.equal(deletes(), before, 'no delete for a name that is taken');
    });

    it('classifies API failures at create, wait, lease renewal and delete: retryable only for 429 and 5xx', { timeout: 120_000 }, async () => {
      const codes = [401, 403, 404, 409, 410, 429, 500, 503];
      const retryable = (code: number) => code >= 500 || code === 429;
      for (const code of codes) {
        cluster.api.intercept = (request) => (request.method === 'POST' ? refuse(code) : undefined);
        await assert.rejects(open(), infra('http', { retryable: retryable(code), message: /create: HTTP-Code: \d+/ }), `create ${code}`);
        cluster.api.intercept = (request) => (request.method === 'GET' && /\/pods\/gauntlet-sbx-/.test(request.path) ? refuse(code) : undefined);
        // A busy API server is waited out until the start deadline; a refusal ends the wait at once.
        await assert.rejects(open({ startTimeoutMs: 100 }), retryable(code) ? infra('timeout', { message: new RegExp(`the last read failed: .*HTTP-Code: ${code}`) }) : infra('http', { retryable: false }), `read ${code}`);
        cluster.api.intercept = undefined;
        assert.deepEqual(cluster.api.pods(), [], `read ${code}: pod deleted`);
      }
      const box = await open();
      try {
        for (const code of codes) {
          cluster.api.intercept = (request) => (request.method === 'PATCH' ? refuse(code) : undefined);
          await assert.rejects(box.renew(), infra('http', { retryable: retryable(code) }), `renew ${code}`);
        }
      } finally {
        cluster.api.intercept = undefined;
        await box.close();
      }
      for (const code of codes) {
        const closing = await open();
        cluster.api.intercept = (request) => (request.method === 'DELETE' ? refuse(code) : undefined);
        // 404: already gone, which is what close wants.
        if (code === 404) await closing.close();
        else await assert.rejects(closing.close(), infra('http', { retryable: retryable(code) }), `delete ${code}`);
        cluster.api.intercept = undefined;
      }
    });

    it('waits out a busy API while a pod starts, and says what a pod that never runs waits on', async () => {
      let busy = 3;
      cluster.api.intercept = (request) => (request.method === 'GET' && /\/pods\/gauntlet-sbx-/.test(request.path) && busy-- > 0 ? refuse(503) : undefined);
      const box = await open();
      await box.close();
      const stuck = (reason: string, message: string) => async (request: Parameters<NonNullable<FakeKubeApi['intercept']>>[0]) => {
        if (request.method !== 'POST') return undefined;
        const made = (await (await request.forward()).json()) as { metadata: { name: string } };
        cluster.api.setStatus(made.metadata.name, { phase: 'Pending', containerStatuses: [{ name: 'sandbox', image: 'x', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason, message } } }] });
        return undefined;
      };
      cluster.api.intercept = stuck('ImagePullBackOff', 'Back-off pulling image "nosuch:1"');
      await assert.rejects(open({ startTimeoutMs: 100 }), infra('timeout', { message: /not running after 100 ms \(phase Pending, waiting: ImagePullBackOff: Back-off pulling image "nosuch:1"\)/ }));
      cluster.api.intercept = stuck('InvalidImageName', 'couldn\'t parse image name "UPPER:case"');
      await assert.rejects(open({ startTimeoutMs: 60_000 }), (e: unknown) => e instanceof InputError && e.where === 'image busybox' && /couldn't parse image name/.test(e.message));
      assert.deepEqual(cluster.api.pods(), []);
    });

    it('refuses a namespace in the kubeconfig that is no namespace name, naming the context', async () => {
      const config = new KubeConfig();
      config.loadFromString(cluster.api.kubeconfig('Not_A/Namespace'));
      await assert.rejects(createK8sSandbox({ kubeConfig: config, image: 'busybox', pollMs: 5, reapEveryMs: 0 }), (e: unknown) => e instanceof InputError && e.where === 'kubeconfig context "fake": namespace');
      assert.deepEqual(cluster.api.pods(), []);
    });
  });

  describe('a hostile agent inside the pod', () => {
    it('lists files whose names hold newlines as they are, and cannot forge an entry', async () => {
      const box = await open();
      try {
        const forged = `a\n12 ${'0'.repeat(64)} forged`;
        const made = await box.exec(`printf one > "$(printf 'a\\n12 ${'0'.repeat(64)} forged')"; printf two > 'b c'; mkdir d && printf three > "d/$(printf 'x\\ny')"`, { timeoutMs: 10_000 });
        assert.equal(made.exitCode, 0, made.stderr);
        const expected = [
          { path: forged, size: 3, sha256: sha256('one') },
          { path: 'b c', size: 3, sha256: sha256('two') },
          { path: 'd/x\ny', size: 5, sha256: sha256('three') },
        ];
        assert.deepEqual(await box.listFiles(), expected);
      } finally {
        await box.close();
      }
    });

    it('cannot make a file unreadable by making it larger than the command output limit', async () => {
      const box = await open({ limits: { maxOutputBytes: 1000 } });
      try {
        assert.equal((await box.exec("head -c 5000 /dev/zero | tr '\\0' x > big", { timeoutMs: 10_000 })).exitCode, 0);
        assert.equal(await box.readFile('big'), 'x'.repeat(5000));
        // Commands still stop at the limit.
        assert.equal((await box.exec('cat big', { timeoutMs: 10_000 })).truncated, true);
      } finally {
        await box.close();
      }
    });

    it("cannot end the pod by signalling its pid 1 or killing pid 1's child", { timeout: 30_000 }, async () => {
      const command = podManifest({ name: 'p', image: 'busybox', workdir: '/work', limits: resolveLimits({}), uid: 100_000, leaseExpiresAt: 0, maxLifetimeSeconds: 60 }).spec?.containers[0]?.command ?? [];
      assert.equal(command[0], 'sh');
      // Runs as a command in the pod would: same pid namespace, same uid. It waits for pid 1's
      // `sleep`, signals pid 1 and that child, then waits for pid 1 to start a new
      // `sleep`: proof that it went on.
      const attack = [
        'sleeping() { for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = sleep ] && echo ${p#/proc/}; done; }',
        'first=; while [ -z "$first" ]; do first=$(sleeping); done',
        'for s in TERM INT HUP QUIT KILL USR1 USR2 ALRM PIPE; do kill -$s 1 2>/dev/null; done',
        // A shell exits after a child it waits for dies of SIGINT; then a new child is forced.
        'kill -INT $first; kill -INT 1 2>/dev/null; kill -KILL $first',
        'while :; do next=$(sleeping); [ -n "$next" ] && [ "$next" != "$first" ] && break; done',
        'kill -0 1 && echo survived',
      ].join('\n');
      const boot = `(${attack}) & exec sh -c ${"'" + command[2]!.replace(/'/g, `'\\''`) + "'"}`;
      const child = spawn('bwrap', ['--die-with-parent', '--unshare-pid', '--as-pid-1', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--', 'sh', '-c', boot], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const ended = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      try {
        await Promise.race([waitFor(() => out.includes('survived'), 'the attack to report', 25_000), ended.then((code) => assert.fail(`pid 1 ended (exit ${code}) under the attack; output: ${JSON.stringify(out)}`))]);
      } finally {
        child.kill('SIGKILL');
        await ended;
      }
    });
  });
});
