// The robustness report finds what hurts: scripted brittle models (one that knows only the
// original tool names, one that gives up on tables) have the damaging perturbation ranked first
// and significant; a model that plays every perturbed task correctly shows no significant gap.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GAUNTLET_VERSION, type ModelClient, type Task } from '../src/core/index.ts';
import { getEnvironment } from '../src/envs/index.ts';
import { createOraclePolicy } from '../src/model/index.ts';
import { buildSuite, SuiteFile, type Suite } from '../src/perturb/index.ts';
import { runSuite } from '../src/cli/commands/robustness-episodes.ts';
import { analyseRobustness, RobustnessReport } from '../src/cli/commands/robustness-report.ts';
import { renderRobustnessHtml, renderRobustnessMarkdown, renderRobustnessSvg, renderRobustnessText } from '../src/cli/commands/robustness-render.ts';
import { goldenPlayer, sawTable } from './perturb-support.ts';

const mail = getEnvironment('mail');
const TASKS = mail.tasks().slice(0, 20);
const ORIGINAL = new Map(TASKS.map((t) => [t.id, t]));

const suite: Suite = buildSuite(
  SuiteFile.parse({
    name: 'brittleness',
    seeds: [3],
    axes: { tools: ['tools.rename', 'tools.describe'], results: ['responses.format:table', 'responses.noise'], prompts: ['prompts.system:verbose'] },
    heldOut: ['responses'],
  }),
);

async function report(model: ModelClient): Promise<RobustnessReport> {
  const results = await runSuite({ suite, tasks: TASKS, definition: () => mail, modelFor: () => model, epochs: 1, runSeed: 5, concurrency: 4, sandbox: 'virtual' });
  const built = analyseRobustness({
    meta: { gauntletVersion: GAUNTLET_VERSION, createdAt: '2026-03-16T09:00:00Z', suite: suite.name, model: model.spec, envs: ['mail'], tasks: TASKS.length, epochs: 1, seed: 5, perturbationSeeds: suite.seeds, heldOut: suite.heldOut },
    tasks: TASKS,
    baseline: results.baseline,
    arms: results.arms,
    resamples: 2000,
  });
  return RobustnessReport.parse(built);
}

/** Knows only the tools as they were named before any perturbation: plays the original golden solution. */
const namesOnly = goldenPlayer('scripted:original-names', (perturbed: Task) => ORIGINAL.get(perturbed.id) ?? perturbed);
/** Plays the perturbed task correctly but gives up when a tool result is a table. */
const tableBlind = goldenPlayer('scripted:table-blind', (perturbed: Task) => perturbed, { giveUp: sawTable });

describe('robustness report', () => {
  it('ranks renaming first and significant for a model that knows only the original tool names', async () => {
    const r = await report(namesOnly);
    assert.equal(r.baseline.passRate?.mean, 1);
    const [first, ...rest] = r.arms;
    assert.equal(first?.id, 'tools.rename');
    assert.equal(first?.verdict, 'hurts');
    assert.ok((first?.gap?.mean ?? 0) <= -0.9 && (first?.pAdjusted ?? 1) < 0.05, JSON.stringify(first));
    assert.equal(first?.worstTasks.length, 5);
    assert.ok(first?.worstTasks.every((t) => t.baseline === 1 && t.perturbed === 0));
    // A question the original golden answer answers passes without a single working call.
    assert.ok((first?.passRate?.mean ?? 1) <= 0.1, `pass rate ${first?.passRate?.mean}`);
    assert.ok((first?.terminationReasons.invalid_output ?? 0) > TASKS.length / 2, 'mostly ended by three turns of unknown tools');
    for (const arm of rest) assert.equal(arm.verdict, 'no significant difference', arm.id);
  });

  it('ranks tables first and significant for a model that cannot read them, and shows held-out families doing worse', async () => {
    const r = await report(tableBlind);
    const [first, ...rest] = r.arms;
    assert.equal(first?.id, 'responses.format');
    assert.equal(first?.verdict, 'hurts');
    assert.ok((first?.pAdjusted ?? 1) < 0.05);
    for (const arm of rest) assert.notEqual(arm.verdict, 'hurts', arm.id);
    assert.equal(first?.split, 'held-out');
    const g = r.generalisation;
    assert.ok(g.seen && g.heldOut && g.difference, JSON.stringify(g));
    assert.ok(g.heldOut.gap.mean < g.seen.gap.mean);
    assert.ok(g.difference.mean < 0);
  });

  it('finds no significant gap for a model that plays every perturbed task correctly', async () => {
    const r = await report(createOraclePolicy());
    assert.equal(r.arms.length, 5);
    for (const arm of r.arms) {
      assert.equal(arm.verdict, 'no significant difference', arm.id);
      assert.equal(arm.gap?.mean, 0);
      assert.equal(arm.pairs, TASKS.length);
    }
    assert.deepEqual(r.warnings, []);
  });

  it('renders text, Markdown, HTML and an SVG chart with every arm', async () => {
    const r = await report(namesOnly);
    const svg = renderRobustnessSvg(r);
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.equal((svg.match(/<circle /g) ?? []).length, r.arms.length);
    assert.match(svg, /fill="#c0392b"/, 'the harm is drawn in red');
    assert.ok(!/&(?!(amp|lt|gt|quot);)/.test(svg), 'XML-escaped');
    for (const text of [renderRobustnessText(r), renderRobustnessMarkdown(r), renderRobustnessHtml(r)]) {
      for (const arm of r.arms) assert.ok(text.includes(arm.id), arm.id);
      assert.match(text, /1 of 5 arms hurt significantly: tools\.rename/);
    }
    assert.match(renderRobustnessText(r), /tools\.rename: mail\/\S+ 100\.0%→0\.0%/);
  });
});
