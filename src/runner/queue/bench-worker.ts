// A worker process for the scaling bench: the CPU-bound `burn` environment and a plain worker.
// argv: REDIS_URL CONCURRENCY. Prints `ready` once connected; SIGTERM stops it.
import { registerEnvironment } from '../../envs/index.ts';
import { burnEnvironment } from './bench-env.ts';
import { parseRedisUrl } from './connection.ts';
import { startWorker } from './worker.ts';

registerEnvironment('burn', () => burnEnvironment([]));
const worker = await startWorker({ redis: parseRedisUrl(process.argv[2] ?? '', 'argv[2]'), concurrency: Number(process.argv[3] ?? 1), discoverMs: 100 });
process.stdout.write('ready\n');
process.once('SIGTERM', () => void worker.close().then(() => process.exit(0)));
