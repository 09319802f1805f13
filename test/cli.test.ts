import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { main } from '../src/cli/main.ts';
import type { CliIo } from '../src/cli/io.ts';

function capture(): CliIo & { out: string; err: string } {
  const io = { out: '', err: '', interactive: false, env: {} as Record<string, string | undefined> } as CliIo & { out: string; err: string };
  io.stdout = (t) => void (io.out += t);
  io.stderr = (t) => void (io.err += t);
  return io;
}

async function cli(args: string[]) {
  const io = capture();
  const code = await main(['node', 'gauntlet', ...args], io);
  return { code, out: io.out, err: io.err };
}

const tmp = () => mkdtempSync(join(tmpdir(), 'gauntlet-cli-'));

describe('CLI input errors', () => {
  it('names the flag and what was expected, exit code 2', async () => {
    const cases: [string[], RegExp][] = [
      [['run', '--env', 'mail', '--model', 'oracle', '--epochs', 'two'], /--epochs: got "two" \(expected a whole number from 1 to 10000\)/],
      [['run', '--env', 'nowhere', '--model', 'oracle'], /--env: unknown environment "nowhere" \(expected one of /],
      [['run', '--env', 'mail', '--model', 'gpt:foo'], /--model/],
      [['run', '--env', 'mail', '--model', 'openai:http://localhost:8000#m'], /--model.*\/v1/],
      [['run', '--model', 'oracle'], /--env: no environment given/],
      [['run', '--env', 'mail', '--model', 'oracle', '--sandbox', 'docker'], /--sandbox: got "docker" \(expected one of auto, virtual, bwrap, remote, k8s\)/],
      [['run', '--env', 'mail', '--model', 'oracle', '--resume', 'run_nope', '--store', join(tmp(), 'db')], /--resume: no run "run_nope"/],
    ];
    for (const [args, pattern] of cases) {
      const { code, err, out } = await cli(args);
      assert.equal(code, 2, `${args.join(' ')} → ${err}`);
      assert.match(err, pattern);
      assert.equal(out, '');
      assert.doesNotMatch(err, /^\s+at /m, 'no stack trace');
    }
  });

  it('reports a bad config file by field', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'run.yaml'), 'envs: [mail]\nmodel: oracle\nepochs: 0\n');
    const { code, err } = await cli(['run', '--config', join(dir, 'run.yaml'), '--store', join(dir, 'db')]);
    assert.equal(code, 2);
    assert.match(err, /run\.yaml.*epochs/s);
  });

  it('rejects unknown options and commands', async () => {
    assert.equal((await cli(['run', '--bogus'])).code, 2);
    assert.equal((await cli(['frobnicate'])).code, 2);
  });
});

describe('catalog', () => {
  it('lists every built-in environment with its task count and sandbox needs', async () => {
    const { code, out } = await cli(['envs', '--json']);
    assert.equal(code, 0);
    const envs = JSON.parse(out) as { name: string; tasks: number; sandbox: string; available: boolean }[];
    assert.deepEqual(envs.map((e) => e.name), ['calendar', 'coding', 'harbor', 'mail', 'notes', 'probes', 'qa', 'terminal', 'workplace']);
    // harbor's tasks are imported ones (task files); every other environment ships its own.
    assert.ok(envs.filter((e) => e.name !== 'harbor').every((e) => e.tasks >= 20));
    assert.equal(envs.find((e) => e.name === 'coding')!.sandbox, 'bwrap');
    assert.equal(envs.find((e) => e.name === 'mail')!.available, true);
  });

  it('lists tasks with id, domain and difficulty', async () => {
    const { code, out } = await cli(['tasks', '--env', 'mail', '--json']);
    assert.equal(code, 0);
    const tasks = JSON.parse(out) as { id: string; domain: string; difficulty: string }[];
    assert.ok(tasks.length >= 20);
    assert.ok(tasks.every((t) => t.id.startsWith('mail/') && t.domain === 'mail' && ['easy', 'medium', 'hard'].includes(t.difficulty)));
  });
});



describe('show', () => {
  it('never passes terminal control sequences from model or tool text to the terminal', async () => {
    const dir = tmp();
    // A title change (OSC), a colour and a cursor move in what the model says and does.
    writeFileSync(
      join(dir, 'script.yaml'),
      [
        'turns:',
        '  - reasoning: "plan \\e]0;pwned\\a"',
        '    toolCalls: [{ name: search_mail, arguments: { query: "\\e[2Jinvoice" } }]',
        '  - content: "\\e[31mDone\\e[0m \\x9b1;1H"',
      ].join('\n'),
    );
    const store = join(dir, 'g.db');
    const run = await cli(['run', '--env', 'mail', '--task', 'mail/kestrel-launch-date', '--model', `scripted:${join(dir, 'script.yaml')}`, '--store', store, '--json']);
    assert.equal(run.code, 0, run.err);
    const { runId } = JSON.parse(run.out) as { runId: string };
    const rolloutId = (JSON.parse((await cli(['show', runId, '--store', store, '--json'])).out) as { rollouts: { id: string }[] }).rollouts[0]!.id;
    const shown = await cli(['show', runId, '--rollout', rolloutId, '--store', store]);
    assert.equal(shown.code, 0, shown.err);
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(shown.out, /[\u001b\u0007\u009b]/);
    assert.match(shown.out, /assistant: \\x1b\[31mDone\\x1b\[0m \\x9b1;1H/);
    assert.match(shown.out, /\[thinking\] plan \\x1b\]0;pwned\\x07/);
  });
});
