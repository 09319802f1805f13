import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { radarCases, LabelledItems } from '../src/apps/radar/cases.ts';
import { MAX_FEED_BYTES, parseFeed, readFeeds } from '../src/apps/radar/feeds.ts';
import type { RadarResult } from '../src/apps/radar/radar.ts';
import { SubjectsFile } from '../src/apps/radar/subjects.ts';
import { startMockModelServer } from '../src/model/index.ts';
import { openStore } from '../src/store/index.ts';
import { appsCli } from './apps-support.ts';

const example = (name: string) => fileURLToPath(new URL(`../examples/radar/${name}`, import.meta.url));
const demo = ['radar', '--feeds', example('feeds.yaml'), '--subjects', example('subjects.yaml'), '--model', `keyed:${example('model.yaml')}`, '--date', '2025-01-08'];
const scratch = () => mkdtempSync(join(tmpdir(), 'gauntlet-radar-'));

type RadarJson = RadarResult & { digest: { markdown: string; html: string } };

describe('gauntlet radar', () => {
  it('runs the offline demo: sorts, digests, links, reports skipped input, and remembers what it saw', async () => {
    const dir = scratch();
    const store = join(dir, 'g.db');
    const first = await appsCli([...demo, '--store', store, '--out', join(dir, 'digests'), '--json']);
    assert.equal(first.code, 0, first.err);
    const result = JSON.parse(first.out) as RadarJson;
    assert.deepEqual({ entries: result.read.entries, skipped: result.read.skipped, dup: result.duplicates.inThisBatch }, { entries: 10, skipped: 2, dup: 1 });
    assert.deepEqual(
      Object.fromEntries(result.sections.map((s) => [s.subject.id, s.items.map((i) => i.title)])),
      {
        rl: ['Training agents with verifiable rewards at scale', 'Group-relative policy optimisation without a critic, revisited'],
        evals: ['Why our benchmark scores were inflated', 'Pass^k: measuring the reliability of agents across repeated trials'],
        efficiency: ['Sparse mixture-of-experts with 3B active parameters'],
        safety: ['Catching reward hacking with trajectory monitors'],
      },
    );
    assert.deepEqual(result.unassigned.map((i) => i.title), ['Team offsite photos']);
    assert.deepEqual(result.read.problems.map((p) => p.message), ['no <link>', "'arXiv:not-an-id' is not an arXiv id like 2501.01234"]);
    assert.ok(result.digest.markdown.endsWith('radar-2025-01-08.md'));
    const markdown = readFileSync(result.digest.markdown, 'utf8');
    assert.match(markdown, /\[Catching reward hacking with trajectory monitors\]\(https:\/\/arxiv\.org\/abs\/2501\.00002\)/);
    assert.match(markdown, /## Skipped input \(2\)/);
    const html = readFileSync(result.digest.html, 'utf8');
    assert.match(html, /<a href="https:\/\/arxiv.org\/abs\/2501.00001">\[2\]<\/a>/);

    // every agent is a stored rollout of the radar's run, its calls `subagent` calls
    const db = openStore(store);
    try {
      const rollouts = db.rollouts(result.runId);
      assert.equal(rollouts.filter((r) => r.taskId.startsWith('classify/')).length, 7);
      assert.deepEqual(rollouts.filter((r) => r.taskId.startsWith('digest/')).map((r) => r.taskId).sort(), ['digest/efficiency', 'digest/evals', 'digest/rl', 'digest/safety']);
      assert.deepEqual(db.modelCalls(rollouts[0]!.id).map((c) => c.purpose), ['subagent']);
    } finally {
      db.close();
    }

    const second = await appsCli([...demo, '--store', store, '--out', join(dir, 'digests'), '--json']);
    const again = JSON.parse(second.out) as RadarJson;
    assert.equal(again.duplicates.seenBefore, 8);
    assert.equal(again.sections.length, 0);
    assert.ok(again.digest.markdown.endsWith('radar-2025-01-08-2.md'));
  });

  it('reads feeds over HTTP, and reports a failing URL and a non-feed file while keeping the rest', async () => {
    const rss = readFileSync(example('sample/lab-blog.rss'), 'utf8');
    const server = createServer((req, res) => {
      if (req.url === '/blog.rss') res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(rss);
      else res.writeHead(404).end('missing');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const dir = scratch();
      writeFileSync(join(dir, 'junk.txt'), 'just some text\n');
      writeFileSync(join(dir, 'feeds.yaml'), `feeds:\n  - { name: blog, source: "${base}/blog.rss" }\n  - { name: gone, source: "${base}/gone.rss" }\n  - { name: junk, source: junk.txt }\n`);
      const run = await appsCli(['radar', '--feeds', join(dir, 'feeds.yaml'), '--subjects', example('subjects.yaml'), '--model', `keyed:${example('model.yaml')}`, '--store', join(dir, 'g.db'), '--out', dir, '--json']);
      assert.equal(run.code, 0, run.err);
      const result = JSON.parse(run.out) as RadarJson;
      assert.equal(result.sections.reduce((n, s) => n + s.items.length, 0) + result.unassigned.length, 3);
      assert.deepEqual(result.read.problems.map((p) => p.where), [`feed blog (${base}/blog.rss): item 3`, `feed gone (${base}/gone.rss)`, 'feed junk (junk.txt)']);
      assert.match(result.read.problems[1]!.message, /HTTP 404/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('works with a model over HTTP and leaves items the classifier could not sort unseen, exiting 1', async () => {
    // turn 0 of every agent gets the same reply: a valid subject for the classifiers, text for the digests
    const good = await startMockModelServer({ script: { model: 'm', turns: [{ content: 'Thinking it over.\nSubject: rl' }] } });
    const dir = scratch();
    try {
      const args = ['radar', '--feeds', example('feeds.yaml'), '--subjects', example('subjects.yaml'), '--store', join(dir, 'g.db'), '--out', dir, '--json'];
      const run = await appsCli([...args, '--model', `openai:${good.url}#m`]);
      assert.equal(run.code, 0, run.err);
      assert.deepEqual((JSON.parse(run.out) as RadarJson).sections.map((s) => [s.subject.id, s.items.length]), [['rl', 7]]);
    } finally {
      await good.close();
    }
    const bad = await startMockModelServer({ script: { model: 'm', turns: [{ content: 'Subject: astrology' }] } });
    const other = scratch();
    try {
      const args = ['radar', '--feeds', example('feeds.yaml'), '--subjects', example('subjects.yaml'), '--store', join(other, 'g.db'), '--out', other, '--json', '--model', `openai:${bad.url}#m`];
      const run = await appsCli(args);
      assert.equal(run.code, 1);
      const result = JSON.parse(run.out) as RadarJson;
      assert.equal(result.unsorted.length, 7);
      assert.match(result.unsorted[0]!.reason, /'subject: astrology' is not one of rl, evals/i);
      const state = JSON.parse(readFileSync(join(other, 'radar-state.json'), 'utf8')) as { items: Record<string, unknown> };
      assert.deepEqual(state.items, {});
    } finally {
      await bad.close();
    }
  });

  it('stops sorting when the token budget is spent and says so', async () => {
    const dir = scratch();
    const run = await appsCli([...demo, '--store', join(dir, 'g.db'), '--out', dir, '--json', '--max-tokens', '300', '--concurrency', '1']);
    assert.equal(run.code, 1);
    const result = JSON.parse(run.out) as RadarJson;
    assert.equal(result.budget.exhausted, 'tokens');
    assert.ok(result.unsorted.some((u) => /not started \(tokens budget spent\)/.test(u.reason)));
  });

  it('stops sorting when the dollar budget is spent, counting dollars by the price given', async () => {
    const dir = scratch();
    // $10 per million tokens either way: 300 tokens cost $0.003, so this budget lasts about as long as --max-tokens 300.
    const run = await appsCli([...demo, '--store', join(dir, 'g.db'), '--out', dir, '--json', '--max-dollars', '0.003', '--price-per-million', '10:10', '--concurrency', '1']);
    assert.equal(run.code, 1);
    const result = JSON.parse(run.out) as RadarJson;
    assert.equal(result.budget.exhausted, 'dollars');
    assert.ok(Math.abs(result.budget.spent.dollars - result.budget.spent.tokens / 100_000) < 1e-9, `dollars follow tokens at $10 a million: ${JSON.stringify(result.budget.spent)}`);
    assert.ok(result.unsorted.some((u) => /not started \(dollars budget spent\)/.test(u.reason)));
    // Priced but unlimited: the whole demo runs and the report says what it cost.
    const priced = await appsCli([...demo, '--store', join(dir, 'h.db'), '--out', join(dir, 'h'), '--price-per-million', '0.5:2']);
    assert.equal(priced.code, 0, priced.err);
    assert.match(priced.out, /tokens \d+( \(estimated for \d+ calls\))?, \$0\.\d{4}\n/);
  });

  it('refuses a dollar budget without a price, and a price it cannot read, naming the flag', async () => {
    const dir = scratch();
    const unpriced = await appsCli([...demo, '--store', join(dir, 'g.db'), '--out', dir, '--max-dollars', '1']);
    assert.equal(unpriced.code, 2);
    assert.match(unpriced.err, /--max-dollars: needs a price to count dollars by.*--price-per-million PROMPT:COMPLETION/s);
    for (const bad of ['1', '1:', 'a:b', '-1:2', '1:2:3']) {
      const run = await appsCli([...demo, '--store', join(dir, 'g.db'), '--out', dir, '--max-dollars', '1', '--price-per-million', bad]);
      assert.equal(run.code, 2, bad);
      assert.match(run.err, /--price-per-million: got ".*" \(expected PROMPT:COMPLETION, US dollars per million/, bad);
    }
    const zero = await appsCli([...demo, '--store', join(dir, 'g.db'), '--out', dir, '--max-dollars', '0', '--price-per-million', '1:1']);
    assert.equal(zero.code, 2);
    assert.match(zero.err, /--max-dollars: got "0" \(expected a positive number\)/);
  });

  it('turns a correction into an eval case asking the classifier\'s exact question', async () => {
    const dir = scratch();
    const store = join(dir, 'g.db');
    assert.equal((await appsCli([...demo, '--store', store, '--out', dir])).code, 0);
    const unknown = await appsCli(['radar', 'correct', '--item', 'nope', '--subject', 'rl', '--subjects', example('subjects.yaml'), '--store', store]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /has not seen an item with key 'nope'/);
    const fixed = await appsCli(['radar', 'correct', '--item', 'news.example.com/moe-3b-active', '--subject', 'rl', '--subjects', example('subjects.yaml'), '--store', store, '--by', 'reviewer']);
    assert.equal(fixed.code, 0, fixed.err);
    assert.match(fixed.out, /efficiency → rl/);
    const out = join(dir, 'cases.yaml');
    assert.equal((await appsCli(['radar', 'cases', '--subjects', example('subjects.yaml'), '--store', store, '--out', out])).code, 0);
    const tasks = (parseYaml(readFileSync(out, 'utf8')) as { tasks: { id: string; instruction: string; golden: { answer: string }; metadata: Record<string, string> }[] }).tasks;
    assert.equal(tasks.length, 1);
    assert.equal(tasks[0]?.golden.answer, 'Subject: rl');
    assert.match(tasks[0]?.instruction ?? '', /Title: Sparse mixture-of-experts/);
    assert.equal(tasks[0]?.metadata.correctedFrom, 'efficiency');
  });

  it('ships eval tasks that match the labelled set and today\'s classifier prompt', () => {
    const subjects = SubjectsFile.parse(parseYaml(readFileSync(example('subjects.yaml'), 'utf8'))).subjects;
    const labelled = LabelledItems.parse(parseYaml(readFileSync(example('labelled.yaml'), 'utf8')));
    const bundled = parseYaml(readFileSync(example('eval-tasks.yaml'), 'utf8')) as { tasks: unknown[] };
    assert.deepEqual(bundled.tasks, JSON.parse(JSON.stringify(radarCases({ subjects, labelled }))));
  });

  it('parses Atom links, arXiv listings and rejects what is not a feed', () => {
    const atom = parseFeed(readFileSync(example('sample/ml-news.atom'), 'utf8'), { feed: 'n', format: 'auto', where: 'n' });
    assert.deepEqual(atom.items.map((i) => i.key), ['news.example.com/moe-3b-active', 'arxiv:2501.00002']);
    assert.deepEqual(atom.items[0]?.authors, ['N. Writer']);
    const listing = parseFeed(readFileSync(example('sample/arxiv-cs-lg.txt'), 'utf8'), { feed: 'a', format: 'arxiv', where: 'a' });
    assert.deepEqual(listing.items[1]?.authors, ['C. Author', 'D. Author']);
    assert.match(listing.items[0]?.summary ?? '', /^We revisit critic-free policy optimisation .* long-horizon tasks\.$/);
    const broken = parseFeed('<rss><channel><item></channel></rss>', { feed: 'b', format: 'auto', where: 'b' });
    assert.equal(broken.items.length, 0);
    assert.match(broken.problems[0]?.message ?? '', /not well-formed XML/);
  });

  it('on Ctrl-C cancels the agents in flight, keeps what was sorted, writes the digest and stores the run as interrupted', async () => {
    // Answers the first two classifications and holds every later request until the client hangs up.
    const held = new Set<ServerResponse>();
    const watchers: { ready: () => boolean; resolve: () => void }[] = [];
    const check = (): void => {
      for (const w of watchers.filter((w) => w.ready())) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve();
      }
    };
    const until = (ready: () => boolean): Promise<void> => new Promise((resolve) => (ready() ? resolve() : watchers.push({ ready, resolve })));
    let answered = 0;
    let hungUp = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (answered < 2) {
          answered++;
          const body = { id: `c${answered}`, object: 'chat.completion', model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'Subject: rl' }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 2 } };
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
          return;
        }
        held.add(res);
        res.on('close', () => {
          held.delete(res);
          hungUp++;
          check();
        });
        check();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    const dir = scratch();
    const store = join(dir, 'g.db');
    try {
      const listenersBefore = process.listenerCount('SIGINT');
      const running = appsCli(['radar', '--feeds', example('feeds.yaml'), '--subjects', example('subjects.yaml'), '--model', `openai:${url}#m`, '--store', store, '--out', dir, '--json', '--concurrency', '3', '--date', '2025-01-08']);
      await until(() => held.size === 3);
      assert.equal(process.listenerCount('SIGINT'), listenersBefore + 1, 'the radar listens for Ctrl-C while its agents run');
      process.emit('SIGINT');
      const run = await running;
      assert.equal(run.code, 130, run.err);
      assert.match(run.err, /interrupted: run \S+ stored; 5 unsorted items are retried on the next run/);
      assert.equal(process.listenerCount('SIGINT'), listenersBefore);
      // The held requests were abandoned, not left running.
      await until(() => held.size === 0);
      assert.equal(hungUp, 3);
      // stdout is exactly one JSON document.
      const result = JSON.parse(run.out) as RadarJson;
      assert.equal(result.interrupted, true);
      assert.deepEqual(result.sections.map((s) => [s.subject.id, s.items.length, s.failure]), [['rl', 2, 'not started (interrupted)']]);
      assert.deepEqual(result.unsorted.map((u) => u.reason).sort(), [...Array<string>(3).fill('cancelled (interrupted)'), ...Array<string>(2).fill('not started (interrupted)')]);
      const state = JSON.parse(readFileSync(join(dir, 'radar-state.json'), 'utf8')) as { items: Record<string, { subject: string }> };
      assert.deepEqual(Object.values(state.items).map((i) => i.subject), ['rl', 'rl']);
      assert.match(readFileSync(result.digest.markdown, 'utf8'), /## Not sorted this time/);
      const db = openStore(store);
      try {
        assert.equal(db.getRun(result.runId)?.status, 'interrupted');
        assert.deepEqual(db.rollouts(result.runId).map((r) => r.status).sort(), ['cancelled', 'cancelled', 'cancelled', 'scored', 'scored']);
      } finally {
        db.close();
      }
    } finally {
      for (const res of held) res.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('radar feeds', () => {
  it('stops reading a feed past MAX_FEED_BYTES and names the feed, keeping the others', async () => {
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new Uint8Array(1024 * 1024).fill(0x61));
      },
    });
    const small = '<?xml version="1.0"?><rss><channel><item><title>A small paper</title><link>https://example.org/a</link></item></channel></rss>';
    const fakeFetch: typeof fetch = (input) => Promise.resolve(new Response(String(input).includes('huge') ? endless : small));
    const read = await readFeeds({ feeds: [{ name: 'huge', source: 'https://feeds.test/huge', format: 'auto' }, { name: 'small', source: 'https://feeds.test/small', format: 'auto' }], base: '.', fetch: fakeFetch });
    assert.equal(read.problems.length, 1, JSON.stringify(read.problems));
    assert.match(read.problems[0]!.message, new RegExp(`https://feeds.test/huge sent more than ${MAX_FEED_BYTES} bytes`));
    assert.equal(read.items.length, 1);
  });
});
