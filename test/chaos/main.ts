// `npm run chaos`: every fault scenario at full size; prints the chaos table on stdout and exits 1
// when any row breaks a rule (a rollout lost or duplicated, an infra failure scored, an orphan).
import { formatTable, violations } from './ledger.ts';
import { runScenarios, scenarios } from './scenarios.ts';

const size = process.argv.includes('--ci') ? 'ci' : 'full';
const started = Date.now();
const rows = await runScenarios(scenarios(size));
process.stdout.write(formatTable(rows));
let failed = 0;
for (const row of rows) {
  const problems = violations(row);
  if (problems.length === 0) continue;
  failed++;
  process.stdout.write(`\n${row.scenario}:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
}
process.stdout.write(`\n${rows.length} scenarios, ${failed} with violations, ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
process.exit(failed === 0 ? 0 : 1);
