// Test helper, run as its own process by queues.test.ts: one reviewer taking and finishing queue
// items until none is left for them, so several processes race for the same queue file.
import { createInterface } from 'node:readline';
import { openStore } from '../store/index.ts';
import { recordVerdict } from './labels.ts';
import { nextItem } from './queue-store.ts';

const [path, queueId, reviewer] = process.argv.slice(2);
if (!path || !queueId || !reviewer) throw new Error('usage: reserve-child STORE QUEUE REVIEWER');
const store = openStore(path);
process.stdout.write('ready\n');
// Start only when told, so every process is open and racing from the same moment.
await new Promise<void>((resolve) => {
  const input = createInterface({ input: process.stdin });
  input.once('line', () => {
    input.close();
    process.stdin.destroy();
    resolve();
  });
});
const taken: string[] = [];
for (;;) {
  const item = nextItem({ store }, { queueId, reviewer });
  if (!item) break;
  taken.push(item.id);
  recordVerdict({ store }, { rolloutId: item.rolloutId, verdict: 'accept', reviewer, queueItemId: item.id });
}
store.close();
process.stdout.write(`${JSON.stringify(taken)}\n`);
