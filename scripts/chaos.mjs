// `npm run chaos`: runs the fault-injection scenarios (test/chaos/main.ts) under tsx and passes
// its exit status on. `npm run chaos -- --ci` runs the smaller set the test suite runs.
import { spawnSync } from 'node:child_process';

const result = spawnSync(process.execPath, ['--import', 'tsx', 'test/chaos/main.ts', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(result.status ?? 1);
