// Attacks that try to get out of a bwrap sandbox through its public API: leave the work dir, read
// host secrets, trick the host-side file API with symlinks, reach the network, signal the parent.
// Each is one attempt; each must fail, end in bounded time, and leave the sandbox usable.
// (src/sandbox/*.test.ts prove the mechanisms; this suite is the attacker's side, end to end.)
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Sandbox } from '../../src/core/index.ts';
import { hostCanary, inSandbox, LIMITS, run, stillWorks, token } from './support.ts';

/** What the host-side API hands back for `path`: the content, null, or 'refused' when it throws. */
async function hostRead(sb: Sandbox, path: string): Promise<string | null> {
  try {
    return await sb.readFile(path);
  } catch {
    return 'refused';
  }
}

describe('attack: leave the work dir', () => {
  it('writes into the root, /usr and /etc all fail, and nothing appears on the host', (t) =>
    inSandbox(t, async (sb) => {
      const name = token();
      const r = await run(sb, `for d in / /usr/bin /etc /var; do echo pwned > "$d/${name}" && echo "WROTE $d"; done; true`);
      assert.doesNotMatch(r.stdout, /WROTE/);
      for (const d of ['/', '/usr/bin', '/etc', '/var']) assert.equal(existsSync(join(d, name)), false, `${d}/${name} on the host`);
    }));

  it('the sandbox /tmp is not the host /tmp', (t) =>
    inSandbox(t, async (sb) => {
      const name = token();
      await run(sb, `echo x > /tmp/${name}`);
      assert.equal(existsSync(join(tmpdir(), name)), false);
      assert.equal(existsSync(join('/tmp', name)), false);
    }));

  it('a host file cannot be read by path, through /proc/*/root, or through /proc/self/cwd/..', (t) =>
    inSandbox(t, async (sb) => {
      const canary = hostCanary();
      const r = await run(sb, `cat ${canary.path} /proc/1/root${canary.path} /proc/self/root${canary.path} /proc/self/cwd/../..${canary.path} 2>&1; true`);
      assert.doesNotMatch(r.stdout, new RegExp(canary.secret));
    }));

  it('readFile and writeFile refuse ../ traversal and absolute host paths', (t) =>
    inSandbox(t, async (sb) => {
      const canary = hostCanary();
      for (const path of [`../../../../..${canary.path}`, canary.path, `a/../../..${canary.path}`]) {
        assert.doesNotMatch(String(await hostRead(sb, path)), new RegExp(canary.secret), path);
      }
      const victim = join(canary.dir, 'victim.txt');
      await assert.rejects(sb.writeFile(`../../../../..${victim}`, 'pwned'));
      assert.equal(existsSync(victim), false);
    }));

  it('a hard link to a host file cannot be made', (t) =>
    inSandbox(t, async (sb) => {
      const canary = hostCanary();
      const r = await run(sb, `ln ${canary.path} hard 2>&1 && cat hard; true`);
      assert.doesNotMatch(r.stdout, new RegExp(canary.secret));
    }));

  it('sees only a handful of devices; no disks, no kernel memory', (t) =>
    inSandbox(t, async (sb) => {
      const r = await run(sb, 'ls /dev; cat /dev/sda /dev/mem /dev/kmsg 2>&1 | head -c 200; true');
      assert.doesNotMatch(r.stdout, /^(sd|nvme|vd|xvd|mem|kmsg)/m);
    }));
});

describe('attack: symlinks against the host-side file API', () => {
  it('readFile of a symlink to a host file does not follow it out', (t) =>
    inSandbox(t, async (sb) => {
      const canary = hostCanary();
      await run(sb, `ln -s ${canary.path} link; ln -s ../../../../../../..${canary.path} rel`);
      assert.doesNotMatch(String(await hostRead(sb, 'link')), new RegExp(canary.secret));
      assert.doesNotMatch(String(await hostRead(sb, 'rel')), new RegExp(canary.secret));
    }));

  it("readFile of a symlink to /proc/self/environ does not hand over Gauntlet's own environment", (t) =>
    inSandbox(t, async (sb) => {
      const secret = token();
      process.env.GAUNTLET_ATTACK_SECRET = secret;
      try {
        await run(sb, 'ln -s /proc/self/environ env; ln -s /proc/1/environ env1; mkdir -p d; ln -s /proc/self d/p');
        for (const path of ['env', 'env1', 'd/p/environ']) assert.doesNotMatch(String(await hostRead(sb, path)), new RegExp(secret), path);
      } finally {
        delete process.env.GAUNTLET_ATTACK_SECRET;
      }
    }));

  it('writeFile onto a symlink that points out of the work dir does not write on the host', (t) =>
    inSandbox(t, async (sb) => {
      const dir = mkdtempSync(join(tmpdir(), 'gauntlet-victim-'));
      const victim = join(dir, 'victim.txt');
      await run(sb, `ln -s ${victim} out; mkdir -p sub; ln -s ${dir} sub/dir`);
      for (const path of ['out', 'sub/dir/victim.txt']) await sb.writeFile(path, 'pwned').catch(() => undefined);
      assert.equal(existsSync(victim), false);
    }));

  it('a symlink swapped in while the host reads (a race) never yields the host file', (t) =>
    inSandbox(t, async (sb) => {
      const canary = hostCanary();
      await run(sb, 'echo plain > f');
      // The command flips f between a plain file and a link to the canary while the host reads it.
      const flipping = sb.exec(`end=$((SECONDS+2)); while [ $SECONDS -lt $end ]; do ln -sfn ${canary.path} f.new; mv -fT f.new f; echo plain > f.tmp; mv -fT f.tmp f; done`, { timeoutMs: 3000 });
      const reads: (string | null)[] = [];
      for (let i = 0; i < 150; i++) reads.push(await hostRead(sb, 'f'));
      await flipping;
      assert.equal(reads.filter((r) => r?.includes(canary.secret)).length, 0);
    }));

  it('a symlink swapped in while the host writes (a race) never writes on the host', (t) =>
    inSandbox(t, async (sb) => {
      const dir = mkdtempSync(join(tmpdir(), 'gauntlet-victim-'));
      const victim = join(dir, 'victim.txt');
      writeFileSync(victim, 'original\n');
      const flipping = sb.exec(`end=$((SECONDS+2)); while [ $SECONDS -lt $end ]; do ln -sfn ${victim} f.new; mv -fT f.new f; echo plain > f.tmp; mv -fT f.tmp f; done`, { timeoutMs: 3000 });
      for (let i = 0; i < 150; i++) await sb.writeFile('f', `pwned ${i}\n`).catch(() => undefined);
      await flipping;
      assert.equal(readFileSync(victim, 'utf8'), 'original\n');
    }));

  it('listFiles over links to / and link loops ends, listing only work-dir paths', (t) =>
    inSandbox(t, async (sb) => {
      const canary = hostCanary();
      await run(sb, `ln -s / root; ln -s . loop; mkdir -p a; ln -s ../a a/back; ln -s ${canary.dir} host`);
      const started = Date.now();
      const files = await sb.listFiles();
      assert.ok(Date.now() - started < 5000);
      assert.ok(files.every((f) => !f.path.startsWith('/') && !f.path.split('/').includes('..')), JSON.stringify(files.slice(0, 5)));
      assert.ok(!files.some((f) => f.path.includes('canary.txt')));
    }));

  it('a symlink planted where the verifier reads a file is reported for what it is, not followed out', (t) =>
    inSandbox(t, async (sb) => {
      await run(sb, 'ln -s /etc/passwd answer.txt');
      const seen = await hostRead(sb, 'answer.txt');
      // Inside, /etc/passwd is the sandbox's own (or nothing); never the host's file.
      assert.notEqual(seen, readFileSync('/etc/passwd', 'utf8'));
    }));
});

describe('attack: hard links against the host-side file API', () => {
  it('writeFile into a file with two names updates both, and the sandbox sees it', (t) =>
    inSandbox(t, async (sb) => {
      await run(sb, 'echo old > a; ln a b');
      await sb.writeFile('a', 'new\n');
      assert.equal(await sb.readFile('b'), 'new\n');
      assert.equal((await run(sb, 'cat b; stat -c %h a')).stdout, 'new\n2\n');
    }));

  it('a hard-linked file too big for the disk is refused whole, its old content kept', (t) =>
    inSandbox(t, async (sb) => {
      await run(sb, 'echo old > a; ln a b');
      await assert.rejects(sb.writeFile('a', 'x'.repeat(LIMITS.diskBytes + 1024)), /No space left on device/);
      assert.equal((await run(sb, 'cat a b')).stdout, 'old\nold\n');
    }));

  it('a hard-linked file swapped for a link to a host file while the host writes never writes on the host', (t) =>
    inSandbox(t, async (sb) => {
      const dir = mkdtempSync(join(tmpdir(), 'gauntlet-victim-'));
      const victim = join(dir, 'victim.txt');
      writeFileSync(victim, 'original\n');
      const flipping = sb.exec(`end=$((SECONDS+2)); while [ $SECONDS -lt $end ]; do ln -sfn ${victim} f.new; mv -fT f.new f; echo plain > f.tmp; ln -f f.tmp f.other; mv -fT f.tmp f; done`, { timeoutMs: 3000 });
      for (let i = 0; i < 150; i++) await sb.writeFile('f', `pwned ${i}\n`).catch(() => undefined);
      await flipping;
      assert.equal(readFileSync(victim, 'utf8'), 'original\n');
    }));
});

describe('attack: read secrets', () => {
  it('API keys in the host environment are not in the command environment or any /proc environ', (t) =>
    inSandbox(t, async (sb) => {
      const secret = `sk-${token()}`;
      process.env.OPENAI_API_KEY = secret;
      try {
        const r = await run(sb, 'env; cat /proc/*/environ 2>/dev/null | tr "\\0" "\\n"; true');
        assert.doesNotMatch(r.stdout, new RegExp(secret));
      } finally {
        delete process.env.OPENAI_API_KEY;
      }
    }));

  it('a variable given to one command is gone in the next, in the environment and in /tmp', (t) =>
    inSandbox(t, async (sb) => {
      const secret = token();
      await run(sb, 'true', { env: { ONE_OFF_TOKEN: secret } });
      const r = await run(sb, 'env; grep -rs ONE_OFF /tmp /dev/shm; true');
      assert.doesNotMatch(r.stdout, new RegExp(secret));
    }));

  it('host processes are invisible: no Gauntlet pid, no host command lines', (t) =>
    inSandbox(t, async (sb) => {
      const r = await run(sb, 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline 2>/dev/null; echo; done');
      assert.doesNotMatch(r.stdout, /node|tsx|redis-server/);
      const pids = await run(sb, 'ls -d /proc/[0-9]* | wc -l');
      assert.ok(Number(pids.stdout.trim()) < 10, `${pids.stdout.trim()} processes visible`);
    }));

  it('runs as an unprivileged user that cannot read root-only files or gain root via setuid', (t) =>
    inSandbox(t, async (sb) => {
      const r = await run(sb, 'id -u; su -c id root </dev/null 2>&1; sudo -n id 2>&1; cat /proc/kcore 2>&1 | head -c 10; true');
      assert.notEqual(r.stdout.split('\n')[0], '0');
      assert.doesNotMatch(r.stdout.split('\n').slice(1).join('\n'), /uid=0\(root\)/);
    }));
});

describe('attack: reach the network', () => {
  it('a UDP datagram to a host loopback socket never arrives', (t) =>
    inSandbox(t, async (sb) => {
      const socket = createSocket('udp4');
      const received: Buffer[] = [];
      let markArrived: () => void = () => {};
      const mark = new Promise<void>((resolve) => (markArrived = resolve));
      socket.on('message', (m) => {
        received.push(m);
        if (m.toString() === 'mark') markArrived();
      });
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
      const { port } = socket.address();
      try {
        await run(sb, `python3 -c "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); [s.sendto(b'leak', ('127.0.0.1', ${port})) for _ in range(20)]" 2>&1; true`);
        // A datagram on loopback arrives at once or never; the echo round trip below orders it.
        const probe = createSocket('udp4');
        await new Promise<void>((resolve) => probe.send('mark', port, '127.0.0.1', () => resolve()));
        probe.close();
        // Our own datagram arriving means anything sent before it would have arrived too.
        await mark;
        assert.deepEqual(received.map(String).filter((m) => m !== 'mark'), []);
      } finally {
        socket.close();
      }
    }));

  it('outside addresses and name lookups fail fast', (t) =>
    inSandbox(t, async (sb) => {
      const r = await run(sb, '(exec 3<>/dev/tcp/1.1.1.1/53) 2>&1 && echo CONNECTED; getent hosts example.com && echo RESOLVED; true');
      assert.doesNotMatch(r.stdout, /CONNECTED|RESOLVED/);
    }));

  it('only a loopback interface exists inside', (t) =>
    inSandbox(t, async (sb) => {
      const r = await run(sb, 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "');
      assert.deepEqual(r.stdout.split('\n').filter(Boolean), ['lo']);
    }));

  it('a host TCP server on an abstract unix socket is unreachable', (t) =>
    inSandbox(t, async (sb) => {
      const name = token();
      const server = createTcpServer((c) => c.end('LEAKED\n'));
      await new Promise<void>((resolve) => server.listen(`\0${name}`, resolve));
      try {
        const r = await run(sb, `python3 -c "import socket; s=socket.socket(socket.AF_UNIX); s.connect('\\0${name}'); print(s.recv(10))" 2>&1; true`);
        assert.doesNotMatch(r.stdout, /LEAKED/);
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    }));

  it('a host server on loopback TCP cannot be reached by its port from python either', (t) =>
    inSandbox(t, async (sb) => {
      const server = createTcpServer((c) => c.end('LEAKED\n'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      try {
        const r = await run(sb, `python3 -c "import socket; s=socket.create_connection(('127.0.0.1', ${port}), 1); print(s.recv(10))" 2>&1; true`);
        assert.doesNotMatch(r.stdout, /LEAKED/);
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    }));
});

describe('attack: signal the parent', () => {
  it("kill -9 of Gauntlet's own host pid misses: pid namespaces keep it out of reach", (t) =>
    inSandbox(t, async (sb) => {
      await run(sb, `kill -9 ${process.pid} 2>&1; kill -STOP ${process.ppid} 2>&1; true`);
      assert.equal(process.kill(process.pid, 0), true);
      await stillWorks(sb);
    }));

  it('kill -9 -1 and kill of every visible pid leave the host and the sandbox running', (t) =>
    inSandbox(t, async (sb) => {
      await run(sb, 'kill -9 -1; for p in /proc/[0-9]*; do kill -9 ${p#/proc/} 2>/dev/null; done; true');
      await stillWorks(sb);
    }));

  it('cannot push keystrokes into a terminal: no controlling tty', (t) =>
    inSandbox(t, async (sb) => {
      const r = await run(sb, 'echo x > /dev/tty 2>&1 && echo WROTE; python3 -c "import fcntl,termios; fcntl.ioctl(0, termios.TIOCSTI, b\'x\')" 2>&1 && echo INJECTED; true');
      assert.doesNotMatch(r.stdout, /WROTE|INJECTED/);
    }));
});
