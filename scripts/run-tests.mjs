// Finds every *.test.ts under src/ and test/ (Node 20's test runner does not expand globs)
// and runs them with tsx. Extra arguments narrow the set: `npm test -- mail` runs files whose
// path contains "mail".
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';

function collect(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

// The longest files (half a minute to four on two cores), started first: run last, as their names sort,
// one of them kept a single slot busy for minutes after everything else had finished.
const LONGEST_FIRST = [
  'test/validate-builtins.test.ts',
  'test/kill-resume.test.ts',
  'test/web/scale.test.ts',
  'src/reward/detectors/robustness.test.ts',
  'src/cli/store.test.ts',
  'test/perturb-coding.test.ts',
  'test/external-agents.test.ts',
  'src/envs/terminal/terminal-k8s.test.ts',
  'test/lazy-packages.test.ts',
  'test/perturb-solvable.test.ts',
];
const rank = (file) => {
  const at = LONGEST_FIRST.indexOf(file.split('\\').join('/'));
  return at < 0 ? LONGEST_FIRST.length : at;
};

const filters = process.argv.slice(2);
const files = [...collect('src', []), ...collect('test', [])]
  .filter((f) => filters.length === 0 || filters.some((needle) => f.includes(needle)))
  .sort()
  .sort((a, b) => rank(a) - rank(b));
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ') || '(all)'}`);
  process.exit(1);
}
const concurrency = String(Math.max(2, availableParallelism()));
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
