// `gauntlet eval`, `compare` and `gate` given bad numbers or bad reports: a clear error naming the
// flag, file or field, before any rollout runs, never a raw schema dump or a report misread.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { EvalReport } from '../../eval/index.ts';
import type { RunProgress } from '../../runner/index.ts';
import { openStore } from '../../store/index.ts';
import type { CliIo } from '../io.ts';
import { main } from '../main.ts';
import { InterruptedError } from '../signals.ts';
import { evaluateSuite, resumeEvaluation } from './eval.ts';
import { EvalSuite } from './eval-suite.ts';

async function cli(args: string[]) {
  const io = { out: '', err: '', interactive: false, env: {} } as CliIo & { out: string; err: string };
  io.stdout = (t) => void (io.out += t);
  io.stderr = (t) => void (io.err += t);
  return { code: await main(['node', 'gauntlet', ...args], io), out: io.out, err: io.err };
}

const dir = mkdtempSync(join(tmpdir(), 'gauntlet-eval-cli-'));
const tasksFile = join(dir, 'tasks.yaml');
writeFileSync(
  tasksFile,
  `tasks:
  - id: sum/three
    env: qa
    instruction: What is 1 + 2?
    tags: { domain: "arith</table><!--", difficulty: easy }
    verifier: { checks: [{ check: answer_numeric, value: 3, name: "adds <img src=x onerror=alert(1)>" }] }
    golden: { answer: "3" }
`,
);
const suite = (extra = '') => {
  const file = join(dir, `suite-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, `taskFiles: [${tasksFile}]\nmodels: [oracle]\nepochs: 1\n${extra}`);
  return file;
};

describe('gauntlet eval with out-of-range bootstrap settings', () => {
  it('refuses --resamples below 100 or above a million naming the flag and the range, not with a schema dump', async () => {
    for (const value of ['5', '99', '2000000']) {
      const { code, err } = await cli(['eval', '--suite', suite(), '--resamples', value, '--store', join(dir, 'flags.db')]);
      assert.equal(code, 2, err);
      assert.match(err, /--resamples: got "\d+" \(expected a whole number from 100 to 1,000,000\)/);
      assert.doesNotMatch(err, /"code"|too_small|\[\s*\{/);
    }
  });

  it('refuses a suite asking for more resamples than the bootstrap allows before running any rollout', async () => {
    const store = join(dir, 'early.db');
    const file = suite('resamples: 2000000\n');
    const { code, err } = await cli(['eval', '--suite', file, '--store', store, '--out', join(dir, 'early.json')]);
    assert.equal(code, 2, err);
    assert.match(err, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: resamples: got 2000000`));
    assert.doesNotMatch(err, /evaluating oracle/);
    const runs = await cli(['runs', '--store', store, '--json']);
    assert.deepEqual(JSON.parse(runs.out || '[]'), []);
  });
});

describe('reports read back by eval --replay and gate', () => {
  const reportFile = join(dir, 'report.json');
  const md = join(dir, 'report.md');

  it('writes a report whose Markdown keeps the task file\'s HTML as text', async () => {
    const { code, err } = await cli(['eval', '--suite', suite(), '--store', join(dir, 'ok.db'), '--out', reportFile, '--markdown', md, '--resamples', '100']);
    assert.equal(code, 0, err);
    const text = readFileSync(md, 'utf8');
    assert.doesNotMatch(text, /<img|<!--|<\/table>/);
    assert.ok(text.includes('arith&lt;/table&gt;&lt;!--'));
  });

  it('says a report of a newer version was written by a newer Gauntlet', async () => {
    const newer = join(dir, 'v99.json');
    writeFileSync(newer, JSON.stringify({ ...JSON.parse(readFileSync(reportFile, 'utf8')), version: 99 }));
    const { code, err } = await cli(['eval', '--replay', newer, '--store', join(dir, 'replay.db')]);
    assert.equal(code, 2);
    assert.match(err, /v99\.json: is a version-99 report, written by a newer Gauntlet; this one \(.+\) reads versions up to 2/);
  });

  it('refuses to gate on a report edited to claim a pass rate above 1', async () => {
    const edited = JSON.parse(readFileSync(reportFile, 'utf8')) as { models: Array<{ overall: { passRate: { mean: number } } }> };
    edited.models[0]!.overall.passRate.mean = 1.7;
    const file = join(dir, 'edited.json');
    writeFileSync(file, JSON.stringify(edited));
    const gateSuite = suite('gate: { overall: { minPassRate: 0.9 } }\n');
    const { code, out, err } = await cli(['gate', '--suite', gateSuite, '--report', file]);
    assert.equal(code, 2, out);
    assert.doesNotMatch(out, /gate passed/);
    assert.match(err, /edited\.json: invalid content\nmodels\.0\.overall\.passRate\.mean: Too big/);
  });
});

describe('gauntlet compare --resamples', () => {
  it('refuses more than a million before opening any run', async () => {
    const { code, err } = await cli(['compare', 'run_a', 'run_b', '--resamples', '2000000', '--store', join(dir, 'ok.db')]);
    assert.equal(code, 2);
    assert.match(err, /--resamples: got "2000000" \(expected a whole number from 1 to 1000000\)/);
  });
});

describe('gauntlet eval against a model whose every rollout hits an infra error', () => {
  it('exits 1, as `run` does, naming the run, and still writes the report', async () => {
    // A model endpoint that answers with a body that is not JSON: an infra error that is not retried.
    const script = join(dir, 'not-json.yaml');
    writeFileSync(script, 'model: mock\nturns:\n  - fault: malformed_json\n');
    const out = join(dir, 'infra.json');
    const store = join(dir, 'infra.db');
    const evaluated = await cli(['eval', '--suite', suite(), '--model', `scripted:${script}`, '--store', store, '--out', out, '--resamples', '100']);
    assert.equal(evaluated.code, 1, evaluated.err);
    assert.match(evaluated.err, /gauntlet: run run_\S+ \(scripted:.*not-json\.yaml\) has no result: infra errors only, 1 rollout could not be scored/);
    assert.match(evaluated.out, /infra errors only/);
    assert.equal((JSON.parse(readFileSync(out, 'utf8')) as { models: unknown[] }).models.length, 1);
    const ran = await cli(['run', '--tasks-file', tasksFile, '--model', `scripted:${script}`, '--store', store]);
    assert.equal(ran.code, evaluated.code);
  });

  it('exits 1 when one of several models has no result, though another scored', async () => {
    const script = join(dir, 'not-json.yaml');
    const { code, err } = await cli(['eval', '--suite', suite(), '--model', 'oracle', '--model', `scripted:${script}`, '--store', join(dir, 'mixed.db'), '--out', join(dir, 'mixed.json'), '--resamples', '100']);
    assert.equal(code, 1, err);
    assert.doesNotMatch(err, /\(oracle\) has no result/);
  });
});

describe('gauntlet eval --help', () => {
  it('says the report goes beside the --store file, not always under .gauntlet/', async () => {
    const { out } = await cli(['eval', '--help']);
    const help = out.replace(/\s+/g, ' ');
    assert.match(help, /--out <file> where to save the JSON report \(default: reports\/eval-<time>\.json in the --store file's folder, \.gauntlet\/reports\/ with the default store\)/);
    assert.match(help, /Exit status: .* 1 a defect .* every one hit an infra error/);
    const store = join(mkdtempSync(join(tmpdir(), 'gauntlet-eval-out-')), 'elsewhere', 'g.db');
    const { code, err } = await cli(['eval', '--suite', suite(), '--store', store, '--resamples', '100']);
    assert.equal(code, 0, err);
    assert.match(err, new RegExp(`report written to ${join(store, '..', 'reports').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/eval-[^/]+\\.json`));
  });
});

describe('gauntlet eval --resume', () => {
  // Two tasks, one whose golden solution fails: the exclusion must survive the interruption too.
  const file = join(dir, 'resume-tasks.yaml');
  writeFileSync(
    file,
    `tasks:
  - id: sum/three
    env: qa
    instruction: What is 1 + 2?
    tags: { domain: arith, difficulty: easy }
    verifier: { checks: [{ check: answer_numeric, value: 3 }] }
    golden: { answer: "3" }
  - id: sum/wrong-golden
    env: qa
    instruction: What is 2 + 2?
    tags: { domain: arith, difficulty: easy }
    verifier: { checks: [{ check: answer_numeric, value: 4 }] }
    golden: { answer: "5" }
`,
  );
  const twoModels = () => EvalSuite.parse({ taskFiles: [file], models: ['oracle', 'noop'], epochs: 3, concurrency: 1, resamples: 100 });
  const quiet = () => ({ stdout: () => {}, stderr: () => {}, interactive: false, env: {} }) as CliIo;
  /** Records every progress update; `onUpdate` may act on them (stop the eval). */
  const recorder = (onUpdate: (p: RunProgress) => void = () => {}) => {
    const seen: { updates: RunProgress[]; stopped: number } = { updates: [], stopped: 0 };
    const progress = async () => ({ update: (p: RunProgress) => (seen.updates.push({ ...p }), onUpdate(p)), stop: () => void seen.stopped++ });
    return { seen, progress };
  };
  const withoutTime = (report: EvalReport) => ({ ...report, meta: { ...report.meta, createdAt: null } });

  it('builds, from the runs of a finished eval, the very report that eval wrote', async () => {
    const store = openStore(join(dir, 'resume-same.db'));
    try {
      const fresh = await evaluateSuite(twoModels(), store, quiet(), { progress: recorder().progress });
      assert.deepEqual(fresh.excludedTasks.map((t) => t.id), ['sum/wrong-golden']);
      const again = await resumeEvaluation(fresh.models[1]!.runId, store, quiet(), { progress: recorder().progress });
      assert.deepEqual(withoutTime(again), withoutTime(fresh));
    } finally {
      store.close();
    }
  });

  it('finishes an interrupted eval from the run its message names, starts the models it never reached, and reports them all', async () => {
    const store = openStore(join(dir, 'resume-interrupted.db'));
    try {
      const stop = new AbortController();
      const first = recorder((p) => p.done >= 1 && stop.abort());
      const interrupted = await evaluateSuite(twoModels(), store, quiet(), { signal: stop.signal, progress: first.progress }).then(
        () => assert.fail('the eval was interrupted'),
        (error: unknown) => error as Error,
      );
      assert.ok(interrupted instanceof InterruptedError, String(interrupted));
      const named = /finish the eval and write its report with `gauntlet eval --resume (run_\S+) --store \S+`/.exec(interrupted.message);
      assert.ok(named, interrupted.message);
      assert.match(interrupted.message, /\(oracle\) stopped with [12] of 3 rollouts stored; not started: noop; no report was written/);
      assert.equal(first.seen.stopped, 1, 'the progress display is closed when the run stops');

      const rest = recorder();
      const report = await resumeEvaluation(named[1]!, store, quiet(), { progress: rest.progress });
      assert.deepEqual(report.models.map((m) => [m.model, m.overall.rollouts]), [['oracle', 3], ['noop', 3]]);
      assert.equal(report.models[0]!.runId, named[1]);
      assert.deepEqual(report.excludedTasks.map((t) => t.id), ['sum/wrong-golden']);
      assert.equal(store.listRuns().length, 2, 'the interrupted run was resumed, not run again');
      const last = rest.seen.updates.at(-1);
      assert.deepEqual(last && [last.done, last.total], [3, 3], 'the model never started shows its own progress');
    } finally {
      store.close();
    }
  });

  it('refuses suite flags beside --resume, and a run no eval made, saying what to give instead', async () => {
    const flagged = await cli(['eval', '--resume', 'run_x', '--model', 'oracle', '--epochs', '2']);
    assert.equal(flagged.code, 2);
    assert.match(flagged.err, /--resume: a resumed eval keeps the suite it started with; got --model, --epochs/);
    const storePath = join(dir, 'plain-run.db');
    const ran = await cli(['run', '--tasks-file', tasksFile, '--model', 'oracle', '--store', storePath, '--json']);
    assert.equal(ran.code, 0, ran.err);
    const runId = (JSON.parse(ran.out) as { runId: string }).runId;
    const plain = await cli(['eval', '--resume', runId, '--store', storePath]);
    assert.equal(plain.code, 2);
    assert.match(plain.err, new RegExp(`--resume: run ${runId} was not made by \`gauntlet eval\`.*\`gauntlet run --resume ${runId} --store \\S+\` finishes this run alone`));
    const missing = await cli(['eval', '--resume', 'run_nope', '--store', storePath]);
    assert.match(missing.err, /--resume: no run "run_nope" in/);
  });
});

describe('gauntlet eval progress', () => {
  it('shows each model\'s run going, as `run` does, and closes the display when the run ends', async () => {
    const store = openStore(join(dir, 'progress.db'));
    const updates: { model: number; p: RunProgress }[] = [];
    let opened = 0;
    let stopped = 0;
    const progress = async () => {
      const model = opened++;
      return { update: (p: RunProgress) => void updates.push({ model, p: { ...p } }), stop: () => void stopped++ };
    };
    try {
      await evaluateSuite(EvalSuite.parse({ taskFiles: [tasksFile], models: ['oracle', 'noop'], epochs: 2, concurrency: 1, resamples: 100 }), store, { stdout: () => {}, stderr: () => {}, interactive: false, env: {} } as CliIo, { progress });
    } finally {
      store.close();
    }
    assert.deepEqual([opened, stopped], [2, 2]);
    for (const model of [0, 1]) {
      const last = updates.filter((u) => u.model === model).at(-1)?.p;
      assert.deepEqual(last && [last.done, last.total], [2, 2], `model ${model}`);
    }
  });
});
