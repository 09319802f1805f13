// The fault-injection suite at CI size: each model fault, a permanently failing endpoint and a
// sandbox killed mid-command leave every rollout stored exactly once, no infrastructure failure
// scored and no process behind (`npm run chaos` runs the full set, queue and resume included).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RunConfig, type Rollout } from '../../src/core/index.ts';
import { executeRun, selectTasks } from '../../src/runner/index.ts';
import { openStore } from '../../src/store/index.ts';
import { counterCatalog } from '../support/counter-env.ts';
import { goldenModel } from '../support/models.ts';
import { formatTable, ledger, rolloutKeys, violations, type ChaosRow } from './ledger.ts';
import { runScenarios, scenarios } from './scenarios.ts';

describe('chaos scenarios (CI size)', () => {
  const rows = runScenarios(scenarios('ci'));
  for (const scenario of scenarios('ci')) {
    it(`${scenario.name}: every rollout once, no infra failure scored, no orphans`, { timeout: 60_000 }, async () => {
      const row = (await rows).find((r) => r.scenario === scenario.name);
      assert.ok(row, `a row for ${scenario.name}`);
      assert.deepEqual(violations(row), [], formatTable([row]));
      assert.ok(row.expected > 0);
    });
  }

  it('prints one table line per scenario with every column', async () => {
    const table = formatTable(await rows);
    const lines = table.trimEnd().split('\n');
    assert.equal(lines.length, scenarios('ci').length + 2);
    assert.match(lines[0]!, /^scenario\s+expected\s+committed\s+duplicated\s+lost\s+scored\s+infra errors\s+scored despite infra\s+orphans\s+verdict$/);
  });
});

describe('the chaos ledger', () => {
  async function cleanRun() {
    const store = openStore(':memory:');
    const config = RunConfig.parse({ envs: ['counter'], model: 'test:golden', epochs: 1, concurrency: 1, seed: 2 });
    const summary = await executeRun({ store, run: { resolved: { config, tasks: selectTasks(config, counterCatalog) } }, model: goldenModel, catalog: counterCatalog });
    return { store, runId: summary.runId, keys: rolloutKeys(['counter/a', 'counter/b', 'counter/c'], 1) };
  }
  const judge = (options: { store: Parameters<typeof ledger>[0]['store']; runId: string; keys: string[]; permanentFault?: boolean }): ChaosRow =>
    ledger({ scenario: 'x', store: options.store, runId: options.runId, expectedKeys: options.keys, orphans: 0, ...(options.permanentFault ? { permanentFault: true } : {}) });

  it('passes a clean run', async () => {
    const { store, runId, keys } = await cleanRun();
    assert.deepEqual(violations(judge({ store, runId, keys })), []);
  });

  it('counts a lost, a duplicated and an infra-error-with-a-score rollout as violations', async () => {
    const { store, runId, keys } = await cleanRun();
    const [first, second] = store.rollouts(runId) as [Rollout, Rollout, Rollout];
    const tampered = {
      rollouts: () => [first, { ...first, id: `${first.id}-again` as Rollout['id'] }, { ...second, status: 'infra_error' as const }],
      events: store.events.bind(store),
      modelCalls: store.modelCalls.bind(store),
    };
    const row = judge({ store: tampered, runId, keys });
    assert.deepEqual({ committed: row.committed, duplicated: row.duplicated, lost: row.lost, scoredDespiteInfra: row.scoredDespiteInfra }, { committed: 2, duplicated: 1, lost: 1, scoredDespiteInfra: 1 });
    assert.equal(violations(row).length, 4);
  });

  it('counts any scored rollout under a fault that never clears', async () => {
    const { store, runId, keys } = await cleanRun();
    assert.equal(judge({ store, runId, keys, permanentFault: true }).scoredDespiteInfra, 3);
  });
});
