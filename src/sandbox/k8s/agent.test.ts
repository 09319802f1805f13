// What an agent leaves or breaks in its own pod: processes it leaves running, a command cut at
// the output cap, a disk it fills until the pod is evicted, memory it fills until its container is
// OOM-killed, files it makes unreadable. Each must
// stay the agent's (killed before the next result, or shown to it as its own failure), never
// escape accounting nor turn the rollout into an infrastructure error. The fake's pods keep what a
// command leaves running between execs, as a real pod does (fake-container.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InfraError } from '../../core/index.ts';
import { sandboxAvailability } from '../index.ts';
import { SandboxFullError, SandboxPathError } from '../paths.ts';
import type { V1Pod } from '@kubernetes/client-node';
import type { K8sSandbox } from './index.ts';
import { reapScript, UNREADABLE_SHA256 } from './pod.ts';
import { memoryLimitKill } from './pod-status.ts';
import { fakeCluster } from './test-support.ts';

const { bwrap } = await sandboxAvailability();

/** Every process in the pod but pid 1 and the one asking, one line each: its argv joined by spaces. */
const LIST_PROCESSES = 'for d in /proc/[0-9]*; do p=${d#/proc/}; [ "$p" = 1 ] || [ "$p" = $$ ] || { tr "\\0\\n" "  " < $d/cmdline; echo; }; done 2>/dev/null';

async function processesIn(box: K8sSandbox): Promise<string[]> {
  const r = await box.exec(LIST_PROCESSES, { timeoutMs: 10_000 });
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.sandboxFailure, undefined);
  // Left out: the scripts running this very listing, and pid 1's own sleep.
  return r.stdout.split('\n').map((line) => line.trim()).filter((line) => line && !line.includes('sh -c') && !line.startsWith('timeout ') && line !== 'sleep 3600');
}

/** The exec status an API sends for a process killed by SIGKILL. */
const KILLED_FRAME = Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify({ status: 'Failure', reason: 'NonZeroExitCode', message: 'command terminated with non-zero exit code: 137', details: { causes: [{ reason: 'ExitCode', message: '137' }] } }))]);

/** The exec that kills what a command left after its script was killed or abandoned. */
const isCleanUp = (exec: { command: string }) => exec.command.includes(reapScript());

async function pid1(box: K8sSandbox): Promise<string> {
  return (await box.exec('tr "\\0" " " < /proc/1/cmdline', { timeoutMs: 10_000 })).stdout;
}

describe("what an agent leaves or breaks in its k8s pod stays the agent's", { skip: bwrap.available ? false : `the fake's pods need bwrap: ${bwrap.reason}` }, () => {
  const cluster = fakeCluster();
  const { open } = cluster;

  describe('processes left running are killed before the next result', () => {
    const leftovers = {
      'in the background': 'sleep 3101 &',
      'in a session of its own': 'setsid sleep 3101 &',
      'under nohup': 'nohup sleep 3101 >/dev/null 2>&1 &',
      'double-forked': '( (sleep 3101 &) & );',
      'as a daemon that ignores hang-ups and terminations': "setsid sh -c 'trap \"\" HUP TERM INT; exec sleep 3101' </dev/null >/dev/null 2>&1 &",
    };
    for (const [how, command] of Object.entries(leftovers)) {
      it(`a process left ${how}`, async () => {
        const box = await open();
        try {
          const init = await pid1(box);
          const r = await box.exec(`${command} echo left`, { timeoutMs: 10_000 });
          assert.deepEqual([r.exitCode, r.stdout, r.sandboxFailure], [0, 'left\n', undefined], r.stderr);
          assert.deepEqual(await processesIn(box), []);
          // pid 1, the pod's keep-alive, is never among them: the pod runs on.
          assert.equal(await pid1(box), init);
        } finally {
          await box.close();
        }
      });
    }

    it('a command that kills the script running it leaves nothing behind either', async () => {
      // The stream then stays open as long as what it left holds its output: until the client's deadline.
      const box = await open({ statusGraceMs: 200 });
      try {
        // $PPID is `timeout`; its parent is the script that would clean up after the command.
        const r = await box.exec('setsid sleep 3102 & read -r s < /proc/$PPID/stat; s=${s##*) }; set -- $s; kill -9 $2 $PPID', { timeoutMs: 1000 });
        assert.equal(r.sandboxFailure, undefined);
        assert.notEqual(r.exitCode, 0);
        assert.deepEqual(await processesIn(box), []);
      } finally {
        await box.close();
      }
    });
  });

  describe('a command the client stops listening to is stopped too', () => {
    it('a command cut at the output cap is killed with what it started', async () => {
      const box = await open({ limits: { maxOutputBytes: 64 * 1024 } });
      try {
        const r = await box.exec("setsid sleep 3103 & head -c 300000 /dev/zero | tr '\\0' x; sleep 3104", { timeoutMs: 60_000 });
        assert.equal(r.truncated, true);
        assert.equal(r.sandboxFailure, undefined);
        assert.deepEqual(await processesIn(box), []);
      } finally {
        await box.close();
      }
    });

    it('an aborted command is killed with what it started', async () => {
      const box = await open();
      try {
        const abort = new AbortController();
        const pending = box.exec('setsid sleep 3105 & sleep 3106', { timeoutMs: 60_000, signal: abort.signal });
        await cluster.api.execStarted(box.pod, 'sleep 3106');
        abort.abort();
        assert.equal((await pending).exitCode, 130);
        assert.deepEqual(await processesIn(box), []);
      } finally {
        await box.close();
      }
    });
  });

  describe("a process left killing everything in the pod is the agent's failure, never infrastructure", () => {
    // A command whose own script was SIGKILLed: the client cleans up after it.
    const KILLS_ITS_SCRIPT = 'kill -9 $$';
    const OVERRUN = /kills every process started in the pod/;
    /** Has the fake kill the clean-up exec, as a process left in the pod would, its first `times` tries; counts them. */
    const killCleanUps = (times = Infinity): { tries: number } => {
      const count = { tries: 0 };
      cluster.api.execHook = (ws, exec) => {
        if (!isCleanUp(exec) || count.tries >= times) return false;
        count.tries++;
        ws.send(KILLED_FRAME);
        ws.close();
        return true;
      };
      return count;
    };

    it('a process left looping `kill -9 -1` is killed by the clean-up, or the command fails as the agent\'s', async () => {
      const box = await open({ files: { 'keep.txt': 'kept\n' } });
      try {
        // The loop kills the command's script at once; which of it and the clean-up tries wins is a race.
        const r = await box.exec('while :; do kill -9 -1; done >/dev/null 2>&1 </dev/null & wait', { timeoutMs: 10_000 });
        assert.deepEqual([r.exitCode, r.sandboxFailure], [137, undefined], r.stderr);
        const next = await box.exec('echo hello', { timeoutMs: 10_000 });
        assert.equal(next.sandboxFailure, undefined);
        if (OVERRUN.test(r.stderr)) {
          assert.equal(next.exitCode, 137);
          assert.match(next.stderr, OVERRUN);
          assert.equal(await box.readFile('keep.txt'), null);
        } else {
          assert.deepEqual([next.exitCode, next.stdout], [0, 'hello\n'], next.stderr);
          assert.deepEqual(await processesIn(box), []);
          assert.equal(await box.readFile('keep.txt'), 'kept\n');
        }
      } finally {
        await box.close();
      }
    });

    it('a clean-up killed on every try while the pod runs on: the command, every later one and its files fail as the agent\'s', async () => {
      const box = await open({ files: { 'keep.txt': 'kept\n' } });
      try {
        const killed = killCleanUps();
        const r = await box.exec(`echo before; ${KILLS_ITS_SCRIPT}`, { timeoutMs: 10_000 });
        assert.equal(r.sandboxFailure, undefined, 'only the agent\'s processes can kill an exec in its pod');
        assert.deepEqual([r.exitCode, r.stdout], [137, 'before\n']);
        assert.match(r.stderr, OVERRUN);
        assert.ok(killed.tries > 1, `the clean-up was tried ${killed.tries} time(s)`);
        // Nothing more is run in the pod: later commands and file access fail as the agent's at once.
        const execs = cluster.api.requests.length;
        const next = await box.exec('echo hello', { timeoutMs: 10_000 });
        assert.deepEqual([next.exitCode, next.stdout, next.sandboxFailure], [137, '', undefined]);
        assert.match(next.stderr, OVERRUN);
        assert.equal(await box.readFile('keep.txt'), null);
        assert.deepEqual(await box.listFiles(), []);
        await assert.rejects(box.writeFile('more.txt', 'x'), (e: unknown) => e instanceof SandboxPathError && !(e instanceof SandboxFullError) && OVERRUN.test(e.message));
        assert.deepEqual(cluster.api.requests.slice(execs), []);
      } finally {
        await box.close();
      }
    });

    it('a clean-up killed on its first several tries still wins on a later one', async () => {
      const box = await open();
      try {
        const killed = killCleanUps(9);
        const r = await box.exec(`setsid sleep 3109 & ${KILLS_ITS_SCRIPT}`, { timeoutMs: 10_000 });
        assert.deepEqual([r.exitCode, r.sandboxFailure], [137, undefined]);
        assert.doesNotMatch(r.stderr, OVERRUN);
        assert.equal(killed.tries, 9);
        assert.deepEqual(await processesIn(box), []);
      } finally {
        await box.close();
      }
    });

    it('the API failing under the clean-up stays an infrastructure error', async () => {
      const box = await open();
      try {
        // The stream closes with no status: the API's failure, not something in the pod.
        cluster.api.execHook = (ws, exec) => {
          if (!isCleanUp(exec)) return false;
          ws.close();
          return true;
        };
        await assert.rejects(box.exec(KILLS_ITS_SCRIPT, { timeoutMs: 10_000 }), (e: unknown) => e instanceof InfraError && e.source === 'sandbox' && /clean-up/.test(e.message));
      } finally {
        await box.close();
      }
    });

    const STOPPED = /stops every process started in the pod/;

    it('a process left looping `kill -STOP -1`: the command times out, every later one and its files fail as the agent\'s', async () => {
      const box = await open({ files: { 'keep.txt': 'kept\n' }, statusGraceMs: 200, cleanUpDeadlineMs: 1500 });
      try {
        // The loop stops the command's script and its `timeout` too: the stream stays silent until the client's deadline.
        const r = await box.exec('while :; do kill -STOP -1; done >/dev/null 2>&1 </dev/null & wait', { timeoutMs: 1000 });
        assert.equal(r.sandboxFailure, undefined, 'only the agent\'s processes can stop an exec in its pod');
        assert.deepEqual([r.exitCode, r.timedOut], [124, true], r.stderr);
        assert.match(r.stderr, STOPPED);
        const execs = cluster.api.requests.length;
        const next = await box.exec('echo hello', { timeoutMs: 10_000 });
        assert.deepEqual([next.exitCode, next.stdout, next.sandboxFailure], [137, '', undefined]);
        assert.match(next.stderr, STOPPED);
        assert.equal(await box.readFile('keep.txt'), null);
        assert.deepEqual(cluster.api.requests.slice(execs), [], 'nothing more is run in the pod');
      } finally {
        await box.close();
      }
    });

    it('a clean-up whose stream opened but never ended while the pod runs on is the agent\'s, not infrastructure', async () => {
      const box = await open({ cleanUpDeadlineMs: 500 });
      try {
        // Opened and silent, as an exec whose process something in the pod stopped.
        cluster.api.execHook = (_ws, exec) => isCleanUp(exec);
        const r = await box.exec(`echo before; ${KILLS_ITS_SCRIPT}`, { timeoutMs: 10_000 });
        assert.equal(r.sandboxFailure, undefined);
        assert.deepEqual([r.exitCode, r.stdout], [137, 'before\n']);
        assert.match(r.stderr, STOPPED);
      } finally {
        await box.close();
      }
    });

    it('a clean-up killed on every try, when the pod then cannot be read, stays an infrastructure error', async () => {
      const box = await open();
      try {
        const killed = killCleanUps();
        // Reads fail once the clean-up has begun: whether the pod ended under it is unknown.
        cluster.api.intercept = (request) => (killed.tries > 0 && request.method === 'GET' ? new Response('{}', { status: 503 }) : undefined);
        const r = await box.exec(KILLS_ITS_SCRIPT, { timeoutMs: 10_000 });
        assert.match(r.sandboxFailure ?? '', /could not be read/);
        assert.doesNotMatch(r.stderr, OVERRUN);
      } finally {
        await box.close();
      }
    });
  });

  describe("a pod evicted for going over its own disk limit is the agent's failure, not infrastructure", () => {
    const ownLimits = [
      'Usage of EmptyDir volume "work" exceeds the limit "1Gi". ',
      'Container sandbox exceeded its local ephemeral storage limit "1Gi". ',
      'Pod ephemeral local storage usage exceeds the total limit of containers 1Gi. ',
    ];
    for (const message of ownLimits) {
      it(`"${message.trim()}": the command and every later one fail as the agent's, its files are gone`, async () => {
        const box = await open({ files: { 'keep.txt': 'kept\n' } });
        try {
          const pending = box.exec('echo filling; sleep 3107', { timeoutMs: 60_000 });
          await cluster.api.execStarted(box.pod, 'sleep 3107');
          await cluster.api.evictPod(box.pod, message);
          const r = await pending;
          assert.equal(r.sandboxFailure, undefined, 'the agent filled its own disk: not an infrastructure failure');
          assert.equal(r.exitCode, 137);
          assert.match(r.stderr, /evicted for going over its disk limit.*exceeds|evicted for going over its disk limit.*exceeded/);
          const next = await box.exec('echo hello', { timeoutMs: 10_000 });
          assert.deepEqual([next.exitCode, next.sandboxFailure], [137, undefined]);
          assert.match(next.stderr, /evicted for going over its disk limit/);
          assert.equal(await box.readFile('keep.txt'), null);
          assert.deepEqual(await box.listFiles(), []);
          await assert.rejects(box.writeFile('more.txt', 'x'), (e: unknown) => e instanceof SandboxFullError && /evicted/.test(e.message));
        } finally {
          await box.close();
        }
      });
    }

    it('an eviction because the node ran low on disk stays an infrastructure failure', async () => {
      const box = await open();
      try {
        const pending = box.exec('sleep 3108', { timeoutMs: 60_000 });
        await cluster.api.execStarted(box.pod, 'sleep 3108');
        await cluster.api.evictPod(box.pod, 'The node was low on resource: ephemeral-storage. Threshold quantity: 1Gi, available: 512Mi. ');
        const r = await pending;
        assert.match(r.sandboxFailure ?? '', /Evicted|node was low/);
        await assert.rejects(box.readFile('anything'), (e: unknown) => e instanceof InfraError);
      } finally {
        await box.close();
      }
    });
  });

  describe("a container OOM-killed by the sandbox's own memory limit is the agent's failure, not infrastructure", () => {
    const MEMORY = /went over its memory limit of 512 MiB \(536870912 bytes\).*OOM-killed/;
    const limits = { memoryBytes: 512 * 1024 ** 2 };

    it('killed mid-command: the command and every later one fail with 137 naming the limit, its files are gone', async () => {
      const box = await open({ limits, files: { 'keep.txt': 'kept\n' } });
      try {
        const pending = box.exec('echo allocating; sleep 3111', { timeoutMs: 60_000 });
        await cluster.api.execStarted(box.pod, 'sleep 3111');
        await cluster.api.endPod(box.pod, 'OOMKilled');
        const r = await pending;
        assert.equal(r.sandboxFailure, undefined, 'the agent filled its own memory: not an infrastructure failure');
        assert.equal(r.exitCode, 137);
        assert.match(r.stderr, MEMORY);
        const next = await box.exec('echo hello', { timeoutMs: 10_000 });
        assert.deepEqual([next.exitCode, next.stdout, next.sandboxFailure], [137, '', undefined]);
        assert.match(next.stderr, MEMORY);
        assert.equal(await box.readFile('keep.txt'), null);
        assert.deepEqual(await box.listFiles(), []);
        await assert.rejects(box.writeFile('more.txt', 'x'), (e: unknown) => e instanceof SandboxPathError && !(e instanceof SandboxFullError) && MEMORY.test(e.message));
      } finally {
        await box.close();
      }
    });

    it('killed between commands (what a command left running): the next command finds it and fails as the agent\'s', async () => {
      const box = await open({ limits });
      try {
        await cluster.api.endPod(box.pod, 'OOMKilled');
        const r = await box.exec('echo hello', { timeoutMs: 10_000 });
        assert.deepEqual([r.exitCode, r.sandboxFailure], [137, undefined]);
        assert.match(r.stderr, MEMORY);
      } finally {
        await box.close();
      }
    });

    // Ends the agent did not bring about: each stays an infrastructure failure, for the command and for the files after it.
    const infrastructureEnds: { name: string; end: (box: K8sSandbox) => Promise<unknown>; failure: RegExp; after?: RegExp }[] = [
      { name: 'a container killed for another reason', end: (box) => cluster.api.endPod(box.pod, 'Error'), failure: /Error, exit 137/ },
      {
        name: 'an eviction because the node ran low on memory',
        end: (box) => cluster.api.evictPod(box.pod, 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 51200Ki. '),
        failure: /Evicted: The node was low on resource: memory/,
        after: /node was low/,
      },
      { name: 'a pod deleted under the command', end: (box) => cluster.core.deleteNamespacedPod({ name: box.pod, namespace: box.namespace }), failure: /the pod was deleted/ },
    ];
    for (const [n, { name, end, failure, after }] of infrastructureEnds.entries()) {
      it(`${name} stays an infrastructure failure`, async () => {
        const box = await open({ limits });
        try {
          const marker = `sleep ${3112 + n}`;
          const pending = box.exec(marker, { timeoutMs: 60_000 });
          await cluster.api.execStarted(box.pod, marker);
          await end(box);
          const r = await pending;
          assert.match(r.sandboxFailure ?? '', failure);
          assert.doesNotMatch(r.stderr, /memory limit/);
          if (after) assert.match((await box.exec('echo hello', { timeoutMs: 10_000 })).sandboxFailure ?? '', after);
          await assert.rejects(box.readFile('anything'), (e: unknown) => e instanceof InfraError);
        } finally {
          await box.close();
        }
      });
    }

    it('an OOMKilled container in a pod the cluster made other than Guaranteed stays an infrastructure failure', async () => {
      const box = await open({ limits });
      try {
        // A webhook that lowered the requests: the node's OOM killer may then have picked the pod.
        cluster.api.intercept = async (request) => {
          if (request.method !== 'GET' || !request.path.endsWith(`/pods/${box.pod}`)) return undefined;
          const pod = (await (await request.forward()).json()) as V1Pod;
          return Response.json({ ...pod, status: { ...pod.status, qosClass: 'Burstable' } });
        };
        const pending = box.exec('sleep 3115', { timeoutMs: 60_000 });
        await cluster.api.execStarted(box.pod, 'sleep 3115');
        await cluster.api.endPod(box.pod, 'OOMKilled');
        const r = await pending;
        assert.match(r.sandboxFailure ?? '', /OOMKilled, exit 137/);
      } finally {
        await box.close();
      }
    });

    it('a container OOM-killed while the sandbox is being set up fails its start as infrastructure', async () => {
      // Writing the task's files: nothing of the agent's has run yet.
      cluster.api.upgradeHook = (socket, exec) => {
        if (!exec.command.includes('cat > "$real"')) return false;
        void cluster.api.endPod(exec.pod, 'OOMKilled').then(() => socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));
        return true;
      };
      await assert.rejects(open({ limits, files: { 'task.txt': 'x' } }), (e: unknown) => e instanceof InfraError && e.source === 'sandbox');
    });
  });

  describe("files the agent made unreadable are the agent's problem", () => {
    it('reading one is a path error the agent can be shown, not an infrastructure error nor a missing file', async () => {
      const box = await open({ files: { 'secret.txt': 'a\n', 'd/inner.txt': 'b\n' } });
      try {
        const r = await box.exec('chmod 0 secret.txt d', { timeoutMs: 10_000 });
        assert.equal(r.exitCode, 0, r.stderr);
        await assert.rejects(box.readFile('secret.txt'), (e: unknown) => e instanceof SandboxPathError && /secret\.txt.*permission denied/.test(e.message));
        await assert.rejects(box.readFile('d/inner.txt'), (e: unknown) => e instanceof SandboxPathError && /permission denied/.test(e.message));
        await assert.rejects(box.writeFile('secret.txt', 'x'), (e: unknown) => e instanceof SandboxPathError && /permission denied/.test(e.message));
      } finally {
        await box.close();
      }
    });

    it('the listing shows them as unreadable rather than failing', async () => {
      const box = await open({ files: { 'ok.txt': 'fine\n', 'secret.txt': 'a\n', 'd/inner.txt': 'b\n' } });
      try {
        await box.exec('chmod 0 secret.txt d', { timeoutMs: 10_000 });
        const listed = await box.listFiles();
        assert.deepEqual(
          listed.map((f) => [f.path, f.sha256 === UNREADABLE_SHA256]),
          [
            ['d', true],
            ['ok.txt', false],
            ['secret.txt', true],
          ],
        );
      } finally {
        await box.close();
      }
    });
  });

  it('a disk full under a file write is the agent\'s (SandboxFullError), as on bwrap', async () => {
    const box = await open();
    try {
      cluster.api.execHook = (ws, exec) => {
        if (!exec.command.includes('cat > "$real"')) return false;
        ws.send(Buffer.concat([Buffer.from([2]), Buffer.from('cat: write error: No space left on device\n')]));
        ws.send(Buffer.concat([Buffer.from([3]), Buffer.from(JSON.stringify({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '1' }] } }))]));
        return true;
      };
      await assert.rejects(box.writeFile('big.bin', 'x'.repeat(1000)), (e: unknown) => e instanceof SandboxFullError && /No space left/.test(e.message));
    } finally {
      await box.close();
    }
  });
});

describe('reading an OOMKilled container from the pod status', () => {
  const container = (fields: Record<string, unknown>) => ({ name: 'sandbox', image: 'busybox', imageID: '', ready: false, restartCount: 0, ...fields });
  const oomKilled = { terminated: { reason: 'OOMKilled', exitCode: 137 } };
  const pod = (status: Record<string, unknown>, metadata: Record<string, unknown> = {}): V1Pod => ({ metadata, status: { phase: 'Failed', qosClass: 'Guaranteed', ...status } });

  it("counts a Guaranteed pod's container OOM-killed, now or before one restart, as its own memory limit", () => {
    assert.equal(memoryLimitKill(pod({ containerStatuses: [container({ state: oomKilled })] })), true);
    assert.equal(memoryLimitKill(pod({ phase: 'Running', containerStatuses: [container({ restartCount: 1, state: { running: {} }, lastState: oomKilled })] })), true);
  });

  it('leaves every other end to the cluster', () => {
    const cases: Record<string, V1Pod> = {
      'killed for another reason': pod({ containerStatuses: [container({ state: { terminated: { reason: 'Error', exitCode: 137 } } })] }),
      'evicted for node memory pressure': pod({ reason: 'Evicted', message: 'The node was low on resource: memory.', containerStatuses: [container({ state: oomKilled })] }),
      'being deleted': pod({ containerStatuses: [container({ state: oomKilled })] }, { deletionTimestamp: new Date() }),
      'a Burstable pod': pod({ qosClass: 'Burstable', containerStatuses: [container({ state: oomKilled })] }),
      'no QoS class reported': pod({ qosClass: undefined, containerStatuses: [container({ state: oomKilled })] }),
      'another container': pod({ containerStatuses: [container({ name: 'sidecar', state: oomKilled })] }),
      'an OOM kill before several restarts': pod({ phase: 'Running', containerStatuses: [container({ restartCount: 2, state: { running: {} }, lastState: oomKilled })] }),
      'running': pod({ phase: 'Running', containerStatuses: [container({ state: { running: {} } })] }),
    };
    for (const [what, status] of Object.entries(cases)) assert.equal(memoryLimitKill(status), false, what);
  });
});
