import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { cli } from './support/cli.ts';
import { startFakeEngine, toolWalkPolicy } from '../src/training/fake-engine/index.ts';

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

/** A one-rollout oracle run in `store`; its id. */
async function oracleRun(store: string, task = 'mail/kestrel-launch-date'): Promise<string> {
  const run = await cli(['run', '--env', 'mail', '--task', task, '--model', 'oracle', '--store', store, '--json']);
  assert.equal(run.code, 0, run.err);
  return (JSON.parse(run.out) as { runId: string }).runId;
}

/** Two qa tasks, as a user would write them in a task file. */
function qaTaskFile(dir: string): string {
  const path = join(dir, 'qa-tasks.yaml');
  const task = (id: string, answer: number) =>
    `  - id: mine/${id}\n    env: qa\n    instruction: What is ${answer - 1} plus one?\n    tags: { domain: sums, difficulty: easy }\n    verifier: { checks: [{ check: answer_numeric, value: ${answer} }] }\n    golden: { answer: "${answer}" }\n`;
  writeFileSync(path, `tasks:\n${task('two', 2)}${task('three', 3)}`);
  return path;
}

describe('a run whose every rollout is an infra error', () => {
  it('has no pass rate (null in JSON, said in words), names the infra errors and the first one, and exits 1', async () => {
    // A model endpoint that answers every request 404: a wrong model name, say.
    const server = createServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"The model `wrong` does not exist."}}');
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const store = join(tmp(), 'g.db');
      const { port } = server.address() as { port: number };
      const args = ['run', '--env', 'mail', '--task', 'mail/count-unread-alerts', '--model', `openai:http://127.0.0.1:${port}/v1#wrong`, '--max-attempts', '1', '--store', store];

      const json = await cli([...args, '--json']);
      assert.equal(json.code, 1, json.err);
      const summary = JSON.parse(json.out) as { runId: string; scored: number; infraErrors: number; passRate: number | null; pooledPassRate: number | null; taskMeanPassRate: number | null; meanScore: number | null; firstInfraError: { message: string } };
      assert.deepEqual(
        { scored: summary.scored, infraErrors: summary.infraErrors, passRate: summary.passRate, pooled: summary.pooledPassRate, taskMean: summary.taskMeanPassRate, meanScore: summary.meanScore },
        { scored: 0, infraErrors: 1, passRate: null, pooled: null, taskMean: null, meanScore: null },
      );
      assert.match(summary.firstInfraError.message, /404: The model `wrong` does not exist/);
      // The refused call was made: the run's spend counts it, though the infra error's stats are empty.
      assert.deepEqual((summary as unknown as { spent: unknown }).spent, { attempts: 1, modelCalls: 1, toolCalls: 0, promptTokens: 0, completionTokens: 0 });
      assert.match(json.err, /gauntlet: run run_\S+ has no result: infra errors only, 1 rollout could not be scored \(first: mail\/count-unread-alerts #0, model: .*404/);

      const text = await cli(args);
      assert.equal(text.code, 1, text.err);
      assert.doesNotMatch(text.out, /pass rate \d/);
      assert.match(text.out, /no pass rate: infra errors only, 1 rollout could not be scored \(first: .*does not exist\.\); `gauntlet show run_\S+ --store \S+` lists them/);
      assert.match(text.out, /^spent: 1 model call, 0 tool calls, 0 prompt \+ 0 completion tokens$/m);

      const shown = await cli(['show', summary.runId, '--store', store]);
      assert.match(shown.out, /no pass rate: infra errors only, 1 rollout could not be scored/);
      assert.match(shown.out, /^ {2}spent: 1 model call, 0 tool calls, 0 prompt \+ 0 completion tokens$/m);
      assert.equal((JSON.parse((await cli(['show', summary.runId, '--store', store, '--json'])).out) as { summary: { passRate: number | null } }).summary.passRate, null);
    } finally {
      server.close();
    }
  });

  it('says how to run them again, and `--resume --retry-infra` does once the endpoint is back', async () => {
    let up = false;
    const server = createServer((req, res) => {
      req.resume().once('end', () => {
        if (!up) {
          res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"message":"overloaded"}}');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'c1', object: 'chat.completion', model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: '2' }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 1 } }));
      });
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const dir = tmp();
      const store = join(dir, 'g.db');
      const { port } = server.address() as { port: number };
      const first = await cli(['run', '--tasks-file', qaTaskFile(dir), '--task', 'mine/two', '--model', `openai:http://127.0.0.1:${port}/v1#m`, '--no-stream', '--max-attempts', '1', '--store', store]);
      assert.equal(first.code, 1, first.err);
      const runId = /run (run_\S+) finished/.exec(first.out)?.[1];
      assert.ok(runId, first.out);
      assert.ok(first.out.includes(`1 infra errors (run them again with \`gauntlet run --resume ${runId} --store ${store} --retry-infra\`)`), first.out);
      up = true;
      const plain = JSON.parse((await cli(['run', '--resume', runId, '--store', store, '--json'])).out) as { scored: number; infraErrors: number };
      assert.deepEqual([plain.scored, plain.infraErrors], [0, 1]);
      // On a rollout thread, which stores its rollouts through a connection of its own (in process: src/runner/runner.test.ts).
      const retried = await cli(['run', '--resume', runId, '--retry-infra', '--threads', '1', '--store', store, '--json']);
      assert.equal(retried.code, 0, retried.err);
      const summary = JSON.parse(retried.out) as { scored: number; infraErrors: number; passRate: number; rollouts: number };
      assert.deepEqual([summary.rollouts, summary.scored, summary.infraErrors, summary.passRate], [1, 1, 0, 1]);
      // The refused first attempt was paid for too: its call is in the rollout's spend.
      const shown = await cli(['show', runId, '--store', store]);
      assert.match(shown.out, /PASS +mine\/two #0 .*s; 6 tokens over 2 attempts$/m);
    } finally {
      server.close();
    }
  });

  it('says how to read the exit status in `run --help`', async () => {
    const { out } = await cli(['run', '--help']);
    assert.match(out, /Exit status:[\s\S]*1 +.*no rollout scored because every one hit an infra error[\s\S]*130 +interrupted/);
  });
});

describe('task files and environments', () => {
  it('validate and tasks take the environments from --tasks-file, as run does', async () => {
    const file = qaTaskFile(tmp());
    const listed = await cli(['tasks', '--tasks-file', file, '--json']);
    assert.equal(listed.code, 0, listed.err);
    assert.deepEqual((JSON.parse(listed.out) as { id: string; env: string }[]).map((t) => [t.id, t.env]), [['mine/two', 'qa'], ['mine/three', 'qa']]);
    const validated = await cli(['validate', '--tasks-file', file]);
    assert.equal(validated.code, 0, validated.err);
    assert.match(validated.out, /^qa: 2\/2 tasks valid$/m);
  });

  it('validate or tasks with an --env none of the file\'s tasks belong to checks nothing: an input error naming both', async () => {
    const file = qaTaskFile(tmp());
    for (const command of ['validate', 'tasks']) {
      const { code, out, err } = await cli([command, '--env', 'mail', '--tasks-file', file]);
      assert.equal(code, 2, `${command}: ${err}`);
      assert.equal(out, '');
      assert.ok(err.includes(`gauntlet: --env: no task in ${file} belongs to environment mail (expected an environment of the file's tasks (qa)`), err);
    }
  });

  it('run refuses an --env that the task file\'s tasks do not belong to, naming both', async () => {
    const dir = tmp();
    const file = qaTaskFile(dir);
    const { code, err } = await cli(['run', '--tasks-file', file, '--env', 'mail', '--model', 'oracle', '--store', join(dir, 'g.db')]);
    assert.equal(code, 2, err);
    assert.ok(err.includes(`--env: got mail, but ${file} holds task mine/two of environment qa (expected the environments of the file's tasks (qa)`), err);
    assert.equal(existsSync(join(dir, 'g.db')), false, 'no run was recorded');
  });
});

describe('read-only commands', () => {
  it('refuse a store that does not exist, naming it, and create nothing', async () => {
    const dir = tmp();
    const store = join(dir, 'typo', 'x.db');
    for (const args of [['runs'], ['show', 'run_x'], ['export', 'run_x', '--format', 'jsonl'], ['compare', 'run_a', 'run_b'], ['answers', '--task', 'mail/x'], ['review-stats'], ['export-labels', '--format', 'dpo'], ['detect', 'run_x']]) {
      const { code, out, err } = await cli([...args, '--store', store]);
      assert.equal(code, 2, `${args[0]}: ${err}`);
      assert.equal(out, '');
      assert.ok(err.startsWith(`gauntlet: --store: no store at ${store} (expected the path of an existing store`), `${args[0]}: ${err}`);
    }
    assert.equal(existsSync(join(dir, 'typo')), false, 'no folder or store was created');
  });

  it('show refuses a rollout of another run, naming the run it belongs to', async () => {
    const store = join(tmp(), 'g.db');
    const runA = await oracleRun(store);
    const runB = await oracleRun(store);
    const rolloutOfB = (JSON.parse((await cli(['show', runB, '--store', store, '--json'])).out) as { rollouts: { id: string }[] }).rollouts[0]!.id;
    const { code, out, err } = await cli(['show', runA, '--rollout', rolloutOfB, '--store', store]);
    assert.equal(code, 2, err);
    assert.equal(out, '');
    assert.match(err, new RegExp(`--rollout: rollout ${rolloutOfB} belongs to run ${runB}, not ${runA}`));
    assert.equal((await cli(['show', runB, '--rollout', rolloutOfB, '--store', store])).code, 0);
  });

  it('export --format jsonl refuses an --output it cannot write, as Parquet does (exit 2)', async () => {
    const dir = tmp();
    const store = join(dir, 'g.db');
    const runId = await oracleRun(store);
    mkdirSync(join(dir, 'folder'));
    for (const [output, pattern] of [
      [join(dir, 'nodir', 'x.jsonl'), /^gauntlet: --output: cannot write .*nodir\/x\.jsonl: there is no folder .*nodir \(expected a file path in an existing, writable directory\)/],
      [join(dir, 'folder'), /^gauntlet: --output: .*folder is a directory \(expected a file path/],
    ] as const) {
      for (const extra of [[], ['--for', 'trl']]) {
        const { code, err } = await cli(['export', runId, '--format', 'jsonl', ...extra, '--output', output, '--store', store]);
        assert.equal(code, 2, err);
        assert.match(err, pattern);
      }
    }
  });

  it('export --format jsonl that meets a damaged row leaves an earlier export at --output whole, and no partial file', async () => {
    const dir = tmp();
    const store = join(dir, 'g.db');
    const runId = await oracleRun(store);
    const output = join(dir, 'records.jsonl');
    assert.equal((await cli(['export', runId, '--format', 'jsonl', '--output', output, '--store', store])).code, 0);
    const before = readFileSync(output, 'utf8');
    assert.ok(before.length > 0);
    const db = new Database(store);
    db.prepare(`UPDATE model_calls SET messages_keep = -1 WHERE rowid = (SELECT MAX(rowid) FROM model_calls)`).run();
    db.close();
    const { code, err } = await cli(['export', runId, '--format', 'jsonl', '--output', output, '--store', store]);
    assert.equal(code, 2, err);
    assert.match(err, /messages_keep/);
    assert.equal(readFileSync(output, 'utf8'), before);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.partial')), []);
  });
});

describe('run --capture-tokens', () => {
  it('asks the engine for token ids on every call, so a run straight against it exports training rows', { timeout: 120_000 }, async () => {
    const engine = await startFakeEngine({ policy: toolWalkPolicy({ turns: 2 }) });
    try {
      const dir = tmp();
      const store = join(dir, 'g.db');
      const model = `openai:${engine.url}#${engine.model}`;
      const runOf = async (extra: string[]) => {
        const ran = await cli(['run', '--env', 'mail', '--task', 'mail/archive-newsletters', '--epochs', '2', '--model', model, ...extra, '--store', store, '--json']);
        assert.equal(ran.code, 0, ran.err);
        return (JSON.parse(ran.out) as { runId: string }).runId;
      };
      const exported = (runId: string) => cli(['export', runId, '--format', 'jsonl', '--for', 'verl', '--output', join(dir, `${runId}.jsonl`), '--store', store]);
      const captured = await exported(await runOf(['--capture-tokens', 'vllm']));
      assert.equal(captured.code, 0, captured.err);
      assert.ok(readFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith('.jsonl'))!), 'utf8').trim().split('\n').length >= 2);
      // Without it the engine reports no ids, and nothing is re-tokenised to fill them in.
      const plain = await exported(await runOf([]));
      assert.notEqual(plain.code, 0);
      assert.match(plain.err, /no_engine_tokens/);
    } finally {
      await engine.close();
    }
  });

  it('is refused for a model that is not behind an OpenAI-compatible engine, and for an engine it does not know', async () => {
    const refused = await cli(['run', '--env', 'mail', '--model', 'oracle', '--capture-tokens', 'vllm', '--store', join(tmp(), 'g.db')]);
    assert.equal(refused.code, 2);
    assert.match(refused.err, /--capture-tokens: only applies to an engine behind an OpenAI-compatible endpoint/);
    const unknown = await cli(['run', '--env', 'mail', '--model', 'oracle', '--capture-tokens', 'tgi']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /--capture-tokens/);
  });
});

describe('run --queue', () => {
  it('refuses an empty --queue, and --concurrency that only workers would read', async () => {
    const empty = await cli(['run', '--env', 'mail', '--model', 'oracle', '--queue', '', '--store', join(tmp(), 'g.db')]);
    assert.equal(empty.code, 2);
    assert.match(empty.err, /--queue: is empty/);
    const concurrency = await cli(['run', '--env', 'mail', '--model', 'oracle', '--queue', 'redis://127.0.0.1:1', '--concurrency', '2', '--store', join(tmp(), 'g.db')]);
    assert.equal(concurrency.code, 2);
    assert.match(concurrency.err, /--concurrency: rollouts of a queued run run on `gauntlet worker` processes/);
  });
});
