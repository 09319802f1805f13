// `gauntlet show`: a rollout's error is shown with its whole cause (the reason is often on the lines
// after the first), and `show --rollout` shows every tool result the record holds, the last
// turn's included.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { rolloutIdFor, type Rollout, type RunId } from '../../core/index.ts';
import { writeLargeRun } from '../../review/fixtures.ts';
import { summarise, tasksOfRun, type RunSummary } from '../../runner/index.ts';
import { openStore, SqliteStore } from '../../store/index.ts';
import { createTerminalRun, scoredRollout, writeVariedRun } from '../../store/test-support.ts';
import { printJsonWithList, summaryOfCounts } from './inspect.ts';
import { summaryJson } from './run.ts';
import { startFakeEngine, toolWalkPolicy } from '../../training/fake-engine/index.ts';
import { gatewayBaseUrl, startGateway } from '../../training/gateway/index.ts';
import { postJson } from '../../training/gateway/test-support.ts';
import { cli } from '../../../test/support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'gauntlet-show-'));

/** The id of the only run in `store`, and of its first rollout. */
async function stored(store: string): Promise<{ runId: string; rolloutId: string }> {
  const runs = JSON.parse((await cli(['runs', '--store', store, '--json'])).out) as Array<{ id: string }>;
  const runId = runs[0]!.id;
  const shown = JSON.parse((await cli(['show', runId, '--store', store, '--json'])).out) as { rollouts: Array<{ id: string }> };
  return { runId, rolloutId: shown.rollouts[0]!.id };
}

describe('gauntlet show with an error rollout', () => {
  // As an environment reports a task whose initialState is invalid: the reason is on the next line.
  const cause = 'mail: seeding the fixed part of task mail/bad-id failed: initialState is not valid mail state:\ninitialState.messages.0.id: msg_ followed by four digits';
  const store = join(dir, 'error.db');
  const written = openStore(store);
  const runId = writeLargeRun(written, { runId: 'run_error', tasks: 1, epochs: 1 });
  const scored = written.rollouts(runId)[0]!;
  written.commitRollout({ ...scored, status: 'error', terminationReason: 'error', score: null, passed: null, rewardTerms: [], verifier: null, finalAnswer: null, error: { source: 'environment', message: cause } });
  written.close();

  it('lists the rollout on one line that keeps the reason after the first line of the cause', async () => {
    const { code, out } = await cli(['show', runId, '--store', store]);
    assert.equal(code, 1);
    const line = out.split('\n').find((l) => l.includes('ERROR'));
    assert.ok(line?.endsWith('— environment: mail: seeding the fixed part of task mail/bad-id failed: initialState is not valid mail state: initialState.messages.0.id: msg_ followed by four digits'), out);
  });

  it('gives the whole cause under the rollout, continuation lines indented', async () => {
    const { out } = await cli(['show', runId, '--store', store, '--rollout', scored.id]);
    assert.ok(out.includes('\n  cause (environment): mail: seeding the fixed part of task mail/bad-id failed: initialState is not valid mail state:\n    initialState.messages.0.id: msg_ followed by four digits\n'), out);
  });
});

describe('gauntlet show --rollout of a run stopped by --max-turns', () => {
  it("shows the last turn's tool result, which no later prompt holds", async () => {
    const store = join(dir, 'turns.db');
    const script = join(dir, 'two-turns.yaml');
    writeFileSync(
      script,
      `model: mock
turns:
  - toolCalls: [{ name: search_messages, arguments: { query: halvorsen } }]
  - toolCalls: [{ name: read_message, arguments: { messageId: msg_2901 } }]
`,
    );
    const ran = await cli(['run', '--env', 'mail', '--task', 'mail/add-freight-account-manager', '--model', `scripted:${script}`, '--max-turns', '2', '--store', store]);
    assert.equal(ran.code, 0, ran.err);
    const { runId, rolloutId } = await stored(store);
    const { out } = await cli(['show', runId, '--store', store, '--rollout', rolloutId]);
    const lines = out.split('\n');
    const read = lines.findIndex((l) => l.startsWith('  → read_message('));
    assert.ok(read > 0, out);
    assert.match(lines[read + 1] ?? '', /^ {2}← read_message: \{"id":"msg_2901"/);
    assert.equal(lines.filter((l) => l.startsWith('  ← ')).length, 2, out);
    const json = JSON.parse((await cli(['show', runId, '--store', store, '--rollout', rolloutId, '--json'])).out) as { events: Array<{ type: string }> };
    assert.equal(json.events.filter((e) => e.type === 'tool_result').length, 2);
  });
});

describe('gauntlet show of a run recorded through the training gateway', () => {
  /** A gateway run in a fresh store: one rollout per finish body, each after one model call. */
  async function gatewayRun(name: string, finishes: Record<string, object>): Promise<string> {
    const engine = await startFakeEngine({ policy: toolWalkPolicy({ turns: 1 }) });
    const store = join(dir, `${name}.db`);
    const opened = openStore(store);
    const gateway = await startGateway({ upstream: engine.url, store: opened, runId: 'run_gw' });
    try {
      for (const [rolloutId, body] of Object.entries(finishes)) {
        const called = await postJson(`${gatewayBaseUrl(gateway.url, rolloutId)}/chat/completions`, { messages: [{ role: 'user', content: 'Fix the parser.' }] });
        assert.equal(called.status, 200, called.text);
        const finished = await postJson(`${gateway.url}/rollouts/${rolloutId}/finish`, body);
        assert.equal(finished.status, 200, finished.text);
      }
    } finally {
      await gateway.close();
      opened.close();
      await engine.close();
    }
    return store;
  }

  it('shows a rollout finished with only a reward by its reward, counts it neither failed nor passed, and says why no tasks are stored', async () => {
    const store = await gatewayRun('reward-only', { ro_one: { reward: 1 } });
    const { code, out, err } = await cli(['show', 'run_gw', '--store', store]);
    assert.equal(code, 0, err);
    assert.doesNotMatch(out, /pass rate 0\.0%/);
    assert.match(out, /1 scored, 0 infra errors, 0 errors; no pass rate: no scored rollout has a pass\/fail verdict, mean score 1\.000$/m);
    assert.match(out, /^ {2}reward 1 +ro_one #0 /m);
    assert.doesNotMatch(out, /older Gauntlet/);
    assert.match(out, /recorded through a gateway \(`gauntlet gateway --run`\); its tasks are the outside agent program's, so none are stored/);
    const json = JSON.parse((await cli(['show', 'run_gw', '--store', store, '--json'])).out) as { summary: { passRate: number | null; meanScore: number | null; withoutVerdict: number } };
    assert.deepEqual([json.summary.passRate, json.summary.meanScore, json.summary.withoutVerdict], [null, 1, 1]);
  });

  it('takes the pass rate over the rollouts with a verdict and the mean over those with a score, saying what each left out', async () => {
    const store = await gatewayRun('mixed', { ro_pass: { reward: 0.5, passed: true }, ro_reward: { reward: 0 }, ro_nothing: {} });
    const { out } = await cli(['show', 'run_gw', '--store', store]);
    assert.match(out, /3 scored, .*; pass rate 100\.0% \(over the 1 rollout with a verdict; 2 scored without one\), mean score 0\.250 \(over the 2 rollouts with a score\)$/m);
    assert.match(out, /^ {2}PASS +ro_pass #0 /m);
    assert.match(out, /^ {2}reward 0 +ro_reward #0 /m);
    assert.match(out, /^ {2}unjudged +ro_nothing #0 /m);
  });
});

/** `show --json` as it was printed from the whole list of the run's rollouts: the reference the counted summary must equal. */
function shownFromList(path: string, runId: string): { text: string; summary: RunSummary } {
  const store = openStore(path, { readOnly: true, warn: () => {} });
  try {
    const run = store.getRun(runId)!;
    const rollouts = store.rollouts(runId);
    const tasks = tasksOfRun(store, run.id, run.config);
    const summary = summarise(run.id, run.status, rollouts, { expected: tasks.tasks.length * run.config.epochs, durationMs: 0, spent: store.runSpend(run.id) });
    const scored = rollouts.filter((r) => r.status === 'scored');
    const judged = scored.filter((r) => r.passed !== null);
    const withScore = scored.filter((r) => r.score !== null);
    const overJudged = summarise(run.id, run.status, judged, { expected: 0, durationMs: 0 });
    const rate = (value: number) => (judged.length > 0 ? value : null);
    const shown =
      summary.scored === 0
        ? { ...summaryJson(summary), withoutVerdict: 0 }
        : {
            ...summary,
            withoutVerdict: scored.length - judged.length,
            passed: overJudged.passed,
            passRate: rate(overJudged.passRate),
            pooledPassRate: rate(overJudged.pooledPassRate),
            taskMeanPassRate: rate(overJudged.taskMeanPassRate),
            meanScore: withScore.length > 0 ? withScore.reduce((sum, r) => sum + r.score!, 0) / withScore.length : null,
          };
    return { text: `${JSON.stringify({ run, summary: shown, taskSource: tasks.source, taskDrift: tasks.drift, rollouts }, null, 2)}\n`, summary };
  } finally {
    store.close();
  }
}

/** A run of tasks t/a and t/b, one epoch, holding `rollouts`, in a store of its own. */
function smallRun(name: string, rollouts: (runId: RunId) => Rollout[]): { path: string; runId: RunId } {
  const path = join(dir, `${name}.db`);
  const runId = `run_${name}` as RunId;
  const store = openStore(path);
  try {
    createTerminalRun(store, { runId, taskIds: ['t/a', 't/b'], epochs: 1 });
    for (const r of rollouts(runId)) store.commitRollout(r);
  } finally {
    store.close();
  }
  return { path, runId };
}

describe('gauntlet show of a run counted by the store', () => {
  it('summarises a run exactly as summarise does over the list of its rollouts, field by field', () => {
    const path = join(dir, 'varied-fields.db');
    const { runId } = writeVariedRun(path);
    const { summary: expected } = shownFromList(path, runId);
    const store = openStore(path, { readOnly: true, warn: () => {} });
    try {
      const run = store.getRun(runId)!;
      const actual = summaryOfCounts(run, store.runSummaryCounts(runId), { expected: expected.rollouts + expected.missing, spent: store.runSpend(runId) });
      assert.deepStrictEqual(Object.keys(actual), Object.keys(expected));
      for (const key of Object.keys(expected) as (keyof RunSummary)[]) {
        if (typeof expected[key] === 'number') assert.ok(Object.is(actual[key], expected[key]), `${key}: ${String(actual[key])} is not ${String(expected[key])}`);
        else assert.deepStrictEqual(actual[key], expected[key], key);
      }
      assert.equal(expected.missing, 6);
      assert.equal(expected.errorRollouts.length, 5);
    } finally {
      store.close();
    }
  });

  it('prints --json byte for byte as it did from the whole list, and the summary line from the same figures', async () => {
    const path = join(dir, 'varied-json.db');
    const { runId } = writeVariedRun(path);
    const { text, summary } = shownFromList(path, runId);
    const shown = await cli(['show', runId, '--store', path, '--json']);
    assert.equal(shown.out, text);
    const { code, out } = await cli(['show', runId, '--store', path]);
    assert.equal(code, 1, 'a run with errors fails');
    const scored = summary.scored;
    assert.ok(
      out.includes(`  ${summary.rollouts} rollouts (6 missing): ${scored} scored, 3 infra errors, 5 errors; pass rate 57.1% (over the 7 rollouts with a verdict; 2 scored without one), mean score 0.254 (over the 8 rollouts with a score)\n`),
      out,
    );
    const listed = out.split('\n').filter((l) => /^ {4}ro_/.test(l)).map((l) => l.trim());
    assert.deepEqual(listed, JSON.parse(text).rollouts.map((r: { id: string }) => r.id));
  });

  it('prints runs with nothing scored and with no rollouts at all as it did', async () => {
    const infra = smallRun('infra-only', (runId) =>
      ['t/a', 't/b'].map((task, i) => ({
        ...scoredRollout({ id: rolloutIdFor(runId, task, 0), runId }),
        taskId: task as Rollout['taskId'],
        status: 'infra_error' as const,
        terminationReason: 'infra_error' as const,
        score: null,
        passed: null,
        verifier: null,
        error: { source: 'model' as const, message: `the endpoint answered 50${i}` },
      })),
    );
    const empty = smallRun('empty', () => []);
    for (const { path, runId } of [infra, empty]) assert.equal((await cli(['show', runId, '--store', path, '--json'])).out, shownFromList(path, runId).text, runId);
  });

  it('never reads the whole run at once: counts come from the store, rollouts a page at a time', async () => {
    const path = join(dir, 'varied-pages.db');
    const { runId } = writeVariedRun(path);
    const whole = SqliteStore.prototype.rollouts;
    SqliteStore.prototype.rollouts = () => {
      throw new Error('show read the whole run at once');
    };
    try {
      for (const flags of [['--json'], []]) {
        const { out, err } = await cli(['show', runId, '--store', path, ...flags]);
        assert.doesNotMatch(err, /whole run/);
        assert.match(out, /ro_/);
      }
    } finally {
      SqliteStore.prototype.rollouts = whole;
    }
  });

  it('prints a list item by item as JSON.stringify prints the whole document', async () => {
    for (const items of [[], [{ a: 1, b: ['x\ny', { c: null }] }], [1, 'two', { three: [3] }]]) {
      let text = '';
      const out = { write: (t: string) => ((text += t), text.length > 10), flush: async () => {} };
      await printJsonWithList(out, { run: { id: 'r', nested: { deep: [1, 2] } }, note: 'n' }, 'rollouts', items);
      assert.equal(text, `${JSON.stringify({ run: { id: 'r', nested: { deep: [1, 2] } }, note: 'n', rollouts: items }, null, 2)}\n`);
    }
  });
});
