import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { JsonObject } from '../core/index.ts';
import { perturbEpisode, resolvePerturbations, toolsOf, type PerturbedEpisode } from './index.ts';
import { renderTables } from './responses/format.ts';
import { kvEnvironment, kvTask, replayKv } from './test-env.ts';

const signal = new AbortController().signal;

function perturb(specs: string[], seed = 1): PerturbedEpisode {
  return perturbEpisode({ task: kvTask, tools: toolsOf(kvEnvironment), resolved: resolvePerturbations(specs), seed });
}

/** What list_keys returns unperturbed after the golden solution. */
async function plainListing(): Promise<JsonObject> {
  const replay = await replayKv(perturb([]));
  const out = await replay.environment.call('list_keys', {}, { signal });
  await replay.environment.close();
  assert.ok(out.ok && out.data);
  return out.data as JsonObject;
}

describe('responses.format', () => {
  it('shows structured results as tables that keep every value, and leaves text results alone', async () => {
    const data = await plainListing();
    const replay = await replayKv(perturb(['responses.format:table']));
    const listing = await replay.environment.call('list_keys', {}, { signal });
    const text = await replay.environment.call('read_value', { item_key: 'alpha' }, { signal });
    await replay.environment.close();
    assert.equal(replay.passed, true);
    assert.ok(listing.ok);
    assert.match(listing.content, /^keys \(\d+ rows\):\n\| key \| value \| mode \| pinned \|\n\| --- \| --- \| --- \| --- \|\n/);
    for (const row of data.keys as JsonObject[]) assert.ok(listing.content.includes(`| ${String(row.key)} | ${String(row.value)} | ${String(row.mode)} | ${String(row.pinned)} |`));
    assert.deepEqual(text.ok && text.content, 'one');
  });

  it('renders text (YAML) and json that parse back to the same data', async () => {
    const data = await plainListing();
    for (const as of ['text', 'json'] as const) {
      const replay = await replayKv(perturb([`responses.format:${as}`]));
      const listing = await replay.environment.call('list_keys', {}, { signal });
      await replay.environment.close();
      assert.ok(listing.ok);
      assert.notEqual(listing.content, JSON.stringify(data));
      assert.deepEqual(as === 'text' ? parseYaml(listing.content) : JSON.parse(listing.content), data);
    }
  });

  it('escapes pipes and newlines in table cells', () => {
    assert.equal(renderTables([{ a: 'x|y', b: 'line\nnext' }]), '| a | b |\n| --- | --- |\n| x\\|y | line\\nnext |');
    assert.equal(renderTables([]), '(no rows)');
  });
});

describe('responses.noise', () => {
  it('adds bookkeeping fields to results and their records, changing none of the real ones', async () => {
    const data = await plainListing();
    const episode = perturb(['responses.noise:fields=4']);
    const replay = await replayKv(episode);
    const listing = await replay.environment.call('list_keys', {}, { signal });
    await replay.environment.close();
    assert.ok(listing.ok && listing.data);
    const noisy = listing.data as JsonObject;
    const added = Object.keys(noisy).filter((k) => !(k in data));
    assert.equal(added.length, 4);
    const rows = noisy.keys as JsonObject[];
    const strip = (row: JsonObject) => Object.fromEntries(Object.entries(row).filter(([k]) => !added.includes(k)));
    assert.deepEqual(rows.map(strip), data.keys);
    assert.ok(rows.every((r) => added.every((k) => k in r)));
    assert.equal(listing.content, JSON.stringify(noisy));
  });
});

describe('responses.truncate', () => {
  it('cuts long results and gives back every character through the cursors, in order', async () => {
    const full = JSON.stringify(await plainListing());
    const episode = perturb(['responses.truncate:maxChars=200']);
    assert.ok(episode.tools.some((t) => t.name === 'read_more'));
    const replay = await replayKv(episode);
    let out = await replay.environment.call('list_keys', {}, { signal });
    let text = '';
    const followed: string[] = [];
    for (;;) {
      assert.ok(out.ok, 'every part is returned');
      const match = /\n\[… \d+ more characters not shown\. Call read_more with \{"cursor": "(c\d+)"\} to continue\.\]$/.exec(out.content);
      text += match ? out.content.slice(0, match.index) : out.content;
      if (!match) break;
      followed.push(match[1]!);
      out = await replay.environment.call('read_more', { cursor: match[1]! }, { signal });
    }
    const again = await replay.environment.call('read_more', { cursor: followed[0]! }, { signal });
    await replay.environment.close();
    assert.ok(full.length > 200 && followed.length >= 1);
    assert.equal(text, full);
    assert.ok(!again.ok && again.error.includes(`no pending result with cursor "${followed[0]}"`), 'a cursor is read once');
  });
});

describe('responses.transient', () => {
  it('fails the first calls of the flaky tools before they reach the environment; the retry works and the golden solution retries', async () => {
    const episode = perturb(['responses.transient:rate=1,times=2']);
    assert.equal(episode.task.golden.steps.length, kvTask.golden.steps.length + 3 * 2);
    const replay = await replayKv(episode);
    await replay.environment.close();
    const failures = replay.outcomes.filter((o) => !o.ok);
    assert.equal(failures.length, 6);
    assert.ok(failures.every((o) => !o.ok && o.kind === 'transient' && /temporarily unavailable/.test(o.error)));
    assert.equal(replay.passed, true);
    // Nothing half-done: the same final state as the unperturbed golden solution.
    const plain = await replayKv(perturb([]));
    await plain.environment.close();
    assert.equal(replay.state, plain.state);
  });
});
